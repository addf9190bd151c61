//! The settings layers: what the TOML file, or the flags and environment, say.
//!
//! [`Settings`] is both the file's schema (`deny_unknown_fields`, so a misspelt key is an
//! error naming the expected ones) and the flags' (clap reads `RACKBOOT_*` with each flag),
//! every field optional so that layers can be merged with [`Settings::or`]. Nothing here
//! validates or defaults: that is [`super::Config::resolve`]'s, once, for all layers.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ConfigError, read_file};

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
    /// Where records are kept: "sqlite" (a file in the data directory) or a PostgreSQL URL,
    /// postgres://USER@HOST:PORT/DB (the password from PGPASSWORD or ~/.pgpass, not the
    /// URL, so it stays out of process lists) [default: sqlite]
    #[arg(long, env = "RACKBOOT_STORE_URL")]
    pub store_url: Option<String>,
    /// With a PostgreSQL store: the longest a rack goes without an operator leader when the
    /// leading replica dies or is cut off (seconds, at least 3) [default: 10]
    #[arg(long, env = "RACKBOOT_LEADER_LEASE_SECS")]
    pub leader_lease_secs: Option<u64>,
    /// Address the boot plane (plain HTTP: boot scripts, iPXE binaries, artifacts, node
    /// reports) listens on [default: 127.0.0.1:8080]
    #[arg(long, env = "RACKBOOT_LISTEN")]
    pub listen: Option<String>,
    /// Address the control plane (HTTPS: every API, logins) listens on, or "boot" to serve
    /// it on the boot-plane listener too, in plain HTTP (labs only) [default: 127.0.0.1:8443]
    #[arg(long, env = "RACKBOOT_CONTROL_LISTEN")]
    pub control_listen: Option<String>,
    /// PEM certificate chain for the control plane [default: one generated at first start
    /// in <data-dir>/tls]
    #[arg(long, env = "RACKBOOT_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert
    #[arg(long, env = "RACKBOOT_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Also offer the boot plane over HTTPS on this address (iPXE built with TLS), with an
    /// RSA certificate (iPXE speaks only RSA) [default: off]
    #[arg(long, env = "RACKBOOT_BOOT_HTTPS_LISTEN")]
    pub boot_https_listen: Option<String>,
    /// PEM certificate chain (RSA) for --boot-https-listen [default: one generated at
    /// first start in <data-dir>/tls]
    #[arg(long, env = "RACKBOOT_BOOT_TLS_CERT")]
    pub boot_tls_cert: Option<PathBuf>,
    /// PEM private key for --boot-tls-cert
    #[arg(long, env = "RACKBOOT_BOOT_TLS_KEY")]
    pub boot_tls_key: Option<PathBuf>,
    /// Serve every API without authentication (labs and the demo only; said at start and
    /// in /readyz)
    #[arg(long, env = "RACKBOOT_NO_AUTH", num_args = 0..=1, default_missing_value = "true")]
    pub no_auth: Option<bool>,
    /// Largest image artifact upload accepted, in bytes [default: 8589934592 (8 GiB)]
    #[arg(long, env = "RACKBOOT_MAX_UPLOAD_BYTES")]
    pub max_upload_bytes: Option<u64>,
    /// Seconds a client may take to send a request's headers (and a TLS handshake)
    /// [default: 10]
    #[arg(long, env = "RACKBOOT_HEADER_TIMEOUT_SECS")]
    pub header_timeout_secs: Option<u64>,
    /// Seconds a connection may stay silent between requests before it is closed
    /// [default: 60]
    #[arg(long, env = "RACKBOOT_IDLE_TIMEOUT_SECS")]
    pub idle_timeout_secs: Option<u64>,
    /// Connections one client address may hold open at once, per listener [default: 512]
    #[arg(long, env = "RACKBOOT_MAX_CONNECTIONS_PER_ADDRESS")]
    pub max_connections_per_address: Option<usize>,
    /// Serve a node's boot script and artifacts, and take its reports, only from the
    /// addresses rackboot knows it by (inventory IPAddresses, DHCP leases) when it knows
    /// any: on, off, or auto (on with --dhcp full) [default: auto]
    #[arg(long, env = "RACKBOOT_BOOT_PLANE_BIND", value_enum)]
    pub boot_plane_bind: Option<BootPlaneBind>,
    /// Boot-plane requests one client address may make per second (bursts of five times
    /// that); 0 turns the limit off [default: 100]
    #[arg(long, env = "RACKBOOT_BOOT_RATE_LIMIT")]
    pub boot_rate_limit: Option<u32>,
    /// Days audit records are kept [default: 90]
    #[arg(long, env = "RACKBOOT_AUDIT_RETENTION_DAYS")]
    pub audit_retention_days: Option<u64>,
    /// Minutes an access token from the login endpoint is valid [default: 60]
    #[arg(long, env = "RACKBOOT_ACCESS_TOKEN_MINUTES")]
    pub access_token_minutes: Option<u64>,
    /// The site identity provider (config file only: `[oidc]` with issuer, jwks_url and a
    /// roles table)
    #[arg(skip)]
    pub oidc: Option<super::security::OidcSettings>,
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
    /// How BMCs that name no trust of their own (no CACert, CertSHA256 or Insecure) are
    /// trusted over HTTPS: verify (the system roots only), tofu (pin the certificate seen
    /// on first contact and refuse a change until re-trusted) or insecure [default: tofu]
    #[arg(long, env = "RACKBOOT_BMC_TLS", value_enum)]
    pub bmc_tls: Option<BmcTls>,
    /// Seconds between power-state samples of every node [default: 30]
    #[arg(long, env = "RACKBOOT_POWER_SAMPLE_SECS")]
    pub power_sample_secs: Option<u64>,
    /// Milliseconds between power-state polls while confirming a transition [default: 2000]
    #[arg(long, env = "RACKBOOT_POWER_CONFIRM_MS")]
    pub power_confirm_ms: Option<u64>,
    /// Seconds a BMC's event stream may stay silent (no event, no keep-alive) before it is
    /// reopened; 0 turns BMC events off, so power is polled only [default: 300]
    #[arg(long, env = "RACKBOOT_BMC_EVENTS_IDLE_SECS")]
    pub bmc_events_idle_secs: Option<u64>,
    /// BMC event streams held open at most (each is a connection and a file descriptor; the
    /// other BMCs are polled) [default: 1000]
    #[arg(long, env = "RACKBOOT_BMC_EVENTS_MAX_STREAMS")]
    pub bmc_events_max_streams: Option<usize>,
    /// Consecutive failures (unreachable, 5xx, credentials refused) after which a BMC's
    /// calls fail at once until a probe succeeds; 0 never stops calling [default: 3]
    #[arg(long, env = "RACKBOOT_BMC_BREAKER_FAILURES")]
    pub bmc_breaker_failures: Option<u32>,
    /// Seconds a BMC's circuit stays open before one call probes it (doubling per failed
    /// probe, up to 300) [default: 15]
    #[arg(long, env = "RACKBOOT_BMC_BREAKER_COOLDOWN_SECS")]
    pub bmc_breaker_cooldown_secs: Option<u64>,
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
    /// S3 secret key; prefer --s3-secret-key-file or the environment: a flag's value is
    /// readable by every local user in /proc/PID/cmdline
    #[arg(long, env = "RACKBOOT_S3_SECRET_KEY", hide_env_values = true)]
    pub s3_secret_key: Option<String>,
    /// File holding the S3 secret key (instead of --s3-secret-key)
    #[arg(long, env = "RACKBOOT_S3_SECRET_KEY_FILE")]
    pub s3_secret_key_file: Option<PathBuf>,
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

/// The `boot_plane_bind` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BootPlaneBind {
    On,
    Off,
    Auto,
}

/// The `bmc_tls` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BmcTls {
    Verify,
    Tofu,
    Insecure,
}

/// The `cfs` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum CfsKind {
    None,
    Builtin,
    External,
}

impl Settings {
    /// `self` where set, else `other`.
    pub fn or(self, other: Settings) -> Settings {
        Settings {
            data_dir: self.data_dir.or(other.data_dir),
            store_url: self.store_url.or(other.store_url),
            leader_lease_secs: self.leader_lease_secs.or(other.leader_lease_secs),
            listen: self.listen.or(other.listen),
            control_listen: self.control_listen.or(other.control_listen),
            tls_cert: self.tls_cert.or(other.tls_cert),
            tls_key: self.tls_key.or(other.tls_key),
            no_auth: self.no_auth.or(other.no_auth),
            boot_https_listen: self.boot_https_listen.or(other.boot_https_listen),
            boot_tls_cert: self.boot_tls_cert.or(other.boot_tls_cert),
            boot_tls_key: self.boot_tls_key.or(other.boot_tls_key),
            max_upload_bytes: self.max_upload_bytes.or(other.max_upload_bytes),
            header_timeout_secs: self.header_timeout_secs.or(other.header_timeout_secs),
            idle_timeout_secs: self.idle_timeout_secs.or(other.idle_timeout_secs),
            max_connections_per_address: self
                .max_connections_per_address
                .or(other.max_connections_per_address),
            audit_retention_days: self.audit_retention_days.or(other.audit_retention_days),
            boot_plane_bind: self.boot_plane_bind.or(other.boot_plane_bind),
            boot_rate_limit: self.boot_rate_limit.or(other.boot_rate_limit),
            access_token_minutes: self.access_token_minutes.or(other.access_token_minutes),
            oidc: self.oidc.or(other.oidc),
            advertise_url: self.advertise_url.or(other.advertise_url),
            log_format: self.log_format.or(other.log_format),
            log_level: self.log_level.or(other.log_level),
            max_body_bytes: self.max_body_bytes.or(other.max_body_bytes),
            boot_retry_delay_secs: self.boot_retry_delay_secs.or(other.boot_retry_delay_secs),
            bmc_timeout_secs: self.bmc_timeout_secs.or(other.bmc_timeout_secs),
            bmc_concurrency: self.bmc_concurrency.or(other.bmc_concurrency),
            bmc_global_concurrency: self.bmc_global_concurrency.or(other.bmc_global_concurrency),
            bmc_tls: self.bmc_tls.or(other.bmc_tls),
            power_sample_secs: self.power_sample_secs.or(other.power_sample_secs),
            power_confirm_ms: self.power_confirm_ms.or(other.power_confirm_ms),
            bmc_events_idle_secs: self.bmc_events_idle_secs.or(other.bmc_events_idle_secs),
            bmc_events_max_streams: self.bmc_events_max_streams.or(other.bmc_events_max_streams),
            bmc_breaker_failures: self.bmc_breaker_failures.or(other.bmc_breaker_failures),
            bmc_breaker_cooldown_secs: self
                .bmc_breaker_cooldown_secs
                .or(other.bmc_breaker_cooldown_secs),
            bos_poll_ms: self.bos_poll_ms.or(other.bos_poll_ms),
            artifacts_dir: self.artifacts_dir.or(other.artifacts_dir),
            s3_endpoint: self.s3_endpoint.or(other.s3_endpoint),
            s3_region: self.s3_region.or(other.s3_region),
            s3_access_key: self.s3_access_key.or(other.s3_access_key),
            s3_secret_key: self.s3_secret_key.or(other.s3_secret_key),
            s3_secret_key_file: self.s3_secret_key_file.or(other.s3_secret_key_file),
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
        let text = read_file(path)?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }
}
