//! Logging: human-readable lines by default, JSON by configuration. One span
//! per request carries the gRPC method and, once authenticated, the caller's
//! party id. Key material is never logged.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber; `RUST_LOG` overrides the default `info`.
pub fn init(format: LogFormat) {
    init_with(format, "info");
}

/// Installs the global subscriber; `RUST_LOG` overrides `default_filter`
/// (the demo, which prints its own story, logs only warnings by default).
pub fn init_with(format: LogFormat, default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second init (tests starting several servers) keeps the first.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
