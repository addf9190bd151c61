//! Persistence: the one place records are kept.
//!
//! [`Store`] is the union of one narrow trait per table family (inventory, power, boot,
//! BOS, CFS, DHCP) over whole records. It enforces identity (a duplicate key is
//! [`StoreError::Conflict`]) and atomicity (every method that writes several records does
//! so in one transaction, so a failed request leaves nothing half-written), and nothing
//! else: validation and merge rules belong to `app`. Rows are documents of their own
//! (`records`), converted to and from the domain at this edge. Two implementations are
//! planned and both must pass [`conformance`]: SQLite (the embedded default, `sqlite/`)
//! and PostgreSQL (for several replicas; a later change).

mod codec;
pub mod conformance;
pub mod owner;
pub mod postgres;
pub mod records;
pub mod sqlite;

use async_trait::async_trait;

use crate::model::cfs::{CfsComponent, CfsConfiguration, CfsOptions};
use crate::model::dhcp::DhcpLease;
use crate::model::identity::{ApiToken, AuditRecord, User};
use crate::model::power::{PowerTask, Transition};
use crate::model::{
    BootArtifacts, BootComponent, BootParams, Component, ComponentEndpoint, EthernetInterface,
    ExtendedStatus, Group, GroupKind, HostKey, ImageKind, ImageParams, Mac, RedfishEndpoint,
    Session, SessionTemplate, Tenant, Xname,
};
use chrono::{DateTime, Utc};

pub use postgres::PostgresStore;
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
    #[error("{0}")]
    Sealed(String),
    /// Another appliance holds the store (PostgreSQL's acting lock).
    #[error("{0}")]
    InUse(String),
    /// The database server could not be reached (PostgreSQL): a connection refused, lost or
    /// not given in time.
    #[error("store operation '{op}' failed: the database could not be reached")]
    Unreachable {
        op: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// The database was made by a newer rackboot: nothing was touched.
    #[error(
        "the database's schema is version {found}, newer than this rackboot knows (up to {known}); it was written by a newer release: run that release, or restore a backup made for this one. Nothing was changed"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error("applying schema migration {version} failed")]
    Migration {
        version: i64,
        #[source]
        source: sqlx::Error,
    },
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Why the store could not be written, where that is something an admin can fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreCondition {
    /// The disk holding the database is full.
    Full,
    /// The database (or its directory) is read-only.
    ReadOnly,
    /// The disk or file system failed a read or write.
    Io,
    /// The database server (PostgreSQL) cannot be reached.
    Unreachable,
}

impl StoreCondition {
    /// In words, with what to do.
    pub fn explain(self) -> &'static str {
        match self {
            StoreCondition::Full => {
                "the disk holding the database (the data directory, or the PostgreSQL server's) is full; free space there and retry (nothing was written)"
            }
            StoreCondition::ReadOnly => {
                "the database is read-only (the data directory, or a PostgreSQL standby); make it writable and retry (nothing was written)"
            }
            StoreCondition::Io => {
                "the disk holding the data directory failed a read or write; check it (dmesg) and retry"
            }
            StoreCondition::Unreachable => {
                "the database cannot be reached; check that PostgreSQL is up and reachable from this appliance, then retry (nothing was written)"
            }
        }
    }
}

impl StoreError {
    /// The operation that failed (`op` of a backend error).
    pub fn op(&self) -> Option<&'static str> {
        match self {
            StoreError::Backend { op, .. } | StoreError::Unreachable { op, .. } => Some(op),
            _ => None,
        }
    }

    /// The fixable condition behind a backend failure, from SQLite's result code or
    /// PostgreSQL's SQLSTATE.
    pub fn condition(&self) -> Option<StoreCondition> {
        let source = match self {
            StoreError::Backend { source, .. } => source,
            StoreError::Unreachable { .. } => return Some(StoreCondition::Unreachable),
            _ => return None,
        };
        match source {
            sqlx::Error::Io(_) => Some(StoreCondition::Io),
            sqlx::Error::Database(db)
                if db
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some() =>
            {
                // SQLSTATE: 53100 disk full, 25006 read-only transaction (a standby).
                match db.code()?.as_ref() {
                    "53100" => Some(StoreCondition::Full),
                    "25006" => Some(StoreCondition::ReadOnly),
                    _ => None,
                }
            }
            sqlx::Error::Database(db) => {
                let code: i64 = db.code()?.parse().ok()?;
                // Primary result codes (extended codes keep them in the low byte).
                match code & 0xff {
                    13 => Some(StoreCondition::Full),
                    8 => Some(StoreCondition::ReadOnly),
                    10 => Some(StoreCondition::Io),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// One atomic change to boot parameters: host records and image records together, as a
/// single BSS request can touch both (deleting an image strips it from every host).
#[derive(Debug, Default, Clone)]
pub struct BootWrite {
    /// Puts only create: if any put host or image exists, nothing is written and the
    /// write fails with [`StoreError::Conflict`] naming them (BSS POST; a guarantee of the
    /// store, so two replicas creating the same host cannot both succeed).
    pub create_only: bool,
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

/// A record with the generation it was read at: writing it back with
/// [`Store::update_boot_components`] succeeds only if nobody wrote it in between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    pub value: T,
    pub generation: i64,
}

impl<T> Versioned<T> {
    /// The same generation over a converted value (a row to the domain and back).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Versioned<U> {
        Versioned {
            value: f(self.value),
            generation: self.generation,
        }
    }
}

/// When a node last fetched one of its endpoints (BSS `endpoint-history`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointAccess {
    pub name: String,
    pub endpoint: String,
    pub last_epoch: i64,
}

/// The inventory: HSM components, interfaces, groups and partitions, BMC endpoints and
/// what discovery found behind them.
#[async_trait]
pub trait InventoryStore: Send + Sync + 'static {
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
    /// The component endpoints one BMC's discovery recorded.
    async fn component_endpoints_of(&self, bmc: &Xname) -> StoreResult<Vec<ComponentEndpoint>>;
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
}

/// Power transitions (PCS) and their tasks.
#[async_trait]
pub trait PowerStore: Send + Sync + 'static {
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
}

/// What nodes boot: BSS boot parameters, endpoint history, and the artifacts each BSS
/// referral token was minted for.
#[async_trait]
pub trait BootStore: Send + Sync + 'static {
    // --- BSS boot parameters
    async fn list_boot_params(&self) -> StoreResult<Vec<(HostKey, BootParams)>>;
    async fn list_image_params(&self) -> StoreResult<Vec<ImageParams>>;
    async fn write_boot(&self, write: &BootWrite) -> StoreResult<()>;

    // --- BSS endpoint history
    async fn record_endpoint_access(&self, entries: &[EndpointAccess]) -> StoreResult<()>;
    async fn list_endpoint_access(&self) -> StoreResult<Vec<EndpointAccess>>;

    // --- BSS referral token -> the boot artifacts it was minted for
    async fn put_boot_token(&self, token: &str, artifacts: &BootArtifacts) -> StoreResult<()>;
    async fn get_boot_token(&self, token: &str) -> StoreResult<Option<BootArtifacts>>;

    // --- The object each artifact token serves, pinned at its first use
    /// Pin `(etag, size)` for `(token, name)` unless a pin exists; returns the pin in force.
    async fn pin_artifact(
        &self,
        token: &str,
        name: &str,
        etag: &str,
        size: u64,
    ) -> StoreResult<(String, u64)>;
    /// Drop pins made before `before`; returns how many.
    async fn prune_artifact_pins(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// BOS: components (compare-and-set), session templates, sessions and their saved status,
/// options and tenants.
#[async_trait]
pub trait BosStore: Send + Sync + 'static {
    // --- BOS components
    /// All components (or only enabled ones), sorted by id.
    async fn list_boot_components(
        &self,
        enabled_only: bool,
    ) -> StoreResult<Vec<Versioned<BootComponent>>>;
    async fn get_boot_component(&self, id: &str) -> StoreResult<Option<Versioned<BootComponent>>>;
    /// The components with these ids (missing ones are left out), sorted by id.
    async fn get_boot_components(
        &self,
        ids: &[String],
    ) -> StoreResult<Vec<Versioned<BootComponent>>>;
    /// Create or replace, whatever their generation (API PUT, discovery).
    async fn put_boot_components(&self, components: &[BootComponent]) -> StoreResult<()>;
    /// Compare-and-set: write each component only if its stored generation is still the
    /// one it was read at. Returns the ids that were not written (changed meanwhile).
    async fn update_boot_components(
        &self,
        components: &[Versioned<BootComponent>],
    ) -> StoreResult<Vec<String>>;
    async fn delete_boot_component(&self, id: &str) -> StoreResult<bool>;

    // --- BOS session templates, keyed by (tenant, name); no tenant is ""
    async fn list_session_templates(&self) -> StoreResult<Vec<SessionTemplate>>;
    async fn get_session_template(
        &self,
        tenant: &str,
        name: &str,
    ) -> StoreResult<Option<SessionTemplate>>;
    async fn put_session_template(&self, t: &SessionTemplate) -> StoreResult<()>;
    async fn delete_session_template(&self, tenant: &str, name: &str) -> StoreResult<bool>;

    // --- BOS sessions, keyed by (tenant, name)
    async fn list_sessions(&self) -> StoreResult<Vec<Session>>;
    async fn get_session(&self, tenant: &str, name: &str) -> StoreResult<Option<Session>>;
    /// A session of the same tenant and name is a conflict.
    async fn insert_session(&self, s: &Session) -> StoreResult<()>;
    /// Replace a session; its saved status is kept. False if it does not exist.
    async fn update_session(&self, s: &Session) -> StoreResult<bool>;
    /// Replace a session only while its stored status is still `was` (an operator's write
    /// never undoes a stop that came in meanwhile). False if it is not.
    async fn update_session_if(
        &self,
        s: &Session,
        was: crate::model::SessionStatus,
    ) -> StoreResult<bool>;
    /// Delete sessions (and their saved status); returns how many existed.
    async fn delete_sessions(&self, keys: &[(String, String)]) -> StoreResult<u64>;
    async fn save_session_status(
        &self,
        tenant: &str,
        name: &str,
        status: &ExtendedStatus,
    ) -> StoreResult<()>;
    async fn saved_session_status(
        &self,
        tenant: &str,
        name: &str,
    ) -> StoreResult<Option<ExtendedStatus>>;

    // --- BOS options (a JSON object; defaults are filled by the model)
    async fn get_bos_options(
        &self,
    ) -> StoreResult<Option<serde_json::Map<String, serde_json::Value>>>;
    async fn put_bos_options(
        &self,
        options: &serde_json::Map<String, serde_json::Value>,
    ) -> StoreResult<()>;

    // --- tenants
    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>>;
    async fn get_tenant(&self, name: &str) -> StoreResult<Option<Tenant>>;
    async fn put_tenant(&self, t: &Tenant) -> StoreResult<()>;
    async fn delete_tenant(&self, name: &str) -> StoreResult<bool>;
}

/// The built-in CFS: components (compare-and-set, as for BOS components) and
/// configurations.
#[async_trait]
pub trait CfsStore: Send + Sync + 'static {
    // --- built-in CFS: components (compare-and-set, as for BOS components) and configurations
    /// All components, sorted by id.
    async fn list_cfs_components(&self) -> StoreResult<Vec<Versioned<CfsComponent>>>;
    /// The components with these ids (missing ones are left out), sorted by id.
    async fn get_cfs_components(&self, ids: &[String])
    -> StoreResult<Vec<Versioned<CfsComponent>>>;
    /// Create or replace, whatever their generation (API PUT).
    async fn put_cfs_components(&self, components: &[CfsComponent]) -> StoreResult<()>;
    /// Compare-and-set: write each component only if its stored generation is still the one
    /// it was read at (generation 0: only if it does not exist yet). Returns the ids that
    /// were not written.
    async fn update_cfs_components(
        &self,
        components: &[Versioned<CfsComponent>],
    ) -> StoreResult<Vec<String>>;
    async fn delete_cfs_component(&self, id: &str) -> StoreResult<bool>;
    /// Sorted by name.
    async fn list_cfs_configurations(&self) -> StoreResult<Vec<CfsConfiguration>>;
    async fn get_cfs_configuration(&self, name: &str) -> StoreResult<Option<CfsConfiguration>>;
    async fn put_cfs_configuration(&self, c: &CfsConfiguration) -> StoreResult<()>;
    async fn delete_cfs_configuration(&self, name: &str) -> StoreResult<bool>;

    /// The service options, when they were ever set.
    async fn get_cfs_options(&self) -> StoreResult<Option<CfsOptions>>;
    async fn put_cfs_options(&self, o: &CfsOptions) -> StoreResult<()>;
}

/// DHCP leases (`full` mode).
#[async_trait]
pub trait DhcpStore: Send + Sync + 'static {
    // DHCP leases (`full` mode), one per MAC.
    async fn list_dhcp_leases(&self) -> StoreResult<Vec<DhcpLease>>;
    /// Create or replace the MAC's lease.
    async fn put_dhcp_lease(&self, lease: &DhcpLease) -> StoreResult<()>;
    async fn delete_dhcp_lease(&self, mac: Mac) -> StoreResult<bool>;
}

#[async_trait]
pub trait IdentityStore: Send + Sync + 'static {
    // Users, by name.
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    async fn get_user(&self, name: &str) -> StoreResult<Option<User>>;
    /// Create a user; [`StoreError::Conflict`] if the name is taken.
    async fn insert_user(&self, user: &User) -> StoreResult<()>;
    /// Replace an existing user; false if there is none.
    async fn update_user(&self, user: &User) -> StoreResult<bool>;
    /// Delete a user and every token it owns.
    async fn delete_user(&self, name: &str) -> StoreResult<bool>;
    // API tokens, by id.
    async fn insert_api_token(&self, token: &ApiToken) -> StoreResult<()>;
    async fn get_api_token(&self, id: &str) -> StoreResult<Option<ApiToken>>;
    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>>;
    async fn delete_api_token(&self, id: &str) -> StoreResult<bool>;
    // The audit trail, oldest first.
    /// Append records, in one transaction.
    async fn append_audit(&self, records: &[AuditRecord]) -> StoreResult<()>;
    /// Records at or after `since`, the newest `limit` of them, oldest first.
    async fn list_audit(&self, since: DateTime<Utc>, limit: u32) -> StoreResult<Vec<AuditRecord>>;
    /// Drop records older than `before`; returns how many.
    async fn prune_audit(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// The whole store: every table family. Code that needs only one family can take that
/// trait instead (an operator that reads BOS components needs only [`BosStore`]).
pub trait Store:
    InventoryStore + PowerStore + BootStore + BosStore + CfsStore + DhcpStore + IdentityStore
{
}

impl<T> Store for T where
    T: InventoryStore
        + PowerStore
        + BootStore
        + BosStore
        + CfsStore
        + DhcpStore
        + IdentityStore
        + ?Sized
{
}

/// The family traits, for `use crate::store::prelude::*` where store methods are called.
pub mod prelude {
    pub use super::{
        BootStore, BosStore, CfsStore, DhcpStore, IdentityStore, InventoryStore, PowerStore,
    };
}
