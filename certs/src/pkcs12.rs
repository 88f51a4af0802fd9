//! PKCS#12 (`.p12`) files: an issued party certificate, its key and the
//! exchange CA in one passphrase-protected file, the form a browser imports
//! a client certificate in (the web console has no other login).
//!
//! Written with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) and an HMAC-SHA256
//! MAC, which current Chromium, Firefox, macOS and OpenSSL 3 import; the
//! legacy RC2/3DES ciphers are not compiled in. Must never: write a file
//! without a passphrase, or keep the passphrase anywhere.

use crate::{CertError, Issued, pem_to_der};

/// Key-derivation rounds for the encryption and the MAC.
const ITERATIONS: u64 = 100_000;

/// `issued` (with `ca_pem` as the rest of its chain) as a PKCS#12 file
/// protected by `passphrase`, named `alias` in the browser's list.
pub fn pkcs12(issued: &Issued, ca_pem: &str, alias: &str, passphrase: &str) -> Result<Vec<u8>, CertError> {
    if passphrase.is_empty() {
        return Err(CertError::Pkcs12 { field: "passphrase", reason: "must not be empty".into() });
    }
    let der = |pem: &str, field: &'static str| {
        pem_to_der(pem).ok_or_else(|| CertError::Pkcs12 { field, reason: "not a PEM certificate".into() })
    };
    let cert = |bytes: Vec<u8>, field: &'static str| {
        p12_keystore::Certificate::from_der(&bytes)
            .map_err(|e| CertError::Pkcs12 { field, reason: format!("not a DER certificate: {e}") })
    };
    let leaf = cert(der(&issued.cert_pem, "certificate")?, "certificate")?;
    let ca = cert(der(ca_pem, "ca")?, "ca")?;
    let key = private_key_der(&issued.key_pem)?;
    let key_id = {
        use sha2::Digest;
        sha2::Sha256::digest(leaf.as_der()).to_vec()
    };
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry(
        alias,
        p12_keystore::KeyStoreEntry::PrivateKeyChain(p12_keystore::PrivateKeyChain::new(key, key_id, [leaf, ca])),
    );
    store
        .writer(passphrase)
        .encryption_algorithm(p12_keystore::EncryptionAlgorithm::PbeWithHmacSha256AndAes256)
        .encryption_iterations(ITERATIONS)
        .mac_algorithm(p12_keystore::MacAlgorithm::HmacSha256)
        .mac_iterations(ITERATIONS)
        .write()
        .map_err(|e| CertError::Pkcs12 { field: "pkcs12", reason: e.to_string() })
}

/// The DER of a `PRIVATE KEY` (PKCS#8) PEM block.
fn private_key_der(pem: &str) -> Result<Vec<u8>, CertError> {
    let bad = || CertError::Pkcs12 { field: "key", reason: "not a PKCS#8 PEM private key".into() };
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|_| bad())?;
    if block.label != "PRIVATE KEY" {
        return Err(bad());
    }
    Ok(block.contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ExchangeCa;

    #[test]
    fn a_p12_opens_with_its_passphrase_only_and_holds_key_leaf_and_ca() {
        let ca = ExchangeCa::create("cosx.test").expect("ca");
        let issued = ca.issue_party("USA-AF-OC-ALC").expect("issue");
        let p12 = pkcs12(&issued, ca.cert_pem(), "USA-AF-OC-ALC", "correct horse").expect("p12");
        assert!(p12_keystore::KeyStore::from_pkcs12(&p12, "wrong").is_err());
        let store = p12_keystore::KeyStore::from_pkcs12(&p12, "correct horse").expect("open");
        let (alias, chain) = store.private_key_chain().expect("a key chain");
        assert_eq!(alias, "USA-AF-OC-ALC");
        assert_eq!(chain.key(), private_key_der(&issued.key_pem).expect("key"));
        let ders: Vec<&[u8]> = chain.chain().iter().map(|c| c.as_der()).collect();
        let leaf = pem_to_der(&issued.cert_pem).expect("leaf");
        let root = pem_to_der(ca.cert_pem()).expect("root");
        assert_eq!(ders, [leaf.as_slice(), root.as_slice()]);
        assert_eq!(crate::party_id_from_cert(ders[0], "cosx.test"), Ok("USA-AF-OC-ALC".to_owned()));
    }

    #[test]
    fn an_empty_passphrase_is_refused() {
        let ca = ExchangeCa::create("cosx.test").expect("ca");
        let issued = ca.issue_party("USA-AF-OC-ALC").expect("issue");
        let err = pkcs12(&issued, ca.cert_pem(), "x", "").expect_err("empty");
        assert_eq!(err.to_string(), "passphrase: must not be empty");
    }
}
