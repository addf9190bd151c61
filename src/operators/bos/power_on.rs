//! Power-on (docs/bos.md, "Operators"): for components waiting to be powered on, record the
//! attempt, write their boot parameters to the Boot Script Service (one write, one referral
//! token, per distinct kernel/parameters/initrd), remember what each token stands for, prepare
//! the configuration handoff, set a one-time network boot and power on through the BMC with
//! the system's own power-on reset type. Every failure lands on the component it concerns,
//! naming the BMC, the system, what was (not) sent and the PowerState read; attempts count
//! toward its retry policy. A node found already on is refused, never silently left alone
//! (see [`power_on`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use chrono::Utc;
use futures::StreamExt;

use super::{BosContext, journal};
use crate::clock::Clock;
use crate::model::power::reset::TOGGLE;
use crate::model::power::{ResetIntent, choose};
use crate::model::{Action, Status};
use crate::model::{BootArtifacts, BootComponent};
use crate::operators::{Operator, OperatorResult};
use crate::power::{BootOnce, BootWhen, PowerDriver, SystemRef};

pub struct PowerOn(pub BosContext);

/// One node's outcome: when its call was made and took how long, and what came of it
/// (`Ok(Some(note))`: powered on, with a note for its timeline).
type Outcome = (String, CallTime, Result<Option<String>, String>);

#[async_trait]
impl Operator for PowerOn {
    async fn activate(&mut self) -> OperatorResult {
        let ctx = &self.0;
        let opts = ctx.options().await;
        let mut comps = ctx.store.list_boot_components(true).await?;
        let recovered = journal::recover(ctx, &comps, &[Action::PoweringOn]).await?;
        if recovered.any() {
            comps = ctx.store.list_boot_components(true).await?;
        }
        let selected: Vec<_> = comps
            .into_iter()
            .map(|v| v.value)
            .filter(|c| c.derived_status() == Status::PowerOnPending && !ctx.calls.busy(&c.id))
            .collect();
        if selected.is_empty() {
            return Ok(serde_json::json!({"pending": 0, "recovered": recovered}));
        }
        let (go, exhausted) = super::retry_gate(
            ctx,
            selected,
            |c| c.event_stats.power_on_attempts,
            opts.default_retry_policy,
        )
        .await?;
        let now = ctx.clock.now();
        // Record the intent first (journal.rs): a node that comes up quickly is not mistaken
        // for one on with the wrong artifacts, and a crash before the outcome is recorded is
        // settled from the BMC at the next start. The attempt counts once the outcome is known.
        let ids: HashSet<String> = go.iter().map(|c| c.id.clone()).collect();
        let go = ctx
            .update(&ids, |c| {
                if !c.enabled || c.derived_status() != Status::PowerOnPending {
                    return false;
                }
                c.act(Action::PoweringOn, now);
                c.last_action.unsent = true;
                c.error.clear();
                true
            })
            .await?;
        if go.is_empty() {
            return Ok(
                serde_json::json!({"exhausted": exhausted, "powered_on": 0, "recovered": recovered}),
            );
        }
        let claimed: HashSet<String> = ctx
            .calls
            .claim(go.iter().map(|c| c.id.clone()))
            .into_iter()
            .collect();
        let go: Vec<BootComponent> = go.into_iter().filter(|c| claimed.contains(&c.id)).collect();
        let n = go.len();
        crate::faults::crash_point("bos.power_on.intent");
        let mut work = tokio::spawn(act_and_record(ctx.clone(), go));
        match tokio::time::timeout(ctx.act_wait, &mut work).await {
            Ok(Ok(Ok(mut report))) => {
                report["exhausted"] = exhausted.into();
                report["recovered"] = serde_json::to_value(recovered).unwrap_or_default();
                Ok(report)
            }
            Ok(Ok(Err(e))) => Err(e.into()),
            Ok(Err(join)) => {
                tracing::error!(error = %join, "power-on calls panicked; the journal settles them");
                Ok(serde_json::json!({"error": join.to_string()}))
            }
            // Slow BMCs: their calls go on and record themselves; the next activation runs.
            Err(_) => Ok(
                serde_json::json!({"started": n, "still_calling": ctx.calls.len(),
                "exhausted": exhausted, "recovered": recovered}),
            ),
        }
    }
}

/// Write boot parameters, hand off to configuration, make each node's BMC calls and record
/// each outcome as it comes (in batches of whatever has finished), releasing the nodes'
/// claims; returns the report. Runs on its own task, so it may outlive the activation.
async fn act_and_record(
    ctx: BosContext,
    go: Vec<BootComponent>,
) -> Result<serde_json::Value, crate::store::StoreError> {
    let ids: Vec<String> = go.iter().map(|c| c.id.clone()).collect();
    let r = act_and_record_claimed(&ctx, go).await;
    // Whatever happened, no claim outlives this (an unrecorded outcome stays in the
    // journal, for `journal::recover`).
    ctx.calls.release(&ids);
    r
}

async fn act_and_record_claimed(
    ctx: &BosContext,
    go: Vec<BootComponent>,
) -> Result<serde_json::Value, crate::store::StoreError> {
    let clock = ctx.clock.clone();
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
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Outcome>();
    let mut targets = Vec::new();
    for c in &go {
        match errors.get(&c.id) {
            Some(e) => {
                let _ = tx.send((c.id.clone(), CallTime::now(&*clock), Err(e.clone())));
            }
            None => targets.push(c.id.clone()),
        }
    }
    // The calls run on their own task, so recording a batch never holds up the others.
    let caller = {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let ctx = &ctx;
            let systems = &systems;
            futures::stream::iter(targets)
                .map(|id| async move {
                    let (at, r) = match systems.get(&id) {
                        None => (CallTime::now(&*ctx.clock), Err(super::no_endpoint(&id))),
                        Some(sys) => power_on(ctx, &id, sys).await,
                    };
                    (id, at, r)
                })
                .buffer_unordered(ctx.concurrency)
                .for_each(|o| {
                    let _ = tx.send(o);
                    futures::future::ready(())
                })
                .await;
        })
    };
    let (mut powered_on, mut failed, mut without_override) = (0usize, 0usize, 0usize);
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, 1024).await > 0 {
        let outcomes = std::mem::take(&mut batch);
        for (_, _, r) in &outcomes {
            match r {
                Err(_) => failed += 1,
                Ok(note) => {
                    powered_on += 1;
                    without_override += usize::from(note.is_some());
                }
            }
        }
        // A deposed leader records nothing: the intents stay unsent for the new leader.
        if ctx.leadership.may_act() {
            record(ctx, &outcomes, &tokens).await?;
        }
        ctx.calls.release(outcomes.iter().map(|(id, _, _)| id));
    }
    let _ = caller.await;
    Ok(
        serde_json::json!({"powered_on": powered_on, "failed": failed,
        "bss_writes": groups.len(), "without_boot_override": without_override}),
    )
}

/// Record a batch of outcomes: the timeline events, then on each component its referral
/// token, its error and the attempt (the outcome half of the journal).
async fn record(
    ctx: &BosContext,
    outcomes: &[Outcome],
    tokens: &HashMap<String, String>,
) -> Result<(), crate::store::StoreError> {
    let mut errors: HashMap<&str, &str> = HashMap::new();
    for (id, at, r) in outcomes {
        if let Err(e) = r {
            errors.insert(id, e);
        }
        let (Some(t), Ok(x)) = (tokens.get(id), crate::model::Xname::parse(id)) else {
            continue;
        };
        ctx.events.record(
            &x,
            crate::model::BootEvent {
                time: at.start,
                what: if r.is_err() {
                    "power-on-failed".into()
                } else {
                    "power-on".into()
                },
                bytes: 0,
                duration_ms: at.duration_ms,
                client: None,
                outcome: match r {
                    Err(e) => e.clone(),
                    Ok(Some(n)) => format!("called; {n}"),
                    Ok(None) => "called".into(),
                },
                token: Some(t.clone()),
                file: None,
                repeats: 0,
                last_time: None,
            },
        );
    }
    let ids: HashSet<String> = outcomes.iter().map(|(id, _, _)| id.clone()).collect();
    ctx.update(&ids, |c| {
        if let Some(t) = tokens.get(&c.id) {
            c.desired_state.bss_token = t.clone();
        }
        if let Some(e) = errors.get(c.id.as_str()) {
            c.error = e.to_string();
        }
        if c.last_action.unsent && c.last_action.is(Action::PoweringOn) {
            c.last_action.unsent = false;
            journal::count_attempt(c);
        }
        true
    })
    .await?;
    Ok(())
}

/// Why a node powered on without a one-time network boot (on its timeline).
const NO_OVERRIDE: &str = "no one-time network boot: the system has no Boot override properties, so it boots by its own boot order";

/// One node's power-on: a one-time network boot, unless the system cannot take one (it then
/// boots by its boot order, as CSM's BOS relies on), then the system's own power-on reset type
/// (`model::power::reset`). A node found already on is refused, with nothing sent: `On` would
/// not restart it, and an override set now would apply at some later boot. `Ok(Some(note))`:
/// powered on, with something worth showing on its timeline. The call time is the reset's.
async fn power_on(
    ctx: &BosContext,
    id: &String,
    sys: &SystemRef,
) -> (CallTime, Result<Option<String>, String>) {
    let (driver, clock) = (&*ctx.driver, &*ctx.clock);
    let (reset, note) = match prepare(driver, sys).await {
        Ok(p) => p,
        Err(e) => return (CallTime::now(clock), Err(e)),
    };
    let mut at = CallTime::now(clock);
    ctx.acted_on([id]);
    let r = driver.reset(sys, &reset).await.map_err(|e| e.message);
    if r.is_ok() {
        crate::faults::crash_point("bos.power_on.sent");
    }
    at.finish();
    (at, r.map(|()| note))
}

/// The one-time network boot, and the reset type to send then: `(reset, timeline note)`.
async fn prepare(
    driver: &dyn PowerDriver,
    sys: &SystemRef,
) -> Result<(String, Option<String>), String> {
    let target = sys.target();
    let (state, note) = match driver
        .boot_once(sys, "Pxe", BootWhen::NotPoweredOn)
        .await
        .map_err(|e| e.message)?
    {
        BootOnce::Set { state, .. } => (state, None),
        BootOnce::NoOverride { state } => (state, Some(NO_OVERRIDE.to_string())),
        BootOnce::PoweredOn { state } => {
            return Err(format!(
                "{target}: PowerState {state} when BOS went to power it on, so nothing was sent: On does not restart a node, and a one-time network boot would only apply at its next boot; BOS powers it off and on again unless it proves the desired boot within max_boot_wait"
            ));
        }
    };
    let reset = choose(ResetIntent::On, &sys.reset_types)
        .map_err(|no| format!("{target}: {no}; On not sent, PowerState {state}"))?;
    if reset == TOGGLE && state != "Off" {
        return Err(format!(
            "{target}: the only fitting reset type is {TOGGLE}, which toggles power, and the node reads PowerState {state}; nothing sent"
        ));
    }
    Ok((reset.to_string(), note))
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

#[cfg(test)]
mod tests;
