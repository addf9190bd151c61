//! The DHCP server's view of the appliance: reservations and node names from the inventory,
//! leases in the store, and what it did on the nodes' timelines and in the metrics. Also the
//! lease list the API and `rackboot dhcp leases` show.

use std::net::Ipv4Addr;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::timeline::BootEvent;
use super::{App, AppResult};
use crate::dhcp::respond::Event;
use crate::dhcp::server::{DhcpBackend, Nic};
use crate::model::dhcp::DhcpLease;
use crate::model::{Mac, Xname};

/// A lease as the API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LeaseView {
    pub mac: Mac,
    pub ip: Ipv4Addr,
    pub expires: DateTime<Utc>,
    /// `active` or `expired`.
    pub state: &'static str,
    /// The node whose interface has this MAC, when the inventory knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

impl App {
    /// The stored leases of `full` mode, by address.
    pub async fn dhcp_leases(&self) -> AppResult<Vec<LeaseView>> {
        let leases = self.store.list_dhcp_leases().await?;
        let idx = self.boot.get().await?;
        let now = Utc::now();
        let mut out: Vec<LeaseView> = leases
            .into_iter()
            .map(|l| LeaseView {
                node: idx.by_mac.get(&l.mac).map(|x| x.to_string()),
                state: if l.expires > now { "active" } else { "expired" },
                mac: l.mac,
                ip: l.ip,
                expires: l.expires,
            })
            .collect();
        out.sort_by_key(|l| u32::from(l.ip));
        Ok(out)
    }
}

/// [`DhcpBackend`] over the appliance.
pub struct DhcpHost(pub Arc<App>);

#[async_trait]
impl DhcpBackend for DhcpHost {
    async fn interfaces(&self) -> anyhow::Result<Vec<Nic>> {
        let ifaces = self.0.store.list_ethernet_interfaces().await?;
        Ok(ifaces
            .into_iter()
            .map(|i| Nic {
                mac: i.mac,
                ips: i
                    .ip_addresses
                    .iter()
                    .filter_map(|a| a.ip_address.parse().ok())
                    .collect(),
                node: i.component_id,
            })
            .collect())
    }

    fn inventory_generation(&self) -> u64 {
        self.0.boot.generation()
    }

    async fn leases(&self) -> anyhow::Result<Vec<DhcpLease>> {
        Ok(self.0.store.list_dhcp_leases().await?)
    }

    async fn save_lease(&self, lease: &DhcpLease) -> anyhow::Result<()> {
        Ok(self.0.store.put_dhcp_lease(lease).await?)
    }

    async fn remove_lease(&self, mac: Mac) -> anyhow::Result<()> {
        self.0.store.delete_dhcp_lease(mac).await?;
        Ok(())
    }

    fn observe(&self, e: &Event, node: Option<&Xname>) {
        metrics::counter!("rackboot_dhcp_messages_total", "outcome" => e.kind).increment(1);
        if e.kind == "ignored" {
            tracing::debug!(mac = %e.mac, why = %e.detail, "DHCP message not answered");
            return;
        }
        tracing::info!(mac = %e.mac, ip = %e.ip.map(|i| i.to_string()).unwrap_or_default(), boot = e.boot.as_deref().unwrap_or(""),
            node = node.map(|n| n.to_string()).unwrap_or_default(), detail = %e.detail, "dhcp {}", e.kind);
        let Some(node) = node else {
            return;
        };
        // An address the node now uses: a lease it was given, or (proxy mode) the address
        // it asked port 4011 from.
        if let (Some(ip), "ack" | "pxe-ack") = (e.ip, e.kind) {
            self.0.timeline.learn_address(ip.to_string(), node);
        }
        self.0.record_boot_event(
            node,
            BootEvent {
                time: Utc::now(),
                what: "dhcp".into(),
                bytes: 0,
                duration_ms: 0,
                client: e.ip.map(|ip| ip.to_string()),
                outcome: if e.detail.is_empty() {
                    e.kind.to_string()
                } else {
                    format!("{}: {}", e.kind, e.detail)
                },
                token: None,
                file: e.boot.clone(),
                repeats: 0,
                last_time: None,
            },
        );
    }
}
