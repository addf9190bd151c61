//! Power transitions: carry out what `POST /transitions` recorded.
//!
//! An activation starts a runner for every transition that is not done and not already
//! running (so transitions interrupted by a restart resume), tells runners whose abort was
//! requested to stop, and deletes expired records. A runner resolves each task's node to
//! its BMC and carries it out (`task`: read, plan with `model::power::plan`, act, confirm).
//! Progress is kept in memory and written to the store in batches, so ten thousand tasks cost
//! a few writes a second, not ten thousand. Every failure is recorded on its task naming the
//! BMC, the system, what was sent and the last PowerState read.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

mod task;

use super::{Operator, OperatorResult};
use crate::clock::SharedClock;
use crate::model::power::journal::TaskJournal;
use crate::model::power::{PowerTask, TaskCounts, TaskStatus, Transition, TransitionStatus};
use crate::model::{Xname, XnameKind};
use crate::power::PowerCache;
use crate::power::{BmcAccess, PowerDriver, SystemRef};
use crate::store::{Store, StoreError};

#[derive(Clone)]
pub struct PowerContext {
    pub store: Arc<dyn Store>,
    pub driver: Arc<dyn PowerDriver>,
    pub cache: Arc<PowerCache>,
    pub clock: SharedClock,
    /// Between power-state polls while confirming a step.
    pub confirm_interval: Duration,
    /// Between progress writes.
    pub flush_interval: Duration,
    /// Whether this replica leads: a deposed leader writes no more task progress (the new
    /// leader resumes each task from its last durable journal entry, as after a crash).
    pub leadership: crate::cluster::Leadership,
}

pub struct PowerTransitions {
    ctx: PowerContext,
    running: Arc<Mutex<HashMap<uuid::Uuid, watch::Sender<bool>>>>,
    runners: JoinSet<()>,
}

impl PowerTransitions {
    pub fn new(ctx: PowerContext) -> PowerTransitions {
        PowerTransitions {
            ctx,
            running: Arc::default(),
            runners: JoinSet::new(),
        }
    }
}

#[async_trait]
impl Operator for PowerTransitions {
    async fn activate(&mut self) -> OperatorResult {
        while self.runners.try_join_next().is_some() {}
        let expired = self
            .ctx
            .store
            .delete_expired_transitions(self.ctx.clock.now())
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %crate::errors::chain(&e), "could not delete expired transitions");
                0
            });
        let transitions = self.ctx.store.list_transitions().await?;
        let mut started = 0;
        for t in transitions.into_iter().filter(|t| !t.status.is_done()) {
            let mut running = self.running.lock().expect("runner map lock");
            if let Some(abort) = running.get(&t.id) {
                if t.status == TransitionStatus::AbortSignaled {
                    let _ = abort.send(true);
                }
                continue;
            }
            let (tx, rx) = watch::channel(t.status == TransitionStatus::AbortSignaled);
            running.insert(t.id, tx);
            drop(running);
            started += 1;
            let ctx = self.ctx.clone();
            let map = self.running.clone();
            self.runners.spawn(async move {
                let id = t.id;
                if let Err(e) = run_transition(&ctx, id, rx).await {
                    tracing::warn!(transition = %id, error = %crate::errors::chain(&e), "transition runner stopped on a store error; it resumes at the next activation");
                }
                map.lock().expect("runner map lock").remove(&id);
            });
        }
        let running = self.running.lock().expect("runner map lock").len();
        Ok(serde_json::json!({"started": started, "running": running, "expired_deleted": expired}))
    }
}

/// Task progress shared by a runner's task futures and its flusher.
struct Progress {
    clock: SharedClock,
    tasks: Mutex<Vec<PowerTask>>,
    dirty: Mutex<BTreeSet<usize>>,
    /// Durable writes asked for so far (a count), and the count the last write covered: a
    /// task waits on these before a reset, so its journal entry is in the store first.
    asked: AtomicU64,
    written: watch::Sender<u64>,
    /// Wakes the flusher for a durable write.
    urgent: Notify,
}

impl Progress {
    fn new(clock: SharedClock, tasks: Vec<PowerTask>) -> Progress {
        Progress {
            clock,
            tasks: Mutex::new(tasks),
            dirty: Mutex::new(BTreeSet::new()),
            asked: AtomicU64::new(0),
            written: watch::Sender::new(0),
            urgent: Notify::new(),
        }
    }

    fn set(&self, i: usize, status: TaskStatus, description: String, error: Option<String>) {
        let mut tasks = self.tasks.lock().expect("progress lock");
        let t = &mut tasks[i];
        if status.is_done() && !t.status.is_done() {
            metrics::counter!("rackboot_power_tasks_total", "status" => status.as_str())
                .increment(1);
        }
        if status.is_done() {
            t.journal = None;
        }
        t.status = status;
        t.description = description;
        t.error = error;
        t.updated = Some(self.clock.now());
        self.dirty.lock().expect("progress lock").insert(i);
    }

    fn describe(&self, i: usize, description: String) {
        self.set(i, TaskStatus::InProgress, description, None);
    }

    /// The task's journal entry (written at the next flush).
    fn journal(&self, i: usize) -> Option<TaskJournal> {
        self.tasks.lock().expect("progress lock")[i].journal.clone()
    }

    fn set_journal(&self, i: usize, j: TaskJournal) {
        self.tasks.lock().expect("progress lock")[i].journal = Some(j);
        self.dirty.lock().expect("progress lock").insert(i);
    }

    /// Wait until everything set so far is in the store (writes coalesce: many tasks waiting
    /// at once cost one write).
    async fn durable(&self) {
        let want = self.asked.fetch_add(1, Ordering::SeqCst) + 1;
        self.urgent.notify_one();
        let mut rx = self.written.subscribe();
        let _ = rx.wait_for(|w| *w >= want).await;
    }

    /// Changed tasks since the last call (their indices and copies), the counts over all
    /// tasks, and the durable-write count this covers.
    fn take(&self) -> (BTreeSet<usize>, Vec<PowerTask>, TaskCounts, u64) {
        let asked = self.asked.load(Ordering::SeqCst);
        let tasks = self.tasks.lock().expect("progress lock");
        let dirty = std::mem::take(&mut *self.dirty.lock().expect("progress lock"));
        let changed = dirty.iter().map(|&i| tasks[i].clone()).collect();
        (dirty, changed, TaskCounts::of(tasks.iter()), asked)
    }

    /// Put back changes whose write failed, so the next flush writes them.
    fn restore(&self, indices: BTreeSet<usize>) {
        self.dirty.lock().expect("progress lock").extend(indices);
    }
}

async fn run_transition(
    ctx: &PowerContext,
    id: uuid::Uuid,
    mut abort: watch::Receiver<bool>,
) -> Result<(), StoreError> {
    let Some((mut t, tasks)) = ctx.store.get_transition(id).await? else {
        return Ok(());
    };
    let progress = Arc::new(Progress::new(ctx.clock.clone(), tasks));
    let aborting = *abort.borrow();
    let jobs = if aborting {
        Vec::new()
    } else {
        resolve(ctx, &progress).await?
    };
    if t.status == TransitionStatus::New {
        tracing::info!(transition = %id, operation = %t.operation, tasks = jobs.len(), "transition started");
    } else {
        tracing::info!(transition = %id, operation = %t.operation, tasks = jobs.len(), "transition resumed");
    }
    t.status = TransitionStatus::InProgress;
    flush(ctx, &mut t, &progress).await?;

    let deadline = t.step_deadline();
    // Tasks watch `stop`; the runner sets it when the activation (or the store) says abort.
    let (stop_tx, stop) = watch::channel(aborting);
    // Each task is its own tokio task, so thousands of them spread over every core.
    let work = {
        let t = Arc::new(t.clone());
        let mut set = JoinSet::new();
        for (i, x, sys) in jobs {
            let (ctx, t, progress, abort) =
                (ctx.clone(), t.clone(), progress.clone(), stop.clone());
            set.spawn(
                async move { task::run(&ctx, &t, deadline, i, x, sys, &progress, abort).await },
            );
        }
        async move { while set.join_next().await.is_some() {} }
    };
    // Progress is written by its own task, so a slow store write never stalls the tasks.
    let (done_tx, mut done_rx) = watch::channel(false);
    let flusher = {
        let ctx = ctx.clone();
        let progress = progress.clone();
        let stop_tx = stop_tx.clone();
        let mut t = t.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(ctx.flush_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                // Stops only between writes, so no drained change is ever dropped.
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = progress.urgent.notified() => {}
                    _ = done_rx.changed() => break,
                }
                if let Err(e) = flush(&ctx, &mut t, &progress).await {
                    tracing::warn!(transition = %t.id, error = %crate::errors::chain(&e), "could not record progress; will retry");
                }
                match ctx.store.transition_abort_requested(t.id).await {
                    Ok(true) => {
                        let _ = stop_tx.send(true);
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(transition = %t.id, error = %crate::errors::chain(&e), "could not read the abort flag")
                    }
                }
            }
        })
    };
    tokio::pin!(work);
    loop {
        let stopping = *stop_tx.borrow();
        tokio::select! {
            _ = &mut work => break,
            set = aborted(&mut abort), if !stopping => {
                if set {
                    let _ = stop_tx.send(true);
                }
            }
        }
    }
    let _ = done_tx.send(true);
    let _ = flusher.await;
    let stopped = *stop_tx.borrow();
    let aborted = stopped || ctx.store.transition_abort_requested(id).await?;
    if aborted {
        let n = progress.tasks.lock().expect("progress lock").len();
        for i in 0..n {
            let done = progress.tasks.lock().expect("progress lock")[i]
                .status
                .is_done();
            if !done {
                progress.set(
                    i,
                    TaskStatus::Failed,
                    "Transition aborted".into(),
                    Some("the transition was aborted before this task finished".into()),
                );
            }
        }
    }
    t.status = if aborted {
        TransitionStatus::Aborted
    } else {
        TransitionStatus::Completed
    };
    flush(ctx, &mut t, &progress).await?;
    tracing::info!(transition = %id, status = t.status.as_str(), succeeded = t.counts.succeeded, failed = t.counts.failed + t.counts.unsupported, "transition finished");
    Ok(())
}

async fn flush(
    ctx: &PowerContext,
    t: &mut Transition,
    progress: &Progress,
) -> Result<(), StoreError> {
    let (indices, changed, counts, asked) = progress.take();
    if !ctx.leadership.may_act() {
        // Deposed: nothing from here on is recorded (and the fenced driver sent nothing).
        progress.written.send_modify(|w| *w = (*w).max(asked));
        return Ok(());
    }
    t.counts = counts;
    if let Err(e) = ctx.store.update_transition(t, &changed).await {
        progress.restore(indices);
        return Err(e);
    }
    progress.written.send_modify(|w| *w = (*w).max(asked));
    Ok(())
}

/// Resolve every unfinished task to its BMC system; tasks that cannot be resolved fail
/// here with PCS's messages.
async fn resolve(
    ctx: &PowerContext,
    progress: &Progress,
) -> Result<Vec<(usize, Xname, SystemRef)>, StoreError> {
    let ces = ctx.store.component_endpoints_by_node().await?;
    let eps = ctx.store.redfish_endpoints_by_id().await?;
    let components: std::collections::HashSet<Xname> = ctx
        .store
        .list_components()
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let snapshot: Vec<PowerTask> = progress.tasks.lock().expect("progress lock").clone();
    let mut jobs = Vec::new();
    for (i, task) in snapshot.iter().enumerate() {
        if task.status.is_done() {
            continue;
        }
        let fail = |msg: String| {
            progress.set(
                i,
                TaskStatus::Failed,
                "Failed to achieve transition".into(),
                Some(msg),
            )
        };
        let x = match Xname::parse(&task.xname) {
            Ok(x) => x,
            Err(_) => {
                fail("Invalid xname".into());
                continue;
            }
        };
        if x.kind() != XnameKind::Node {
            fail(format!(
                "No power control for component type {}",
                x.kind().hms_type()
            ));
            continue;
        }
        if !components.contains(&x) {
            fail("Xname not found in HSM".into());
            continue;
        }
        let Some(ce) = ces.get(&x) else {
            fail(
                "Missing xname: no Redfish endpoint is known for this node; discover its BMC"
                    .into(),
            );
            continue;
        };
        let Some(ep) = eps.get(&ce.redfish_endpoint_id) else {
            fail(format!(
                "Redfish endpoint {} not found",
                ce.redfish_endpoint_id
            ));
            continue;
        };
        if !ep.enabled {
            fail(format!("Redfish endpoint {} is disabled", ep.id));
            continue;
        }
        jobs.push((i, x, SystemRef::new(BmcAccess::from(ep), ce)));
    }
    Ok(jobs)
}

/// Resolves when the abort flag is set (true) or its sender is gone (false: never abort).
async fn aborted(rx: &mut watch::Receiver<bool>) -> bool {
    let set = rx.wait_for(|a| *a).await.is_ok();
    if !set {
        std::future::pending::<()>().await;
    }
    set
}
