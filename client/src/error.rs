//! The one error type of the client layer: what went wrong before, during or
//! after a call, worded for the person who has to fix it.
//!
//! Messages name the file, flag or record involved and never include key
//! material (a PEM parse error says which file, not what it contained).

use std::path::PathBuf;

use crate::status::render_status;

/// Why a client operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A file named on the command line or in settings could not be read.
    #[error("cannot read {what} file {}: {source}", path.display())]
    ReadFile {
        /// Which input it was, e.g. `--ca`.
        what: String,
        /// The path given.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    WriteFile {
        /// The path being written.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The endpoint is not a usable `https://host:port` URL.
    #[error("invalid endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// TLS setup or the connection itself failed.
    #[error("cannot connect to {endpoint}: {reason}")]
    Connect {
        /// The endpoint dialled.
        endpoint: String,
        /// The transport error with its causes.
        reason: String,
    },
    /// The server refused or failed a call.
    #[error("{}", render_status(.0))]
    Status(Box<tonic::Status>),
    /// A record file is not valid proto3 JSON for the expected message.
    #[error("{}: {reason}", path.display())]
    RecordFile {
        /// The record file.
        path: PathBuf,
        /// Where and why parsing failed.
        reason: String,
    },
    /// A bulk file cannot be imported at all; nothing of it was sent.
    #[error("{}: {reason}; nothing was imported", path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the row and column.
        reason: String,
    },
    /// An import's stream failed part way.
    #[error(
        "the import stopped at row {row}: {}; re-run the same command to finish (rows already stored are not stored twice)",
        render_status(status)
    )]
    Interrupted {
        /// The first row without an answer.
        row: u64,
        /// Why the stream failed.
        status: Box<tonic::Status>,
    },
    /// The profile file or a profile in it is missing or malformed.
    #[error("profile: {0}")]
    Profile(String),
    /// Certificate creation or loading failed.
    #[error("certificates: {0}")]
    Certs(#[from] cosx_certs::CertError),
    /// A required setting or argument is missing or malformed.
    #[error("{0}")]
    Usage(String),
    /// Writing to standard output failed (other than a closed pipe).
    #[error("cannot write output: {0}")]
    Output(#[source] std::io::Error),
}

impl From<tonic::Status> for ClientError {
    fn from(status: tonic::Status) -> Self {
        ClientError::Status(Box::new(status))
    }
}

/// Formats an error with its chain of causes, `outer: inner: innermost`,
/// because tonic's transport errors say little at the top level.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}
