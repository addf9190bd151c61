//! Configuration: the TOML file, `RACKBOOT_*` environment and flags, merged and validated.
//!
//! Precedence is flag > environment > file > default (clap reads flags and environment
//! together; the file fills what they left unset). Validation happens once, here, so the
//! rest of the appliance receives a [`Config`] that is known to be usable: in particular
//! the advertise URL, which every boot script's chain and artifact URLs are built from,
//! must be an absolute http(s) URL with a host (an empty one once left a whole site's
//! nodes chaining to `https:///apis/bss/...`).
//!
//! [`Settings`] (in `settings`) is one layer as read; [`Config`] is the merged, validated
//! result, built by [`Config::resolve`] from the appliance-wide settings here and one
//! section per subsystem (`power`, `artifacts`, `cfs`, `tftp`, `dhcp`), each of which
//! owns its defaults and its checks. Errors name the setting as the file spells it.

mod artifacts;
mod cfs;
mod dhcp;
mod power;
pub mod security;
mod settings;
mod tftp;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use cfs::CfsMode;
pub use dhcp::DhcpConfig;
pub use power::PowerSettings;
pub use settings::{BmcTls, BootPlaneBind, CfsKind, DhcpKind, LogFormat, Settings};
pub use tftp::TftpConfig;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error(
        "an advertise URL is required: it is the URL nodes use to reach this appliance (set --advertise-url, \
         RACKBOOT_ADVERTISE_URL or advertise_url in the config file, e.g. http://10.0.0.1:8080)"
    )]
    MissingAdvertiseUrl,
    #[error("advertise URL '{url}' is not usable: {why}")]
    BadAdvertiseUrl { url: String, why: String },
    #[error("listen address '{0}' is not an IP:port such as 127.0.0.1:8080 or [::]:8080")]
    BadListen(String),
    #[error("{0}")]
    Invalid(String),
}

/// The validated configuration the appliance runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    /// Where records are kept.
    pub store: StoreConfig,
    /// With PostgreSQL: the bound on a leaderless gap (`cluster::leader`).
    pub leader_lease: std::time::Duration,
    pub listen: SocketAddr,
    /// Without a trailing slash.
    pub advertise_url: String,
    pub log_format: LogFormat,
    pub log_level: String,
    pub max_body_bytes: usize,
    pub boot_retry_delay_secs: u64,
    pub power: PowerSettings,
    pub artifacts: crate::artifacts::SourceConfig,
    pub cache_dir: PathBuf,
    pub cache_max_bytes: u64,
    /// Period of the BOS operators (they are also poked on every write).
    pub bos_poll: std::time::Duration,
    /// Where BOS hands booted nodes for configuration.
    pub cfs: CfsMode,
    /// The TFTP server, unless off.
    pub tftp: Option<TftpConfig>,
    /// The iPXE binaries, served by TFTP and at `/ipxe/<file>` over HTTP (for UEFI HTTP Boot).
    pub ipxe_dir: PathBuf,
    /// The DHCP server, unless off.
    pub dhcp: Option<DhcpConfig>,
    /// The control plane's listener, authentication and limits.
    pub security: security::SecurityConfig,
}

/// Where records are kept.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// `<data-dir>/rackboot.db`.
    Sqlite,
    /// A PostgreSQL database (several replicas may share it).
    Postgres { url: String },
}

impl std::fmt::Debug for StoreConfig {
    // The URL may carry a password: never printed whole.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreConfig::Sqlite => f.write_str("Sqlite"),
            StoreConfig::Postgres { url } => {
                write!(f, "Postgres({})", crate::store::postgres::redacted(url))
            }
        }
    }
}

impl StoreConfig {
    fn resolve(raw: Option<&str>) -> Result<StoreConfig, ConfigError> {
        let raw = raw.map(str::trim).unwrap_or("sqlite");
        if raw.is_empty() || raw == "sqlite" {
            return Ok(StoreConfig::Sqlite);
        }
        let shown = crate::store::postgres::redacted(raw);
        let u = url::Url::parse(raw).map_err(|e| {
            ConfigError::Invalid(format!(
                "store_url {shown} is not \"sqlite\" or a postgres:// URL: {e}"
            ))
        })?;
        if !matches!(u.scheme(), "postgres" | "postgresql") {
            return Err(ConfigError::Invalid(format!(
                "store_url {shown} is not \"sqlite\" or a postgres:// URL (scheme {})",
                u.scheme()
            )));
        }
        if u.host_str().is_none_or(str::is_empty) {
            return Err(ConfigError::Invalid(format!(
                "store_url {shown} names no host"
            )));
        }
        if u.password().is_some() {
            tracing::warn!(store_url = %shown, "store_url carries a password: anyone who can list processes or read the config sees it; use PGPASSWORD or ~/.pgpass instead");
        }
        Ok(StoreConfig::Postgres {
            url: raw.to_string(),
        })
    }
}

pub fn validate_advertise_url(raw: &str) -> Result<String, ConfigError> {
    let bad = |why: &str| ConfigError::BadAdvertiseUrl {
        url: raw.to_string(),
        why: why.to_string(),
    };
    let t = raw.trim();
    if t.is_empty() {
        return Err(ConfigError::MissingAdvertiseUrl);
    }
    let u = url::Url::parse(t).map_err(|e| bad(&e.to_string()))?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(bad(
            "the scheme must be http or https (iPXE fetches scripts and artifacts over HTTP)",
        ));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(bad("it must not have a query or fragment"));
    }
    if u.host_str().is_some_and(|h| h == "0.0.0.0" || h == "[::]") {
        return Err(bad(
            "0.0.0.0 and [::] are listen addresses, not addresses nodes can reach",
        ));
    }
    Ok(u.as_str().trim_end_matches('/').to_string())
}

fn read_file(p: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
        path: p.to_path_buf(),
        source,
    })
}

/// `v` or `default`, which must be at least 1.
fn positive(name: &str, v: Option<u64>, default: u64) -> Result<u64, ConfigError> {
    match v.unwrap_or(default) {
        0 => Err(ConfigError::Invalid(format!("{name} must be at least 1"))),
        n => Ok(n),
    }
}

/// An http(s) URL with a host (the S3 endpoint, the external CFS).
fn http_url(name: &str, raw: &str) -> Result<url::Url, ConfigError> {
    let u = url::Url::parse(raw)
        .map_err(|e| ConfigError::Invalid(format!("{name} '{raw}' is not a URL: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(ConfigError::Invalid(format!(
            "{name} '{raw}' must be an http(s) URL with a host"
        )));
    }
    Ok(u)
}

impl Config {
    pub fn resolve(s: Settings) -> Result<Config, ConfigError> {
        let data_dir = s
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("./rackboot-data"));
        let store = StoreConfig::resolve(s.store_url.as_deref())?;
        let leader_lease = match s.leader_lease_secs {
            None => std::time::Duration::from_secs(10),
            Some(n) if (3..=3600).contains(&n) => std::time::Duration::from_secs(n),
            Some(n) => {
                return Err(ConfigError::Invalid(format!(
                    "leader_lease_secs {n} is out of range (3 to 3600)"
                )));
            }
        };
        let ipxe_dir = s.tftp_root.clone().unwrap_or_else(|| {
            let debian = PathBuf::from("/usr/lib/ipxe");
            if debian.is_dir() {
                debian
            } else {
                data_dir.join("ipxe/bin")
            }
        });
        let dhcp = dhcp::resolve(&s, &ipxe_dir)?;
        if let (StoreConfig::Postgres { .. }, Some(d)) = (&store, &dhcp)
            && matches!(d.mode, crate::dhcp::server::Mode::Full)
        {
            return Err(ConfigError::Invalid(
                "dhcp = \"full\" with a PostgreSQL store_url: full DHCP hands out addresses from one replica's lease map, and several replicas on one database would give one address to two nodes. Use dhcp = \"proxy\" beside the site's DHCP server (every replica can answer), or full DHCP on a single appliance with the SQLite store".into(),
            ));
        }
        let cfs = cfs::resolve(&s)?;
        let advertise_url = validate_advertise_url(
            s.advertise_url
                .as_deref()
                .ok_or(ConfigError::MissingAdvertiseUrl)?,
        )?;
        let listen_raw = s.listen.clone().unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = listen_raw
            .parse()
            .map_err(|_| ConfigError::BadListen(listen_raw.clone()))?;
        let max_body_bytes = s.max_body_bytes.unwrap_or(4 << 20);
        if max_body_bytes < 1024 {
            return Err(ConfigError::Invalid(format!(
                "max_body_bytes {max_body_bytes} is too small (at least 1024)"
            )));
        }
        let power = power::resolve(&s)?;
        let artifacts = artifacts::resolve(&s, &data_dir)?;
        let tftp = tftp::resolve(&s)?;
        let security = security::resolve(&s, &data_dir)?;
        if let security::ControlPlane::Https { listen: c, .. } = &security.control
            && *c == listen
            && listen.port() != 0
        {
            return Err(ConfigError::Invalid(format!(
                "control_listen and listen are both {listen}: give the control plane its own address, or control_listen = \"boot\" to serve it on the boot listener"
            )));
        }
        Ok(Config {
            security,
            cfs,
            tftp,
            dhcp,
            ipxe_dir,
            power,
            artifacts,
            cache_dir: data_dir.join("cache"),
            cache_max_bytes: s.cache_max_bytes.unwrap_or(20 << 30),
            bos_poll: std::time::Duration::from_millis(positive(
                "bos_poll_ms",
                s.bos_poll_ms,
                2000,
            )?),
            data_dir,
            store,
            leader_lease,
            listen,
            advertise_url,
            log_format: s.log_format.unwrap_or(LogFormat::Human),
            log_level: s.log_level.unwrap_or_else(|| "info".into()),
            max_body_bytes,
            boot_retry_delay_secs: s.boot_retry_delay_secs.unwrap_or(30),
        })
    }

    /// A configuration for tests and embedding: everything default but the paths.
    pub fn for_data_dir(data_dir: &Path, advertise_url: &str) -> Config {
        Config::resolve(Settings {
            data_dir: Some(data_dir.to_path_buf()),
            advertise_url: Some(advertise_url.to_string()),
            ..Default::default()
        })
        .expect("valid test configuration")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertise_url_rules() {
        assert_eq!(
            validate_advertise_url("http://10.0.0.1:8080/").unwrap(),
            "http://10.0.0.1:8080"
        );
        assert_eq!(
            validate_advertise_url("https://boot.example/prefix").unwrap(),
            "https://boot.example/prefix"
        );
        assert!(matches!(
            validate_advertise_url(""),
            Err(ConfigError::MissingAdvertiseUrl)
        ));
        for bad in [
            "10.0.0.1:8080",
            "ftp://x",
            "http://",
            "not a url",
            "http://0.0.0.0:8080",
            "http://a/?x=1",
        ] {
            let e = validate_advertise_url(bad).unwrap_err().to_string();
            assert!(
                e.contains("advertise URL") || e.contains("required"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn precedence_and_defaults() {
        let flags = Settings {
            listen: Some("127.0.0.1:9".into()),
            ..Default::default()
        };
        let file = Settings {
            listen: Some("127.0.0.1:1".into()),
            advertise_url: Some("http://h".into()),
            ..Default::default()
        };
        let c = Config::resolve(flags.or(file)).unwrap();
        assert_eq!(c.listen.port(), 9);
        assert_eq!(c.advertise_url, "http://h");
        assert_eq!(c.boot_retry_delay_secs, 30);
        assert_eq!(c.power.bmc_tls, crate::model::TlsPolicy::Tofu);
        let verify: Settings = toml::from_str("bmc_tls = 'verify'").unwrap();
        let c = Config::resolve(verify.or(Settings {
            advertise_url: Some("http://h".into()),
            ..Default::default()
        }))
        .unwrap();
        assert_eq!(c.power.bmc_tls, crate::model::TlsPolicy::Verify);
        let e = toml::from_str::<Settings>("bmc_tls = 'trusting'")
            .unwrap_err()
            .to_string();
        assert!(e.contains("verify") && e.contains("tofu"), "{e}");
        assert!(matches!(
            Config::resolve(Settings::default()),
            Err(ConfigError::MissingAdvertiseUrl)
        ));
        let e = toml::from_str::<Settings>("listen = 'x'\nbogus = 1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bogus"), "{e}");
    }
}
