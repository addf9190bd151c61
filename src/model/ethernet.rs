//! Ethernet interfaces: the MAC ↔ node map that makes `bootscript?mac=` work.
//!
//! The interface ID is the MAC's 12 hex digits, so a MAC can be registered once only; the
//! component it belongs to may be unknown at first (DHCP or discovery found the MAC before
//! anyone named the node).

use super::{Mac, Xname};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IpMapping {
    pub ip_address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EthernetInterface {
    pub mac: Mac,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub ip_addresses: Vec<IpMapping>,
    pub last_update: chrono::DateTime<chrono::Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component_id: Option<Xname>,
}

impl EthernetInterface {
    pub fn id(&self) -> String {
        self.mac.id()
    }

    /// The HSM `Type` of the owning component, derived from its xname.
    pub fn component_type(&self) -> Option<&'static str> {
        self.component_id.as_ref().map(|x| x.kind().hms_type())
    }
}
