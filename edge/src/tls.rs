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
//! handshake takes whatever config is current. Connections already open
//! keep theirs, except that every reload checks each open connection's
//! client certificate against the new lists and closes those it now
//! refuses: a revoked certificate stops working on connections it already
//! holds, streams included. A file that fails to load never replaces a
//! working config.
//!
//! Handshakes are bounded three ways: a timeout each, a number in progress
//! per source address, and a number in progress overall, of which a quarter
//! is kept for addresses that completed a handshake before — so a flood of
//! silent connections from new addresses cannot lock out known peers.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, UnixTime};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;

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

/// A server TLS configuration and the client verifier inside it, kept to
/// re-check connections already open when the lists change.
#[derive(Clone)]
struct Loaded {
    config: Arc<rustls::ServerConfig>,
    verifier: Arc<dyn ClientCertVerifier>,
}

/// Builds the server's TLS configuration from the files `tls` names: our
/// certificate, and client certificates required, verified against the
/// exchange CA bundle, and checked against the CRLs. With CRLs configured, a
/// certificate whose revocation status no CRL covers is refused (fail
/// closed), and so is one whose CRL is past its `nextUpdate` unless
/// `tls.enforce_crl_next_update` is off.
pub fn server_config(tls: &TlsConfig) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    Ok(load(tls)?.config)
}

fn load(tls: &TlsConfig) -> Result<Loaded, TlsError> {
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
    let mut builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).with_crls(crls);
    if tls.enforce_crl_next_update {
        builder = builder.enforce_revocation_expiration();
    }
    let verifier = builder.build()?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier.clone())
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Loaded { config: Arc::new(config), verifier })
}

/// What a file looked like when last loaded: modification time and length.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    std::fs::metadata(path).ok().map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()))
}

/// The current server TLS configuration, rebuilt from its files on demand.
pub struct TlsReloader {
    files: TlsConfig,
    current: RwLock<Loaded>,
    stamps: Mutex<Vec<Stamp>>,
    generation: AtomicU64,
    open: Connections,
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
        let loaded = load(files)?;
        Ok(Arc::new(TlsReloader {
            files: files.clone(),
            current: RwLock::new(loaded),
            stamps: Mutex::new(stamps),
            generation: AtomicU64::new(1),
            open: Connections::default(),
        }))
    }

    fn paths(files: &TlsConfig) -> Vec<PathBuf> {
        let mut paths = vec![files.cert.clone(), files.key.clone(), files.client_ca.clone()];
        paths.extend(files.crls.iter().cloned());
        paths
    }

    /// The config new handshakes use.
    pub fn current(&self) -> Arc<rustls::ServerConfig> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).config.clone()
    }

    /// How many configs have been loaded (1 at start); grows by one per
    /// successful reload.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Rebuilds the config from the files now, then closes every open
    /// connection whose client certificate the new config refuses. On
    /// failure the current config stays in force and the error says which
    /// file is wrong.
    pub fn reload(&self) -> Result<(), TlsError> {
        let stamps: Vec<Stamp> = Self::paths(&self.files).iter().map(|p| stamp(p)).collect();
        let loaded = load(&self.files)?;
        let verifier = loaded.verifier.clone();
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = loaded;
        *self.stamps.lock().unwrap_or_else(|e| e.into_inner()) = stamps;
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let closed = self.open.close_refused(verifier.as_ref());
        tracing::info!(generation, closed, "TLS certificate, CA bundle and CRLs reloaded");
        Ok(())
    }

    /// Connections open now, for tests and metrics.
    pub fn open_connections(&self) -> usize {
        self.open.len()
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
    /// A quarter is kept for addresses that completed a handshake before.
    pub max_pending: usize,
    /// Handshakes in progress at once from one source address.
    pub max_pending_per_source: usize,
}

/// Addresses remembered as known peers (a bounded set: when full, it starts
/// over, which at worst sends known peers back to the shared pool).
const MAX_KNOWN_PEERS: usize = 16_384;

/// Who may start a handshake now.
struct HandshakeGate {
    limits: HandshakeLimits,
    anyone: Arc<Semaphore>,
    known_only: Arc<Semaphore>,
    known: Mutex<HashSet<IpAddr>>,
    per_source: Mutex<HashMap<IpAddr, usize>>,
}

/// A handshake in progress: its place in a pool and in its source's count.
struct Pending {
    _permit: OwnedSemaphorePermit,
    gate: Arc<HandshakeGate>,
    source: IpAddr,
}

impl Drop for Pending {
    fn drop(&mut self) {
        let mut per_source = self.gate.per_source.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = per_source.get_mut(&self.source) {
            *n -= 1;
            if *n == 0 {
                per_source.remove(&self.source);
            }
        }
    }
}

impl HandshakeGate {
    fn new(limits: HandshakeLimits) -> Arc<Self> {
        let reserved = limits.max_pending / 4;
        Arc::new(HandshakeGate {
            limits,
            anyone: Arc::new(Semaphore::new(limits.max_pending - reserved)),
            known_only: Arc::new(Semaphore::new(reserved)),
            known: Mutex::new(HashSet::new()),
            per_source: Mutex::new(HashMap::new()),
        })
    }

    /// A place for a handshake from `source`, or why there is none.
    fn admit(self: &Arc<Self>, source: IpAddr) -> Result<Pending, &'static str> {
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner()).contains(&source);
        let permit = match self.anyone.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) if known => self.known_only.clone().try_acquire_owned().map_err(|_| "too many handshakes")?,
            Err(_) => return Err("too many handshakes from new addresses"),
        };
        let mut per_source = self.per_source.lock().unwrap_or_else(|e| e.into_inner());
        let n = per_source.entry(source).or_insert(0);
        if *n >= self.limits.max_pending_per_source {
            return Err("too many handshakes from this address");
        }
        *n += 1;
        Ok(Pending { _permit: permit, gate: self.clone(), source })
    }

    fn completed(&self, source: IpAddr) {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() >= MAX_KNOWN_PEERS {
            known.clear();
        }
        known.insert(source);
    }
}

/// Accepts connections on `listener` and yields those that complete the
/// mutual-TLS handshake in time, each with the config current when it
/// arrived. Handshakes run concurrently, so a client that stalls holds up
/// nobody else, within [`HandshakeLimits`], so a flood of silent
/// connections cannot exhaust memory or file descriptors, or lock out the
/// peers that were already using the exchange. Every connection yielded is
/// tracked by `tls`, which closes it if a later reload refuses its
/// certificate.
pub fn incoming(
    listener: TcpListener,
    tls: Arc<TlsReloader>,
    limits: HandshakeLimits,
) -> ReceiverStream<Result<Connection, io::Error>> {
    let (tx, rx) = mpsc::channel(64);
    let gate = HandshakeGate::new(limits);
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
            let pending = match gate.admit(peer.ip()) {
                Ok(pending) => pending,
                Err(why) => {
                    crate::metrics::handshake_refused(why);
                    tracing::warn!(%peer, max = limits.max_pending, "{why} in progress; connection closed");
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = TlsAcceptor::from(tls.current());
            let sender = tx.clone();
            let tls = tls.clone();
            let gate = gate.clone();
            tokio::spawn(async move {
                let handshake = tokio::time::timeout(limits.timeout, acceptor.accept(tcp)).await;
                drop(pending);
                match handshake {
                    Ok(Ok(stream)) => {
                        gate.completed(peer.ip());
                        let _ = sender.send(Ok(tls.open.track(stream))).await;
                    }
                    Ok(Err(e)) => {
                        crate::metrics::handshake_refused("handshake refused");
                        tracing::info!(%peer, error = %e, "TLS handshake refused");
                    }
                    Err(_) => {
                        crate::metrics::handshake_refused("handshake timed out");
                        tracing::info!(%peer, "TLS handshake timed out");
                    }
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

/// What a reload needs of an open connection: its client's chain, and the
/// way to close it.
struct Open {
    chain: Vec<CertificateDer<'static>>,
    closed: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Open {
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if let Some(w) = self.waker.lock().unwrap_or_else(|e| e.into_inner()).take() {
            w.wake();
        }
    }
}

/// The connections open now, weakly: a connection that ends drops out.
#[derive(Default)]
struct Connections {
    next: AtomicU64,
    open: Mutex<HashMap<u64, Weak<Open>>>,
}

impl Connections {
    fn track(&self, stream: TlsStream<TcpStream>) -> Connection {
        let chain = stream.get_ref().1.peer_certificates().map(<[_]>::to_vec).unwrap_or_default();
        let state = Arc::new(Open { chain, closed: AtomicBool::new(false), waker: Mutex::new(None) });
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        // Forget connections that have ended now and then, not on every accept.
        if id.is_multiple_of(256) {
            open.retain(|_, w| w.strong_count() > 0);
        }
        open.insert(id, Arc::downgrade(&state));
        Connection { stream, state }
    }

    fn len(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).values().filter(|w| w.strong_count() > 0).count()
    }

    /// Closes every open connection whose client chain `verifier` refuses
    /// now; how many it closed.
    fn close_refused(&self, verifier: &dyn ClientCertVerifier) -> usize {
        let open: Vec<Arc<Open>> = {
            let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
            open.retain(|_, w| w.strong_count() > 0);
            open.values().filter_map(Weak::upgrade).collect()
        };
        let now = UnixTime::now();
        let mut closed = 0;
        for conn in open {
            let Some((leaf, intermediates)) = conn.chain.split_first() else { continue };
            if let Err(e) = verifier.verify_client_cert(leaf, intermediates, now) {
                tracing::warn!(error = %e, fingerprint = %cosx_certs::fingerprint(leaf.as_ref()), "closing a connection whose certificate is now refused");
                conn.close();
                closed += 1;
            }
        }
        closed
    }
}

/// A mutual-TLS connection the server serves: the TLS stream, which a
/// reload closes (every read and write fails from then on) when its client
/// certificate is no longer accepted.
pub struct Connection {
    stream: TlsStream<TcpStream>,
    state: Arc<Open>,
}

impl Connection {
    fn check(&self, cx: &Context<'_>) -> io::Result<()> {
        if self.state.closed.load(Ordering::SeqCst) {
            return Err(io::Error::new(io::ErrorKind::ConnectionAborted, "client certificate no longer accepted"));
        }
        let mut waker = self.state.waker.lock().unwrap_or_else(|e| e.into_inner());
        if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *waker = Some(cx.waker().clone());
        }
        Ok(())
    }
}

impl Connected for Connection {
    type ConnectInfo = <TlsStream<TcpStream> as Connected>::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.stream.connect_info()
    }
}

impl AsyncRead for Connection {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.check(cx)?;
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.state.closed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "client certificate no longer accepted",
            )));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.state.closed.load(Ordering::SeqCst) {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "client certificate no longer accepted",
            )));
        }
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
