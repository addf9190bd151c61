//! Power-off (docs/bos.md, "Operators"): graceful first (`GracefulShutdown`), then forceful
//! (`ForceOff`) for components still not off `max_power_off_wait_time` after the last power-off
//! call. One file, two operators: they differ only in which components they pick and the reset
//! they send.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::Utc;
use futures::StreamExt;

use super::BosContext;
use crate::model::BootComponent;
use crate::model::{Action, Status};
use crate::operators::{Operator, OperatorResult};

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
        let (reset, action) = match self.mode {
            Mode::Graceful => ("GracefulShutdown", Action::PoweringOffGracefully),
            Mode::Forceful => ("ForceOff", Action::PoweringOffForcefully),
        };
        let jobs: Vec<(String, Option<crate::power::SystemRef>)> = go
            .iter()
            .map(|c| (c.id.clone(), systems.get(&c.id).cloned()))
            .collect();
        let driver = ctx.driver.clone();
        let outcomes: HashMap<String, Result<(), String>> = futures::stream::iter(jobs)
            .map(move |(id, sys)| {
                let driver = driver.clone();
                async move {
                    let r = match sys {
                        None => Err(super::no_endpoint(&id)),
                        Some(sys) => {
                            ctx.acted_on([&id]);
                            driver
                                .reset(&sys, reset)
                                .await
                                .map_err(|e| format!("{reset}: {e}"))
                        }
                    };
                    (id, r)
                }
            })
            .buffer_unordered(ctx.concurrency)
            .collect()
            .await;
        let ids: HashSet<String> = go.iter().map(|c| c.id.clone()).collect();
        let mode = self.mode;
        let now = ctx.clock.now();
        ctx.update(&ids, |c| {
            c.act(action, now);
            match mode {
                Mode::Graceful => c.event_stats.power_off_graceful_attempts += 1,
                Mode::Forceful => c.event_stats.power_off_forceful_attempts += 1,
            }
            match outcomes.get(&c.id) {
                Some(Err(e)) => c.error = e.clone(),
                _ => c.error.clear(),
            }
            true
        })
        .await?;
        let failed = outcomes.values().filter(|r| r.is_err()).count();
        Ok(
            serde_json::json!({"called": ids.len() - failed, "failed": failed, "exhausted": exhausted}),
        )
    }
}
