//! Discovery: crawl BMCs whose endpoint is waiting for it (`NotYetQueried` after a POST,
//! `DiscoveryStarted` after `Inventory/Discover`) and record what they have.
//!
//! Each system becomes a Node component (named by the endpoint's `node_xnames`, else the
//! BMC's xname plus `n<index>` in collection order), its MACs become EthernetInterfaces,
//! and its reset capabilities a ComponentEndpoint — all in one store write per BMC. A
//! failure is recorded on the endpoint (`HTTPsGetFailed` and the cause) rather than
//! retried in a loop: rediscovery is on demand.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;

use super::{Activator, Operator, OperatorResult};
use crate::clock::SharedClock;
use crate::model::redfish_endpoint::discovery_status as ds;
use crate::model::{
    Component, ComponentEndpoint, EthernetInterface, Mac, RedfishEndpoint, Xname, XnameKind,
};
use crate::power::{BmcAccess, DiscoveredBmc, DiscoveredSystem, PowerDriver, PowerErrorKind};
use crate::store::{DiscoveryWrite, Store};

pub struct Discovery {
    pub store: Arc<dyn Store>,
    pub driver: Arc<dyn PowerDriver>,
    pub clock: SharedClock,
    /// BMCs crawled at once.
    pub concurrency: usize,
    /// Poked after a successful discovery so fresh nodes get a power sample.
    pub monitor: Activator,
    /// Called after a discovery changed the inventory (the boot read model and BOS must
    /// learn about new nodes and MACs).
    pub inventory_changed: Arc<dyn Fn() + Send + Sync>,
}

#[async_trait]
impl Operator for Discovery {
    async fn activate(&mut self) -> OperatorResult {
        let endpoints = self.store.list_redfish_endpoints().await?;
        let pending: Vec<RedfishEndpoint> = endpoints
            .into_iter()
            .filter(|e| e.enabled && ds::pending(&e.discovery_info.last_status))
            .collect();
        if pending.is_empty() {
            return Ok(serde_json::json!({"discovered": 0}));
        }
        let interfaces: HashMap<String, EthernetInterface> = self
            .store
            .list_ethernet_interfaces()
            .await?
            .into_iter()
            .map(|i| (i.id(), i))
            .collect();
        let outcomes: Vec<(Xname, String)> = futures::stream::iter(pending)
            .map(|ep| self.discover_one(ep, &interfaces))
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;
        let ok = outcomes.iter().filter(|(_, s)| s == ds::OK).count();
        if ok > 0 {
            self.monitor.poke();
        }
        Ok(serde_json::json!({
            "discovered": ok,
            "failed": outcomes.iter().filter(|(_, s)| s != ds::OK).map(|(x, s)| format!("{x}: {s}")).collect::<Vec<_>>(),
        }))
    }
}

impl Discovery {
    async fn discover_one(
        &self,
        mut ep: RedfishEndpoint,
        interfaces: &HashMap<String, EthernetInterface>,
    ) -> (Xname, String) {
        let id = ep.id.clone();
        tracing::info!(bmc = %id, url = %ep.base_url(), "discovering");
        ep.discovery_info.last_attempt = Some(self.clock.now());
        let result = self.driver.discover(&BmcAccess::from(&ep)).await;
        let write = match result {
            Ok(found) => match self.plan(&ep, found, interfaces).await {
                Ok(w) => w,
                Err(msg) => {
                    ep.discovery_info.last_status = ds::INVALID.into();
                    ep.discovery_info.error = Some(msg);
                    return self.record_failure(ep).await;
                }
            },
            Err(e) => {
                ep.discovery_info.last_status = match e.kind {
                    PowerErrorKind::Config => ds::INVALID,
                    PowerErrorKind::Refused if e.message.contains("unreadable") => {
                        ds::DECODE_FAILED
                    }
                    _ => ds::HTTPS_GET_FAILED,
                }
                .into();
                ep.discovery_info.error = Some(e.message.clone());
                tracing::warn!(bmc = %id, error = %e, "discovery failed");
                return self.record_failure(ep).await;
            }
        };
        match self.store.record_discovery(&write).await {
            Ok(()) => {
                (self.inventory_changed)();
                metrics::counter!("rackboot_discoveries_total", "status" => ds::OK).increment(1);
                tracing::info!(bmc = %id, nodes = write.component_endpoints.len(), "discovered");
                (id, ds::OK.into())
            }
            Err(e) => {
                let mut ep = write.endpoint;
                ep.discovery_info.last_status = ds::STORE_FAILED.into();
                ep.discovery_info.error = Some(crate::errors::chain(&e));
                self.record_failure(ep).await
            }
        }
    }

    async fn record_failure(&self, ep: RedfishEndpoint) -> (Xname, String) {
        let status = ep.discovery_info.last_status.clone();
        metrics::counter!("rackboot_discoveries_total", "status" => status.clone()).increment(1);
        if let Err(e) = self.store.update_redfish_endpoint(&ep).await {
            tracing::warn!(bmc = %ep.id, error = %crate::errors::chain(&e), "could not record the discovery failure");
        }
        (ep.id, status)
    }

    /// Turn what the BMC reported into the store write (pure apart from reading the
    /// existing components, whose admin-set fields are kept).
    async fn plan(
        &self,
        ep: &RedfishEndpoint,
        found: DiscoveredBmc,
        interfaces: &HashMap<String, EthernetInterface>,
    ) -> Result<DiscoveryWrite, String> {
        let previous = self
            .store
            .component_endpoints_of(&ep.id)
            .await
            .map_err(|e| crate::errors::chain(&e))?;
        let names = node_names(ep, &found.systems, &previous)?;
        let mut components = Vec::new();
        let mut ifaces = Vec::new();
        let mut ces = Vec::new();
        for (sys, node) in found.systems.iter().zip(names) {
            let mut comp = match self.store.get_component(&node).await {
                Ok(Some(c)) => c,
                Ok(None) => {
                    let mut c = Component::new(node.clone());
                    c.role = Some("Compute".into());
                    c.arch = Some("X86".into());
                    c
                }
                Err(e) => return Err(crate::errors::chain(&e)),
            };
            // Hardware states follow the power state; software states (Ready, Standby…)
            // belong to whoever set them.
            if matches!(
                comp.state.as_str(),
                "Unknown" | "Empty" | "Populated" | "On" | "Off"
            ) {
                comp.state = match sys.power {
                    crate::model::power::PowerState::On => "On",
                    crate::model::power::PowerState::Off => "Off",
                    _ => "Populated",
                }
                .into();
            }
            components.push(comp);
            let mut macs = Vec::new();
            for raw in &sys.macs {
                let Ok(mac) = Mac::parse(raw) else {
                    tracing::warn!(bmc = %ep.id, system = %sys.path, mac = raw, "ignoring an unreadable MAC");
                    continue;
                };
                let mut iface = interfaces
                    .get(&mac.id())
                    .cloned()
                    .unwrap_or(EthernetInterface {
                        mac,
                        description: String::new(),
                        ip_addresses: vec![],
                        last_update: self.clock.now(),
                        component_id: None,
                    });
                iface.component_id = Some(node.clone());
                if iface.description.is_empty() {
                    iface.description = format!("discovered on {} {}", ep.id, sys.path);
                }
                iface.last_update = self.clock.now();
                macs.push(mac.to_string());
                ifaces.push(iface);
            }
            ces.push(ComponentEndpoint {
                id: node,
                redfish_endpoint_id: ep.id.clone(),
                odata_id: sys.path.clone(),
                system_id: sys.id.clone(),
                name: sys.name.clone(),
                uuid: sys.uuid.clone(),
                reset_target: sys.reset_target.clone(),
                reset_types: sys.reset_types.clone(),
                boot_targets: sys.boot_targets.clone(),
                macs,
            });
        }
        let mut endpoint = ep.clone();
        endpoint.discovery_info.last_status = ds::OK.into();
        endpoint.discovery_info.error = None;
        endpoint.discovery_info.redfish_version = found.redfish_version;
        Ok(DiscoveryWrite {
            endpoint,
            components,
            interfaces: ifaces,
            component_endpoints: ces,
        })
    }
}

/// Node names for the BMC's systems: the endpoint's explicit list, else `<bmc>n<i>`.
///
/// Names are stable across rediscovery: a system this BMC reported before (same UUID, or
/// same `@odata.id` when it has no UUID) keeps its node, wherever it now stands in the
/// Systems collection. BMCs do reorder it (sushy-tools lists libvirt domains in a new
/// order after libvirtd restarts), and a positional name would move a node's MACs, boot
/// parameters and BOS state to another machine. New systems take the lowest free `n<i>`
/// in the order listed.
pub fn node_names(
    ep: &RedfishEndpoint,
    systems: &[DiscoveredSystem],
    previous: &[ComponentEndpoint],
) -> Result<Vec<Xname>, String> {
    let count = systems.len();
    if !ep.node_xnames.is_empty() {
        if ep.node_xnames.len() < count {
            return Err(format!(
                "BMC {} has {count} systems but only {} node xnames were given",
                ep.id,
                ep.node_xnames.len()
            ));
        }
        return Ok(ep.node_xnames[..count].to_vec());
    }
    if ep.id.kind() != XnameKind::NodeBmc {
        return Err(format!(
            "cannot name the systems of {} ({}): give the nodes' xnames",
            ep.id,
            ep.id.kind().hms_type()
        ));
    }
    let name = |i: usize| {
        Xname::parse(&format!("{}n{i}", ep.id))
            .map_err(|e| format!("cannot name system {i} of {}: {e}", ep.id))
    };
    let same = |sys: &DiscoveredSystem, ce: &ComponentEndpoint| {
        ce.redfish_endpoint_id == ep.id
            && if !sys.uuid.is_empty() && !ce.uuid.is_empty() {
                sys.uuid.eq_ignore_ascii_case(&ce.uuid)
            } else {
                sys.path == ce.odata_id
            }
    };
    let mut names: Vec<Option<Xname>> = systems
        .iter()
        .map(|sys| {
            previous
                .iter()
                .find(|ce| same(sys, ce))
                .map(|ce| ce.id.clone())
        })
        .collect();
    let mut taken: std::collections::HashSet<Xname> = names.iter().flatten().cloned().collect();
    let mut next = 0;
    for slot in names.iter_mut().filter(|n| n.is_none()) {
        let free = loop {
            let candidate = name(next)?;
            next += 1;
            if !taken.contains(&candidate) {
                break candidate;
            }
        };
        taken.insert(free.clone());
        *slot = Some(free);
    }
    Ok(names.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sys(path: &str, uuid: &str) -> DiscoveredSystem {
        DiscoveredSystem {
            path: path.into(),
            id: path.rsplit('/').next().unwrap().into(),
            name: String::new(),
            uuid: uuid.into(),
            power: crate::model::power::PowerState::Off,
            reset_target: String::new(),
            reset_types: vec![],
            boot_targets: vec![],
            macs: vec![],
        }
    }

    fn ce(node: &str, bmc: &str, path: &str, uuid: &str) -> ComponentEndpoint {
        ComponentEndpoint {
            id: Xname::parse(node).unwrap(),
            redfish_endpoint_id: Xname::parse(bmc).unwrap(),
            odata_id: path.into(),
            system_id: String::new(),
            name: String::new(),
            uuid: uuid.into(),
            reset_target: String::new(),
            reset_types: vec![],
            boot_targets: vec![],
            macs: vec![],
        }
    }

    #[test]
    fn rediscovery_keeps_each_system_on_its_node_whatever_the_order() {
        let ep: RedfishEndpoint = serde_json::from_value(
            serde_json::json!({"id": "x3000c0s1b0", "type": "NodeBMC", "enabled": true}),
        )
        .unwrap();
        let (a, b, c) = (
            sys("/redfish/v1/Systems/a", "UUID-A"),
            sys("/redfish/v1/Systems/b", "uuid-b"),
            sys("/redfish/v1/Systems/c", ""),
        );
        let names = |v: Vec<Xname>| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        // First discovery: list order.
        let first = node_names(&ep, &[a.clone(), b.clone(), c.clone()], &[]).unwrap();
        assert_eq!(
            names(first),
            ["x3000c0s1b0n0", "x3000c0s1b0n1", "x3000c0s1b0n2"]
        );
        let previous = [
            ce(
                "x3000c0s1b0n0",
                "x3000c0s1b0",
                "/redfish/v1/Systems/a",
                "uuid-a",
            ),
            ce(
                "x3000c0s1b0n1",
                "x3000c0s1b0",
                "/redfish/v1/Systems/b",
                "UUID-B",
            ),
            ce("x3000c0s1b0n2", "x3000c0s1b0", "/redfish/v1/Systems/c", ""),
            // Another BMC's system with the same path is not ours.
            ce(
                "x3000c0s2b0n0",
                "x3000c0s2b0",
                "/redfish/v1/Systems/d",
                "uuid-d",
            ),
        ];
        // Reordered: each keeps its node (by UUID, case-insensitively; by path without one).
        let again = node_names(&ep, &[c.clone(), b.clone(), a.clone()], &previous).unwrap();
        assert_eq!(
            names(again),
            ["x3000c0s1b0n2", "x3000c0s1b0n1", "x3000c0s1b0n0"]
        );
        // A system replaced by a new one takes the free name; a new one the next free.
        let d = sys("/redfish/v1/Systems/d", "uuid-d");
        let e = sys("/redfish/v1/Systems/e", "uuid-e");
        let replaced = node_names(&ep, &[d, b, a, e], &previous).unwrap();
        assert_eq!(
            names(replaced),
            [
                "x3000c0s1b0n2",
                "x3000c0s1b0n1",
                "x3000c0s1b0n0",
                "x3000c0s1b0n3"
            ]
        );
    }
}
