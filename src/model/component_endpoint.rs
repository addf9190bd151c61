//! Component endpoints: how to reach one node through its BMC, as discovery found it.
//!
//! HSM keeps this as `Inventory/ComponentEndpoints`; the power operators need exactly this
//! to act on a node: which BMC, which Redfish system, where to POST a reset and which
//! reset types that BMC allows (vendor differences kept as data, not code).

use super::Xname;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ComponentEndpoint {
    /// The node.
    pub id: Xname,
    /// The BMC (a RedfishEndpoint ID).
    pub redfish_endpoint_id: Xname,
    /// `@odata.id` of the ComputerSystem.
    pub odata_id: String,
    /// Redfish `Id` of the system.
    #[serde(default)]
    pub system_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub uuid: String,
    /// Where to POST `ComputerSystem.Reset`.
    pub reset_target: String,
    /// Reset types the BMC allows for this system (empty if it did not say).
    #[serde(default)]
    pub reset_types: Vec<String>,
    /// Boot override targets the BMC allows.
    #[serde(default)]
    pub boot_targets: Vec<String>,
    /// MACs of the system's interfaces (normalised).
    #[serde(default)]
    pub macs: Vec<String>,
}
