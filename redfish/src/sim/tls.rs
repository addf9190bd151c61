//! Certificates and the rustls acceptor for an HTTPS SimBmc.
//!
//! Real BMCs ship self-signed certificates, so the simulator does too: one freshly generated
//! end-entity certificate per BMC. It must say `CA:FALSE` explicitly, because webpki (and so
//! rustls and reqwest) refuses a CA certificate presented as a server certificate, even when
//! that same certificate is the trust anchor. The crypto provider is passed explicitly so
//! nothing depends on a process-wide default having been installed.

use std::io;
use std::sync::Arc;

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use tokio_rustls::TlsAcceptor;

/// A generated certificate with its key, in the forms the simulator and its callers need.
pub(crate) struct SimCert {
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
    /// Lower-case hex SHA-256 of the certificate DER.
    pub(crate) sha256: String,
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl SimCert {
    /// A self-signed end-entity certificate for `names` (IP addresses become IP SANs,
    /// anything else a DNS SAN).
    pub(crate) fn generate(names: &[&str]) -> Result<SimCert, rcgen::Error> {
        let sans: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(sans)?;
        params.is_ca = IsCa::ExplicitNoCa;
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            names.first().copied().unwrap_or("SimBmc"),
        );
        dn.push(DnType::OrganizationName, "SimBmc");
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        let cert_der = cert.der().clone();
        Ok(SimCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            sha256: hex(&Sha256::digest(cert_der.as_ref())),
            cert_der,
            key_der: key.serialize_der(),
        })
    }

    /// A TLS acceptor serving this certificate (TLS 1.2 and 1.3, HTTP/1.1 over ALPN).
    pub(crate) fn acceptor(&self) -> io::Result<TlsAcceptor> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![self.cert_der.clone()], key)
            .map_err(io::Error::other)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// A self-signed end-entity certificate (basicConstraints CA:FALSE; rustls rejects CA:TRUE
/// certificates as server certificates) for the given DNS names and IP addresses.
///
/// Returns `(cert_pem, key_pem, sha256_hex_of_der)`; the key is PKCS#8 PEM.
///
/// # Panics
///
/// If a name is neither an IP address nor a valid DNS name, or key generation fails.
pub fn self_signed_cert(names: &[&str]) -> (String, String, String) {
    let cert =
        SimCert::generate(names).unwrap_or_else(|e| panic!("self_signed_cert({names:?}): {e}"));
    (cert.cert_pem, cert.key_pem, cert.sha256)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
