//! Mutual TLS: the server accepts TCP connections itself, completes the
//! rustls handshake (client certificate required, chained to the exchange
//! CA, and not on a configured revocation list) under a timeout, and hands
//! finished streams to tonic, which exposes the peer certificates to
//! handlers.
//!
//! Accepting TLS here rather than through tonic's own TLS config is what
//! makes CRLs and rotation possible: [`TlsReloader`] holds the current
//! `rustls::ServerConfig` and rebuilds it when the certificate, key, CA
//! bundle or CRL files change (polled, or at once on SIGHUP); each new
//! handshake takes whatever config is current, and connections already open
//! keep theirs. A file that fails to load never replaces a working config.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;

use crate::config::TlsConfig;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read or parsed.
    #[error("{what} {path}: {message}")]
    File {
        /// Which file.
        what: &'static str,
        /// Its path.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client verifier could not be built (bad CA bundle or CRL).
    #[error("client CA or CRL: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

fn file_error(what: &'static str, path: &Path, message: impl ToString) -> TlsError {
    TlsError::File { what, path: path.display().to_string(), message: message.to_string() }
}

/// Loads every certificate of a PEM file.
pub fn load_certs(what: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error(what, path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(what, path, e))?;
    if certs.is_empty() {
        return Err(file_error(what, path, "holds no PEM certificate"));
    }
    Ok(certs)
}

/// Loads every CRL of a PEM file (`-----BEGIN X509 CRL-----`).
pub fn load_crls(path: &Path) -> Result<Vec<CertificateRevocationListDer<'static>>, TlsError> {
    let crls = CertificateRevocationListDer::pem_file_iter(path)
        .map_err(|e| file_error("tls.crls", path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error("tls.crls", path, e))?;
    if crls.is_empty() {
        return Err(file_error("tls.crls", path, "holds no PEM X509 CRL"));
    }
    Ok(crls)
}

/// The rustls crypto provider cosx uses everywhere (ring).
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the server's TLS configuration from the files `tls` names: our
/// certificate, and client certificates required, verified against the
/// exchange CA bundle, and checked against the CRLs. With CRLs configured, a
/// certificate whose revocation status no CRL covers is refused (fail closed).
pub fn server_config(tls: &TlsConfig) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain = load_certs("tls.cert", &tls.cert)?;
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| file_error("tls.key", &tls.key, e))?;
    let mut roots = RootCertStore::empty();
    for ca in load_certs("tls.client_ca", &tls.client_ca)? {
        roots.add(ca).map_err(|e| file_error("tls.client_ca", &tls.client_ca, e))?;
    }
    let mut crls = Vec::new();
    for path in &tls.crls {
        crls.extend(load_crls(path)?);
    }
    let provider = provider();
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).with_crls(crls).build()?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// What a file looked like when last loaded: modification time and length.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    std::fs::metadata(path).ok().map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()))
}

/// The current server TLS configuration, rebuilt from its files on demand.
pub struct TlsReloader {
    files: TlsConfig,
    current: RwLock<Arc<rustls::ServerConfig>>,
    stamps: Mutex<Vec<Stamp>>,
    generation: AtomicU64,
}

impl std::fmt::Debug for TlsReloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsReloader").field("generation", &self.generation()).finish_non_exhaustive()
    }
}

impl TlsReloader {
    /// Loads the files once; fails if they do not make a valid config.
    pub fn new(files: &TlsConfig) -> Result<Arc<Self>, TlsError> {
        let stamps = Self::paths(files).iter().map(|p| stamp(p)).collect();
        let config = server_config(files)?;
        Ok(Arc::new(TlsReloader {
            files: files.clone(),
            current: RwLock::new(config),
            stamps: Mutex::new(stamps),
            generation: AtomicU64::new(1),
        }))
    }

    fn paths(files: &TlsConfig) -> Vec<PathBuf> {
        let mut paths = vec![files.cert.clone(), files.key.clone(), files.client_ca.clone()];
        paths.extend(files.crls.iter().cloned());
        paths
    }

    /// The config new handshakes use.
    pub fn current(&self) -> Arc<rustls::ServerConfig> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// How many configs have been loaded (1 at start); grows by one per
    /// successful reload.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Rebuilds the config from the files now. On failure the current config
    /// stays in force and the error says which file is wrong.
    pub fn reload(&self) -> Result<(), TlsError> {
        let stamps: Vec<Stamp> = Self::paths(&self.files).iter().map(|p| stamp(p)).collect();
        let config = server_config(&self.files)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = config;
        *self.stamps.lock().unwrap_or_else(|e| e.into_inner()) = stamps;
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        tracing::info!(generation, "TLS certificate, CA bundle and CRLs reloaded");
        Ok(())
    }

    /// Reloads if any file's modification time or length changed since the
    /// last successful load; whether it reloaded.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let now: Vec<Stamp> = Self::paths(&self.files).iter().map(|p| stamp(p)).collect();
        if *self.stamps.lock().unwrap_or_else(|e| e.into_inner()) == now {
            return Ok(false);
        }
        self.reload().map(|()| true)
    }

    /// Checks the files every `every` until the returned task is aborted.
    /// A failed reload is logged and retried at the next tick.
    pub fn spawn_poll(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let reloader = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(reloader) = reloader.upgrade() else { return };
                if let Err(e) = reloader.reload_if_changed() {
                    tracing::error!(error = %e, "TLS files changed but do not load; keeping the previous config");
                }
            }
        })
    }
}

/// Limits on connections that have not finished their handshake.
#[derive(Debug, Clone, Copy)]
pub struct HandshakeLimits {
    /// Time a client has to complete the handshake.
    pub timeout: Duration,
    /// Handshakes in progress at once; connections beyond are closed at once.
    pub max_pending: usize,
}

/// Accepts connections on `listener` and yields those that complete the
/// mutual-TLS handshake in time, each with the config current when it
/// arrived. Handshakes run concurrently, so a client that stalls holds up
/// nobody else, and at most `limits.max_pending` of them at a time, so a
/// flood of silent connections cannot exhaust memory or file descriptors.
pub fn incoming(
    listener: TcpListener,
    tls: Arc<TlsReloader>,
    limits: HandshakeLimits,
) -> ReceiverStream<Result<TlsStream<TcpStream>, io::Error>> {
    let (tx, rx) = mpsc::channel(64);
    let pending = Arc::new(Semaphore::new(limits.max_pending));
    tokio::spawn(async move {
        loop {
            // Stop listening as soon as the server stops taking connections.
            let accepted = tokio::select! {
                _ = tx.closed() => break,
                accepted = listener.accept() => accepted,
            };
            let (tcp, peer) = match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(permit) = pending.clone().try_acquire_owned() else {
                tracing::warn!(%peer, max = limits.max_pending, "too many TLS handshakes in progress; connection closed");
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = TlsAcceptor::from(tls.current());
            let sender = tx.clone();
            tokio::spawn(async move {
                let handshake = tokio::time::timeout(limits.timeout, acceptor.accept(tcp)).await;
                drop(permit);
                match handshake {
                    Ok(Ok(stream)) => {
                        let _ = sender.send(Ok(stream)).await;
                    }
                    Ok(Err(e)) => tracing::info!(%peer, error = %e, "TLS handshake refused"),
                    Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}
