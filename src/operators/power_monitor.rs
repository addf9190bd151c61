//! Power monitor: sample every BMC-managed node's power state into the power cache (nodes
//! another reader sampled within half a period, and nodes whose BMC streams events, are left
//! out of the pass: `PowerCache::needs_sample`).
//!
//! `GET/POST /power-status` (and BOS's status operator after it) read the cache, so the
//! BMCs see one request per node per period however often status is asked for. A node
//! whose BMC does not answer is recorded as `undefined`/unavailable with the reason.

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;

use super::{Operator, OperatorResult};
use crate::clock::SharedClock;
use crate::model::Xname;
use crate::model::power::{PowerSample, PowerState};
use crate::power::PowerCache;
use crate::power::samples::sample;
use crate::power::{BmcAccess, PowerDriver, SystemRef};
use crate::store::Store;

pub struct PowerMonitor {
    pub store: Arc<dyn Store>,
    pub driver: Arc<dyn PowerDriver>,
    pub cache: Arc<PowerCache>,
    pub clock: SharedClock,
    /// The monitor's period: a node another reader sampled within half of it is left out of
    /// a pass, and a node whose BMC streams events is read only every ten periods.
    pub period: chrono::Duration,
}

#[async_trait]
impl Operator for PowerMonitor {
    async fn activate(&mut self) -> OperatorResult {
        let ces = self.store.list_component_endpoints().await?;
        let eps = self.store.redfish_endpoints_by_id().await?;
        let keep: std::collections::HashSet<Xname> = ces.iter().map(|c| c.id.clone()).collect();
        self.cache.retain(|x| keep.contains(x));
        let targets: Vec<(Xname, SystemRef)> = ces
            .iter()
            .filter_map(|ce| {
                let ep = eps.get(&ce.redfish_endpoint_id)?;
                ep.enabled
                    .then(|| (ce.id.clone(), SystemRef::new(BmcAccess::from(ep), ce)))
            })
            .collect();
        let total = targets.len();
        let now = self.clock.now();
        let targets: Vec<(Xname, SystemRef)> = targets
            .into_iter()
            .filter(|(x, _)| self.cache.needs_sample(x, self.period, now))
            .collect();
        let skipped = total - targets.len();
        let driver = &self.driver;
        let clock = &self.clock;
        let samples: Vec<PowerSample> = futures::stream::iter(targets)
            .map(|(x, sys)| async move {
                let r = driver.power_state(&sys).await.map_err(|e| e.message);
                sample(&x, &sys, r, clock.now())
            })
            .buffer_unordered(4096)
            .collect()
            .await;
        let unavailable = samples.iter().filter(|s| !s.available).count();
        let on = samples.iter().filter(|s| s.state == PowerState::On).count();
        for s in samples {
            self.cache.put(s);
        }
        Ok(
            serde_json::json!({"sampled": total - skipped, "fresh": skipped, "on": on,
            "unavailable": unavailable}),
        )
    }
}
