//! One PCS task, carried out: read the system once, plan (`model::power::plan`, pure), then
//! per step an optional boot override, the reset, and its confirmation by polling the system
//! until the deadline, escalating graceful → forced where the plan says so.
//!
//! Confirmation is by observation only: `Off`/`On` by the PowerState read, a restart by a
//! [`RestartWatch`] (PowerState left `On`, or a restart marker such as `LastResetTime` moved),
//! never by a node that simply still reads `On`. A forced step sent after a graceful one
//! timed out gets at most [`FORCED_CONFIRM_WAIT`]. Every failure names the BMC and system,
//! what was sent and the last PowerState read, and is recorded on the task; nothing here
//! writes to the store (the runner's flusher does).
//!
//! Each reset is journalled on its task (`model::power::journal`): recorded, and written,
//! before it is sent, marked sent after. A task that finds a journal entry (a restart
//! interrupted it) keeps its plan and resumes at its step: confirms a reset that was sent,
//! sends again one that was not, and moves on from a step already reached.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{PowerContext, Progress, aborted};
use crate::model::Xname;
use crate::model::power::journal::{Resume, TaskJournal, resume};
use crate::model::power::{
    Confirm, FORCED_CONFIRM_WAIT, Plan, PowerState, RestartWatch, Step, TaskStatus, Transition,
    plan, unconfirmed,
};
use crate::power::samples::sample;
use crate::power::{BootOnce, BootWhen, PowerError, SystemReading, SystemRef};

enum Wait {
    /// Confirmed; the reading that confirmed it.
    Reached(SystemReading),
    /// Why not, in words (without the target).
    TimedOut(String),
    Aborted,
}

/// Poll until `confirm` is observed, the deadline passes, or the transition is aborted.
/// `before` is the reading taken before the reset was sent (the restart markers to compare).
async fn confirm(
    ctx: &PowerContext,
    x: &Xname,
    sys: &SystemRef,
    step: (&str, Confirm),
    before: &SystemReading,
    deadline: Option<Duration>,
    abort: &mut watch::Receiver<bool>,
) -> Wait {
    let (reset, want) = step;
    let until = deadline.map(|d| Instant::now() + d);
    let mut watch = RestartWatch::new(before.markers.clone());
    let mut last_state = before.redfish_state.clone();
    loop {
        let last_error = match ctx.driver.read(sys).await {
            Ok(r) => {
                ctx.cache.put(sample(x, sys, Ok(r.state), ctx.clock.now()));
                last_state = r.redfish_state.clone();
                let done = match want {
                    Confirm::On => r.state == PowerState::On,
                    Confirm::Off => r.state == PowerState::Off,
                    Confirm::Restarted => watch.observe(r.state, &r.markers),
                };
                if done {
                    return Wait::Reached(r);
                }
                None
            }
            Err(e) => Some(e.message),
        };
        let pause = match until {
            Some(u) => {
                let left = u.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Wait::TimedOut(unconfirmed(
                        reset,
                        want,
                        &last_state,
                        deadline.unwrap_or_default(),
                        last_error.as_deref(),
                    ));
                }
                left.min(ctx.confirm_interval)
            }
            None => ctx.confirm_interval,
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            true = aborted(abort) => return Wait::Aborted,
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn run(
    ctx: &PowerContext,
    t: &Transition,
    deadline: Option<Duration>,
    i: usize,
    x: Xname,
    sys: SystemRef,
    progress: &Progress,
    mut abort: watch::Receiver<bool>,
) {
    let fail = |msg: String| {
        progress.set(
            i,
            TaskStatus::Failed,
            "Failed to achieve transition".into(),
            Some(msg),
        )
    };
    let journal = progress.journal(i);
    progress.describe(i, "Gathering power state".into());
    let first = match ctx.driver.read(&sys).await {
        Ok(r) => r,
        Err(e) => {
            ctx.cache
                .put(sample(&x, &sys, Err(e.message.clone()), ctx.clock.now()));
            return fail(format!("{}; nothing sent", e.message));
        }
    };
    ctx.cache
        .put(sample(&x, &sys, Ok(first.state), ctx.clock.now()));
    // A task interrupted by a restart resumes at its recorded step (journal.rs), with the
    // plan it was made with; a new one is planned from what the node reads now.
    let (steps, start, mut resumed) = match journal {
        Some(j) => {
            let r = resume(&j, first.state, &first.markers);
            tracing::info!(node = %x, step = j.step, reset = %j.reset, sent = j.sent, next = ?r, "resuming an interrupted task");
            (j.steps.clone(), j.step, Some((r, j)))
        }
        None => match plan(t.operation, &sys.facts(&first), t.boot_target.as_deref()) {
            Plan::AlreadyThere => {
                return progress.set(
                    i,
                    TaskStatus::Succeeded,
                    "Component already in desired state".into(),
                    None,
                );
            }
            Plan::Refuse(status, why) => {
                let description = if status == TaskStatus::Unsupported {
                    "Unsupported for transition operation".to_string()
                } else {
                    "Failed to achieve transition".to_string()
                };
                let msg = format!(
                    "{}: {why}; nothing sent, PowerState {}",
                    sys.target(),
                    first.redfish_state
                );
                return progress.set(i, status, description, Some(msg));
            }
            Plan::Steps(steps) => (steps, 0, None),
        },
    };
    let runner = Runner {
        ctx,
        t,
        deadline,
        i,
        x: &x,
        sys: &sys,
        progress,
        steps: &steps,
    };
    let mut last = first;
    let mut last_action = String::new();
    for (k, step) in steps.iter().enumerate().skip(start) {
        if *abort.borrow() {
            return;
        }
        let outcome = match resumed.take() {
            Some((Resume::Reached, j)) => {
                last_action = j.reset.to_ascii_lowercase();
                continue;
            }
            Some((Resume::Confirm, j)) => {
                // Confirm against the markers read before the interrupted send.
                let before = SystemReading {
                    markers: j.before.clone(),
                    ..last.clone()
                };
                runner
                    .confirm_step(k, step, &j.reset, j.escalated, &before, &mut abort)
                    .await
            }
            Some((Resume::Send, _)) | None => runner.step(k, step, &last, &mut abort).await,
        };
        match outcome {
            Ok(Some((r, action))) => {
                last = r;
                last_action = action;
            }
            Ok(None) => {
                last_action = step.reset.to_ascii_lowercase();
            }
            Err(Stop::Aborted) => return,
            Err(Stop::Failed(msg)) => return fail(msg),
        }
    }
    let description = if deadline == Some(Duration::ZERO) {
        format!("Transition applied, {last_action}. Not confirming.")
    } else {
        format!("Transition confirmed, {last_action}")
    };
    progress.set(i, TaskStatus::Succeeded, description, None);
}

/// Why a task stopped before its last step.
enum Stop {
    Aborted,
    /// The task's error, naming the target.
    Failed(String),
}

/// One task's fixed context while its steps are carried out.
struct Runner<'a> {
    ctx: &'a PowerContext,
    t: &'a Transition,
    deadline: Option<Duration>,
    i: usize,
    x: &'a Xname,
    sys: &'a SystemRef,
    progress: &'a Progress,
    steps: &'a [Step],
}

/// A step's outcome: the confirming reading and the action (lowercase), or `None` when not
/// confirming (deadline zero).
type StepResult = Result<Option<(SystemReading, String)>, Stop>;

impl Runner<'_> {
    /// Record the reset about to be sent (durably: the send waits for the write), send it,
    /// record that it was sent.
    async fn send(
        &self,
        k: usize,
        reset: &str,
        escalated: bool,
        before: &SystemReading,
    ) -> Result<(), PowerError> {
        let mut j = TaskJournal {
            steps: self.steps.to_vec(),
            step: k,
            reset: reset.to_string(),
            escalated,
            sent: false,
            before: before.markers.clone(),
        };
        self.progress.set_journal(self.i, j.clone());
        self.progress.durable().await;
        crate::faults::crash_point("pcs.reset.intent");
        self.ctx.cache.acted(self.x, self.ctx.clock.now());
        self.ctx.driver.reset(self.sys, reset).await?;
        crate::faults::crash_point("pcs.reset.sent");
        j.sent = true;
        self.progress.set_journal(self.i, j);
        Ok(())
    }

    /// Carry out step `k` from the start: its boot override, its reset, its confirmation
    /// (escalating to the fallback where the plan says so).
    async fn step(
        &self,
        k: usize,
        step: &Step,
        last: &SystemReading,
        abort: &mut watch::Receiver<bool>,
    ) -> StepResult {
        let (sys, i) = (self.sys, self.i);
        let reset = step.reset.as_str();
        if step.boot_before
            && let Some(target) = &self.t.boot_target
        {
            self.progress
                .describe(i, format!("Setting one-time boot override, {target}"));
            self.ctx.cache.acted(self.x, self.ctx.clock.now());
            match self
                .ctx
                .driver
                .boot_once(sys, target, BootWhen::Always)
                .await
            {
                Ok(BootOnce::Set {
                    note: Some(note), ..
                }) => {
                    tracing::info!(node = %self.x, note, "boot override kept in a different form")
                }
                Ok(BootOnce::Set { note: None, .. }) => {}
                Ok(BootOnce::NoOverride { state }) => {
                    return Err(Stop::Failed(format!(
                        "{}: the system has no Boot override properties, so it cannot take a one-time boot override to {target}; {reset} not sent, PowerState {state}",
                        sys.target(),
                    )));
                }
                Ok(BootOnce::PoweredOn { .. }) => unreachable!("BootWhen::Always never skips"),
                Err(e) => return Err(Stop::Failed(format!("{}; {reset} not sent", e.message))),
            }
        }
        let action = reset.to_ascii_lowercase();
        self.progress
            .describe(i, format!("Applying transition, {action}"));
        if let Err(e) = self.send(k, reset, false, last).await {
            return Err(Stop::Failed(e.message));
        }
        if self.deadline == Some(Duration::ZERO) {
            self.progress
                .describe(i, format!("Transition applied, {action}. Not confirming."));
            return Ok(None);
        }
        self.confirm_step(k, step, reset, false, last, abort).await
    }

    /// Confirm step `k`'s `reset` (sent already), escalating to its fallback on a timeout
    /// unless the fallback is what was sent.
    async fn confirm_step(
        &self,
        k: usize,
        step: &Step,
        reset: &str,
        escalated: bool,
        before: &SystemReading,
        abort: &mut watch::Receiver<bool>,
    ) -> StepResult {
        let (ctx, sys, i) = (self.ctx, self.sys, self.i);
        let want = step.confirm;
        let action = reset.to_ascii_lowercase();
        if self.deadline == Some(Duration::ZERO) {
            return Ok(None);
        }
        self.progress
            .describe(i, format!("Confirming successful transition, {action}"));
        let wait = if escalated {
            Some(
                self.deadline
                    .map_or(FORCED_CONFIRM_WAIT, |d| d.min(FORCED_CONFIRM_WAIT)),
            )
        } else {
            self.deadline
        };
        let mut outcome = confirm(ctx, self.x, sys, (reset, want), before, wait, abort).await;
        let mut action = action;
        if let (Wait::TimedOut(graceful), Some(force), false) =
            (&outcome, &step.fallback, escalated)
        {
            tracing::info!(node = %self.x, graceful = %reset, forced = %force, "graceful step timed out; escalating");
            let graceful = graceful.clone();
            action = force.to_ascii_lowercase();
            self.progress
                .describe(i, format!("Applying transition, {action}"));
            if let Err(e) = self.send(k, force, true, before).await {
                return Err(Stop::Failed(format!(
                    "{}: {graceful}; then {}",
                    sys.target(),
                    e.message
                )));
            }
            self.progress
                .describe(i, format!("Confirming successful transition, {action}"));
            let forced = self
                .deadline
                .map_or(FORCED_CONFIRM_WAIT, |d| d.min(FORCED_CONFIRM_WAIT));
            outcome =
                match confirm(ctx, self.x, sys, (force, want), before, Some(forced), abort).await {
                    Wait::TimedOut(why) => Wait::TimedOut(format!("{graceful}; {why}")),
                    other => other,
                };
        }
        match outcome {
            Wait::Reached(r) => Ok(Some((r, action))),
            Wait::Aborted => Err(Stop::Aborted),
            Wait::TimedOut(why) => Err(Stop::Failed(format!("{}: {why}", sys.target()))),
        }
    }
}
