//! The security section: the control-plane listener and its certificate, authentication,
//! the site identity provider, connection limits and audit retention.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{ConfigError, Settings, http_url, read_file};
use crate::auth::Role;
use crate::auth::oidc::OidcConfig;

/// Where the control plane is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlPlane {
    /// Its own HTTPS listener (the default).
    Https { listen: SocketAddr, cert: CertFiles },
    /// On the boot-plane listener, plain HTTP: labs and the demo, when asked for.
    OnBootListener,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertFiles {
    Given {
        cert: PathBuf,
        key: PathBuf,
    },
    /// Generated at first start in this directory.
    Generated(PathBuf),
}

#[derive(Debug, Clone)]
pub struct SecurityConfig {
    pub control: ControlPlane,
    /// `--no-auth`: every API open to anyone who reaches it.
    pub no_auth: bool,
    pub oidc: Option<OidcConfig>,
    pub max_upload_bytes: u64,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections_per_address: usize,
    pub audit_retention: Duration,
    pub access_token_ttl: Duration,
    /// Bind each node's boot plane to its known addresses.
    pub boot_plane_bind: bool,
    /// Boot-plane requests per second per client address, unless off.
    pub boot_rate_limit: Option<u32>,
    /// The boot plane over HTTPS too (RSA), unless off.
    pub boot_https: Option<(SocketAddr, CertFiles)>,
}

/// `[oidc]` in the config file (a table: claim values map to roles).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    pub issuer: Option<String>,
    pub jwks_url: Option<String>,
    pub audience: Option<String>,
    /// [default: realm_access.roles]
    pub role_claim: Option<String>,
    /// [default: preferred_username]
    pub username_claim: Option<String>,
    #[serde(default)]
    pub roles: BTreeMap<String, String>,
    pub ca_file: Option<PathBuf>,
}

fn secs(name: &str, v: Option<u64>, default: u64) -> Result<Duration, ConfigError> {
    match v.unwrap_or(default) {
        0 => Err(ConfigError::Invalid(format!("{name} must be at least 1"))),
        n => Ok(Duration::from_secs(n)),
    }
}

/// A certificate and its key (`<prefix>_cert`, `<prefix>_key`) given together, or neither:
/// one generated in `<data-dir>/tls`.
fn cert_files(
    cert: &Option<PathBuf>,
    key: &Option<PathBuf>,
    prefix: &str,
    data_dir: &Path,
) -> Result<CertFiles, ConfigError> {
    match (cert, key) {
        (Some(c), Some(k)) => Ok(CertFiles::Given {
            cert: c.clone(),
            key: k.clone(),
        }),
        (None, None) => Ok(CertFiles::Generated(data_dir.join("tls"))),
        _ => Err(ConfigError::Invalid(format!(
            "{prefix}_cert and {prefix}_key go together: give both, or neither for a generated certificate"
        ))),
    }
}

pub(super) fn resolve(s: &Settings, data_dir: &Path) -> Result<SecurityConfig, ConfigError> {
    let raw = s
        .control_listen
        .clone()
        .unwrap_or_else(|| "127.0.0.1:8443".into());
    let control = if raw.trim() == "boot" {
        ControlPlane::OnBootListener
    } else {
        let listen = raw
            .parse()
            .map_err(|_| ConfigError::BadListen(raw.clone()))?;
        let cert = cert_files(&s.tls_cert, &s.tls_key, "tls", data_dir)?;
        ControlPlane::Https { listen, cert }
    };
    let boot_https = match s.boot_https_listen.as_deref().map(str::trim) {
        None | Some("off") => None,
        Some(raw) => {
            let addr = raw
                .parse()
                .map_err(|_| ConfigError::BadListen(raw.to_string()))?;
            let cert = cert_files(&s.boot_tls_cert, &s.boot_tls_key, "boot_tls", data_dir)?;
            Some((addr, cert))
        }
    };
    let oidc = match &s.oidc {
        None => None,
        Some(o) => Some(oidc(o)?),
    };
    let max_conns = s.max_connections_per_address.unwrap_or(512);
    if max_conns == 0 {
        return Err(ConfigError::Invalid(
            "max_connections_per_address must be at least 1".into(),
        ));
    }
    let full_dhcp = s.dhcp == Some(super::DhcpKind::Full);
    let boot_plane_bind = match s.boot_plane_bind.unwrap_or(super::BootPlaneBind::Auto) {
        super::BootPlaneBind::On => true,
        super::BootPlaneBind::Off => false,
        super::BootPlaneBind::Auto => full_dhcp,
    };
    Ok(SecurityConfig {
        boot_https,
        boot_rate_limit: Some(s.boot_rate_limit.unwrap_or(100)).filter(|r| *r > 0),
        boot_plane_bind,
        control,
        no_auth: s.no_auth.unwrap_or(false),
        oidc,
        max_upload_bytes: s.max_upload_bytes.unwrap_or(8 << 30),
        header_timeout: secs("header_timeout_secs", s.header_timeout_secs, 10)?,
        idle_timeout: secs("idle_timeout_secs", s.idle_timeout_secs, 60)?,
        max_connections_per_address: max_conns,
        audit_retention: Duration::from_secs(86_400)
            * u32::try_from(s.audit_retention_days.unwrap_or(90).max(1)).unwrap_or(u32::MAX),
        access_token_ttl: Duration::from_secs(60)
            * u32::try_from(s.access_token_minutes.unwrap_or(60).max(1)).unwrap_or(u32::MAX),
    })
}

fn oidc(o: &OidcSettings) -> Result<OidcConfig, ConfigError> {
    let need = |v: &Option<String>, k: &str| {
        v.clone().filter(|v| !v.trim().is_empty()).ok_or_else(|| {
            ConfigError::Invalid(format!(
                "[oidc] needs {k} (the site issuer's iss and its JWKS URL)"
            ))
        })
    };
    let issuer = need(&o.issuer, "issuer")?;
    let jwks_url = http_url("oidc.jwks_url", &need(&o.jwks_url, "jwks_url")?)?;
    if o.roles.is_empty() {
        return Err(ConfigError::Invalid(
            "[oidc] needs roles: a table of claim values to roles, e.g. roles = { \"shasta-admin\" = \"admin\" }".into(),
        ));
    }
    let roles = o
        .roles
        .iter()
        .map(|(k, v)| {
            Role::parse(v)
                .map(|r| (k.clone(), r))
                .map_err(|e| ConfigError::Invalid(format!("[oidc] roles.{k}: {e}")))
        })
        .collect::<Result<_, _>>()?;
    Ok(OidcConfig {
        issuer,
        jwks_url,
        audience: o.audience.clone(),
        role_claim: o
            .role_claim
            .clone()
            .unwrap_or_else(|| "realm_access.roles".into()),
        username_claim: o
            .username_claim
            .clone()
            .unwrap_or_else(|| "preferred_username".into()),
        roles,
        ca_pem: o.ca_file.as_deref().map(read_file).transpose()?,
    })
}
