//! How much to trust a BMC's TLS certificate.
//!
//! BMCs usually present self-signed factory certificates whose names do not match the
//! address they are reached at, so "verify against the system roots" fails for most of
//! them. Rather than turn verification off everywhere, each BMC says how it is trusted:
//! the system roots (default), a CA certificate file, or a SHA-256 pin of the exact
//! certificate (identity by fingerprint, name not checked) — and `insecure` only when an
//! admin asks for it by name.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

/// How a BMC's certificate is trusted.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum TlsTrust {
    /// The platform's trust roots and normal name checks.
    #[default]
    System,
    /// Only this CA (PEM; may be the BMC's own end-entity certificate), with name checks.
    Ca(String),
    /// Exactly the certificate with this SHA-256 (64 hex digits); names are not checked.
    Pin(String),
    /// No verification at all. Only when an admin asked for it.
    Insecure,
}

impl std::fmt::Debug for TlsTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsTrust::System => f.write_str("System"),
            TlsTrust::Ca(_) => f.write_str("Ca(..)"),
            TlsTrust::Pin(p) => write!(f, "Pin({p})"),
            TlsTrust::Insecure => f.write_str("Insecure"),
        }
    }
}

/// Normalise a SHA-256 fingerprint: accepts `AB:CD:…` or plain hex, any case; `None` if it
/// is not 32 bytes of hex.
pub fn normalise_pin(pin: &str) -> Option<String> {
    let hex: String = pin
        .trim()
        .trim_start_matches("sha256:")
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(hex)
}

/// SHA-256 of a certificate's DER, lower-case hex.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A rustls client config that accepts exactly the pinned certificate.
pub fn pinned_config(pin: &str) -> rustls::ClientConfig {
    let provider = provider();
    let verifier = PinVerifier {
        pin: pin.to_string(),
        algorithms: provider.signature_verification_algorithms,
    };
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the aws-lc-rs provider supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth()
}

#[derive(Debug)]
struct PinVerifier {
    pin: String,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got = fingerprint(end_entity.as_ref());
        if got == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "certificate fingerprint {got} does not match the pinned {}",
                self.pin
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_normalise() {
        let hex = "AB".repeat(32);
        let colons = vec!["ab"; 32].join(":");
        assert_eq!(normalise_pin(&hex), Some("ab".repeat(32)));
        assert_eq!(normalise_pin(&colons), Some("ab".repeat(32)));
        assert_eq!(normalise_pin("abc"), None);
        assert_eq!(normalise_pin(&"zz".repeat(32)), None);
    }
}
