//! Who wakes whom: the pokes that use cases send operators after a write, and the reports
//! operators leave behind for `GET /apis/rackboot/v1/operators`.
//!
//! A leaf module on purpose: the use cases (`app`) poke operators and serve their reports,
//! and the operators poke each other, so neither may own these types without the other
//! importing it. A poke ([`Activator`]) carries no data: an activation re-reads the store,
//! so a lost or coalesced poke loses nothing (house style: reconcilers take no input).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

/// A poke: asks an operator to run soon. Pokes while it runs coalesce into one more run.
/// Clones share the poke (and its relay).
#[derive(Clone, Default)]
pub struct Activator(Arc<Inner>);

#[derive(Default)]
struct Inner {
    notify: Notify,
    /// Also tells the leader replica (`cluster::bus`), when several replicas share a store.
    relay: std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>,
}

impl Activator {
    pub fn poke(&self) {
        self.poke_here();
        if let Some(relay) = self.0.relay.get() {
            relay();
        }
    }

    /// Poke the operator of this process only (a poke another replica relayed).
    pub fn poke_here(&self) {
        self.0.notify.notify_one();
    }

    /// Relay every poke through `f` as well (set once; later calls are ignored).
    pub fn relay_to(&self, f: impl Fn() + Send + Sync + 'static) {
        let _ = self.0.relay.set(Box::new(f));
    }

    /// Resolves at the next poke (or at once if one came since the last wait).
    pub async fn poked(&self) {
        self.0.notify.notified().await
    }
}

/// Pokes for the inventory and power operators.
#[derive(Clone, Default)]
pub struct Pokes {
    /// Redfish discovery of registered BMCs.
    pub discovery: Activator,
    /// Power transitions (PCS, CAPMC).
    pub power: Activator,
    /// The power-state monitor.
    pub monitor: Activator,
    /// The BMC event followers (re-read the BMCs now: the inventory changed).
    pub events: Activator,
}

/// One poke per BOS operator (a poke wakes exactly one operator). Every BOS write pokes
/// them all: an activation with nothing to do costs one store read.
#[derive(Clone, Default)]
pub struct BosPokes {
    pub setup: Activator,
    pub status: Activator,
    pub power_on: Activator,
    pub power_off_graceful: Activator,
    pub power_off_forceful: Activator,
    pub configuration: Activator,
    pub completion: Activator,
    pub session_cleanup: Activator,
    pub actual_state_cleanup: Activator,
    pub evidence: Activator,
    /// New inventory nodes become BOS components (poked by inventory writes, not by
    /// [`BosPokes::all`]).
    pub discovery: Activator,
}

impl Pokes {
    /// Each activator by a name that is the same on every replica (for relaying).
    pub fn named(&self) -> Vec<(&'static str, Activator)> {
        vec![
            ("discovery", self.discovery.clone()),
            ("power", self.power.clone()),
            ("monitor", self.monitor.clone()),
            ("events", self.events.clone()),
        ]
    }
}

impl BosPokes {
    /// Each activator by a name that is the same on every replica (for relaying).
    pub fn named(&self) -> Vec<(&'static str, Activator)> {
        vec![
            ("bos.setup", self.setup.clone()),
            ("bos.status", self.status.clone()),
            ("bos.power_on", self.power_on.clone()),
            ("bos.power_off_graceful", self.power_off_graceful.clone()),
            ("bos.power_off_forceful", self.power_off_forceful.clone()),
            ("bos.configuration", self.configuration.clone()),
            ("bos.completion", self.completion.clone()),
            ("bos.session_cleanup", self.session_cleanup.clone()),
            (
                "bos.actual_state_cleanup",
                self.actual_state_cleanup.clone(),
            ),
            ("bos.evidence", self.evidence.clone()),
            ("bos.discovery", self.discovery.clone()),
        ]
    }

    /// Poke every BOS operator that acts on components and sessions.
    pub fn all(&self) {
        for a in [
            &self.setup,
            &self.status,
            &self.power_on,
            &self.power_off_graceful,
            &self.power_off_forceful,
            &self.configuration,
            &self.completion,
            &self.session_cleanup,
            &self.actual_state_cleanup,
            &self.evidence,
        ] {
            a.poke();
        }
    }
}

/// The last report of every operator.
#[derive(Clone, Default)]
pub struct Reports(Arc<Mutex<BTreeMap<&'static str, Report>>>);

/// What the driver knows of one operator: its schedule, its activations and the JSON
/// report of the last one (an error report, `{"error": …}`, when it failed).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub name: &'static str,
    pub period_secs: f64,
    pub activations: u64,
    pub last_started: Option<DateTime<Utc>>,
    pub last_finished: Option<DateTime<Utc>>,
    pub last_duration_ms: Option<u64>,
    pub running: bool,
    pub last_report: serde_json::Value,
}

impl Reports {
    pub fn all(&self) -> Vec<Report> {
        self.0
            .lock()
            .expect("reports lock")
            .values()
            .cloned()
            .collect()
    }

    /// Change the report of `name`, creating it empty first.
    pub fn update(&self, name: &'static str, f: impl FnOnce(&mut Report)) {
        let mut all = self.0.lock().expect("reports lock");
        let r = all.entry(name).or_insert_with(|| Report {
            name,
            period_secs: 0.0,
            activations: 0,
            last_started: None,
            last_finished: None,
            last_duration_ms: None,
            running: false,
            last_report: serde_json::Value::Null,
        });
        f(r);
    }
}
