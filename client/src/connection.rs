//! One mutually authenticated TLS channel to a cosx node or coordinator, and
//! the generated service clients over it.
//!
//! Every call to cosx is mTLS: the party is known by its certificate, so this
//! module must never fall back to plaintext or to the system trust store. The
//! only trust anchor is the exchange CA given in the settings.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cosx_proto::v1::exchange_client::ExchangeClient;
use cosx_proto::v1::feed_client::FeedClient;
use cosx_proto::v1::registry_client::RegistryClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity, Uri};

use crate::error::{ClientError, error_chain};

/// How long to wait for the TCP and TLS handshake before giving up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a client connects and with which identity.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectionSettings {
    /// Server URL, e.g. `https://localhost:7443`. A bare `host:port` is taken
    /// as `https://host:port`; `http://` is refused.
    pub endpoint: String,
    /// PEM file of the exchange CA that issued the server's certificate.
    pub ca_pem_path: PathBuf,
    /// PEM file of this party's certificate.
    pub cert_path: PathBuf,
    /// PEM file of this party's private key.
    pub key_path: PathBuf,
    /// Name to check the server certificate against, instead of the
    /// endpoint's host (e.g. when dialling an IP the certificate does not name).
    pub domain_override: Option<String>,
}

/// A connected cosx client: one mTLS channel shared by the service clients.
///
/// Cloning is cheap; the clones share the channel.
#[derive(Debug, Clone)]
pub struct Client {
    channel: Channel,
    endpoint: String,
}

impl Client {
    /// Reads the CA, certificate and key files named in `settings` and
    /// connects.
    pub async fn connect(settings: &ConnectionSettings) -> Result<Client, ClientError> {
        let ca = read_pem("--ca", &settings.ca_pem_path)?;
        let cert = read_pem("--cert", &settings.cert_path)?;
        let key = read_pem("--key", &settings.key_path)?;
        // rustls's own messages do not say which file was wrong.
        expect_pem("--ca", &settings.ca_pem_path, &ca, "CERTIFICATE", "certificate")?;
        expect_pem("--cert", &settings.cert_path, &cert, "CERTIFICATE", "certificate")?;
        expect_pem("--key", &settings.key_path, &key, "PRIVATE KEY", "private key")?;
        Self::connect_with(&settings.endpoint, &ca, &cert, &key, settings.domain_override.as_deref()).await
    }

    /// Connects with PEM held in memory (tests generate certificates on the
    /// fly and never write them out). The server name is the endpoint's host.
    pub async fn connect_pem(
        endpoint: &str,
        ca_pem: &str,
        cert_pem: &str,
        key_pem: &str,
    ) -> Result<Client, ClientError> {
        Self::connect_with(endpoint, ca_pem, cert_pem, key_pem, None).await
    }

    /// Connects with PEM held in memory, checking the server certificate
    /// against `domain_override` when given, else the endpoint's host.
    pub async fn connect_with(
        endpoint: &str,
        ca_pem: &str,
        cert_pem: &str,
        key_pem: &str,
        domain_override: Option<&str>,
    ) -> Result<Client, ClientError> {
        let (uri, host) = parse_endpoint(endpoint)?;
        let shown = endpoint.trim().to_owned();
        let server_name = domain_override.map(str::to_owned).unwrap_or(host);
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(ca_pem))
            .identity(Identity::from_pem(cert_pem, key_pem))
            .domain_name(server_name);
        let connect_err =
            |e: tonic::transport::Error| ClientError::Connect { endpoint: shown.clone(), reason: error_chain(&e) };
        let channel = Endpoint::from(uri)
            .connect_timeout(CONNECT_TIMEOUT)
            .tls_config(tls)
            .map_err(connect_err)?
            .connect()
            .await
            .map_err(connect_err)?;
        Ok(Client { channel, endpoint: shown })
    }

    /// The endpoint this client is connected to, as given.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The underlying channel, for services this crate does not wrap
    /// (health, reflection, ...).
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// Client for the `Registry` service (parties).
    pub fn registry(&self) -> RegistryClient<Channel> {
        RegistryClient::new(self.channel.clone())
    }

    /// Client for the `Exchange` service (records).
    pub fn exchange(&self) -> ExchangeClient<Channel> {
        ExchangeClient::new(self.channel.clone())
    }

    /// Client for the `Signals` service (metrics and aggregates).
    pub fn signals(&self) -> cosx_proto::v1::signals_client::SignalsClient<Channel> {
        cosx_proto::v1::signals_client::SignalsClient::new(self.channel.clone())
    }

    /// Client for the `Feed` service (events).
    pub fn feed(&self) -> FeedClient<Channel> {
        FeedClient::new(self.channel.clone())
    }
}

fn read_pem(what: &str, path: &Path) -> Result<String, ClientError> {
    std::fs::read_to_string(path).map_err(|source| ClientError::ReadFile {
        what: what.to_owned(),
        path: path.to_owned(),
        source,
    })
}

fn expect_pem(what: &str, path: &Path, pem: &str, label: &str, noun: &str) -> Result<(), ClientError> {
    let found = pem.lines().any(|l| l.starts_with("-----BEGIN ") && l.trim_end().ends_with(&format!("{label}-----")));
    if found { Ok(()) } else { Err(ClientError::Usage(format!("{what} file {} holds no PEM {noun}", path.display()))) }
}

/// Parses an endpoint into a URI and the host name to verify, defaulting the
/// scheme to `https` and refusing anything that would not be TLS.
pub(crate) fn parse_endpoint(endpoint: &str) -> Result<(Uri, String), ClientError> {
    let invalid =
        |reason: &str| ClientError::InvalidEndpoint { endpoint: endpoint.to_owned(), reason: reason.to_owned() };
    let trimmed = endpoint.trim();
    if trimmed.is_empty() {
        return Err(invalid("empty; expected https://host:port"));
    }
    let with_scheme = if trimmed.contains("://") { trimmed.to_owned() } else { format!("https://{trimmed}") };
    let uri: Uri = with_scheme.parse().map_err(|_| invalid("not a URL; expected https://host:port"))?;
    match uri.scheme_str() {
        Some("https") => {}
        _ => {
            return Err(invalid("cosx speaks mutual TLS only; use an https:// endpoint"));
        }
    }
    let host = uri.host().ok_or_else(|| invalid("no host; expected https://host:port"))?;
    // IPv6 literals come back bracketed; the certificate names the bare address.
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    Ok((uri, host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_name_comes_from_the_endpoint_host() {
        let (uri, host) = parse_endpoint("https://localhost:7443").expect("valid");
        assert_eq!(host, "localhost");
        assert_eq!(uri.port_u16(), Some(7443));
    }

    #[test]
    fn a_bare_host_and_port_means_https() {
        let (uri, host) = parse_endpoint("127.0.0.1:7443").expect("valid");
        assert_eq!(uri.scheme_str(), Some("https"));
        assert_eq!(host, "127.0.0.1");
    }

    #[test]
    fn ipv6_literals_lose_their_brackets() {
        let (_, host) = parse_endpoint("https://[::1]:7443").expect("valid");
        assert_eq!(host, "::1");
    }

    #[test]
    fn plaintext_endpoints_are_refused() {
        let err = parse_endpoint("http://localhost:7443").expect_err("plaintext");
        assert!(err.to_string().contains("https://"), "{err}");
    }

    #[test]
    fn a_key_file_that_holds_a_certificate_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = dir.path().join("p.pem");
        std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\nMII=\n-----END CERTIFICATE-----\n").expect("write");
        let settings = ConnectionSettings {
            endpoint: "https://localhost:1".into(),
            ca_pem_path: cert.clone(),
            cert_path: cert.clone(),
            key_path: cert.clone(),
            domain_override: None,
        };
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let err = rt.block_on(Client::connect(&settings)).expect_err("not a key");
        assert_eq!(err.to_string(), format!("--key file {} holds no PEM private key", cert.display()));
    }

    #[test]
    fn a_missing_ca_file_is_named_in_the_error() {
        let settings = ConnectionSettings {
            endpoint: "https://localhost:1".into(),
            ca_pem_path: "/nonexistent/ca.pem".into(),
            cert_path: "/nonexistent/p.pem".into(),
            key_path: "/nonexistent/p.key".into(),
            domain_override: None,
        };
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let err = rt.block_on(Client::connect(&settings)).expect_err("no files");
        let text = err.to_string();
        assert!(text.starts_with("cannot read --ca file /nonexistent/ca.pem: "), "{text}");
    }
}
