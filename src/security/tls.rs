//! The control plane's TLS certificate: the one configured (`tls_cert`/`tls_key`), or one
//! generated at first start into `<data-dir>/tls/` (rcgen: an ECDSA P-256 end-entity
//! certificate for localhost, this host's name, the advertise host and the control-plane
//! address) and reused afterwards. `rackboot serve` logs its SHA-256, which a client pins
//! with `--pin` (or trusts by file with `--ca <data-dir>/tls/cert.pem`).

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
    },
}

pub fn load(source: &CertSource) -> Result<ServerTls, TlsError> {
    let (cert_path, key_path) = match source {
        CertSource::Files { cert, key } => (cert.clone(), key.clone()),
        CertSource::Generated { dir, names } => generate_once(dir, names)?,
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

/// `dir/cert.pem` and `dir/key.pem`, made now unless they exist.
fn generate_once(dir: &Path, names: &[String]) -> Result<(PathBuf, PathBuf), TlsError> {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    keyfile::private_dir(dir)?;
    let made = rcgen::generate_simple_self_signed(names.to_vec())
        .map_err(|e| TlsError::Generate(e.to_string()))?;
    keyfile::write_private(&key, made.signing_key.serialize_pem().as_bytes())?;
    keyfile::write_private(&cert, made.cert.pem().as_bytes())?;
    tracing::info!(cert = %cert.display(), ?names, "generated the control plane's TLS certificate");
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
}
