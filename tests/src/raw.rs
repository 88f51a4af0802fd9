//! A raw HTTP/2 client over mutual TLS, for the attacks a well-behaved gRPC
//! client will not make: calls whose request body never arrives, many
//! streams held open at once, connections from chosen loopback addresses.
//! It speaks just enough gRPC to read the status a call ends with.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use cosx_certs::Issued;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::{TcpSocket, TcpStream};

/// One HTTP/2 connection, speaking for the certificate it presented.
pub struct RawConnection {
    send: h2::client::SendRequest<bytes::Bytes>,
    /// Request bodies kept open (never finished) while the test runs.
    held: Vec<h2::SendStream<bytes::Bytes>>,
}

/// A TCP connection to `addr` from the loopback address `from` (any of
/// 127.0.0.0/8 on Linux), so one machine can play many sources.
pub async fn tcp_from(from: IpAddr, addr: SocketAddr) -> anyhow::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    Ok(socket.connect(addr).await?)
}

impl RawConnection {
    /// Connects to `addr` from `from`, trusting `ca_pem`, presenting `identity`.
    pub async fn connect(from: IpAddr, addr: SocketAddr, ca_pem: &str, identity: &Issued) -> anyhow::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut roots = rustls::RootCertStore::empty();
        for ca in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            roots.add(ca?)?;
        }
        let chain = CertificateDer::pem_slice_iter(identity.cert_pem.as_bytes()).collect::<Result<Vec<_>, _>>()?;
        let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes())?;
        let mut config =
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()?
                .with_root_certificates(roots)
                .with_client_auth_cert(chain, key)?;
        config.alpn_protocols = vec![b"h2".to_vec()];
        let tcp = tcp_from(from, addr).await?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from("localhost")?.to_owned(), tcp)
            .await?;
        let (send, connection) = h2::client::handshake(tls).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(RawConnection { send, held: Vec::new() })
    }

    /// Starts a call to `path` and sends its headers only: the body never
    /// comes. Returns the gRPC status code the server answers with.
    pub async fn call_without_body(&mut self, path: &str) -> anyhow::Result<h2::client::ResponseFuture> {
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("https://localhost{path}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())?;
        let mut send = self.send.clone().ready().await?;
        let (response, body) = send.send_request(request, false)?;
        self.held.push(body);
        Ok(response)
    }
}

/// The gRPC status a response carries in its head (0 when it has none: the
/// call was accepted and its status comes later).
pub async fn head_status(response: h2::client::ResponseFuture) -> anyhow::Result<i32> {
    let response = response.await?;
    let code = response.headers().get("grpc-status").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    match code {
        Some(code) => Ok(code),
        None => {
            // The status comes in the trailers, after any messages.
            let mut body = response.into_body();
            while let Some(chunk) = body.data().await {
                let _ = chunk?;
            }
            let trailers = body.trailers().await?;
            Ok(trailers
                .and_then(|t| t.get("grpc-status").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()))
                .unwrap_or(0))
        }
    }
}
