//! Configuration: the TOML file, `RACKBOOT_*` environment and flags, merged and validated.
//!
//! Precedence is flag > environment > file > default (clap reads flags and environment
//! together; the file fills what they left unset). Validation happens once, here, so the
//! rest of the appliance receives a [`Config`] that is known to be usable: in particular
//! the advertise URL, which every boot script's chain and artifact URLs are built from,
//! must be an absolute http(s) URL with a host (an empty one once left a whole site's
//! nodes chaining to `https:///apis/bss/...`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

/// One layer of settings: what the file, or the flags and environment, say.
#[derive(Debug, Clone, Default, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Directory for the database and other state [default: ./rackboot-data]
    #[arg(long, env = "RACKBOOT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address the HTTP API and boot plane listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "RACKBOOT_LISTEN")]
    pub listen: Option<String>,
    /// The URL nodes use to reach this appliance, e.g. http://10.0.0.1:8080 (required)
    #[arg(long, env = "RACKBOOT_ADVERTISE_URL")]
    pub advertise_url: Option<String>,
    /// Log format [default: human]
    #[arg(long, env = "RACKBOOT_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log filter, e.g. info or rackboot=debug [default: info]
    #[arg(long, env = "RACKBOOT_LOG")]
    pub log_level: Option<String>,
    /// Largest request body accepted, in bytes [default: 4194304]
    #[arg(long, env = "RACKBOOT_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Seconds a node waits after a failed boot before asking for a new script [default: 30]
    #[arg(long, env = "RACKBOOT_BOOT_RETRY_DELAY_SECS")]
    pub boot_retry_delay_secs: Option<u64>,
    /// Seconds a BMC request may take before it fails [default: 20]
    #[arg(long, env = "RACKBOOT_BMC_TIMEOUT_SECS")]
    pub bmc_timeout_secs: Option<u64>,
    /// Requests in flight to one BMC at once [default: 2]
    #[arg(long, env = "RACKBOOT_BMC_CONCURRENCY")]
    pub bmc_concurrency: Option<usize>,
    /// Requests in flight to all BMCs together [default: 1000]
    #[arg(long, env = "RACKBOOT_BMC_GLOBAL_CONCURRENCY")]
    pub bmc_global_concurrency: Option<usize>,
    /// Seconds between power-state samples of every node [default: 30]
    #[arg(long, env = "RACKBOOT_POWER_SAMPLE_SECS")]
    pub power_sample_secs: Option<u64>,
    /// Milliseconds between power-state polls while confirming a transition [default: 2000]
    #[arg(long, env = "RACKBOOT_POWER_CONFIRM_MS")]
    pub power_confirm_ms: Option<u64>,
    /// Milliseconds between passes of the BOS operators when nothing pokes them; every
    /// write pokes them at once anyway [default: 2000]
    #[arg(long, env = "RACKBOOT_BOS_POLL_MS")]
    pub bos_poll_ms: Option<u64>,
    /// Local artifact directory (each top-level directory is a bucket) [default: <data-dir>/artifacts]
    #[arg(long, env = "RACKBOOT_ARTIFACTS_DIR")]
    pub artifacts_dir: Option<PathBuf>,
    /// S3 endpoint for artifacts, e.g. https://rgw.example:8080 (instead of the local directory)
    #[arg(long, env = "RACKBOOT_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// S3 region [default: us-east-1]
    #[arg(long, env = "RACKBOOT_S3_REGION")]
    pub s3_region: Option<String>,
    #[arg(long, env = "RACKBOOT_S3_ACCESS_KEY")]
    pub s3_access_key: Option<String>,
    #[arg(long, env = "RACKBOOT_S3_SECRET_KEY", hide_env_values = true)]
    pub s3_secret_key: Option<String>,
    /// PEM file of a CA to trust for the S3 endpoint
    #[arg(long, env = "RACKBOOT_S3_CA_FILE")]
    pub s3_ca_file: Option<PathBuf>,
    /// Largest total size of the artifact cache, in bytes [default: 21474836480 (20 GiB)]
    #[arg(long, env = "RACKBOOT_CACHE_MAX_BYTES")]
    pub cache_max_bytes: Option<u64>,
    /// Where BOS hands booted nodes for configuration: builtin (rackboot's own
    /// /apis/cfs/v3), external (a CSM CFS at --cfs-url) or none [default: builtin]
    #[arg(long, env = "RACKBOOT_CFS", value_enum)]
    pub cfs: Option<CfsKind>,
    /// Base URL of the external CFS, e.g. https://api-gw-service-nmn.local/apis/cfs
    #[arg(long, env = "RACKBOOT_CFS_URL")]
    pub cfs_url: Option<String>,
    /// Bearer token for the external CFS
    #[arg(long, env = "RACKBOOT_CFS_TOKEN", hide_env_values = true)]
    pub cfs_token: Option<String>,
    /// File holding the bearer token for the external CFS (instead of --cfs-token)
    #[arg(long, env = "RACKBOOT_CFS_TOKEN_FILE")]
    pub cfs_token_file: Option<PathBuf>,
    /// PEM file of the CAs to trust for the external CFS
    #[arg(long, env = "RACKBOOT_CFS_CA_FILE")]
    pub cfs_ca_file: Option<PathBuf>,
    /// Seconds a call to the external CFS may take [default: 20]
    #[arg(long, env = "RACKBOOT_CFS_TIMEOUT_SECS")]
    pub cfs_timeout_secs: Option<u64>,
    /// Address the TFTP server (iPXE binaries) listens on, or "off" [default: 0.0.0.0:69]
    #[arg(long, env = "RACKBOOT_TFTP_LISTEN")]
    pub tftp_listen: Option<String>,
    /// Directory the TFTP server serves [default: /usr/lib/ipxe when present, else
    /// <data-dir>/ipxe/bin]
    #[arg(long, env = "RACKBOOT_TFTP_ROOT")]
    pub tftp_root: Option<PathBuf>,
    /// TFTP transfers one client address may have in flight [default: 8]
    #[arg(long, env = "RACKBOOT_TFTP_MAX_PER_CLIENT")]
    pub tftp_max_per_client: Option<usize>,
    /// DHCP server: off (the site's DHCP points at us), proxy (answers PXE clients only,
    /// beside a site DHCP server) or full (hands out addresses) [default: off]
    #[arg(long, env = "RACKBOOT_DHCP", value_enum)]
    pub dhcp: Option<DhcpKind>,
    /// The boot network interface DHCP listens on, e.g. eth1 (required with --dhcp)
    #[arg(long, env = "RACKBOOT_DHCP_INTERFACE")]
    pub dhcp_interface: Option<String>,
    /// This server's address on the boot network, sent as DHCP server and TFTP server
    /// [default: the interface's first IPv4 address]
    #[arg(long, env = "RACKBOOT_DHCP_SERVER_IP")]
    pub dhcp_server_ip: Option<std::net::Ipv4Addr>,
    /// Netmask of the boot network [default: the interface's]
    #[arg(long, env = "RACKBOOT_DHCP_NETMASK")]
    pub dhcp_netmask: Option<std::net::Ipv4Addr>,
    /// Full mode: default gateway handed to clients
    #[arg(long, env = "RACKBOOT_DHCP_ROUTER")]
    pub dhcp_router: Option<std::net::Ipv4Addr>,
    /// Full mode: DNS servers handed to clients, comma-separated
    #[arg(long, env = "RACKBOOT_DHCP_DNS")]
    pub dhcp_dns: Option<String>,
    /// Full mode: dynamic pool for MACs the inventory does not know, e.g.
    /// 10.0.0.100-10.0.0.199 [default: none; only reservations are served]
    #[arg(long, env = "RACKBOOT_DHCP_POOL")]
    pub dhcp_pool: Option<String>,
    /// Full mode: lease time in seconds [default: 3600]
    #[arg(long, env = "RACKBOOT_DHCP_LEASE_SECS")]
    pub dhcp_lease_secs: Option<u64>,
    /// iPXE binary for x86-64 UEFI PXE clients, in the TFTP root: snponly.efi or ipxe.efi
    /// [default: snponly.efi]
    #[arg(long, env = "RACKBOOT_DHCP_EFI_BINARY")]
    pub dhcp_efi_binary: Option<String>,
    /// iPXE binary for arm64 UEFI clients, in the TFTP root [default: arm64-efi/snponly.efi
    /// when present, else arm64 clients get no boot file]
    #[arg(long, env = "RACKBOOT_DHCP_ARM64_BINARY")]
    pub dhcp_arm64_binary: Option<String>,
}

/// The `dhcp` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DhcpKind {
    Off,
    Proxy,
    Full,
}

/// The DHCP server's settings (validated; the interface's address is looked up at start).
#[derive(Debug, Clone)]
pub struct DhcpConfig {
    pub mode: crate::dhcp::server::Mode,
    pub interface: String,
    pub server_ip: Option<std::net::Ipv4Addr>,
    pub netmask: Option<std::net::Ipv4Addr>,
    pub router: Option<std::net::Ipv4Addr>,
    pub dns: Vec<std::net::Ipv4Addr>,
    pub pool: Option<crate::dhcp::leases::Pool>,
    pub lease_time: chrono::Duration,
    pub efi_binary: String,
    pub arm64_binary: Option<String>,
}

/// The TFTP server's address and limits (it serves `Config::ipxe_dir`).
#[derive(Debug, Clone)]
pub struct TftpConfig {
    pub listen: SocketAddr,
    pub max_per_client: usize,
}

/// The `cfs` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum CfsKind {
    None,
    Builtin,
    External,
}

/// The validated configuration handoff.
#[derive(Debug, Clone)]
pub enum CfsMode {
    None,
    Builtin,
    External(crate::handoff::external::ExternalSettings),
}

impl Settings {
    /// `self` where set, else `other`.
    pub fn or(self, other: Settings) -> Settings {
        Settings {
            data_dir: self.data_dir.or(other.data_dir),
            listen: self.listen.or(other.listen),
            advertise_url: self.advertise_url.or(other.advertise_url),
            log_format: self.log_format.or(other.log_format),
            log_level: self.log_level.or(other.log_level),
            max_body_bytes: self.max_body_bytes.or(other.max_body_bytes),
            boot_retry_delay_secs: self.boot_retry_delay_secs.or(other.boot_retry_delay_secs),
            bmc_timeout_secs: self.bmc_timeout_secs.or(other.bmc_timeout_secs),
            bmc_concurrency: self.bmc_concurrency.or(other.bmc_concurrency),
            bmc_global_concurrency: self.bmc_global_concurrency.or(other.bmc_global_concurrency),
            power_sample_secs: self.power_sample_secs.or(other.power_sample_secs),
            power_confirm_ms: self.power_confirm_ms.or(other.power_confirm_ms),
            bos_poll_ms: self.bos_poll_ms.or(other.bos_poll_ms),
            artifacts_dir: self.artifacts_dir.or(other.artifacts_dir),
            s3_endpoint: self.s3_endpoint.or(other.s3_endpoint),
            s3_region: self.s3_region.or(other.s3_region),
            s3_access_key: self.s3_access_key.or(other.s3_access_key),
            s3_secret_key: self.s3_secret_key.or(other.s3_secret_key),
            s3_ca_file: self.s3_ca_file.or(other.s3_ca_file),
            cache_max_bytes: self.cache_max_bytes.or(other.cache_max_bytes),
            cfs: self.cfs.or(other.cfs),
            cfs_url: self.cfs_url.or(other.cfs_url),
            cfs_token: self.cfs_token.or(other.cfs_token),
            cfs_token_file: self.cfs_token_file.or(other.cfs_token_file),
            cfs_ca_file: self.cfs_ca_file.or(other.cfs_ca_file),
            cfs_timeout_secs: self.cfs_timeout_secs.or(other.cfs_timeout_secs),
            tftp_listen: self.tftp_listen.or(other.tftp_listen),
            tftp_root: self.tftp_root.or(other.tftp_root),
            tftp_max_per_client: self.tftp_max_per_client.or(other.tftp_max_per_client),
            dhcp: self.dhcp.or(other.dhcp),
            dhcp_interface: self.dhcp_interface.or(other.dhcp_interface),
            dhcp_server_ip: self.dhcp_server_ip.or(other.dhcp_server_ip),
            dhcp_netmask: self.dhcp_netmask.or(other.dhcp_netmask),
            dhcp_router: self.dhcp_router.or(other.dhcp_router),
            dhcp_dns: self.dhcp_dns.or(other.dhcp_dns),
            dhcp_pool: self.dhcp_pool.or(other.dhcp_pool),
            dhcp_lease_secs: self.dhcp_lease_secs.or(other.dhcp_lease_secs),
            dhcp_efi_binary: self.dhcp_efi_binary.or(other.dhcp_efi_binary),
            dhcp_arm64_binary: self.dhcp_arm64_binary.or(other.dhcp_arm64_binary),
        }
    }

    pub fn from_file(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }
}

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
}

/// BMC traffic limits and power-operator timing.
#[derive(Debug, Clone)]
pub struct PowerSettings {
    pub bmc_timeout: std::time::Duration,
    pub bmc_concurrency: usize,
    pub bmc_global_concurrency: usize,
    pub sample_interval: std::time::Duration,
    pub confirm_interval: std::time::Duration,
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

fn resolve_dhcp(s: &Settings, ipxe_dir: &Path) -> Result<Option<DhcpConfig>, ConfigError> {
    use crate::dhcp::server::Mode;
    let invalid = |m: String| ConfigError::Invalid(m);
    let mode = match s.dhcp.unwrap_or(DhcpKind::Off) {
        DhcpKind::Off => {
            let stray = [
                ("dhcp_interface", s.dhcp_interface.is_some()),
                ("dhcp_pool", s.dhcp_pool.is_some()),
            ];
            if let Some((name, _)) = stray.iter().find(|(_, set)| *set) {
                return Err(invalid(format!(
                    "{name} is set but dhcp is off; set dhcp to proxy or full"
                )));
            }
            return Ok(None);
        }
        DhcpKind::Proxy => Mode::Proxy,
        DhcpKind::Full => Mode::Full,
    };
    let interface = s
        .dhcp_interface
        .clone()
        .filter(|i| !i.trim().is_empty())
        .ok_or_else(|| {
            invalid(
                "dhcp needs dhcp_interface: the boot network interface to answer on, e.g. eth1"
                    .into(),
            )
        })?;
    let pool = match (&s.dhcp_pool, mode) {
        (Some(_), Mode::Proxy) => {
            return Err(invalid(
                "dhcp_pool is for full mode; in proxy mode the site DHCP server hands out addresses"
                    .into(),
            ));
        }
        (Some(p), Mode::Full) => Some(
            crate::dhcp::leases::Pool::parse(p).map_err(|e| invalid(format!("dhcp_pool {e}")))?,
        ),
        (None, _) => None,
    };
    let dns = s
        .dhcp_dns
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.parse()
                .map_err(|_| invalid(format!("dhcp_dns '{d}' is not an IPv4 address")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let lease_secs = s.dhcp_lease_secs.unwrap_or(3600);
    if lease_secs < 60 {
        return Err(invalid(format!(
            "dhcp_lease_secs {lease_secs} is too short (at least 60)"
        )));
    }
    let efi_binary = s
        .dhcp_efi_binary
        .clone()
        .unwrap_or_else(|| "snponly.efi".into());
    let arm64_binary = s.dhcp_arm64_binary.clone().or_else(|| {
        let default = "arm64-efi/snponly.efi";
        ipxe_dir
            .join(default)
            .is_file()
            .then(|| default.to_string())
    });
    for name in std::iter::once(&efi_binary).chain(arm64_binary.as_ref()) {
        if name.is_empty() || name.starts_with('/') || name.split('/').any(|p| p == "..") {
            return Err(invalid(format!(
                "'{name}' must be a file name inside the TFTP root"
            )));
        }
    }
    Ok(Some(DhcpConfig {
        mode,
        interface,
        server_ip: s.dhcp_server_ip,
        netmask: s.dhcp_netmask,
        router: s.dhcp_router,
        dns,
        pool,
        lease_time: chrono::Duration::seconds(lease_secs as i64),
        efi_binary,
        arm64_binary,
    }))
}

fn resolve_cfs(s: &Settings) -> Result<CfsMode, ConfigError> {
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
    let url = url::Url::parse(raw)
        .map_err(|e| ConfigError::Invalid(format!("cfs_url '{raw}' is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::Invalid(format!(
            "cfs_url '{raw}' must be an http(s) URL with a host"
        )));
    }
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

impl Config {
    pub fn resolve(s: Settings) -> Result<Config, ConfigError> {
        let data_dir = s
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("./rackboot-data"));
        let ipxe_dir = s.tftp_root.clone().unwrap_or_else(|| {
            let debian = PathBuf::from("/usr/lib/ipxe");
            if debian.is_dir() {
                debian
            } else {
                data_dir.join("ipxe/bin")
            }
        });
        let dhcp = resolve_dhcp(&s, &ipxe_dir)?;
        let cfs = resolve_cfs(&s)?;
        let advertise_url = validate_advertise_url(
            s.advertise_url
                .as_deref()
                .ok_or(ConfigError::MissingAdvertiseUrl)?,
        )?;
        let listen_raw = s.listen.unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = listen_raw
            .parse()
            .map_err(|_| ConfigError::BadListen(listen_raw.clone()))?;
        let max_body_bytes = s.max_body_bytes.unwrap_or(4 << 20);
        if max_body_bytes < 1024 {
            return Err(ConfigError::Invalid(format!(
                "max_body_bytes {max_body_bytes} is too small (at least 1024)"
            )));
        }
        let positive = |name: &str, v: Option<u64>, default: u64| -> Result<u64, ConfigError> {
            match v.unwrap_or(default) {
                0 => Err(ConfigError::Invalid(format!("{name} must be at least 1"))),
                n => Ok(n),
            }
        };
        let power = PowerSettings {
            bmc_timeout: std::time::Duration::from_secs(positive(
                "bmc_timeout_secs",
                s.bmc_timeout_secs,
                20,
            )?),
            bmc_concurrency: positive("bmc_concurrency", s.bmc_concurrency.map(|n| n as u64), 2)?
                as usize,
            bmc_global_concurrency: positive(
                "bmc_global_concurrency",
                s.bmc_global_concurrency.map(|n| n as u64),
                1000,
            )? as usize,
            sample_interval: std::time::Duration::from_secs(positive(
                "power_sample_secs",
                s.power_sample_secs,
                30,
            )?),
            confirm_interval: std::time::Duration::from_millis(positive(
                "power_confirm_ms",
                s.power_confirm_ms,
                2000,
            )?),
        };
        let artifacts = match s.s3_endpoint {
            Some(endpoint) => {
                let u = url::Url::parse(&endpoint).map_err(|e| {
                    ConfigError::Invalid(format!("s3_endpoint '{endpoint}' is not a URL: {e}"))
                })?;
                if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
                    return Err(ConfigError::Invalid(format!(
                        "s3_endpoint '{endpoint}' must be an http(s) URL with a host"
                    )));
                }
                let (Some(access_key), Some(secret_key)) = (s.s3_access_key, s.s3_secret_key)
                else {
                    return Err(ConfigError::Invalid(
                        "s3_endpoint needs s3_access_key and s3_secret_key".into(),
                    ));
                };
                let ca_pem =
                    match s.s3_ca_file {
                        Some(p) => Some(std::fs::read_to_string(&p).map_err(|source| {
                            ConfigError::Read {
                                path: p.clone(),
                                source,
                            }
                        })?),
                        None => None,
                    };
                crate::artifacts::SourceConfig::S3 {
                    endpoint: endpoint.trim_end_matches('/').to_string(),
                    region: s.s3_region.unwrap_or_else(|| "us-east-1".into()),
                    access_key,
                    secret_key,
                    path_style: true,
                    ca_pem,
                }
            }
            None => crate::artifacts::SourceConfig::Local {
                root: s
                    .artifacts_dir
                    .unwrap_or_else(|| data_dir.join("artifacts")),
            },
        };
        let tftp = match s.tftp_listen.as_deref().unwrap_or("0.0.0.0:69").trim() {
            "off" => None,
            raw => Some(TftpConfig {
                listen: raw.parse().map_err(|_| {
                    ConfigError::Invalid(format!(
                        "tftp_listen '{raw}' is not an IP:port such as 0.0.0.0:69 or [::]:69, or off"
                    ))
                })?,
                max_per_client: positive(
                    "tftp_max_per_client",
                    s.tftp_max_per_client.map(|n| n as u64),
                    8,
                )? as usize,
            }),
        };
        Ok(Config {
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
        assert!(matches!(
            Config::resolve(Settings::default()),
            Err(ConfigError::MissingAdvertiseUrl)
        ));
        let e = toml::from_str::<Settings>("listen = 'x'\nbogus = 1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bogus"), "{e}");
    }

    #[test]
    fn dhcp_settings_are_checked_once() {
        let base = || Settings {
            advertise_url: Some("http://10.0.0.1:8080".into()),
            ..Default::default()
        };
        let err = |s: Settings| Config::resolve(s.or(base())).unwrap_err().to_string();
        assert!(
            Config::resolve(base()).unwrap().dhcp.is_none(),
            "off by default"
        );
        let e = err(Settings {
            dhcp: Some(DhcpKind::Full),
            ..Default::default()
        });
        assert!(e.contains("dhcp_interface"), "{e}");
        let e = err(Settings {
            dhcp: Some(DhcpKind::Proxy),
            dhcp_interface: Some("eth1".into()),
            dhcp_pool: Some("10.0.0.100-10.0.0.110".into()),
            ..Default::default()
        });
        assert!(e.contains("dhcp_pool is for full mode"), "{e}");
        let e = err(Settings {
            dhcp_interface: Some("eth1".into()),
            ..Default::default()
        });
        assert!(e.contains("dhcp is off"), "{e}");
        for (pool, dns, lease, want) in [
            ("10.0.0.9-10.0.0.1", "", 3600, "after the last"),
            ("10.0.0.1", "", 3600, "address range"),
            ("10.0.0.1-10.0.0.9", "10.0.0.300", 3600, "dhcp_dns"),
            ("10.0.0.1-10.0.0.9", "", 30, "dhcp_lease_secs"),
        ] {
            let e = err(Settings {
                dhcp: Some(DhcpKind::Full),
                dhcp_interface: Some("eth1".into()),
                dhcp_pool: Some(pool.into()),
                dhcp_dns: Some(dns.into()),
                dhcp_lease_secs: Some(lease),
                ..Default::default()
            });
            assert!(e.contains(want), "{pool} {dns} {lease}: {e}");
        }
        let e = err(Settings {
            dhcp: Some(DhcpKind::Full),
            dhcp_interface: Some("eth1".into()),
            dhcp_efi_binary: Some("../../etc/passwd".into()),
            ..Default::default()
        });
        assert!(e.contains("inside the TFTP root"), "{e}");
        let c = Config::resolve(
            Settings {
                dhcp: Some(DhcpKind::Full),
                dhcp_interface: Some("eth1".into()),
                dhcp_pool: Some("10.0.0.100-10.0.0.110".into()),
                dhcp_dns: Some("10.0.0.53, 10.0.0.54".into()),
                ..Default::default()
            }
            .or(base()),
        )
        .unwrap();
        let d = c.dhcp.unwrap();
        assert_eq!(d.dns.len(), 2);
        assert_eq!(d.efi_binary, "snponly.efi");
        assert_eq!(d.lease_time, chrono::Duration::hours(1));
    }
}
