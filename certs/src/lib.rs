//! The exchange CA and the identities it vouches for.
//!
//! Every connection to cosx is mutual TLS. A party's identity is its
//! certificate, issued by the exchange CA, carrying exactly one URI SAN
//! `spiffe://<trust-domain>/party/<party_id>`. This crate creates that CA,
//! issues party and server certificates, and reads a party identity back out
//! of a presented certificate. It is used by the `cosx certs` CLI and by every
//! test, so that no private key is ever committed.
//!
//! It never writes files itself and never logs key material: callers decide
//! where PEM goes.

use std::net::IpAddr;

#[cfg(feature = "pkcs12")]
mod pkcs12;
#[cfg(feature = "pkcs12")]
pub use pkcs12::pkcs12;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason, RevokedCertParams,
    SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};

/// Why a certificate could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// rcgen refused the parameters or the key.
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// A trust domain or party id that cannot appear in a SPIFFE id.
    #[error("{field}: {reason}")]
    InvalidName {
        /// Which input was wrong.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A PKCS#12 file could not be written from the inputs given.
    #[error("{field}: {reason}")]
    Pkcs12 {
        /// Which input was wrong.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// Why a presented certificate does not name a party of this exchange.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// Not a parsable X.509 certificate.
    #[error("client certificate is not a valid X.509 certificate")]
    Unparsable,
    /// The certificate is a CA certificate, not a party's.
    #[error("client certificate is a CA certificate, not a party certificate")]
    CaCertificate,
    /// No URI SAN at all.
    #[error("client certificate carries no URI SAN; expected spiffe://<trust-domain>/party/<party_id>")]
    NoUri,
    /// More than one URI SAN: ambiguous identity.
    #[error("client certificate carries {0} URI SANs; exactly one is allowed")]
    SeveralUris(usize),
    /// A URI that is not a party SPIFFE id in our trust domain.
    #[error("client certificate URI SAN {uri:?} is not spiffe://{trust_domain}/party/<party_id>")]
    WrongUri {
        /// The URI found.
        uri: String,
        /// The trust domain expected.
        trust_domain: String,
    },
}

/// A certificate and its private key, both PEM.
#[derive(Clone)]
pub struct Issued {
    /// Certificate, PEM.
    pub cert_pem: String,
    /// PKCS#8 private key, PEM. Never log it.
    pub key_pem: String,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued").field("key_pem", &"<redacted>").finish_non_exhaustive()
    }
}

/// What a leaf certificate should say. The defaults make a one-year client
/// certificate with no names; the helpers below fill it in for the usual cases.
#[derive(Debug, Clone)]
pub struct LeafSpec {
    /// URI SANs (party certificates carry exactly one).
    pub uris: Vec<String>,
    /// DNS SANs (server certificates).
    pub dns_names: Vec<String>,
    /// IP SANs (server certificates).
    pub ips: Vec<IpAddr>,
    /// Common name, informational only: identity never comes from it.
    pub common_name: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Marks the certificate for TLS client authentication.
    pub client_auth: bool,
    /// Marks the certificate for TLS server authentication.
    pub server_auth: bool,
}

impl Default for LeafSpec {
    fn default() -> Self {
        let now = OffsetDateTime::now_utc();
        LeafSpec {
            uris: Vec::new(),
            dns_names: Vec::new(),
            ips: Vec::new(),
            common_name: String::new(),
            not_before: now - Duration::minutes(5),
            not_after: now + Duration::days(365),
            client_auth: true,
            server_auth: false,
        }
    }
}

/// The SPIFFE id of a party: `spiffe://<trust_domain>/party/<party_id>`.
pub fn party_uri(trust_domain: &str, party_id: &str) -> String {
    format!("spiffe://{trust_domain}/party/{party_id}")
}

/// Checks that `trust_domain` is a valid SPIFFE trust domain name.
pub fn check_trust_domain(trust_domain: &str) -> Result<(), CertError> {
    let ok = !trust_domain.is_empty()
        && trust_domain.len() <= 255
        && trust_domain.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(CertError::InvalidName {
            field: "trust_domain",
            reason: format!("{trust_domain:?} must be 1-255 of a-z 0-9 . - _"),
        })
    }
}

/// Checks that `party_id` may appear in a SPIFFE path segment.
pub fn check_party_id(party_id: &str) -> Result<(), CertError> {
    let ok = (2..=64).contains(&party_id.len())
        && party_id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(CertError::InvalidName { field: "party_id", reason: format!("{party_id:?} must be 2-64 of A-Z 0-9 - _") })
    }
}

/// The exchange's certificate authority.
pub struct ExchangeCa {
    trust_domain: String,
    cert_pem: String,
    key: KeyPair,
}

impl std::fmt::Debug for ExchangeCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExchangeCa").field("trust_domain", &self.trust_domain).finish_non_exhaustive()
    }
}

impl ExchangeCa {
    /// Creates a new CA for `trust_domain`, valid for ten years. The trust
    /// domain is recorded in the CA certificate as URI SAN `spiffe://<domain>`.
    pub fn create(trust_domain: &str) -> Result<Self, CertError> {
        check_trust_domain(trust_domain)?;
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, format!("cosx exchange CA {trust_domain}"));
        dn.push(DnType::OrganizationName, "cosx");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        params.subject_alt_names = vec![SanType::URI(format!("spiffe://{trust_domain}").try_into()?)];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::minutes(5);
        params.not_after = now + Duration::days(3650);
        params.serial_number = Some(random_serial()?);
        let cert = params.self_signed(&key)?;
        Ok(ExchangeCa { trust_domain: trust_domain.to_owned(), cert_pem: cert.pem(), key })
    }

    /// Loads a CA written earlier by [`ExchangeCa::create`].
    pub fn load(cert_pem: &str, key_pem: &str) -> Result<Self, CertError> {
        let key = KeyPair::from_pem(key_pem)?;
        let der = pem_to_der(cert_pem)
            .ok_or_else(|| CertError::InvalidName { field: "ca.pem", reason: "not a PEM certificate".into() })?;
        let trust_domain = uri_sans(&der)
            .map_err(|_| CertError::InvalidName { field: "ca.pem", reason: "not an X.509 certificate".into() })?
            .into_iter()
            .find_map(|u| u.strip_prefix("spiffe://").map(str::to_owned))
            .ok_or_else(|| CertError::InvalidName {
                field: "ca.pem",
                reason: "carries no spiffe://<trust-domain> URI SAN: not a cosx exchange CA".into(),
            })?;
        Ok(ExchangeCa { trust_domain, cert_pem: cert_pem.to_owned(), key })
    }

    /// The trust domain this CA vouches for.
    pub fn trust_domain(&self) -> &str {
        &self.trust_domain
    }

    /// The CA certificate, PEM: the trust anchor servers and clients load.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA's private key, PEM. Keep it offline in a real deployment.
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// Issues a party certificate for `party_id`, valid for one year.
    pub fn issue_party(&self, party_id: &str) -> Result<Issued, CertError> {
        check_party_id(party_id)?;
        self.issue(&LeafSpec {
            uris: vec![party_uri(&self.trust_domain, party_id)],
            common_name: party_id.to_owned(),
            ..LeafSpec::default()
        })
    }

    /// Issues a server certificate for DNS names and/or IP addresses.
    pub fn issue_server(&self, names: &[String]) -> Result<Issued, CertError> {
        let mut spec = LeafSpec { client_auth: false, server_auth: true, ..LeafSpec::default() };
        for name in names {
            match name.parse::<IpAddr>() {
                Ok(ip) => spec.ips.push(ip),
                Err(_) => spec.dns_names.push(name.clone()),
            }
        }
        spec.common_name = names.first().cloned().unwrap_or_default();
        self.issue(&spec)
    }

    /// Signs a certificate revocation list naming `revoked`, numbered
    /// `number` (CRL numbers must only grow), valid from now for `validity`.
    /// Returns it as PEM (`-----BEGIN X509 CRL-----`), the form servers load.
    pub fn revocation_list(
        &self,
        revoked: &[Revoked],
        number: u64,
        validity: std::time::Duration,
    ) -> Result<String, CertError> {
        let validity = Duration::try_from(validity)
            .map_err(|_| CertError::InvalidName { field: "validity", reason: "too long for a CRL".into() })?;
        let now = OffsetDateTime::now_utc();
        let params = CertificateRevocationListParams {
            this_update: now - Duration::minutes(5),
            next_update: now + validity,
            crl_number: SerialNumber::from(number),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|r| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&r.serial),
                    revocation_time: r.revoked_at,
                    reason_code: Some(RevocationReason::Unspecified),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let issuer = Issuer::from_ca_cert_pem(&self.cert_pem, &self.key)?;
        Ok(params.signed_by(&issuer)?.pem()?)
    }

    /// Reads a CRL this CA signed earlier (PEM): its number and entries.
    /// Refuses a CRL issued by another CA, so that re-signing never mixes
    /// another authority's list into ours.
    pub fn read_revocation_list(&self, crl_pem: &str) -> Result<RevocationList, CertError> {
        let bad = |reason: String| CertError::InvalidName { field: "crl", reason };
        let (_, pem) =
            x509_parser::pem::parse_x509_pem(crl_pem.as_bytes()).map_err(|_| bad("not a PEM document".into()))?;
        if pem.label != "X509 CRL" {
            return Err(bad(format!("PEM block is {:?}, expected \"X509 CRL\"", pem.label)));
        }
        let (_, crl) = x509_parser::parse_x509_crl(&pem.contents).map_err(|e| bad(format!("not an X.509 CRL: {e}")))?;
        let ca_der = pem_to_der(&self.cert_pem).ok_or_else(|| bad("CA certificate is not PEM".into()))?;
        let (_, ca) =
            x509_parser::parse_x509_certificate(&ca_der).map_err(|_| bad("CA certificate unparsable".into()))?;
        if crl.issuer().as_raw() != ca.subject().as_raw() || crl.verify_signature(ca.public_key()).is_err() {
            return Err(bad(format!("not signed by this exchange CA ({})", ca.subject())));
        }
        let number = crl
            .crl_number()
            .map(|n| n.to_bytes_be().iter().fold(0u64, |acc, b| acc.wrapping_shl(8) | u64::from(*b)))
            .unwrap_or(0);
        let revoked = crl
            .iter_revoked_certificates()
            .map(|r| Revoked {
                serial: r.raw_serial().to_vec(),
                revoked_at: OffsetDateTime::from_unix_timestamp(r.revocation_date.timestamp())
                    .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            })
            .collect();
        Ok(RevocationList { number, revoked })
    }

    /// Issues a leaf certificate exactly as `spec` says. Tests use it to make
    /// the certificates that must be refused (expired, two URIs, ...).
    pub fn issue(&self, spec: &LeafSpec) -> Result<Issued, CertError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        if !spec.common_name.is_empty() {
            dn.push(DnType::CommonName, spec.common_name.clone());
        }
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if spec.client_auth {
            params.extended_key_usages.push(ExtendedKeyUsagePurpose::ClientAuth);
        }
        if spec.server_auth {
            params.extended_key_usages.push(ExtendedKeyUsagePurpose::ServerAuth);
        }
        for uri in &spec.uris {
            params.subject_alt_names.push(SanType::URI(uri.clone().try_into()?));
        }
        for dns in &spec.dns_names {
            params.subject_alt_names.push(SanType::DnsName(dns.clone().try_into()?));
        }
        for ip in &spec.ips {
            params.subject_alt_names.push(SanType::IpAddress(*ip));
        }
        params.not_before = spec.not_before;
        params.not_after = spec.not_after;
        params.serial_number = Some(random_serial()?);
        params.use_authority_key_identifier_extension = true;
        let issuer = Issuer::from_ca_cert_pem(&self.cert_pem, &self.key)?;
        let cert = params.signed_by(&key, &issuer)?;
        Ok(Issued { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }
}

/// A certificate listed in a revocation list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// The certificate's serial number, big-endian bytes as in the certificate.
    pub serial: Vec<u8>,
    /// When the CA revoked it.
    pub revoked_at: OffsetDateTime,
}

/// What a revocation list says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationList {
    /// The CRL number (0 when absent).
    pub number: u64,
    /// The revoked certificates.
    pub revoked: Vec<Revoked>,
}

impl RevocationList {
    /// Adds `serial` revoked now, unless it is already listed; whether it was added.
    pub fn revoke(&mut self, serial: &[u8]) -> bool {
        if self.revoked.iter().any(|r| r.serial == serial) {
            return false;
        }
        self.revoked.push(Revoked { serial: serial.to_vec(), revoked_at: OffsetDateTime::now_utc() });
        true
    }
}

/// The serial number of the first certificate in a PEM string.
pub fn serial_of(cert_pem: &str) -> Result<Vec<u8>, CertError> {
    let bad = |reason: &str| CertError::InvalidName { field: "certificate", reason: reason.to_owned() };
    let der = pem_to_der(cert_pem).ok_or_else(|| bad("not a PEM certificate"))?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).map_err(|_| bad("not an X.509 certificate"))?;
    Ok(cert.raw_serial().to_vec())
}

fn random_serial() -> Result<SerialNumber, CertError> {
    // A fresh key pair's public key is unpredictable: hash it down to a
    // positive 16-byte serial without pulling in another RNG.
    let key = KeyPair::generate()?;
    let raw = key.public_key_raw();
    let mut bytes = [0u8; 16];
    for (i, b) in raw.iter().enumerate() {
        bytes[i % 16] ^= *b;
    }
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    Ok(SerialNumber::from_slice(&bytes))
}

/// The DER bytes of the first certificate in a PEM string.
pub fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    x509_parser::pem::parse_x509_pem(pem.as_bytes()).ok().map(|(_, p)| p.contents)
}

/// Reads the party id out of a presented (already chain-verified) DER
/// certificate: exactly one URI SAN `spiffe://<trust_domain>/party/<id>`, and
/// not a CA certificate. The answer is a function of the two arguments
/// alone, so it is remembered per distinct certificate ([`MEMO_CERTIFICATES`]
/// at most): every call on a connection presents the same one, and the edge
/// and the core each ask. What a party may do is still decided per call by
/// the registry (suspension, registration); revocation closes connections.
pub fn party_id_from_cert(der: &[u8], trust_domain: &str) -> Result<String, IdentityError> {
    memo(der, trust_domain).0
}

/// [`party_id_from_cert`] and [`fingerprint`] of one certificate, from the memo.
pub fn identity_of(der: &[u8], trust_domain: &str) -> (Result<String, IdentityError>, String) {
    memo(der, trust_domain)
}

/// Distinct certificates remembered at once; when full the memo starts
/// afresh (a bound, not a cache policy: parties hold one or two each).
pub const MEMO_CERTIFICATES: usize = 4096;

type Read = (Result<String, IdentityError>, String);
/// Readings by trust domain, then certificate.
type Memo = std::sync::Mutex<std::collections::HashMap<String, std::collections::HashMap<Vec<u8>, Read>>>;

fn memo(der: &[u8], trust_domain: &str) -> Read {
    use std::sync::OnceLock;
    static MEMO: OnceLock<Memo> = OnceLock::new();
    let memo = MEMO.get_or_init(Memo::default);
    if let Some(read) = memo.lock().unwrap_or_else(|e| e.into_inner()).get(trust_domain).and_then(|m| m.get(der)) {
        return read.clone();
    }
    let read = (read_party_id(der, trust_domain), fingerprint(der));
    let mut memo = memo.lock().unwrap_or_else(|e| e.into_inner());
    let known = memo.entry(trust_domain.to_owned()).or_default();
    if known.len() >= MEMO_CERTIFICATES {
        known.clear();
    }
    known.insert(der.to_vec(), read.clone());
    read
}

/// The URI SANs of a parsed certificate.
fn uris_of(cert: &x509_parser::certificate::X509Certificate<'_>) -> Vec<String> {
    let mut uris = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if let x509_parser::extensions::GeneralName::URI(uri) = name {
                uris.push((*uri).to_owned());
            }
        }
    }
    uris
}

/// The URI SANs of a DER certificate.
fn uri_sans(der: &[u8]) -> Result<Vec<String>, IdentityError> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|_| IdentityError::Unparsable)?;
    Ok(uris_of(&cert))
}

fn read_party_id(der: &[u8], trust_domain: &str) -> Result<String, IdentityError> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|_| IdentityError::Unparsable)?;
    if cert.is_ca() {
        return Err(IdentityError::CaCertificate);
    }
    let uris = uris_of(&cert);
    let uri = match uris.as_slice() {
        [] => return Err(IdentityError::NoUri),
        [one] => one,
        several => return Err(IdentityError::SeveralUris(several.len())),
    };
    let prefix = format!("spiffe://{trust_domain}/party/");
    uri.strip_prefix(&prefix)
        .filter(|id| check_party_id(id).is_ok())
        .map(str::to_owned)
        .ok_or_else(|| IdentityError::WrongUri { uri: uri.clone(), trust_domain: trust_domain.to_owned() })
}

/// SHA-256 fingerprint of a DER certificate, lowercase hex; recorded in the
/// audit log next to each actor.
pub fn fingerprint(der: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(der))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der(pem: &str) -> Vec<u8> {
        pem_to_der(pem).unwrap_or_default()
    }

    #[test]
    fn a_remembered_reading_is_the_reading_and_is_kept_per_trust_domain() -> Result<(), CertError> {
        let ca = ExchangeCa::create("memo.example")?;
        let d = der(&ca.issue_party("USA-USAF-MEMO")?.cert_pem);
        let first = identity_of(&d, "memo.example");
        assert_eq!(first, (Ok("USA-USAF-MEMO".to_owned()), fingerprint(&d)));
        assert_eq!(identity_of(&d, "memo.example"), first, "read again from the memo");
        // The same certificate read for another trust domain is that domain's answer, not the memo's.
        assert!(matches!(party_id_from_cert(&d, "other.example"), Err(IdentityError::WrongUri { .. })));
        assert_eq!(party_id_from_cert(&d, "memo.example"), Ok("USA-USAF-MEMO".to_owned()));
        // A refusal is remembered as a refusal.
        let ca_der = der(ca.cert_pem());
        assert_eq!(party_id_from_cert(&ca_der, "memo.example"), Err(IdentityError::CaCertificate));
        assert_eq!(party_id_from_cert(&ca_der, "memo.example"), Err(IdentityError::CaCertificate));
        Ok(())
    }

    #[test]
    fn party_certificate_names_exactly_its_party() -> Result<(), CertError> {
        let ca = ExchangeCa::create("rsf.example")?;
        let issued = ca.issue_party("JPN-MHI-KOMAKI")?;
        assert_eq!(party_id_from_cert(&der(&issued.cert_pem), "rsf.example"), Ok("JPN-MHI-KOMAKI".to_owned()));
        assert!(matches!(
            party_id_from_cert(&der(&issued.cert_pem), "other.example"),
            Err(IdentityError::WrongUri { .. })
        ));
        Ok(())
    }

    #[test]
    fn ca_round_trips_through_pem_and_keeps_its_trust_domain() -> Result<(), CertError> {
        let ca = ExchangeCa::create("rsf.example")?;
        let loaded = ExchangeCa::load(ca.cert_pem(), &ca.key_pem())?;
        assert_eq!(loaded.trust_domain(), "rsf.example");
        loaded.issue_party("US-USAF-OOALC")?;
        Ok(())
    }

    #[test]
    fn two_uris_and_ca_certificates_are_not_identities() -> Result<(), CertError> {
        let ca = ExchangeCa::create("rsf.example")?;
        let two = ca.issue(&LeafSpec {
            uris: vec![party_uri("rsf.example", "AA-ONE"), party_uri("rsf.example", "BB-TWO")],
            ..LeafSpec::default()
        })?;
        assert_eq!(party_id_from_cert(&der(&two.cert_pem), "rsf.example"), Err(IdentityError::SeveralUris(2)));
        assert_eq!(party_id_from_cert(&der(ca.cert_pem()), "rsf.example"), Err(IdentityError::CaCertificate));
        Ok(())
    }

    #[test]
    fn a_revocation_list_round_trips_and_lists_each_serial_once() -> Result<(), CertError> {
        let ca = ExchangeCa::create("rsf.example")?;
        let issued = ca.issue_party("JPN-MHI-KOMAKI")?;
        let mut list = RevocationList::default();
        assert!(list.revoke(&serial_of(&issued.cert_pem)?));
        assert!(!list.revoke(&serial_of(&issued.cert_pem)?));
        let pem = ca.revocation_list(&list.revoked, 7, std::time::Duration::from_secs(30 * 86_400))?;
        assert!(pem.starts_with("-----BEGIN X509 CRL-----"), "{pem}");
        let read = ca.read_revocation_list(&pem)?;
        assert_eq!(read.number, 7);
        assert_eq!(read.revoked.len(), 1);
        assert_eq!(read.revoked[0].serial, serial_of(&issued.cert_pem)?);
        // Another CA's list is not ours to extend.
        let other = ExchangeCa::create("rsf.example")?;
        assert!(other.read_revocation_list(&pem).is_err());
        Ok(())
    }

    #[test]
    fn bad_names_are_refused() {
        assert!(check_party_id("jpn lower").is_err());
        assert!(check_trust_domain("Bad Domain").is_err());
        assert!(ExchangeCa::create("").is_err());
    }
}
