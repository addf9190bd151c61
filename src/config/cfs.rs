//! The configuration handoff's section: where BOS hands booted nodes for configuration.
//!
//! `builtin` (rackboot's own CFS) is the default; `external` needs the CSM CFS's URL and
//! reads its token and CA files here, at start, so a missing file fails start rather than
//! the first handoff. A `cfs_url` given without `cfs = external` is an error, not silently
//! ignored.

use super::{CfsKind, ConfigError, Settings, http_url, read_file};

/// The validated configuration handoff.
#[derive(Debug, Clone)]
pub enum CfsMode {
    None,
    Builtin,
    External(crate::handoff::external::ExternalSettings),
}

pub(super) fn resolve(s: &Settings) -> Result<CfsMode, ConfigError> {
    let kind = s.cfs.unwrap_or(CfsKind::Builtin);
    if kind != CfsKind::External {
        if let Some(u) = &s.cfs_url {
            return Err(ConfigError::Invalid(format!(
                "cfs_url '{u}' is set but cfs is not 'external'; set cfs = external to use it"
            )));
        }
        return Ok(match kind {
            CfsKind::None => CfsMode::None,
            _ => CfsMode::Builtin,
        });
    }
    let raw = s.cfs_url.as_deref().ok_or_else(|| {
        ConfigError::Invalid(
            "cfs = external needs cfs_url, the CFS base URL (e.g. https://api-gw-service-nmn.local/apis/cfs)"
                .into(),
        )
    })?;
    let url = http_url("cfs_url", raw)?;
    let token = match (&s.cfs_token, &s.cfs_token_file) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::Invalid(
                "give cfs_token or cfs_token_file, not both".into(),
            ));
        }
        (Some(t), None) => Some(t.trim().to_string()),
        (None, Some(p)) => Some(read_file(p)?.trim().to_string()),
        (None, None) => None,
    };
    let ca_pem = s.cfs_ca_file.as_deref().map(read_file).transpose()?;
    let timeout = match s.cfs_timeout_secs.unwrap_or(20) {
        0 => {
            return Err(ConfigError::Invalid(
                "cfs_timeout_secs must be at least 1".into(),
            ));
        }
        n => std::time::Duration::from_secs(n),
    };
    Ok(CfsMode::External(
        crate::handoff::external::ExternalSettings {
            url,
            token: token.filter(|t| !t.is_empty()),
            ca_pem,
            timeout,
        },
    ))
}
