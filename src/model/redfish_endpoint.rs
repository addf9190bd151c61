//! Redfish endpoints: the BMCs the appliance powers nodes through.
//!
//! The password is a write-only secret: it is stored so that the power operators can use
//! it, but its `Debug` never prints it and the API never returns it.

use super::Xname;

#[derive(Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            f.write_str("Secret(empty)")
        } else {
            f.write_str("Secret(***)")
        }
    }
}

/// How the appliance trusts a BMC's TLS certificate (see `redfish::tls`).
#[derive(Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum BmcTrust {
    /// The system's trust roots, with host name checks.
    #[default]
    System,
    /// Only this CA certificate (PEM).
    Ca { pem: String },
    /// Exactly the certificate with this SHA-256 (lower-case hex).
    Pin { sha256: String },
    /// No verification: only when an admin asked for it.
    Insecure,
}

impl BmcTrust {
    /// A short description for API output: `system`, `ca`, `pin:<sha256>`, `insecure`.
    pub fn describe(&self) -> String {
        match self {
            BmcTrust::System => "system".into(),
            BmcTrust::Ca { .. } => "ca".into(),
            BmcTrust::Pin { sha256 } => format!("pin:{sha256}"),
            BmcTrust::Insecure => "insecure".into(),
        }
    }
}

impl std::fmt::Debug for BmcTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct DiscoveryInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt: Option<chrono::DateTime<chrono::Utc>>,
    pub last_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redfish_version: Option<String>,
    /// Why the last discovery failed, naming the BMC and the cause (a rackboot extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Discovery statuses (HSM's `LastDiscoveryStatus` values).
pub mod discovery_status {
    pub const NOT_YET_QUERIED: &str = "NotYetQueried";
    pub const STARTED: &str = "DiscoveryStarted";
    pub const OK: &str = "DiscoverOK";
    pub const HTTPS_GET_FAILED: &str = "HTTPsGetFailed";
    pub const DECODE_FAILED: &str = "EPResponseFailedDecode";
    pub const INVALID: &str = "EndpointInvalid";
    pub const STORE_FAILED: &str = "UnexpectedErrorPreStore";

    /// Whether discovery is waiting to run.
    pub fn pending(status: &str) -> bool {
        status == NOT_YET_QUERIED || status == STARTED
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RedfishEndpoint {
    pub id: Xname,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub domain: String,
    #[serde(default)]
    pub fqdn: String,
    pub enabled: bool,
    #[serde(default)]
    pub uuid: String,
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub password: Secret,
    #[serde(default)]
    pub use_ssdp: bool,
    #[serde(default)]
    pub mac_required: bool,
    #[serde(default)]
    pub mac_addr: String,
    #[serde(default)]
    pub ip_address: String,
    #[serde(default)]
    pub rediscover_on_update: bool,
    #[serde(default)]
    pub template_id: String,
    #[serde(default)]
    pub discovery_info: DiscoveryInfo,
    /// `https` (default) or `http` (simulators only).
    #[serde(default = "https")]
    pub scheme: String,
    #[serde(default)]
    pub trust: BmcTrust,
    /// Names for the BMC's systems in collection order; empty means `<bmc>n0`, `n1`, …
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_xnames: Vec<Xname>,
}

fn https() -> String {
    "https".into()
}

impl RedfishEndpoint {
    /// The base URL the BMC is reached at: scheme plus FQDN (which may carry a port).
    pub fn base_url(&self) -> String {
        let host = if !self.fqdn.is_empty() {
            &self.fqdn
        } else if !self.ip_address.is_empty() {
            &self.ip_address
        } else {
            &self.hostname
        };
        let scheme = if self.scheme.is_empty() {
            "https"
        } else {
            &self.scheme
        };
        format!("{scheme}://{host}")
    }
}
