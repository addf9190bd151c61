//! The BOS v2 operators (docs/bos.md, "Operators"; docs/architecture.md, "Operators"): session
//! setup, status, power-on, graceful and forceful power-off, configuration, session completion
//! and cleanup, actual-state cleanup, boot evidence and discovery of new nodes.
//!
//! Each is an [`Operator`](super::Operator): activated by its period and by a poke after every
//! write, one activation at a time, re-reading the store each time. An activation selects
//! components, plans with pure functions (`model::boot_plan`), acts through the seams with
//! bounded concurrency and records the outcome with compare-and-set: a component that changed
//! since it was read is re-read and the change re-applied, so an operator never overwrites what
//! another one (or a node's report) wrote meanwhile.

pub mod configuration;
pub mod discovery;
pub mod evidence;
pub mod journal;
pub mod lifecycle;
pub mod power_off;
pub mod power_on;
pub mod session_plan;
pub mod session_setup;
pub mod status;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;

use super::ports::{BootEvents, BootParamsWriter, SessionStatusSaver};
use super::{Registration, Schedule};
use crate::activation::BosPokes;
use crate::clock::SharedClock;
use crate::handoff::ConfigHandoff;
use crate::model::BootComponent;
use crate::model::boot_plan::PowerReading;
use crate::model::options::Options;
use crate::power::{BmcAccess, PowerCache, PowerDriver, SystemRef};
use crate::store::{Store, StoreResult, Versioned};

/// What every BOS operator works with: the store, the seams it acts through, the pokes
/// that wake the others, the clock, and how often and how widely to act.
#[derive(Clone)]
pub struct BosContext {
    pub store: Arc<dyn Store>,
    pub driver: Arc<dyn PowerDriver>,
    pub handoff: Arc<dyn ConfigHandoff>,
    pub boot: Arc<dyn BootParamsWriter>,
    pub events: Arc<dyn BootEvents>,
    pub sessions: Arc<dyn SessionStatusSaver>,
    pub pokes: BosPokes,
    pub clock: SharedClock,
    /// The shared power samples: read before asking a BMC, filled when one is asked.
    pub power_cache: Arc<PowerCache>,
    /// How old a cached sample may be and still be trusted.
    pub power_max_age: Duration,
    pub period: Duration,
    /// BMC calls in flight at once across all nodes (per-BMC limits apply below this).
    pub concurrency: usize,
    /// The nodes with a BMC call in flight (calls may outlive their activation).
    pub calls: Arc<journal::Calls>,
    /// The nodes with a power read in flight (reads may outlive their pass).
    pub reads: Arc<journal::Calls>,
    /// How long an activation waits for its BMC calls before it returns and leaves the
    /// slow ones to record themselves, and how long a status pass waits for power reads.
    pub act_wait: Duration,
    /// Whether this replica leads: a deposed leader records no outcome of a batch under
    /// way (the new leader settles those nodes from their BMCs, as after a crash).
    pub leadership: crate::cluster::Leadership,
}

/// Every BOS operator with its schedule and poke: the one list the appliance starts.
pub fn registrations(ctx: &BosContext) -> Vec<Registration> {
    let p = &ctx.pokes;
    let every = |name| Schedule::every(name, ctx.period);
    // Housekeeping needs no haste: at most once a minute (or its period, if longer).
    let slow = |name| Schedule::every(name, ctx.period.max(Duration::from_secs(60)));
    let c = || ctx.clone();
    vec![
        Registration::new(
            every("bos-session-setup"),
            session_setup::SessionSetup(c()),
            &p.setup,
        ),
        // Every pass asks every enabled node's BMC: while reports stream in during a boot
        // storm, at most one pass per half second (or per period, if shorter).
        Registration::new(
            every("bos-status").at_most_every(ctx.period.min(Duration::from_millis(500))),
            status::Status::new(c()),
            &p.status,
        ),
        Registration::new(every("bos-power-on"), power_on::PowerOn(c()), &p.power_on),
        Registration::new(
            every("bos-power-off-graceful"),
            power_off::PowerOff {
                ctx: c(),
                mode: power_off::Mode::Graceful,
            },
            &p.power_off_graceful,
        ),
        Registration::new(
            every("bos-power-off-forceful"),
            power_off::PowerOff {
                ctx: c(),
                mode: power_off::Mode::Forceful,
            },
            &p.power_off_forceful,
        ),
        Registration::new(
            every("bos-configuration"),
            configuration::Configuration(c()),
            &p.configuration,
        ),
        Registration::new(
            every("bos-session-completion"),
            lifecycle::SessionCompletion(c()),
            &p.completion,
        ),
        Registration::new(
            slow("bos-session-cleanup"),
            lifecycle::SessionCleanup(c()),
            &p.session_cleanup,
        ),
        Registration::new(
            slow("bos-actual-state-cleanup"),
            lifecycle::ActualStateCleanup(c()),
            &p.actual_state_cleanup,
        ),
        Registration::new(
            every("bos-boot-evidence"),
            evidence::Evidence(c()),
            &p.evidence,
        ),
        Registration::new(
            Schedule::every("bos-discovery", ctx.period.max(Duration::from_secs(30))),
            discovery::Discovery(c()),
            &p.discovery,
        ),
    ]
}

impl BosContext {
    /// The BOS options, defaults filled in; the defaults when the store cannot say.
    pub async fn options(&self) -> Options {
        Options::from_json(&self.options_doc().await)
    }

    /// The stored options document with every default filled in.
    pub async fn options_doc(&self) -> serde_json::Map<String, serde_json::Value> {
        match self.store.get_bos_options().await {
            Ok(stored) => crate::model::options::resolve(stored),
            Err(e) => {
                tracing::warn!(error = %crate::errors::chain(&e), "cannot read BOS options; using defaults");
                crate::model::options::defaults()
            }
        }
    }

    /// Each node's power: a fresh cached sample (taken after the node was last sent a reset,
    /// and after `since` where given), else its BMC's answer, which is cached for the others.
    /// Nodes without a system are unavailable; nodes whose BMC has not answered within
    /// `act_wait` (or is still answering an earlier pass) are missing: no news this pass.
    pub async fn power_readings(
        &self,
        nodes: Vec<(String, Option<chrono::DateTime<chrono::Utc>>)>,
        systems: &HashMap<String, SystemRef>,
    ) -> HashMap<String, PowerReading> {
        let max_age = chrono::Duration::from_std(self.power_max_age).unwrap_or_default();
        let now = self.clock.now();
        let mut out = HashMap::new();
        let mut ask = Vec::new();
        for (id, since) in nodes {
            let Some(sys) = systems.get(&id).cloned() else {
                out.insert(id.clone(), PowerReading::Unavailable(no_endpoint(&id)));
                continue;
            };
            let Ok(x) = crate::model::Xname::parse(&id) else {
                ask.push((id, None, sys));
                continue;
            };
            match self.power_cache.fresh(&x, max_age, now, since) {
                Some(s) => {
                    out.insert(id, PowerReading::State(s.state));
                }
                None => ask.push((id, Some(x), sys)),
            }
        }
        // Reads run on their own task and fill the shared samples when they end; the pass
        // waits at most `act_wait` for them, so a hanging or slow BMC delays only its own
        // nodes (they get no reading this pass, and no second read while one is out).
        let ask: Vec<_> = ask
            .into_iter()
            .filter(|(id, _, _)| !self.reads.busy(id))
            .collect();
        let claimed: HashSet<String> = self
            .reads
            .claim(ask.iter().map(|(id, _, _)| id.clone()))
            .into_iter()
            .collect();
        let ask: Vec<_> = ask
            .into_iter()
            .filter(|(id, _, _)| claimed.contains(id))
            .collect();
        if ask.is_empty() {
            return out;
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let ctx = self.clone();
        tokio::spawn(async move {
            let (driver, cache, clock, reads) =
                (&ctx.driver, &ctx.power_cache, &ctx.clock, &ctx.reads);
            futures::stream::iter(ask)
                .map(|(id, x, sys)| async move {
                    let r = driver.power_state(&sys).await.map_err(|e| e.message);
                    if let Some(x) = &x {
                        cache.put(crate::power::samples::sample(
                            x,
                            &sys,
                            r.clone(),
                            clock.now(),
                        ));
                    }
                    let reading = match r {
                        Ok(s) => PowerReading::State(s),
                        Err(e) => PowerReading::Unavailable(e),
                    };
                    reads.release([&id]);
                    (id, reading)
                })
                .buffer_unordered(ctx.concurrency)
                .for_each(|o| {
                    let _ = tx.send(o);
                    futures::future::ready(())
                })
                .await;
        });
        let deadline = tokio::time::sleep(self.act_wait);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                got = rx.recv() => match got {
                    Some((id, reading)) => {
                        out.insert(id, reading);
                    }
                    None => break,
                },
                () = &mut deadline => break,
            }
        }
        out
    }

    /// `ids` were just sent a reset: their power samples no longer tell.
    pub fn acted_on<'a>(&self, ids: impl IntoIterator<Item = &'a String>) {
        let now = self.clock.now();
        for id in ids {
            if let Ok(x) = crate::model::Xname::parse(id) {
                self.power_cache.acted(&x, now);
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
            self.pokes.all();
        }
        Ok(written)
    }
}

/// Why a node cannot be acted on through its BMC.
pub fn no_endpoint(id: &str) -> String {
    format!("no Redfish endpoint is known for {id}; register and discover its BMC")
}

/// The generic retry gate of BOS's action operators (docs/bos.md, "Operators"): components whose
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
            c.set_override(Some(crate::model::Status::Failed));
            if c.error.is_empty() {
                c.error = "The retry limit has been hit for this component, but no services have reported specific errors".into();
            }
            true
        })
        .await?;
    }
    Ok((go, n))
}
