//! TLS certificates: the control plane's (the one configured, `tls_cert`/`tls_key`, or one
//! generated at first start into `<data-dir>/tls/`: rcgen, an ECDSA P-256 end-entity
//! certificate for localhost, this host's name, the advertise host and the control-plane
//! address, reused afterwards), and the boot plane's optional HTTPS one, which is **RSA**
//! because iPXE's TLS speaks only RSA (`boot-rsa-cert.pem`, generated the same way unless
//! `boot_tls_cert`/`boot_tls_key` are given). `rackboot serve` logs each one's SHA-256, which
//! a client pins with `--pin` (or trusts by file with `--ca <data-dir>/tls/cert.pem`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::keyfile;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS certificate {path}: {why}")]
    Cert { path: PathBuf, why: String },
    #[error("TLS key {path}: {why}")]
    Key { path: PathBuf, why: String },
    #[error("generating the control plane's certificate: {0}")]
    Generate(String),
    #[error(transparent)]
    File(#[from] keyfile::KeyFileError),
    #[error("TLS configuration: {0}")]
    Config(String),
}

/// A loaded certificate and key, ready to serve.
pub struct ServerTls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// SHA-256 of the leaf certificate, lower-case hex.
    pub fingerprint: String,
    pub cert_path: PathBuf,
}

/// The key a generated certificate has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA P-256 (`cert.pem`, `key.pem`): the control plane.
    Ecdsa,
    /// RSA 2048 (`boot-rsa-cert.pem`, `boot-rsa-key.pem`): the boot plane, for iPXE.
    Rsa,
}

/// Where the certificate comes from.
pub enum CertSource {
    Files {
        cert: PathBuf,
        key: PathBuf,
    },
    /// Generated once into this directory, for these names.
    Generated {
        dir: PathBuf,
        names: Vec<String>,
        kind: KeyKind,
    },
}

pub fn load(source: &CertSource) -> Result<ServerTls, TlsError> {
    let (cert_path, key_path) = match source {
        CertSource::Files { cert, key } => (cert.clone(), key.clone()),
        CertSource::Generated { dir, names, kind } => generate_once(dir, names, *kind)?,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| TlsError::Cert {
            path: cert_path.clone(),
            why: e.to_string(),
        })?;
    let leaf = certs.first().ok_or_else(|| TlsError::Cert {
        path: cert_path.clone(),
        why: "no certificate in the file".into(),
    })?;
    let fingerprint = redfish::tls::fingerprint(leaf.as_ref());
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| TlsError::Key {
        path: key_path.clone(),
        why: e.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            TlsError::Config(format!(
                "{} and {} do not make a usable pair: {e}",
                cert_path.display(),
                key_path.display()
            ))
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(ServerTls {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        fingerprint,
        cert_path,
    })
}

/// The certificate and key files of `kind` in `dir`, made now unless they exist.
fn generate_once(
    dir: &Path,
    names: &[String],
    kind: KeyKind,
) -> Result<(PathBuf, PathBuf), TlsError> {
    let (cert, key) = match kind {
        KeyKind::Ecdsa => (dir.join("cert.pem"), dir.join("key.pem")),
        KeyKind::Rsa => (dir.join("boot-rsa-cert.pem"), dir.join("boot-rsa-key.pem")),
    };
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    keyfile::private_dir(dir)?;
    let generate = || -> Result<(String, String), rcgen::Error> {
        let signing_key = match kind {
            KeyKind::Ecdsa => rcgen::KeyPair::generate()?,
            KeyKind::Rsa => rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)?,
        };
        let made = rcgen::CertificateParams::new(names.to_vec())?.self_signed(&signing_key)?;
        Ok((made.pem(), signing_key.serialize_pem()))
    };
    let (cert_pem, key_pem) = generate().map_err(|e| TlsError::Generate(e.to_string()))?;
    keyfile::write_private(&key, key_pem.as_bytes())?;
    keyfile::write_private(&cert, cert_pem.as_bytes())?;
    tracing::info!(cert = %cert.display(), ?names, ?kind, "generated a TLS certificate");
    Ok((cert, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_certificate_is_kept_and_its_key_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let src = CertSource::Generated {
            dir: dir.path().join("tls"),
            names: vec!["localhost".into()],
            kind: KeyKind::Ecdsa,
        };
        let a = load(&src).unwrap();
        let b = load(&src).unwrap();
        assert_eq!(a.fingerprint, b.fingerprint, "made once, then reused");
        assert_eq!(a.fingerprint.len(), 64);
        let mode = std::fs::metadata(dir.path().join("tls/key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn the_boot_planes_generated_certificate_is_rsa() {
        let dir = tempfile::tempdir().unwrap();
        let src = CertSource::Generated {
            dir: dir.path().join("tls"),
            names: vec!["localhost".into()],
            kind: KeyKind::Rsa,
        };
        let t = load(&src).unwrap();
        let pem = std::fs::read_to_string(&t.cert_path).unwrap();
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
        // rsaEncryption, 1.2.840.113549.1.1.1, in the subject public key info.
        let oid = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
        assert!(
            der.as_ref().windows(oid.len()).any(|w| w == oid),
            "an RSA key"
        );
    }
}
