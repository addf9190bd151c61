//! Boot evidence: what each node fetched from the appliance, and when.
//!
//! Every script and artifact a node fetches is an event (time, what, bytes, duration,
//! client address, whether it completed). A completed initrd fetch under the node's current
//! token is evidence of which artifacts it is booting, without any agent on the node; BOS
//! turns that into actual state. Kept in memory, bounded per node (the newest events win).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::model::Xname;

/// Events kept per node.
const PER_NODE: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BootEvent {
    pub time: DateTime<Utc>,
    /// `bootscript`, `kernel`, `initrd`, `rootfs`, …
    pub what: String,
    pub bytes: u64,
    pub duration_ms: u64,
    pub client: Option<String>,
    /// `complete`, `partial` (a Range request), `aborted` (the client went away) or `failed`.
    pub outcome: String,
    /// The artifact token used, for artifact fetches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The file, for TFTP transfers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

#[derive(Default)]
pub struct Timeline {
    events: Mutex<HashMap<Xname, VecDeque<BootEvent>>>,
    /// Client addresses DHCP saw nodes use (leases it gave; in proxy mode, the address a
    /// PXE client asked port 4011 from), so later TFTP transfers find their node.
    addresses: Mutex<HashMap<String, Xname>>,
}

impl Timeline {
    /// DHCP saw `node` at `ip`.
    pub fn learn_address(&self, ip: String, node: &Xname) {
        self.addresses
            .lock()
            .expect("timeline lock")
            .insert(ip, node.clone());
    }

    fn node_at(&self, ip: &str) -> Option<Xname> {
        self.addresses
            .lock()
            .expect("timeline lock")
            .get(ip)
            .cloned()
    }

    pub fn record(&self, node: &Xname, event: BootEvent) {
        let mut all = self.events.lock().expect("timeline lock");
        let q = all.entry(node.clone()).or_default();
        if q.len() == PER_NODE {
            q.pop_front();
        }
        q.push_back(event);
    }

    pub fn events(&self, node: &Xname) -> Vec<BootEvent> {
        self.events
            .lock()
            .expect("timeline lock")
            .get(node)
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default()
    }
}

impl crate::app::App {
    /// A TFTP transfer, on the timeline of the node that made it: known by an address DHCP
    /// saw it use, its inventory address, or a stored DHCP lease (none: not recorded; TFTP
    /// clients are known by address only).
    pub async fn record_tftp(&self, r: &crate::tftp::TransferReport) {
        let ip = r.client.ip().to_canonical().to_string();
        let node = match self.timeline.node_at(&ip) {
            Some(n) => Some(n),
            None => self.node_by_address(&ip).await,
        };
        let Some(node) = node else {
            return;
        };
        self.record_boot_event(
            &node,
            BootEvent {
                time: Utc::now(),
                what: "tftp".into(),
                bytes: r.bytes,
                duration_ms: r.duration.as_millis() as u64,
                client: Some(ip),
                outcome: if r.detail.is_empty() {
                    r.outcome.to_string()
                } else {
                    format!("{}: {}", r.outcome, r.detail)
                },
                token: None,
                file: Some(r.filename.clone()),
            },
        );
    }

    async fn node_by_address(&self, ip: &str) -> Option<Xname> {
        let ifaces = self.store.list_ethernet_interfaces().await.ok()?;
        if let Some(i) = ifaces
            .iter()
            .find(|i| i.ip_addresses.iter().any(|a| a.ip_address == ip))
        {
            return i.component_id.clone();
        }
        let leases = self.store.list_dhcp_leases().await.ok()?;
        let lease = leases.iter().find(|l| l.ip.to_string() == ip)?;
        ifaces
            .iter()
            .find(|i| i.mac == lease.mac)
            .and_then(|i| i.component_id.clone())
    }
}
