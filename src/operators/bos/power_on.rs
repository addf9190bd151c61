//! Power-on (docs/bos.md, "Operators"): for components waiting to be powered on, record the
//! attempt, write their boot parameters to the Boot Script Service (one write, one referral
//! token, per distinct kernel/parameters/initrd), remember what each token stands for, prepare
//! the configuration handoff, set a one-time network boot and power on through the BMC. Every
//! failure lands on the component it concerns; attempts count toward its retry policy.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use chrono::Utc;
use futures::StreamExt;

use super::BosContext;
use crate::clock::Clock;
use crate::model::BootArtifacts;
use crate::model::{Action, Status};
use crate::operators::{Operator, OperatorResult};

pub struct PowerOn(pub BosContext);

#[async_trait]
impl Operator for PowerOn {
    async fn activate(&mut self) -> OperatorResult {
        let ctx = &self.0;
        let opts = ctx.options().await;
        let comps = ctx.store.list_boot_components(true).await?;
        let selected: Vec<_> = comps
            .into_iter()
            .map(|v| v.value)
            .filter(|c| c.derived_status() == Status::PowerOnPending)
            .collect();
        if selected.is_empty() {
            return Ok(serde_json::json!({"pending": 0}));
        }
        let (go, exhausted) = super::retry_gate(
            ctx,
            selected,
            |c| c.event_stats.power_on_attempts,
            opts.default_retry_policy,
        )
        .await?;
        let now = ctx.clock.now();
        // Record the attempt first, so a node that comes up quickly is not mistaken for
        // one on with the wrong artifacts.
        let ids: HashSet<String> = go.iter().map(|c| c.id.clone()).collect();
        let go = ctx
            .update(&ids, |c| {
                if !c.enabled || c.derived_status() != Status::PowerOnPending {
                    return false;
                }
                c.act(Action::PoweringOn, now);
                c.event_stats.power_on_attempts += 1;
                c.error.clear();
                true
            })
            .await?;
        if go.is_empty() {
            return Ok(serde_json::json!({"exhausted": exhausted, "powered_on": 0}));
        }
        let mut errors: HashMap<String, String> = HashMap::new();
        let mut tokens: HashMap<String, String> = HashMap::new();
        // One BSS write per distinct set of artifacts.
        let mut groups: BTreeMap<BootArtifacts, Vec<String>> = BTreeMap::new();
        for c in &go {
            groups
                .entry(c.desired_state.boot_artifacts.clone())
                .or_default()
                .push(c.id.clone());
        }
        for (arts, hosts) in &groups {
            if arts.kernel.is_empty() {
                continue;
            }
            let written = match ctx.boot.write_boot_params(hosts, arts).await {
                Ok(tok) => match ctx.store.put_boot_token(&tok, arts).await {
                    Ok(()) => Ok(tok),
                    Err(e) => Err(crate::errors::chain(&e)),
                },
                Err(e) => Err(e),
            };
            for h in hosts {
                match &written {
                    Ok(t) => {
                        tokens.insert(h.clone(), t.clone());
                    }
                    Err(e) => {
                        errors.insert(h.clone(), e.clone());
                    }
                }
            }
        }
        // Hand off to configuration, per (configuration, session).
        let mut handoffs: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for c in go.iter().filter(|c| !errors.contains_key(&c.id)) {
            handoffs
                .entry((c.desired_state.configuration.clone(), c.session.clone()))
                .or_default()
                .push(c.id.clone());
        }
        for ((cfg, session), ids) in handoffs {
            if let Err(e) = ctx.handoff.prepare(&ids, &cfg, &session).await {
                for id in ids {
                    errors.insert(id, format!("configuration handoff: {e}"));
                }
            }
        }
        let systems = ctx.systems().await?;
        let driver = &ctx.driver;
        let clock = &ctx.clock;
        let targets: Vec<String> = go
            .iter()
            .map(|c| c.id.clone())
            .filter(|id| !errors.contains_key(id))
            .collect();
        // Each node's power-on call: when it was made and how long it took, for its timeline
        // (stamped per node, not when the whole batch has answered).
        let outcomes: Vec<(String, CallTime, Result<(), String>)> = futures::stream::iter(targets)
            .map(|id| {
                let sys = systems.get(&id).cloned();
                async move {
                    let Some(sys) = sys else {
                        return (
                            id.clone(),
                            CallTime::now(&**clock),
                            Err(super::no_endpoint(&id)),
                        );
                    };
                    if let Err(e) = driver.boot_once(&sys, "Pxe").await {
                        return (
                            id,
                            CallTime::now(&**clock),
                            Err(format!("setting a one-time network boot: {e}")),
                        );
                    }
                    let mut at = CallTime::now(&**clock);
                    ctx.acted_on([&id]);
                    let r = driver
                        .reset(&sys, "On")
                        .await
                        .map_err(|e| format!("powering on: {e}"));
                    at.finish();
                    (id, at, r)
                }
            })
            .buffer_unordered(ctx.concurrency)
            .collect()
            .await;
        let mut called: HashMap<String, CallTime> = HashMap::new();
        for (id, at, r) in outcomes {
            if let Err(e) = r {
                errors.insert(id.clone(), e);
            }
            called.insert(id, at);
        }
        let ids: HashSet<String> = go.iter().map(|c| c.id.clone()).collect();
        for id in &ids {
            if let Some(t) = tokens.get(id) {
                let at = called
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| CallTime::now(&**clock));
                ctx.events.record(
                    &match crate::model::Xname::parse(id) {
                        Ok(x) => x,
                        Err(_) => continue,
                    },
                    crate::model::BootEvent {
                        time: at.start,
                        what: if errors.contains_key(id) {
                            "power-on-failed".into()
                        } else {
                            "power-on".into()
                        },
                        bytes: 0,
                        duration_ms: at.duration_ms,
                        client: None,
                        outcome: errors.get(id).cloned().unwrap_or_else(|| "called".into()),
                        token: Some(t.clone()),
                        file: None,
                        repeats: 0,
                        last_time: None,
                    },
                );
            }
        }
        let failed = errors.len();
        ctx.update(&ids, |c| {
            if let Some(t) = tokens.get(&c.id) {
                c.desired_state.bss_token = t.clone();
            }
            if let Some(e) = errors.get(&c.id) {
                c.error = e.clone();
            }
            true
        })
        .await?;
        Ok(
            serde_json::json!({"powered_on": ids.len() - failed, "failed": failed, "exhausted": exhausted, "bss_writes": groups.len()}),
        )
    }
}

/// When a BMC call started and how long it took.
#[derive(Debug, Clone)]
struct CallTime {
    start: chrono::DateTime<Utc>,
    started: std::time::Instant,
    duration_ms: u64,
}

impl CallTime {
    fn now(clock: &dyn Clock) -> CallTime {
        CallTime {
            start: clock.now(),
            started: std::time::Instant::now(),
            duration_ms: 0,
        }
    }

    fn finish(&mut self) {
        self.duration_ms = self.started.elapsed().as_millis() as u64;
    }
}
