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

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::Utc;
use futures::StreamExt;

use super::BosContext;
use crate::model::BootComponent;
use crate::model::power::reset::TOGGLE;
use crate::model::power::{ResetIntent, choose};
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

#[async_trait]
impl Operator for PowerOff {
    async fn activate(&mut self) -> OperatorResult {
        let ctx = &self.ctx;
        let opts = ctx.options().await;
        let wait = chrono::Duration::from_std(opts.max_power_off_wait).unwrap_or_default();
        let now = ctx.clock.now();
        let comps = ctx.store.list_boot_components(true).await?;
        let selected: Vec<BootComponent> = comps
            .into_iter()
            .map(|v| v.value)
            .filter(|c| self.selects(c, wait, now))
            .collect();
        if selected.is_empty() {
            return Ok(serde_json::json!({"selected": 0}));
        }
        let (go, exhausted) = super::retry_gate(
            ctx,
            selected,
            |c| self.attempts(c),
            opts.default_retry_policy,
        )
        .await?;
        let systems = ctx.systems().await?;
        let jobs: Vec<(String, Option<SystemRef>)> = go
            .iter()
            .map(|c| (c.id.clone(), systems.get(&c.id).cloned()))
            .collect();
        let mode = self.mode;
        let outcomes: HashMap<String, (Action, Result<(), String>)> = futures::stream::iter(jobs)
            .map(move |(id, sys)| async move {
                let r = match sys {
                    None => (intended(mode), Err(super::no_endpoint(&id))),
                    Some(sys) => power_off(ctx, &id, &sys, mode).await,
                };
                (id, r)
            })
            .buffer_unordered(ctx.concurrency)
            .collect()
            .await;
        let ids: HashSet<String> = go.iter().map(|c| c.id.clone()).collect();
        let now = ctx.clock.now();
        ctx.update(&ids, |c| {
            let (action, r) = outcomes
                .get(&c.id)
                .cloned()
                .unwrap_or((intended(mode), Ok(())));
            c.act(action, now);
            match action {
                Action::PoweringOffForcefully => c.event_stats.power_off_forceful_attempts += 1,
                _ => c.event_stats.power_off_graceful_attempts += 1,
            }
            match r {
                Err(e) => c.error = e,
                Ok(()) => c.error.clear(),
            }
            true
        })
        .await?;
        let failed = outcomes.values().filter(|(_, r)| r.is_err()).count();
        let forced_at_once = match mode {
            Mode::Graceful => outcomes
                .values()
                .filter(|(a, _)| *a == Action::PoweringOffForcefully)
                .count(),
            Mode::Forceful => 0,
        };
        Ok(
            serde_json::json!({"called": ids.len() - failed, "failed": failed, "exhausted": exhausted,
            "forced_without_graceful": forced_at_once}),
        )
    }
}

/// The action a mode records.
fn intended(mode: Mode) -> Action {
    match mode {
        Mode::Graceful => Action::PoweringOffGracefully,
        Mode::Forceful => Action::PoweringOffForcefully,
    }
}

/// One node's power-off call: the system's own reset type for the mode (see the module note),
/// and the action to record for it.
async fn power_off(
    ctx: &BosContext,
    id: &String,
    sys: &SystemRef,
    mode: Mode,
) -> (Action, Result<(), String>) {
    let driver = &*ctx.driver;
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
    let (reset, action) = match chosen {
        Ok(c) => c,
        Err(no) => {
            let state = read_state(driver, sys).await;
            return (
                intended(mode),
                Err(format!(
                    "{}: {no}; nothing sent, PowerState {state}",
                    sys.target()
                )),
            );
        }
    };
    if reset == TOGGLE {
        let state = read_state(driver, sys).await;
        if state != "On" {
            return (
                action,
                Err(format!(
                    "{}: the only fitting reset type is {TOGGLE}, which toggles power, and the node reads PowerState {state}; nothing sent",
                    sys.target()
                )),
            );
        }
    }
    ctx.acted_on([id]);
    (
        action,
        driver.reset(sys, reset).await.map_err(|e| e.message),
    )
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
