//! Operators: the background loops that change the world.
//!
//! API handlers only record intent in the store; operators read the store, decide (pure
//! planning in `model`), act through the seams (`power::PowerDriver`, the configuration
//! handoff, boot parameters) and record the outcome, including failures, back in the store.
//! Each operator is *activated* by its period and by a poke (an [`Activator`]) after every
//! write that concerns it. An activation takes no input — it re-reads the world — so a lost
//! poke or a restart loses nothing, and only one activation of an operator runs at a time.
//!
//! An activation returns `Ok(report)` (JSON for humans, served at
//! `GET /apis/rackboot/v1/operators`) or an [`OperatorError`] when it could not do its
//! work at all (the store failed); [`spawn`]'s driver turns that error into the report
//! (`{"error": …}`) and the log, and the next activation is the retry. Failures that
//! concern one node are not errors of the activation: they are state on that node.
//!
//! Operators reach the rest of the appliance through narrow seams ([`ports`], the store,
//! the power driver, the handoff, the clock), never through the use-case layer, so each
//! can be tested alone on a temporary store with a SimBmc and a fixed clock.

pub mod bmc_events;
pub mod bos;
pub mod discovery;
pub mod ports;
pub mod power;
pub mod power_monitor;
#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use tokio::task::JoinHandle;

pub use crate::activation::{Activator, Report, Reports};
use crate::shutdown::Stop;
use crate::store::StoreError;

/// When an operator runs: its name (in reports and logs), its period, and the least time
/// from one activation's start to the next however often it is poked (for operators whose
/// pass is expensive; pokes meanwhile coalesce into the next activation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub name: &'static str,
    pub period: Duration,
    pub min_interval: Duration,
}

impl Schedule {
    pub fn every(name: &'static str, period: Duration) -> Schedule {
        Schedule {
            name,
            period,
            min_interval: Duration::ZERO,
        }
    }

    pub fn at_most_every(self, min_interval: Duration) -> Schedule {
        Schedule {
            min_interval,
            ..self
        }
    }
}

/// Why an activation could not do its work. Per-node failures are not here: they are
/// recorded on the node.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// The store could not be read or written; the next activation tries again.
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type OperatorResult = Result<serde_json::Value, OperatorError>;

#[async_trait]
pub trait Operator: Send + 'static {
    /// One pass: select → plan → act → record. Returns a report for humans.
    async fn activate(&mut self) -> OperatorResult;
}

/// An operator with its schedule and the poke that wakes it: what [`spawn`] runs.
pub struct Registration {
    pub schedule: Schedule,
    pub operator: Box<dyn Operator>,
    pub activator: Activator,
}

impl Registration {
    pub fn new(schedule: Schedule, operator: impl Operator, activator: &Activator) -> Self {
        Registration {
            schedule,
            operator: Box::new(operator),
            activator: activator.clone(),
        }
    }
}

/// The report of a failed activation.
pub fn error_report(e: &OperatorError) -> serde_json::Value {
    serde_json::json!({ "error": crate::errors::chain(e) })
}

/// How long a stop waits for a running activation.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// Run one activation, turning an error into its report and a log line.
async fn run_once(op: &mut dyn Operator, name: &'static str) -> serde_json::Value {
    match op.activate().await {
        Ok(report) => report,
        Err(e) => {
            tracing::warn!(operator = name, error = %crate::errors::chain(&e), "activation failed; the next one retries");
            error_report(&e)
        }
    }
}

/// Run the registered operator until `stop`: on every period tick and every poke, one
/// activation at a time, and only while this replica leads (`cluster::leader`): a replica
/// that becomes the leader activates every operator at once, which resumes from the store.
pub fn spawn(
    reg: Registration,
    reports: Reports,
    leadership: crate::cluster::Leadership,
    stop: Stop,
) -> JoinHandle<()> {
    let Registration {
        schedule,
        mut operator,
        activator,
    } = reg;
    tokio::spawn(async move {
        let name = schedule.name;
        reports.update(name, |r| r.period_secs = schedule.period.as_secs_f64());
        let mut tick = tokio::time::interval(schedule.period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut resume = false;
        loop {
            if !leadership.may_act() {
                // Another replica leads (or this one's lease is being renewed): wait.
                tokio::select! {
                    _ = leadership.until_leading(), if !leadership.leading() => {}
                    _ = tokio::time::sleep(Duration::from_millis(100)), if leadership.leading() => {}
                    _ = stop.cancelled() => break,
                }
                resume = true;
                continue;
            }
            if !std::mem::take(&mut resume) {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = activator.poked() => {}
                    _ = stop.cancelled() => break,
                }
                if !leadership.may_act() {
                    continue;
                }
            }
            let started = Instant::now();
            reports.update(name, |r| {
                r.running = true;
                r.last_started = Some(Utc::now());
            });
            // A stop lets a running activation finish (up to a grace period), so an
            // operator is not cut off between acting on a node and recording it.
            let activation = run_once(operator.as_mut(), name);
            tokio::pin!(activation);
            let report = tokio::select! {
                rep = &mut activation => rep,
                _ = stop.cancelled() => {
                    match tokio::time::timeout(STOP_GRACE, activation).await {
                        Ok(rep) => {
                            tracing::debug!(operator = name, %rep, "last activation finished");
                        }
                        Err(_) => tracing::warn!(
                            operator = name,
                            "activation still running {STOP_GRACE:?} after stop; abandoned"
                        ),
                    }
                    break;
                }
            };
            let ms = started.elapsed().as_millis() as u64;
            tracing::debug!(operator = name, ms, %report, "activation finished");
            reports.update(name, |r| {
                r.running = false;
                r.activations += 1;
                r.last_finished = Some(Utc::now());
                r.last_duration_ms = Some(ms);
                r.last_report = report;
            });
            let rest = schedule.min_interval.saturating_sub(started.elapsed());
            if !rest.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(rest) => {}
                    _ = stop.cancelled() => break,
                }
            }
        }
        tracing::debug!(operator = name, "stopped");
    })
}
