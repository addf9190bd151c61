//! Tenants: named owners of a set of nodes. A `Cray-Tenant-Name` header scopes BOS templates and
//! sessions to the tenant and its sessions to its nodes (docs/bos.md, "Tenancy"). In CSM TAPMS
//! keeps this list; here it lives in the store and is managed through
//! `/apis/rackboot/v1/tenants`.

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    pub name: String,
    /// The nodes the tenant owns (canonical xnames).
    #[serde(default)]
    pub xnames: Vec<String>,
}
