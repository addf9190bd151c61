//! Simulated netboot nodes: the other end of the boot plane, for tests, the demo and
//! benchmarks.
//!
//! The appliance is only proven by nodes that boot from it. Real ones are slow and scarce,
//! so this module provides [`SimNode`]: a node that follows the power of one system on a
//! simulated BMC (`redfish::sim::SimBmc`) and, on every power-on, fetches its iPXE script and
//! artifacts from the appliance over real HTTP and reports its token like bos-reporter (see
//! `node` for exactly what it does). Nothing in the appliance knows these nodes are
//! simulated: the timeline, boot evidence and BOS state they produce are the real thing.
//!
//! [`SimLab`] spawns one node per system of a set of BMCs (a `SimFleet`, typically), sharing
//! one HTTP client, and sums their status. It is a lab bench, not part of the appliance: the
//! appliance never depends on this module (dependencies point from here to `bootscript`
//! for tests only, and to the `redfish` crate's simulator).

mod node;

pub use node::{
    Behaviour, ConfigAgent, ConfigService, NodePhase, Pacing, SimNode, SimNodeConfig, SimNodeStatus,
};

use redfish::sim::{SimBmc, SimFleet};

/// How a [`SimLab`]'s nodes start: a [`SimNodeConfig`] without the per-system parts.
#[derive(Clone, Debug)]
pub struct SimLabConfig {
    /// The appliance, e.g. `http://127.0.0.1:PORT`.
    pub base: String,
    /// Shared by every node.
    pub http: reqwest::Client,
    pub behaviour: Behaviour,
    pub report: bool,
    pub config_agent: ConfigAgent,
    pub pacing: Pacing,
    /// See [`SimNodeConfig::config_service`].
    pub config_service: Option<ConfigService>,
}

impl SimLabConfig {
    /// Normal, reporting nodes with default pacing.
    pub fn new(base: impl Into<String>, http: reqwest::Client) -> SimLabConfig {
        SimLabConfig {
            base: base.into(),
            http,
            behaviour: Behaviour::Normal,
            report: true,
            config_agent: ConfigAgent::Apply,
            pacing: Pacing::default(),
            config_service: None,
        }
    }
}

/// Many [`SimNode`]s, one per BMC system, in BMC then system order.
#[derive(Debug, Default)]
pub struct SimLab {
    nodes: Vec<SimNode>,
}

/// A [`SimLab`]'s status, summed: how many nodes are in each phase, and counter totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimLabTotals {
    pub nodes: usize,
    pub off: usize,
    pub booting: usize,
    pub up: usize,
    pub hung: usize,
    pub failed: usize,
    pub boots_started: u64,
    pub boots_completed: u64,
    pub boots_cancelled: u64,
    pub scripts_fetched: u64,
    pub artifacts_fetched: u64,
    pub bytes_fetched: u64,
    pub reports_sent: u64,
    pub reports_ok: u64,
    pub errors: u64,
}

impl SimLab {
    /// One node per system of every BMC, each asking for its script with the system's
    /// first NIC's MAC (systems without NICs get no node). Panics outside a Tokio runtime.
    pub fn spawn(cfg: &SimLabConfig, bmcs: &[SimBmc]) -> SimLab {
        let mut lab = SimLab::default();
        for bmc in bmcs {
            for system in 0..bmc.systems() {
                if let Some(mac) = bmc.macs(system).into_iter().next() {
                    lab.add(cfg, bmc, system, mac);
                }
            }
        }
        lab
    }

    /// One more node, on `system` of `bmc`, asking with `mac`: for a system whose MAC only the
    /// admin knows (a BMC that lists no host NICs, as stock OpenBMC does, so the admin adds
    /// it to HSM's EthernetInterfaces by hand).
    pub fn add(&mut self, cfg: &SimLabConfig, bmc: &SimBmc, system: usize, mac: String) {
        self.nodes.push(SimNode::spawn(SimNodeConfig {
            base: cfg.base.clone(),
            mac,
            bmc: bmc.clone(),
            system,
            http: cfg.http.clone(),
            behaviour: cfg.behaviour,
            report: cfg.report,
            config_agent: cfg.config_agent,
            pacing: cfg.pacing,
            config_service: cfg.config_service.clone(),
        }));
    }

    /// [`SimLab::spawn`] over every BMC of a fleet.
    pub fn for_fleet(cfg: &SimLabConfig, fleet: &SimFleet) -> SimLab {
        SimLab::spawn(cfg, fleet.bmcs())
    }

    pub fn nodes(&self) -> &[SimNode] {
        &self.nodes
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node asking with this MAC (any case).
    pub fn node(&self, mac: &str) -> Option<&SimNode> {
        self.nodes
            .iter()
            .find(|n| n.mac().eq_ignore_ascii_case(mac))
    }

    pub fn totals(&self) -> SimLabTotals {
        let mut t = SimLabTotals {
            nodes: self.nodes.len(),
            ..SimLabTotals::default()
        };
        for n in &self.nodes {
            let s = n.status();
            match s.phase {
                NodePhase::Off => t.off += 1,
                NodePhase::Booting => t.booting += 1,
                NodePhase::Up => t.up += 1,
                NodePhase::Hung => t.hung += 1,
                NodePhase::Failed => t.failed += 1,
            }
            t.boots_started += s.boots_started;
            t.boots_completed += s.boots_completed;
            t.boots_cancelled += s.boots_cancelled;
            t.scripts_fetched += s.scripts_fetched;
            t.artifacts_fetched += s.artifacts_fetched;
            t.bytes_fetched += s.bytes_fetched;
            t.reports_sent += s.reports_sent;
            t.reports_ok += s.reports_ok;
            t.errors += s.errors;
        }
        t
    }

    /// Set the behaviour knob of every node.
    pub fn set_behaviour(&self, b: Behaviour) {
        self.nodes.iter().for_each(|n| n.set_behaviour(b));
    }

    /// Set the report knob of every node.
    pub fn set_report(&self, on: bool) {
        self.nodes.iter().for_each(|n| n.set_report(on));
    }

    /// Wait until every node has completed `n` boots. Bound it with `tokio::time::timeout`.
    pub async fn wait_booted(&self, n: u64) {
        for node in &self.nodes {
            node.wait_booted(n).await;
        }
    }

    /// Stop every node (the BMCs keep running).
    pub fn stop(&self) {
        self.nodes.iter().for_each(SimNode::stop);
    }
}
