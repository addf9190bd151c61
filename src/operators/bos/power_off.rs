//! Power-off (docs/bos.md, "Operators"): graceful first, then forceful for components still
//! not off `max_power_off_wait_time` after the last power-off call. One file, two operators:
//! they differ only in which components they pick and the intent they send.
//!
//! The reset type is each system's own (`model::power::reset`): a graceful off is the first
//! allowed of `GracefulShutdown`, `PushPowerButton`, `Off` (so a Cray EX node, which allows
//! `On`, `Off`, `ForceOff`, shuts down gracefully through `Off`), a forceful one `ForceOff`. A
//! system that allows no graceful off but `ForceOff` is forced off at once by the graceful
//! operator (a BOS shutdown allows force, and waiting `max_power_off_wait_time` first would
//! only delay the same kill); one allowing neither fails at once, naming what it allows. A
//! power button is pressed only on a node read as On, so the toggle cannot power one on.
//! Before forcing, the forceful operator takes one reading of each node since its graceful
//! call (shared with the status operator): a node already off is left to the status pass.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::Utc;
use futures::StreamExt;

use super::{BosContext, journal};
use crate::model::BootComponent;
use crate::model::boot_plan::PowerReading;
use crate::model::power::reset::TOGGLE;
use crate::model::power::{PowerState, ResetIntent, choose};
use crate::model::{Action, Status};
use crate::operators::{Operator, OperatorResult};
use crate::power::{PowerDriver, SystemRef};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Graceful,
    Forceful,
}

pub struct PowerOff {
    pub ctx: BosContext,
    pub mode: Mode,
}

impl PowerOff {
    fn selects(
        &self,
        c: &BootComponent,
        wait: chrono::Duration,
        now: chrono::DateTime<Utc>,
    ) -> bool {
        match self.mode {
            Mode::Graceful => c.derived_status() == Status::PowerOffPending,
            Mode::Forceful => {
                matches!(
                    c.derived_status(),
                    Status::PowerOffGracefullyCalled | Status::PowerOffForcefullyCalled
                ) && c.last_action_time().is_none_or(|t| now >= t + wait)
            }
        }
    }

    fn attempts(&self, c: &BootComponent) -> u32 {
        match self.mode {
            Mode::Graceful => c.event_stats.power_off_graceful_attempts,
            Mode::Forceful => c.event_stats.power_off_forceful_attempts,
        }
    }
}

/// One node's outcome: the action recorded for it and what came of the call.
type Outcome = (String, Action, Result<(), String>);

/// What a node is sent (its system, the reset, the action recorded), or why nothing is.
/// A node with no system or no fitting reset: the error, and the system to read the power
/// state of for the message.
type OffPlan = Result<(SystemRef, String, Action), (String, Option<SystemRef>)>;

#[async_trait]
impl Operator for PowerOff {
    async fn activate(&mut self) -> OperatorResult {
        let ctx = &self.ctx;
        let opts = ctx.options().await;
        let wait = chrono::Duration::from_std(opts.max_power_off_wait).unwrap_or_default();
        let mut comps = ctx.store.list_boot_components(true).await?;
        let recovered = journal::recover(ctx, &comps, &[intended(self.mode)]).await?;
        if recovered.any() {
            comps = ctx.store.list_boot_components(true).await?;
        }
        let now = ctx.clock.now();
        let mut selected: Vec<BootComponent> = comps
            .into_iter()
            .map(|v| v.value)
            .filter(|c| self.selects(c, wait, now) && !ctx.calls.busy(&c.id))
            .collect();
        if selected.is_empty() {
            return Ok(serde_json::json!({"selected": 0, "recovered": recovered}));
        }
        let systems = ctx.systems().await?;
        let mut already_off = 0;
        if self.mode == Mode::Forceful {
            // The wait is judged on the status operator's last reading, which can be a pass
            // old: a node that went off since is not forced (some BMCs refuse a ForceOff of
            // an off system and that would be recorded as a failure). One reading taken
            // since the graceful call, shared with the status operator, decides.
            let asks = selected
                .iter()
                .map(|c| (c.id.clone(), c.last_action_time()))
                .collect();
            let readings = ctx.power_readings(asks, &systems).await;
            selected.retain(|c| {
                let off = matches!(
                    readings.get(&c.id),
                    Some(PowerReading::State(PowerState::Off))
                );
                already_off += usize::from(off);
                !off
            });
            if selected.is_empty() {
                return Ok(serde_json::json!({"selected": 0, "already_off": already_off}));
            }
        }
        let (go, exhausted) = super::retry_gate(
            ctx,
            selected,
            |c| self.attempts(c),
            opts.default_retry_policy,
        )
        .await?;
        let mode = self.mode;
        // What each node is sent, decided before anything is: the reset, or why none fits.
        let plans: HashMap<String, OffPlan> = go
            .iter()
            .map(|c| {
                let plan = match systems.get(&c.id) {
                    None => Err((super::no_endpoint(&c.id), None)),
                    Some(sys) => choose_off(sys, mode)
                        .map(|(r, a)| (sys.clone(), r.to_string(), a))
                        .map_err(|e| (e, Some(sys.clone()))),
                };
                (c.id.clone(), plan)
            })
            .collect();
        // The intent first (journal.rs); the attempt counts once the outcome is known.
        let ids: HashSet<String> = go.iter().map(|c| c.id.clone()).collect();
        let now = ctx.clock.now();
        let written = ctx
            .update(&ids, |c| match plans.get(&c.id) {
                Some(Ok((_, _, action))) => {
                    c.act(*action, now);
                    c.last_action.unsent = true;
                    true
                }
                _ => false,
            })
            .await?;
        let intents: HashSet<String> = written.into_iter().map(|c| c.id).collect();
        let claimed: HashSet<String> = ctx.calls.claim(ids).into_iter().collect();
        let jobs: Vec<(String, OffPlan)> = plans
            .into_iter()
            .filter(|(id, p)| claimed.contains(id) && (p.is_err() || intents.contains(id)))
            .collect();
        let n = jobs.len();
        crate::faults::crash_point("bos.power_off.intent");
        let mut work = tokio::spawn(act_and_record(ctx.clone(), jobs, mode));
        match tokio::time::timeout(ctx.act_wait, &mut work).await {
            Ok(Ok(Ok((called, failed, forced_at_once)))) => Ok(serde_json::json!({
                "called": called, "failed": failed, "exhausted": exhausted, "already_off": already_off,
                "forced_without_graceful": forced_at_once, "recovered": recovered})),
            Ok(Ok(Err(e))) => Err(e.into()),
            Ok(Err(join)) => {
                tracing::error!(error = %join, "power-off calls panicked; the journal settles them");
                Ok(serde_json::json!({"error": join.to_string()}))
            }
            Err(_) => Ok(
                serde_json::json!({"started": n, "still_calling": ctx.calls.len(),
                "exhausted": exhausted, "recovered": recovered}),
            ),
        }
    }
}

/// Make each node's call and record each outcome as it comes, releasing the nodes' claims;
/// returns (called, failed, forced at once). Runs on its own task.
async fn act_and_record(
    ctx: BosContext,
    jobs: Vec<(String, OffPlan)>,
    mode: Mode,
) -> Result<(usize, usize, usize), crate::store::StoreError> {
    let ids: Vec<String> = jobs.iter().map(|(id, _)| id.clone()).collect();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Outcome>();
    let caller = {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let ctx = &ctx;
            futures::stream::iter(jobs)
                .map(|(id, plan): (String, OffPlan)| async move {
                    match plan {
                        Err((e, None)) => (id, intended(mode), Err(e)),
                        Err((e, Some(sys))) => {
                            let state = read_state(&*ctx.driver, &sys).await;
                            (id, intended(mode), Err(format!("{e}, PowerState {state}")))
                        }
                        Ok((sys, reset, action)) => {
                            let r = power_off(ctx, &id, &sys, &reset).await;
                            (id, action, r)
                        }
                    }
                })
                .buffer_unordered(ctx.concurrency)
                .for_each(|o| {
                    let _ = tx.send(o);
                    futures::future::ready(())
                })
                .await;
        })
    };
    let (mut called, mut failed, mut forced) = (0, 0, 0);
    let mut batch = Vec::new();
    let mut result = Ok(());
    while rx.recv_many(&mut batch, 1024).await > 0 {
        let outcomes: HashMap<String, (Action, Result<(), String>)> =
            batch.drain(..).map(|(id, a, r)| (id, (a, r))).collect();
        for (a, r) in outcomes.values() {
            match r {
                Ok(()) => called += 1,
                Err(_) => failed += 1,
            }
            if mode == Mode::Graceful && *a == Action::PoweringOffForcefully {
                forced += 1;
            }
        }
        let ids: HashSet<String> = outcomes.keys().cloned().collect();
        if !ctx.leadership.may_act() {
            // Deposed: the intents stay unsent for the new leader to settle.
            ctx.calls.release(&ids);
            continue;
        }
        let now = ctx.clock.now();
        let written = ctx
            .update(&ids, |c| {
                let Some((action, r)) = outcomes.get(&c.id) else {
                    return false;
                };
                if !(c.last_action.unsent && c.last_action.is(*action)) {
                    // Nothing was recorded before (no reset fitted): record the try now.
                    c.act(*action, now);
                }
                c.last_action.unsent = false;
                journal::count_attempt(c);
                match r {
                    Err(e) => c.error = e.clone(),
                    Ok(()) => c.error.clear(),
                }
                true
            })
            .await;
        ctx.calls.release(&ids);
        if let Err(e) = written {
            result = Err(e);
        }
    }
    let _ = caller.await;
    ctx.calls.release(&ids);
    result.map(|()| (called, failed, forced))
}

/// The action a mode records.
fn intended(mode: Mode) -> Action {
    match mode {
        Mode::Graceful => Action::PoweringOffGracefully,
        Mode::Forceful => Action::PoweringOffForcefully,
    }
}

/// The system's own reset type for the mode (see the module note) and the action to record
/// for it, or why none fits (naming the target; nothing is sent).
fn choose_off(sys: &SystemRef, mode: Mode) -> Result<(&'static str, Action), String> {
    let allowed = &sys.reset_types;
    let chosen = match mode {
        Mode::Graceful => match choose(ResetIntent::GracefulOff, allowed) {
            Ok(r) => Ok((r, Action::PoweringOffGracefully)),
            Err(no) => match choose(ResetIntent::ForceOff, allowed) {
                Ok(f) => {
                    tracing::info!(system = %sys.target(), forced = f, "no graceful off allowed; forcing it off at once");
                    Ok((f, Action::PoweringOffForcefully))
                }
                Err(_) => {
                    let mut no = no;
                    no.wanted.push(ResetIntent::ForceOff);
                    Err(no)
                }
            },
        },
        Mode::Forceful => {
            choose(ResetIntent::ForceOff, allowed).map(|f| (f, Action::PoweringOffForcefully))
        }
    };
    chosen.map_err(|no| format!("{}: {no}; nothing sent", sys.target()))
}

/// One node's power-off call with its chosen reset. A power button is pressed only on a node
/// read as On, so the toggle cannot power one on.
async fn power_off(
    ctx: &BosContext,
    id: &String,
    sys: &SystemRef,
    reset: &str,
) -> Result<(), String> {
    let driver = &*ctx.driver;
    if reset == TOGGLE {
        let state = read_state(driver, sys).await;
        if state != "On" {
            return Err(format!(
                "{}: the only fitting reset type is {TOGGLE}, which toggles power, and the node reads PowerState {state}; nothing sent",
                sys.target()
            ));
        }
    }
    ctx.acted_on([id]);
    let r = driver.reset(sys, reset).await.map_err(|e| e.message);
    if r.is_ok() {
        crate::faults::crash_point("bos.power_off.sent");
    }
    r
}

/// The PowerState as the BMC words it, for a message; `unknown` if it cannot be read.
async fn read_state(driver: &dyn PowerDriver, sys: &SystemRef) -> String {
    match driver.read(sys).await {
        Ok(r) => r.redfish_state,
        Err(_) => "unknown".to_string(),
    }
}

#[cfg(test)]
mod tests;
