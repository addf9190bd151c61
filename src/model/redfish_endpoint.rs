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

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct DiscoveryInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt: Option<chrono::DateTime<chrono::Utc>>,
    pub last_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redfish_version: Option<String>,
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
}
