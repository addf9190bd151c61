//! Operators: the background loops that change the world.
//!
//! API handlers only record intent in the store; operators read the store, decide (pure
//! planning in `model`), act through the seams (`power::PowerDriver`, …) and record the
//! outcome, including failures, back in the store. Each operator is *activated* by its
//! period and by a poke (an [`Activator`]) after every write that concerns it. An
//! activation takes no input — it re-reads the world — so a lost poke or a restart loses
//! nothing, and only one activation of an operator runs at a time. Each activation returns
//! a JSON report, served at `GET /apis/rackboot/v1/operators`.

pub mod bos;
pub mod discovery;
pub mod power;
pub mod power_monitor;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

#[async_trait]
pub trait Operator: Send + 'static {
    fn name(&self) -> &'static str;
    fn period(&self) -> Duration;
    /// The least time from one activation's start to the next, however often it is poked:
    /// for operators whose pass is expensive (the BOS status pass asks every BMC). Pokes
    /// meanwhile are not lost; they coalesce into the next activation.
    fn min_interval(&self) -> Duration {
        Duration::ZERO
    }
    /// One pass: select → plan → act → record. Returns a report for humans.
    async fn activate(&mut self) -> serde_json::Value;
}

/// A poke: asks an operator to run soon. Pokes while it runs coalesce into one more run.
#[derive(Clone, Default)]
pub struct Activator(Arc<Notify>);

impl Activator {
    pub fn poke(&self) {
        self.0.notify_one();
    }
}

/// The last report of every operator.
#[derive(Clone, Default)]
pub struct Reports(Arc<Mutex<BTreeMap<&'static str, Report>>>);

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub name: &'static str,
    pub period_secs: f64,
    pub activations: u64,
    pub last_started: Option<DateTime<Utc>>,
    pub last_finished: Option<DateTime<Utc>>,
    pub last_duration_ms: Option<u64>,
    pub running: bool,
    pub last_report: serde_json::Value,
}

impl Reports {
    pub fn all(&self) -> Vec<Report> {
        self.0
            .lock()
            .expect("reports lock")
            .values()
            .cloned()
            .collect()
    }

    fn update(&self, name: &'static str, f: impl FnOnce(&mut Report)) {
        let mut all = self.0.lock().expect("reports lock");
        let r = all.entry(name).or_insert_with(|| Report {
            name,
            period_secs: 0.0,
            activations: 0,
            last_started: None,
            last_finished: None,
            last_duration_ms: None,
            running: false,
            last_report: serde_json::Value::Null,
        });
        f(r);
    }
}

/// How long a stop waits for a running activation.
const STOP_GRACE: Duration = Duration::from_secs(15);

/// Run `op` until `stop` is set: on every period tick and every poke, one at a time.
pub fn spawn(
    mut op: impl Operator,
    activator: Activator,
    reports: Reports,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let name = op.name();
        let period = op.period();
        let min_interval = op.min_interval();
        reports.update(name, |r| r.period_secs = period.as_secs_f64());
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = activator.0.notified() => {}
                _ = crate::stopped(&mut stop) => break,
            }
            let started = Instant::now();
            reports.update(name, |r| {
                r.running = true;
                r.last_started = Some(Utc::now());
            });
            // A stop lets a running activation finish (up to a grace period), so an
            // operator is not cut off between acting on a node and recording it.
            let activation = op.activate();
            tokio::pin!(activation);
            let report = tokio::select! {
                rep = &mut activation => rep,
                _ = crate::stopped(&mut stop) => {
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
            let rest = min_interval.saturating_sub(started.elapsed());
            if !rest.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(rest) => {}
                    _ = crate::stopped(&mut stop) => break,
                }
            }
        }
        tracing::debug!(operator = name, "stopped");
    })
}
