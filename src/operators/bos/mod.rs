//! The BOS v2 operators (reference bos.md §5, DESIGN §4): session setup, status, power-on,
//! graceful and forceful power-off, configuration, session completion and cleanup,
//! actual-state cleanup, boot evidence and discovery of new nodes.
//!
//! Each is an [`Operator`](super::Operator): activated by its period and by a poke after
//! every write, one activation at a time, re-reading the store each time. An activation
//! selects components, plans with pure functions (`model::boot_plan`), acts through the
//! seams with bounded concurrency and records the outcome with compare-and-set: a
//! component that changed since it was read is re-read and the change re-applied, so an
//! operator never overwrites what another one (or a node's report) wrote meanwhile.

pub mod configuration;
pub mod discovery;
pub mod evidence;
pub mod lifecycle;
pub mod power_off;
pub mod power_on;
pub mod session_setup;
pub mod status;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use crate::app::App;
use crate::handoff::ConfigHandoff;
use crate::model::BootComponent;
use crate::model::options::Options;
use crate::power::{BmcAccess, PowerDriver, SystemRef};
use crate::store::{Store, StoreResult, Versioned};

/// What every BOS operator works with.
#[derive(Clone)]
pub struct BosContext {
    pub app: Arc<App>,
    pub store: Arc<dyn Store>,
    pub driver: Arc<dyn PowerDriver>,
    pub handoff: Arc<dyn ConfigHandoff>,
    pub period: Duration,
    /// BMC calls in flight at once across all nodes (per-BMC limits apply below this).
    pub concurrency: usize,
}

impl BosContext {
    pub async fn options(&self) -> Options {
        match self.app.options().await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(error = %crate::errors::chain(&e), "cannot read BOS options; using defaults");
                Options::from_json(&Default::default())
            }
        }
    }

    /// How to reach each node's system, by xname (nodes whose BMC is unknown or disabled
    /// are missing).
    pub async fn systems(&self) -> StoreResult<HashMap<String, SystemRef>> {
        let ces = self.store.list_component_endpoints().await?;
        let eps = self.store.redfish_endpoints_by_id().await?;
        Ok(ces
            .iter()
            .filter_map(|ce| {
                let ep = eps.get(&ce.redfish_endpoint_id)?;
                ep.enabled
                    .then(|| (ce.id.to_string(), SystemRef::new(BmcAccess::from(ep), ce)))
            })
            .collect())
    }

    /// Apply `change` to each of `ids` and write with compare-and-set, re-reading and
    /// re-applying on conflicts (a few rounds). `change` returns false to skip a component.
    /// Returns the components as written.
    pub async fn update(
        &self,
        ids: &HashSet<String>,
        mut change: impl FnMut(&mut BootComponent) -> bool,
    ) -> StoreResult<Vec<BootComponent>> {
        let mut pending: HashSet<String> = ids.clone();
        let mut written = Vec::new();
        for _ in 0..5 {
            if pending.is_empty() {
                break;
            }
            let wanted: Vec<String> = pending.iter().cloned().collect();
            let current = self.store.get_boot_components(&wanted).await?;
            let mut batch: Vec<Versioned<BootComponent>> = Vec::new();
            for v in current {
                if !pending.contains(&v.value.id) {
                    continue;
                }
                let mut c = v.value.clone();
                if change(&mut c) && c != v.value {
                    batch.push(Versioned {
                        value: c,
                        generation: v.generation,
                    });
                } else {
                    pending.remove(&v.value.id);
                }
            }
            let conflicts: HashSet<String> = self
                .store
                .update_boot_components(&batch)
                .await?
                .into_iter()
                .collect();
            for v in batch {
                if !conflicts.contains(&v.value.id) {
                    pending.remove(&v.value.id);
                    written.push(v.value);
                }
            }
            pending.retain(|id| conflicts.contains(id));
        }
        if !written.is_empty() {
            self.app.bos_pokes().all();
        }
        Ok(written)
    }
}

/// Why a node cannot be acted on through its BMC.
pub fn no_endpoint(id: &str) -> String {
    format!("no Redfish endpoint is known for {id}; register and discover its BMC")
}

/// The generic retry gate of BOS's action operators (bos.md §5.1): components whose
/// attempts reached their retry policy are marked failed and dropped; the others go on.
pub async fn retry_gate(
    ctx: &BosContext,
    selected: Vec<BootComponent>,
    attempts: impl Fn(&BootComponent) -> u32,
    default_policy: u32,
) -> StoreResult<(Vec<BootComponent>, usize)> {
    let mut go = Vec::new();
    let mut exhausted = HashSet::new();
    for c in selected {
        if attempts(&c) >= c.retry_limit(default_policy) {
            exhausted.insert(c.id.clone());
        } else {
            go.push(c);
        }
    }
    let n = exhausted.len();
    if n > 0 {
        ctx.update(&exhausted, |c| {
            c.status.status_override = "failed".into();
            if c.error.is_empty() {
                c.error = "The retry limit has been hit for this component, but no services have reported specific errors".into();
            }
            true
        })
        .await?;
    }
    Ok((go, n))
}

pub fn store_error(e: &crate::store::StoreError) -> serde_json::Value {
    serde_json::json!({ "error": crate::errors::chain(e) })
}
