//! The power seam: everything the operators need from BMCs, behind one small trait.
//!
//! [`PowerDriver`] speaks in the appliance's terms (a BMC's access details, a system
//! reference, PCS power states); `redfish.rs` implements it with the `redfish` crate.
//! Only operators hold a driver: API handlers record intent and never reach a BMC.
//!
//! Every power failure reads the same, whoever reports it (a PCS task, a BOS component, the
//! CLI): it names the BMC and the system ([`SystemRef::target`]), what was sent and the last
//! PowerState read, then the BMC's own words. The adapter builds those messages, so callers
//! pass them on as they are.

pub mod breaker;
pub mod fenced;
pub mod redfish;
pub mod samples;

use async_trait::async_trait;

use crate::model::power::{BootOverrideSupport, PowerState, SystemFacts};
use crate::model::{BmcTrust, ComponentEndpoint, RedfishEndpoint, Xname};

pub use self::redfish::{RedfishDriver, RedfishDriverSettings};
pub use self::samples::PowerCache;

/// How to reach and log in to one BMC.
#[derive(Clone, PartialEq, Eq)]
pub struct BmcAccess {
    pub id: Xname,
    pub url: String,
    pub username: String,
    pub password: String,
    pub trust: BmcTrust,
}

impl std::fmt::Debug for BmcAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BmcAccess")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("username", &self.username)
            .field("trust", &self.trust)
            .finish_non_exhaustive()
    }
}

impl From<&RedfishEndpoint> for BmcAccess {
    fn from(ep: &RedfishEndpoint) -> Self {
        BmcAccess {
            id: ep.id.clone(),
            url: ep.base_url(),
            username: ep.user.clone(),
            password: ep.password.0.clone(),
            trust: ep.trust.clone(),
        }
    }
}

/// One node's system on its BMC.
#[derive(Debug, Clone)]
pub struct SystemRef {
    pub bmc: BmcAccess,
    pub system: String,
    pub reset_target: String,
    pub reset_types: Vec<String>,
}

impl SystemRef {
    pub fn new(bmc: BmcAccess, ce: &ComponentEndpoint) -> SystemRef {
        SystemRef {
            bmc,
            system: ce.odata_id.clone(),
            reset_target: ce.reset_target.clone(),
            reset_types: ce.reset_types.clone(),
        }
    }

    /// How every power message names its target: `x3000c0s1b0 /redfish/v1/Systems/Node0`.
    pub fn target(&self) -> String {
        format!("{} {}", self.bmc.id, self.system)
    }

    /// What planning needs from a reading of this system.
    pub fn facts(&self, r: &SystemReading) -> SystemFacts {
        SystemFacts {
            state: r.state,
            reset_types: self.reset_types.clone(),
            restart_observable: !r.markers.is_empty(),
            boot_override: r.boot_override.clone(),
        }
    }
}

/// One read of a system for power control (one GET of its document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemReading {
    pub state: PowerState,
    /// As the BMC wrote it (`On`, `PoweringOff`, ...), for messages.
    pub redfish_state: String,
    /// Values that move when the host restarts (`LastResetTime`, ...), by JSON pointer.
    pub markers: Vec<(String, String)>,
    pub boot_override: BootOverrideSupport,
}

/// When [`PowerDriver::boot_once`] may set the override.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootWhen {
    Always,
    /// Only while the system is not On or PoweringOn (a node about to be powered on).
    NotPoweredOn,
}

/// What [`PowerDriver::boot_once`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
///
/// Each carries the PowerState the system read (`On`, `Off`, ...) when it was decided.
pub enum BootOnce {
    /// Set and read back; `note` when the BMC keeps it in an equivalent but different form
    /// (e.g. `Continuous` instead of `Once`).
    Set { note: Option<String>, state: String },
    /// Nothing sent: the system reads `On` or `PoweringOn` and [`BootWhen::NotPoweredOn`]
    /// was asked.
    PoweredOn { state: String },
    /// Nothing sent: the system's document has no Boot override properties.
    NoOverride { state: String },
}

/// What discovery found on a BMC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredBmc {
    pub redfish_version: Option<String>,
    /// The service root's UUID.
    pub uuid: Option<String>,
    /// Every member of the Systems collection, as listed (read or not).
    pub members: Vec<String>,
    /// The members that could be read.
    pub systems: Vec<DiscoveredSystem>,
    /// Resources that did not answer: (`@odata.id`, why).
    pub problems: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredSystem {
    pub path: String,
    pub id: String,
    pub name: String,
    pub uuid: String,
    pub power: PowerState,
    pub reset_target: String,
    pub reset_types: Vec<String>,
    pub boot_targets: Vec<String>,
    pub macs: Vec<String>,
}

/// Why a BMC call failed. `message` names the BMC and the cause and is shown to users as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PowerError {
    pub kind: PowerErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerErrorKind {
    /// Could not talk to the BMC (connection, timeout, TLS).
    Unreachable,
    /// Wrong credentials.
    Auth,
    /// The BMC answered with an error or an unreadable document.
    Refused,
    /// The BMC answered with a server error (5xx, after the busy retries): it is failing,
    /// whatever was asked.
    Failing,
    /// The BMC does not allow the requested reset type or boot target.
    NotAllowed,
    /// The BMC accepted a boot override but did not keep it.
    NotKept,
    /// The BMC's access details are unusable (bad URL, CA file, pin).
    Config,
    /// The BMC's TLS certificate is not trusted: not verifiable, or not the pinned one.
    Untrusted,
    /// Not sent: this replica no longer leads (`power::fenced`).
    Fenced,
}

#[async_trait]
pub trait PowerDriver: Send + Sync + 'static {
    /// Crawl a BMC: its systems, their power state, reset capabilities and MACs.
    async fn discover(&self, bmc: &BmcAccess) -> Result<DiscoveredBmc, PowerError>;
    /// SHA-256 of the certificate the BMC presents, read without trusting it or sending
    /// credentials (what trust-on-first-use pins); `None` for plain HTTP.
    async fn certificate(&self, bmc: &BmcAccess) -> Result<Option<String>, PowerError>;
    async fn power_state(&self, sys: &SystemRef) -> Result<PowerState, PowerError>;
    /// Power state, restart markers and boot override support, in one read.
    async fn read(&self, sys: &SystemRef) -> Result<SystemReading, PowerError>;
    /// Send one Redfish reset type (one the system allows: see `model::power::reset`).
    async fn reset(&self, sys: &SystemRef, reset_type: &str) -> Result<(), PowerError>;
    /// Set a one-time boot override and check it stuck, deciding from the system's document
    /// (read first) whether to send anything.
    async fn boot_once(
        &self,
        sys: &SystemRef,
        target: &str,
        when: BootWhen,
    ) -> Result<BootOnce, PowerError>;
    /// Follow the BMC's event stream until it ends (the BMC closed it, or `idle` passed
    /// without a sign of life), telling `on` when it opened and each resource an event was
    /// about. `Ok(None)`: the BMC streams no events (poll it instead). The default: none.
    async fn follow_events(
        &self,
        _bmc: &BmcAccess,
        _idle: std::time::Duration,
        _on: &(dyn Fn(BmcEvent) + Send + Sync),
    ) -> Result<Option<StreamEnd>, PowerError> {
        Ok(None)
    }
    /// Log out of every BMC session (at shutdown).
    async fn close(&self);
}

/// What a BMC's event stream said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BmcEvent<'a> {
    /// The stream is open: from now on changes are told (what changed before is not).
    Opened,
    /// Something happened to this resource (a system's `@odata.id`).
    Changed(&'a str),
}

/// How an event stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    Closed,
    Idle,
}
