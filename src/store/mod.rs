//! Persistence: the one place records are kept.
//!
//! [`Store`] is a narrow trait over whole records. It enforces identity (a duplicate key is
//! [`StoreError::Conflict`]) and atomicity (every method that writes several records does
//! so in one transaction, so a failed request leaves nothing half-written), and nothing
//! else: validation and merge rules belong to `app`. Two implementations are planned and
//! both must pass [`conformance`]: SQLite (the embedded default, `sqlite.rs`) and
//! PostgreSQL (for several replicas; a later change).

pub mod conformance;
pub mod sqlite;

use async_trait::async_trait;

use crate::model::power::{PowerTask, Transition};
use crate::model::{
    BootParams, Component, ComponentEndpoint, EthernetInterface, Group, GroupKind, HostKey,
    ImageKind, ImageParams, RedfishEndpoint, Xname,
};

pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} already exists")]
    Conflict { what: String },
    #[error("store operation '{op}' failed")]
    Backend {
        op: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("stored {what} could not be decoded")]
    Corrupt {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("applying schema migration {version} failed")]
    Migration {
        version: i64,
        #[source]
        source: sqlx::Error,
    },
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One atomic change to boot parameters: host records and image records together, as a
/// single BSS request can touch both (deleting an image strips it from every host).
#[derive(Debug, Default, Clone)]
pub struct BootWrite {
    pub put_hosts: Vec<(HostKey, BootParams)>,
    pub delete_hosts: Vec<HostKey>,
    pub put_images: Vec<ImageParams>,
    pub delete_images: Vec<(ImageKind, String)>,
}

/// The outcome of discovering one BMC, written atomically: the endpoint (with its
/// DiscoveryInfo), the nodes found (created or updated), their interfaces (upserted by
/// MAC) and the BMC's component endpoints (replacing the previous set).
#[derive(Debug, Clone)]
pub struct DiscoveryWrite {
    pub endpoint: RedfishEndpoint,
    pub components: Vec<Component>,
    pub interfaces: Vec<EthernetInterface>,
    pub component_endpoints: Vec<ComponentEndpoint>,
}

/// When a node last fetched one of its endpoints (BSS `endpoint-history`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointAccess {
    pub name: String,
    pub endpoint: String,
    pub last_epoch: i64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- State/Components
    async fn list_components(&self) -> StoreResult<Vec<Component>>;
    async fn get_component(&self, id: &Xname) -> StoreResult<Option<Component>>;
    /// Create or replace every component given, atomically.
    async fn put_components(&self, components: &[Component]) -> StoreResult<()>;
    /// Delete a component and its group/partition memberships. False if it did not exist.
    async fn delete_component(&self, id: &Xname) -> StoreResult<bool>;
    async fn delete_all_components(&self) -> StoreResult<u64>;

    // --- Inventory/EthernetInterfaces
    async fn list_ethernet_interfaces(&self) -> StoreResult<Vec<EthernetInterface>>;
    async fn get_ethernet_interface(&self, id: &str) -> StoreResult<Option<EthernetInterface>>;
    /// Insert new interfaces atomically; any existing ID is a conflict and nothing is written.
    async fn insert_ethernet_interfaces(&self, ifaces: &[EthernetInterface]) -> StoreResult<()>;
    /// Replace an existing interface. False if it did not exist.
    async fn update_ethernet_interface(&self, iface: &EthernetInterface) -> StoreResult<bool>;
    async fn delete_ethernet_interface(&self, id: &str) -> StoreResult<bool>;
    async fn delete_all_ethernet_interfaces(&self) -> StoreResult<u64>;

    // --- groups and partitions
    async fn list_groups(&self, kind: GroupKind) -> StoreResult<Vec<Group>>;
    async fn get_group(&self, kind: GroupKind, label: &str) -> StoreResult<Option<Group>>;
    async fn insert_group(&self, kind: GroupKind, group: &Group) -> StoreResult<()>;
    /// Replace a group's description, tags and members. False if it did not exist.
    async fn update_group(&self, kind: GroupKind, group: &Group) -> StoreResult<bool>;
    async fn delete_group(&self, kind: GroupKind, label: &str) -> StoreResult<bool>;

    // --- Inventory/RedfishEndpoints
    async fn list_redfish_endpoints(&self) -> StoreResult<Vec<RedfishEndpoint>>;
    async fn get_redfish_endpoint(&self, id: &Xname) -> StoreResult<Option<RedfishEndpoint>>;
    async fn insert_redfish_endpoints(&self, eps: &[RedfishEndpoint]) -> StoreResult<()>;
    async fn update_redfish_endpoint(&self, ep: &RedfishEndpoint) -> StoreResult<bool>;
    async fn delete_redfish_endpoint(&self, id: &Xname) -> StoreResult<bool>;
    async fn delete_all_redfish_endpoints(&self) -> StoreResult<u64>;

    // --- Inventory/ComponentEndpoints (written by discovery)
    async fn list_component_endpoints(&self) -> StoreResult<Vec<ComponentEndpoint>>;
    async fn get_component_endpoint(&self, id: &Xname) -> StoreResult<Option<ComponentEndpoint>>;
    async fn record_discovery(&self, write: &DiscoveryWrite) -> StoreResult<()>;
    /// Component endpoints keyed by node (what the power operators look nodes up by).
    async fn component_endpoints_by_node(
        &self,
    ) -> StoreResult<std::collections::HashMap<Xname, ComponentEndpoint>> {
        Ok(self
            .list_component_endpoints()
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect())
    }
    /// Redfish endpoints keyed by BMC xname.
    async fn redfish_endpoints_by_id(
        &self,
    ) -> StoreResult<std::collections::HashMap<Xname, RedfishEndpoint>> {
        Ok(self
            .list_redfish_endpoints()
            .await?
            .into_iter()
            .map(|e| (e.id.clone(), e))
            .collect())
    }

    // --- power transitions
    async fn insert_transition(&self, t: &Transition, tasks: &[PowerTask]) -> StoreResult<()>;
    /// Replace the transition's header and the given tasks (matched by xname). False if
    /// the transition does not exist.
    async fn update_transition(&self, t: &Transition, tasks: &[PowerTask]) -> StoreResult<bool>;
    async fn get_transition(
        &self,
        id: uuid::Uuid,
    ) -> StoreResult<Option<(Transition, Vec<PowerTask>)>>;
    /// Ask for a transition to be aborted (kept apart from progress writes, so neither can
    /// overwrite the other); reads then report `abort-signaled` until it is done. False
    /// if there is no such transition.
    async fn request_transition_abort(&self, id: uuid::Uuid) -> StoreResult<bool>;
    async fn transition_abort_requested(&self, id: uuid::Uuid) -> StoreResult<bool>;
    /// Headers only, oldest first.
    async fn list_transitions(&self) -> StoreResult<Vec<Transition>>;
    /// Delete transitions whose expiry is before `now`; returns how many.
    async fn delete_expired_transitions(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<u64>;

    // --- BSS boot parameters
    async fn list_boot_params(&self) -> StoreResult<Vec<(HostKey, BootParams)>>;
    async fn list_image_params(&self) -> StoreResult<Vec<ImageParams>>;
    async fn write_boot(&self, write: &BootWrite) -> StoreResult<()>;

    // --- BSS endpoint history
    async fn record_endpoint_access(&self, entries: &[EndpointAccess]) -> StoreResult<()>;
    async fn list_endpoint_access(&self) -> StoreResult<Vec<EndpointAccess>>;
}
