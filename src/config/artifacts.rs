//! The artifact source's section: a local directory (default) or an S3 endpoint.
//!
//! S3 needs both keys (the secret from a file, the environment or the config file; the flag
//! works but is readable by every local user, which `serve` warns about); its CA file is read here, at start, so a missing file fails start.
//! Path-style addressing (`endpoint/bucket/key`) is always used: it needs no per-bucket
//! DNS names.

use std::path::Path;

use super::{ConfigError, Settings, http_url, read_file};
use crate::artifacts::SourceConfig;

pub(super) fn resolve(s: &Settings, data_dir: &Path) -> Result<SourceConfig, ConfigError> {
    Ok(match s.s3_endpoint.clone() {
        Some(endpoint) => {
            http_url("s3_endpoint", &endpoint)?;
            let secret = match (&s.s3_secret_key, &s.s3_secret_key_file) {
                (Some(_), Some(_)) => {
                    return Err(ConfigError::Invalid(
                        "give s3_secret_key or s3_secret_key_file, not both".into(),
                    ));
                }
                (Some(k), None) => Some(k.clone()),
                (None, Some(p)) => Some(read_file(p)?.trim().to_string()),
                (None, None) => None,
            };
            let (Some(access_key), Some(secret_key)) = (s.s3_access_key.clone(), secret) else {
                return Err(ConfigError::Invalid(
                    "s3_endpoint needs s3_access_key and s3_secret_key (or s3_secret_key_file)"
                        .into(),
                ));
            };
            let ca_pem = s.s3_ca_file.as_deref().map(read_file).transpose()?;
            SourceConfig::S3 {
                endpoint: endpoint.trim_end_matches('/').to_string(),
                region: s.s3_region.clone().unwrap_or_else(|| "us-east-1".into()),
                access_key,
                secret_key,
                path_style: true,
                ca_pem,
            }
        }
        None => SourceConfig::Local {
            root: s
                .artifacts_dir
                .clone()
                .unwrap_or_else(|| data_dir.join("artifacts")),
        },
    })
}
