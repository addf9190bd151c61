//! Discovery: crawl BMCs whose endpoint is waiting for it (`NotYetQueried` after a POST,
//! `DiscoveryStarted` after `Inventory/Discover`) and record what they have.
//!
//! Each system becomes a Node component (named as HSM names it: `names`), its MACs become
//! EthernetInterfaces, and its reset capabilities a ComponentEndpoint — all in one store
//! write per BMC (`plan`). Discovery is partial: the BMC fails (`HTTPsGetFailed` and the
//! cause, recorded on the endpoint rather than retried in a loop; rediscovery is on
//! demand) only when its service root or Systems collection cannot be read; anything else
//! that does not answer is a problem recorded beside what did. Certificates are pinned on
//! first contact under `bmc_tls = tofu` (`trust`).
//!
//! The crawls run concurrently; planning and writing run one BMC at a time, re-reading the
//! interfaces they touch, so two BMCs reporting the same MAC in one pass cannot both take
//! it: the first keeps it and the second reports the conflict.

mod names;
mod plan;
mod trust;

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;

use super::{Activator, Operator, OperatorResult};
use crate::clock::SharedClock;
use crate::model::redfish_endpoint::{DiscoveryProblem, discovery_status as ds};
use crate::model::{Mac, RedfishEndpoint, TlsPolicy, Xname};
use crate::power::{BmcAccess, DiscoveredBmc, PowerDriver, PowerErrorKind};
use crate::store::{DiscoveryWrite, Store};

use names::{Naming, node_names};

pub struct Discovery {
    pub store: Arc<dyn Store>,
    pub driver: Arc<dyn PowerDriver>,
    pub clock: SharedClock,
    /// BMCs crawled at once.
    pub concurrency: usize,
    /// `bmc_tls`: how BMCs that name no trust of their own are trusted.
    pub tls_policy: TlsPolicy,
    /// Poked after a successful discovery so fresh nodes get a power sample.
    pub monitor: Activator,
    /// Called after a discovery changed the inventory (the boot read model and BOS must
    /// learn about new nodes and MACs).
    pub inventory_changed: Arc<dyn Fn() + Send + Sync>,
}

/// How one BMC's discovery ended, for the activation report.
struct Outcome {
    id: Xname,
    status: String,
    problems: Vec<DiscoveryProblem>,
    renumbered: usize,
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
        let write_lock = tokio::sync::Mutex::new(());
        let outcomes: Vec<Outcome> = futures::stream::iter(pending)
            .map(|ep| self.discover_one(ep, &write_lock))
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;
        let ok = outcomes.iter().filter(|o| o.status == ds::OK).count();
        if ok > 0 {
            self.monitor.poke();
        }
        Ok(serde_json::json!({
            "discovered": ok,
            "failed": outcomes.iter().filter(|o| o.status != ds::OK).map(|o| format!("{}: {}", o.id, o.status)).collect::<Vec<_>>(),
            "problems": outcomes.iter().flat_map(|o| o.problems.iter().map(move |p| format!("{}: {} {}", o.id, p.kind.as_str(), p.resource))).collect::<Vec<_>>(),
            "renumbered": outcomes.iter().filter(|o| o.renumbered > 0).map(|o| format!("{}: {} nodes", o.id, o.renumbered)).collect::<Vec<_>>(),
        }))
    }
}

impl Discovery {
    async fn discover_one(
        &self,
        mut ep: RedfishEndpoint,
        write_lock: &tokio::sync::Mutex<()>,
    ) -> Outcome {
        tracing::info!(bmc = %ep.id, url = %ep.base_url(), "discovering");
        ep.discovery_info.last_attempt = Some(self.clock.now());
        if let Err(e) = self.first_contact(&mut ep).await {
            tracing::warn!(bmc = %ep.id, error = %e, "discovery failed");
            return self
                .record_failure(ep, ds::HTTPS_GET_FAILED, e.message, None)
                .await;
        }
        match self.driver.discover(&BmcAccess::from(&ep)).await {
            Ok(found) => self.record(ep, found, write_lock).await,
            Err(e) => {
                let status = match e.kind {
                    PowerErrorKind::Config => ds::INVALID,
                    PowerErrorKind::Refused if e.message.contains("unreadable") => {
                        ds::DECODE_FAILED
                    }
                    _ => ds::HTTPS_GET_FAILED,
                };
                if e.kind == PowerErrorKind::Untrusted {
                    let (message, presented) = self.refusal(&ep, &e).await;
                    return self.record_failure(ep, status, message, presented).await;
                }
                tracing::warn!(bmc = %ep.id, error = %e, "discovery failed");
                self.record_failure(ep, status, e.message, None).await
            }
        }
    }

    /// Name, plan and write one BMC's discovery. Only the part that decides who owns a MAC (read
    /// the interfaces, plan, write) runs one BMC at a time: two BMCs reporting the same new
    /// MAC must not both take it. Naming and the BMC's own records are read before.
    async fn record(
        &self,
        ep: RedfishEndpoint,
        found: DiscoveredBmc,
        write_lock: &tokio::sync::Mutex<()>,
    ) -> Outcome {
        let (naming, mut facts) = match self.prepare(&ep, &found).await {
            Ok(x) => x,
            Err((status, msg)) => return self.record_failure(ep, status, msg, None).await,
        };
        let one_at_a_time = write_lock.lock().await;
        let write = match self.plan(&ep, &found, &naming, &mut facts).await {
            Ok(w) => w,
            Err((status, msg)) => {
                drop(one_at_a_time);
                return self.record_failure(ep, status, msg, None).await;
            }
        };
        let id = ep.id.clone();
        let written = self.store.record_discovery(&write).await;
        drop(one_at_a_time);
        match written {
            Ok(()) => {
                (self.inventory_changed)();
                metrics::counter!("rackboot_discoveries_total", "status" => ds::OK).increment(1);
                let info = &write.endpoint.discovery_info;
                for p in &info.problems {
                    tracing::warn!(bmc = %id, kind = p.kind.as_str(), resource = %p.resource, "{}", p.message);
                }
                for r in &naming.renumbered {
                    tracing::warn!(bmc = %id, system = %r.system, from = %r.from, to = %r.to, "renumbered: the node moved to HSM's name, with its boot parameters, BOS state and MACs");
                }
                tracing::info!(bmc = %id, nodes = write.component_endpoints.len(), problems = info.problems.len(), "discovered");
                Outcome {
                    id,
                    status: ds::OK.into(),
                    problems: info.problems.clone(),
                    renumbered: info.renumbered.len(),
                }
            }
            Err(e) => {
                let msg = crate::errors::chain(&e);
                self.record_failure(write.endpoint, ds::STORE_FAILED, msg, None)
                    .await
            }
        }
    }

    /// The names the BMC's systems get and the records of those nodes (no other BMC's
    /// discovery changes them). The error is the status and message to record.
    async fn prepare(
        &self,
        ep: &RedfishEndpoint,
        found: &DiscoveredBmc,
    ) -> Result<(Naming, plan::Facts), (&'static str, String)> {
        let store_err = |e: crate::store::StoreError| (ds::STORE_FAILED, crate::errors::chain(&e));
        let previous = self
            .store
            .component_endpoints_of(&ep.id)
            .await
            .map_err(store_err)?;
        let naming = node_names(
            ep,
            &found.members,
            &found.systems,
            &previous,
            ep.discovery_info.renumber,
        )
        .map_err(|msg| (ds::INVALID, msg))?;
        let mut facts = plan::Facts::default();
        let nodes: HashSet<Xname> = naming.names.iter().flatten().cloned().collect();
        for node in &nodes {
            if let Some(c) = self.store.get_component(node).await.map_err(store_err)? {
                facts.components.insert(node.clone(), c);
            }
        }
        Ok((naming, facts))
    }

    /// With the write lock held: read who owns the MACs the BMC reported, and plan.
    async fn plan(
        &self,
        ep: &RedfishEndpoint,
        found: &DiscoveredBmc,
        naming: &Naming,
        facts: &mut plan::Facts,
    ) -> Result<DiscoveryWrite, (&'static str, String)> {
        let store_err = |e: crate::store::StoreError| (ds::STORE_FAILED, crate::errors::chain(&e));
        let nodes: HashSet<Xname> = naming.names.iter().flatten().cloned().collect();
        let macs: HashSet<String> = found
            .systems
            .iter()
            .flat_map(|s| s.macs.iter())
            .filter_map(|m| Mac::parse(m).ok())
            .map(|m| m.id())
            .collect();
        for id in macs {
            if let Some(i) = self
                .store
                .get_ethernet_interface(&id)
                .await
                .map_err(store_err)?
            {
                facts.interfaces.insert(id, i);
            }
        }
        for owner in plan::foreign_candidates(facts.interfaces.values(), &nodes) {
            let exists = self
                .store
                .get_component(&owner)
                .await
                .map_err(store_err)?
                .is_some();
            let ce = self
                .store
                .get_component_endpoint(&owner)
                .await
                .map_err(store_err)?;
            facts.owners.insert(owner, (exists, ce));
        }
        Ok(plan::plan(ep, found, naming, facts, self.clock.now()))
    }

    async fn record_failure(
        &self,
        mut ep: RedfishEndpoint,
        status: &str,
        error: String,
        presented_cert: Option<String>,
    ) -> Outcome {
        let info = &mut ep.discovery_info;
        info.last_status = status.into();
        info.error = Some(error);
        info.presented_cert = presented_cert;
        info.problems.clear();
        info.renumbered.clear();
        metrics::counter!("rackboot_discoveries_total", "status" => status.to_string())
            .increment(1);
        if let Err(e) = self.store.update_redfish_endpoint(&ep).await {
            tracing::warn!(bmc = %ep.id, error = %crate::errors::chain(&e), "could not record the discovery failure");
        }
        Outcome {
            id: ep.id,
            status: status.into(),
            problems: Vec::new(),
            renumbered: 0,
        }
    }
}
