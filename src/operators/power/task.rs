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

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{PowerContext, Progress, aborted};
use crate::model::Xname;
use crate::model::power::{
    Confirm, FORCED_CONFIRM_WAIT, Plan, PowerState, RestartWatch, Step, TaskStatus, Transition,
    plan, unconfirmed,
};
use crate::power::samples::sample;
use crate::power::{BootOnce, BootWhen, SystemReading, SystemRef};

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
    let steps = match plan(t.operation, &sys.facts(&first), t.boot_target.as_deref()) {
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
        Plan::Steps(steps) => steps,
    };
    let mut last = first;
    let mut last_action = String::new();
    for Step {
        reset,
        confirm: want,
        fallback,
        boot_before,
    } in &steps
    {
        if *abort.borrow() {
            return;
        }
        if *boot_before && let Some(target) = &t.boot_target {
            progress.describe(i, format!("Setting one-time boot override, {target}"));
            ctx.cache.acted(&x, ctx.clock.now());
            match ctx.driver.boot_once(&sys, target, BootWhen::Always).await {
                Ok(BootOnce::Set {
                    note: Some(note), ..
                }) => {
                    tracing::info!(node = %x, note, "boot override kept in a different form")
                }
                Ok(BootOnce::Set { note: None, .. }) => {}
                Ok(BootOnce::NoOverride { state }) => {
                    return fail(format!(
                        "{}: the system has no Boot override properties, so it cannot take a one-time boot override to {target}; {reset} not sent, PowerState {state}",
                        sys.target(),
                    ));
                }
                Ok(BootOnce::PoweredOn { .. }) => unreachable!("BootWhen::Always never skips"),
                Err(e) => return fail(format!("{}; {reset} not sent", e.message)),
            }
        }
        let mut action = reset.to_ascii_lowercase();
        progress.describe(i, format!("Applying transition, {action}"));
        ctx.cache.acted(&x, ctx.clock.now());
        if let Err(e) = ctx.driver.reset(&sys, reset).await {
            return fail(e.message);
        }
        if deadline == Some(Duration::ZERO) {
            progress.describe(i, format!("Transition applied, {action}. Not confirming."));
            last_action = action;
            continue;
        }
        progress.describe(i, format!("Confirming successful transition, {action}"));
        let mut outcome = confirm(ctx, &x, &sys, (reset, *want), &last, deadline, &mut abort).await;
        if let (Wait::TimedOut(graceful), Some(force)) = (&outcome, fallback) {
            tracing::info!(node = %x, graceful = %reset, forced = %force, "graceful step timed out; escalating");
            let graceful = graceful.clone();
            action = force.to_ascii_lowercase();
            progress.describe(i, format!("Applying transition, {action}"));
            ctx.cache.acted(&x, ctx.clock.now());
            if let Err(e) = ctx.driver.reset(&sys, force).await {
                return fail(format!("{}: {graceful}; then {}", sys.target(), e.message));
            }
            progress.describe(i, format!("Confirming successful transition, {action}"));
            let forced = deadline.map_or(FORCED_CONFIRM_WAIT, |d| d.min(FORCED_CONFIRM_WAIT));
            outcome = match confirm(
                ctx,
                &x,
                &sys,
                (force, *want),
                &last,
                Some(forced),
                &mut abort,
            )
            .await
            {
                Wait::TimedOut(why) => Wait::TimedOut(format!("{graceful}; {why}")),
                other => other,
            };
        }
        match outcome {
            Wait::Reached(r) => last = r,
            Wait::Aborted => return,
            Wait::TimedOut(why) => return fail(format!("{}: {why}", sys.target())),
        }
        last_action = action;
    }
    let description = if deadline == Some(Duration::ZERO) {
        format!("Transition applied, {last_action}. Not confirming.")
    } else {
        format!("Transition confirmed, {last_action}")
    };
    progress.set(i, TaskStatus::Succeeded, description, None);
}
