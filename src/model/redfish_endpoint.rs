//! Redfish endpoints: the BMCs the appliance powers nodes through.
//!
//! The password is a write-only secret: it is stored so that the power operators can use
//! it, but its `Debug` never prints it and the API never returns it.
//!
//! Trust in a BMC's certificate is per endpoint when an admin names it (a CA, a pin, or
//! insecure) and otherwise the server's [`TlsPolicy`] (`bmc_tls`): under `tofu`, the default,
//! discovery pins the certificate a BMC presents on first contact ([`BmcTrust::Tofu`]) and a
//! later change is refused until an admin re-trusts it, because the `cray` CLI and HSM API
//! have no field to send a certificate with and most BMCs are self-signed. What the last
//! discovery could not read or would not do (an unreadable resource, a MAC another BMC
//! owns, names that differ from HSM's order) is kept on the endpoint as
//! [`DiscoveryProblem`]s, so it is visible where the endpoint is, not only in a log.

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
    /// Nothing named for this BMC: the server's `bmc_tls` policy decides (the system
    /// roots under `verify`, a pin taken on first contact under `tofu`, none under
    /// `insecure`).
    #[default]
    System,
    /// Only this CA certificate (PEM).
    Ca { pem: String },
    /// Exactly the certificate with this SHA-256 (lower-case hex), as an admin gave it.
    Pin { sha256: String },
    /// No verification: only when an admin asked for it.
    Insecure,
    /// Exactly the certificate with this SHA-256, pinned by discovery on first contact
    /// under `bmc_tls = tofu`.
    Tofu {
        sha256: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pinned_at: Option<chrono::DateTime<chrono::Utc>>,
    },
}

impl BmcTrust {
    /// A short description for API output: `default` (the server's `bmc_tls`), `ca`,
    /// `pin:<sha256>`, `tofu:<sha256>`, `insecure`.
    pub fn describe(&self) -> String {
        match self {
            BmcTrust::System => "default".into(),
            BmcTrust::Ca { .. } => "ca".into(),
            BmcTrust::Pin { sha256 } => format!("pin:{sha256}"),
            BmcTrust::Insecure => "insecure".into(),
            BmcTrust::Tofu { sha256, .. } => format!("tofu:{sha256}"),
        }
    }

    /// The pinned SHA-256, whoever pinned it.
    pub fn pinned(&self) -> Option<&str> {
        match self {
            BmcTrust::Pin { sha256 } | BmcTrust::Tofu { sha256, .. } => Some(sha256),
            _ => None,
        }
    }
}

impl std::fmt::Debug for BmcTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The server-wide `bmc_tls` setting: how BMCs that name no trust of their own are trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsPolicy {
    /// The system's trust roots only: a self-signed BMC is refused until an admin trusts it.
    Verify,
    /// Trust on first use: pin the certificate presented on first contact, refuse a change.
    #[default]
    Tofu,
    /// No verification at all.
    Insecure,
}

impl TlsPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsPolicy::Verify => "verify",
            TlsPolicy::Tofu => "tofu",
            TlsPolicy::Insecure => "insecure",
        }
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
    /// What the last discovery could not read or would not do, though it succeeded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<DiscoveryProblem>,
    /// Nodes the last discovery moved to another system (only when an admin asked for
    /// the names HSM would give).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renumbered: Vec<Renumbering>,
    /// SHA-256 of the certificate the BMC presented when it was last refused as untrusted:
    /// what `rackboot bmc trust` pins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presented_cert: Option<String>,
    /// An admin asked for the next discovery to rename the nodes as HSM would.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub renumber: bool,
}

/// One thing a successful discovery could not read or would not do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DiscoveryProblem {
    pub kind: ProblemKind,
    /// What it is about: a Redfish path, or a MAC address.
    pub resource: String,
    /// What happened and, where an admin can act, how.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ProblemKind {
    /// A resource did not answer; what it would have said is missing.
    Unreadable,
    /// A MAC another node already has; it stays where it was.
    #[serde(rename = "MACConflict")]
    MacConflict,
    /// Nodes are not named in the order HSM names them; the names were kept.
    #[serde(rename = "NotInHSMOrder")]
    NotInHsmOrder,
    /// Something the BMC reported that was deliberately left out.
    Ignored,
    /// A system that lists no host MAC: DHCP and the boot plane cannot recognise it until
    /// an admin adds its MAC.
    #[serde(rename = "NoMAC")]
    NoMac,
}

impl ProblemKind {
    /// The name the API shows.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Unreadable => "Unreadable",
            ProblemKind::MacConflict => "MACConflict",
            ProblemKind::NotInHsmOrder => "NotInHSMOrder",
            ProblemKind::Ignored => "Ignored",
            ProblemKind::NoMac => "NoMAC",
        }
    }
}

/// A node moved to another of its BMC's systems by an explicit renumbering.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Renumbering {
    /// `@odata.id` of the system.
    pub system: String,
    /// The node it was.
    pub from: Xname,
    /// The node it is now.
    pub to: Xname,
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
    /// Names for the BMC's systems in HSM's order (member ids sorted naturally); empty
    /// means `<bmc>n0`, `n1`, …
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_xnames: Vec<Xname>,
}

fn https() -> String {
    "https".into()
}

/// HSM's `Hostname` and `Domain` for an FQDN: the first label and the rest, with any port
/// left out; an IP address (v4, or v6 in brackets or bare) has no domain.
pub fn split_fqdn(fqdn: &str) -> (String, String) {
    let fqdn = fqdn.trim();
    let host = if let Some(rest) = fqdn.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if fqdn.matches(':').count() == 1 {
        fqdn.split(':').next().unwrap_or(fqdn)
    } else {
        fqdn
    };
    if host.parse::<std::net::IpAddr>().is_ok() {
        return (host.to_string(), String::new());
    }
    let (h, d) = host.split_once('.').unwrap_or((host, ""));
    (h.to_string(), d.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fqdns_split_as_hsm_would_and_addresses_have_no_domain() {
        let split = |f: &str| {
            let (h, d) = split_fqdn(f);
            (h, d)
        };
        assert_eq!(
            split("127.0.0.1:18401"),
            ("127.0.0.1".into(), String::new())
        );
        assert_eq!(split("10.1.0.5"), ("10.1.0.5".into(), String::new()));
        assert_eq!(split("[fd00::5]:8443"), ("fd00::5".into(), String::new()));
        assert_eq!(split("fd00::5"), ("fd00::5".into(), String::new()));
        assert_eq!(
            split("x3000c0s1b0.hmn.example:443"),
            ("x3000c0s1b0".into(), "hmn.example".into())
        );
        assert_eq!(split("x3000c0s1b0"), ("x3000c0s1b0".into(), String::new()));
    }

    #[test]
    fn trust_documents_read_back_and_describe_themselves() {
        let tofu = BmcTrust::Tofu {
            sha256: "ab".repeat(32),
            pinned_at: None,
        };
        let doc = serde_json::to_value(&tofu).unwrap();
        assert_eq!(doc["mode"], "tofu");
        assert_eq!(serde_json::from_value::<BmcTrust>(doc).unwrap(), tofu);
        assert_eq!(tofu.describe(), format!("tofu:{}", "ab".repeat(32)));
        assert_eq!(tofu.pinned(), Some("ab".repeat(32).as_str()));
        // Rows written before trust-on-first-use read as they were.
        let old: BmcTrust = serde_json::from_value(serde_json::json!({"mode": "system"})).unwrap();
        assert_eq!((old.describe(), old.pinned()), ("default".into(), None));
    }
}
