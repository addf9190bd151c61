//! Boot evidence: what each node fetched from the appliance, and when.
//!
//! Every script and artifact a node fetches is an event (time, what, bytes, duration,
//! client address, whether it completed). A completed initrd fetch under the node's current
//! token is evidence of which artifacts it is booting, without any agent on the node; BOS
//! turns that into actual state. Kept in memory, bounded per node (the newest events win).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::Utc;

pub use crate::model::BootEvent;
use crate::model::Xname;

/// Events kept per node.
const PER_NODE: usize = 200;

#[derive(Default)]
pub struct Timeline {
    events: Mutex<HashMap<Xname, VecDeque<BootEvent>>>,
    /// Client addresses DHCP saw nodes use (leases it gave; in proxy mode, the address a
    /// PXE client asked port 4011 from), so later TFTP transfers find their node.
    addresses: Mutex<HashMap<String, Xname>>,
    /// The same, by node (at most [`ADDRESSES_PER_NODE`], newest last).
    by_node: Mutex<HashMap<Xname, Vec<String>>>,
}

/// Addresses remembered per node.
const ADDRESSES_PER_NODE: usize = 4;

impl Timeline {
    /// The addresses DHCP saw `node` use (the newest few).
    pub fn addresses_of(&self, node: &Xname) -> Vec<String> {
        self.by_node
            .lock()
            .expect("timeline lock")
            .get(node)
            .cloned()
            .unwrap_or_default()
    }
}

impl Timeline {
    /// DHCP saw `node` at `ip`.
    pub fn learn_address(&self, ip: String, node: &Xname) {
        let previous = self
            .addresses
            .lock()
            .expect("timeline lock")
            .insert(ip.clone(), node.clone());
        let mut by_node = self.by_node.lock().expect("timeline lock");
        if let Some(old) = previous.filter(|old| old != node)
            && let Some(list) = by_node.get_mut(&old)
        {
            list.retain(|a| *a != ip);
        }
        let list = by_node.entry(node.clone()).or_default();
        list.retain(|a| *a != ip);
        list.push(ip);
        if list.len() > ADDRESSES_PER_NODE {
            list.remove(0);
        }
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
        if let Some(last) = q.back_mut()
            && last.repeated_by(&event)
        {
            last.repeats = last.repeats.saturating_add(1);
            last.last_time = Some(event.time);
            return;
        }
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

/// The TFTP server's observer: each transfer onto the timeline of the node that made it.
pub struct TftpTimeline(pub std::sync::Arc<crate::app::App>);

impl crate::tftp::TransferObserver for TftpTimeline {
    fn transfer_ended(&self, report: &crate::tftp::TransferReport) {
        let (app, r) = (self.0.clone(), report.clone());
        tokio::spawn(async move { app.record_tftp(&r).await });
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
                repeats: 0,
                last_time: None,
            },
        );
    }

    /// The node at `ip` by the boot read model (inventory addresses), else by a stored DHCP
    /// lease's MAC.
    async fn node_by_address(&self, ip: &str) -> Option<Xname> {
        let idx = self.boot.get().await.ok()?;
        if let Some(x) = idx.by_ip.get(ip) {
            return Some(x.clone());
        }
        let leases = self.store.list_dhcp_leases().await.ok()?;
        let lease = leases.iter().find(|l| l.ip.to_string() == ip)?;
        idx.by_mac.get(&lease.mac).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(what: &str, token: &str) -> BootEvent {
        BootEvent {
            time: Utc::now(),
            what: what.into(),
            bytes: 600,
            duration_ms: 0,
            client: Some("10.0.0.5".into()),
            outcome: "complete".into(),
            token: Some(token.into()),
            file: None,
            repeats: 0,
            last_time: None,
        }
    }

    #[test]
    fn repeated_script_fetches_fold_and_artifact_fetches_never_do() {
        let t = Timeline::default();
        let x = Xname::parse("x3000c0s1b0n0").unwrap();
        for _ in 0..40 {
            t.record(&x, ev("bootscript", "tok1"));
        }
        let e = t.events(&x);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].repeats, 39);
        assert!(e[0].last_time.is_some());
        // A new token (new boot parameters) is a new event; so is each artifact fetch.
        t.record(&x, ev("bootscript", "tok2"));
        t.record(&x, ev("initrd", "tok2"));
        t.record(&x, ev("initrd", "tok2"));
        let e = t.events(&x);
        assert_eq!(e.len(), 4);
        assert_eq!(e[1].repeats, 0);
        assert_eq!(e[3].repeats, 0);
        // The folded fields stay out of the JSON when there was nothing to fold.
        let v = serde_json::to_value(&e[1]).unwrap();
        assert!(v.get("repeats").is_none() && v.get("last_time").is_none());
    }
}
