//! Planning one PCS task: from an operation and what the node's system says about itself
//! (power state, allowed reset types, whether a restart can be observed, whether it takes a
//! boot override) to the Redfish steps that carry it out, or a refusal that says why.
//!
//! Pure and synchronous, so every rule is a unit test; `operators::power` only carries plans
//! out. Reset types come from [`super::reset`] (never named here), so a Cray EX node's
//! graceful off is its `Off`. Three rules answer what users were misled by before:
//! - a restart is confirmed by an observed transition ([`Confirm::Restarted`]), never by
//!   `PowerState` reading `On`; a system that shows no restart marker is restarted by a
//!   graceful off and an `On`, which can be observed;
//! - a boot override a system cannot take is refused before anything is sent (no Boot
//!   override properties in its document, or a target it does not list);
//! - `On` with a boot target on a node that is already `On` is refused, not silently done:
//!   `On` never restarts a node, and the override would only apply at some later boot.

use std::time::Duration;

use super::reset::{NoReset, ResetIntent, TOGGLE, choose};
use super::{PowerOperation, PowerState, TaskStatus};

/// How long a forced step sent after a graceful one timed out is given to be confirmed, at
/// most: a BMC that does not act on `ForceOff` within a minute will not act on it at all, so
/// an ignored `power off` ends after the graceful wait plus this, not twice the wait.
pub const FORCED_CONFIRM_WAIT: Duration = Duration::from_secs(60);

/// What a system's document says about one-time boot overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootOverrideSupport {
    /// Not read (planning without a document, e.g. for `supportedPowerTransitions`).
    Unknown,
    /// No `BootSourceOverrideTarget` / `BootSourceOverrideEnabled` at all (Cray EX node
    /// controllers): it cannot take one.
    Absent,
    /// It has the override properties; the targets it lists (empty: it lists none).
    Targets(Vec<String>),
}

/// What the plan is decided from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemFacts {
    pub state: PowerState,
    /// Reset types the system allows (empty: it did not say).
    pub reset_types: Vec<String>,
    /// The document shows something that moves when the host restarts (`LastResetTime`).
    pub restart_observable: bool,
    pub boot_override: BootOverrideSupport,
}

/// How a step is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confirm {
    On,
    Off,
    /// `PowerState` left `On` (and came back), or `LastResetTime` moved, and it reads `On`.
    Restarted,
}

/// One step of a task's plan: send `reset`, then wait for `confirm`. With a `fallback`, if
/// the deadline passes first, send that and wait again (graceful → forced escalation).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Step {
    pub reset: String,
    pub confirm: Confirm,
    pub fallback: Option<String>,
    /// Set the transition's boot override just before this step (the one that boots).
    pub boot_before: bool,
}

/// What a task will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Nothing to do: `Component already in desired state`.
    AlreadyThere,
    Steps(Vec<Step>),
    /// Cannot be done; the message (why, without the target: the runner names it) becomes the
    /// task's error. Nothing is sent.
    Refuse(TaskStatus, String),
}

fn step(reset: &str, confirm: Confirm) -> Step {
    Step {
        reset: reset.to_string(),
        confirm,
        fallback: None,
        boot_before: false,
    }
}

/// Pure planning of one task (docs/pcs.md, "Operations as Redfish resets").
pub fn plan(op: PowerOperation, sys: &SystemFacts, boot_target: Option<&str>) -> Plan {
    let allowed = &sys.reset_types;
    let state = sys.state;
    let unsupported = |no: NoReset| Plan::Refuse(TaskStatus::Unsupported, no.to_string());
    if let Some(target) = boot_target {
        match &sys.boot_override {
            BootOverrideSupport::Absent => {
                return Plan::Refuse(
                    TaskStatus::Unsupported,
                    format!(
                        "the system has no Boot override properties (BootSourceOverrideTarget, BootSourceOverrideEnabled), so it cannot take a one-time boot override to {target}"
                    ),
                );
            }
            BootOverrideSupport::Targets(listed)
                if !listed.is_empty() && !listed.iter().any(|t| t == target) =>
            {
                return Plan::Refuse(
                    TaskStatus::Unsupported,
                    format!(
                        "boot target {target} is not allowed: the system allows {}",
                        listed.join(", ")
                    ),
                );
            }
            _ => {}
        }
    }
    // A toggle sent from anything but the settled opposite state could do the opposite.
    let toggle_guard = |reset: &str, from: PowerState| -> Option<Plan> {
        (reset == TOGGLE && state != from).then(|| {
            Plan::Refuse(
                TaskStatus::Failed,
                format!(
                    "the only fitting reset type is {TOGGLE}, which toggles power, and the node is not {}",
                    from.as_str()
                ),
            )
        })
    };
    let on = || choose(ResetIntent::On, allowed);
    // A graceful off, escalating to a forced one where the operation allows it.
    let off = |escalate: bool| -> Result<Step, NoReset> {
        let forced = choose(ResetIntent::ForceOff, allowed).ok();
        match choose(ResetIntent::GracefulOff, allowed) {
            Ok(g) => Ok(Step {
                fallback: forced.filter(|_| escalate).map(String::from),
                ..step(g, Confirm::Off)
            }),
            Err(_) if escalate && forced.is_some() => {
                Ok(step(forced.expect("checked"), Confirm::Off))
            }
            Err(mut no) => {
                if escalate {
                    no.wanted.push(ResetIntent::ForceOff);
                }
                Err(no)
            }
        }
    };
    let steps = match op {
        PowerOperation::On => {
            if state == PowerState::On {
                return match boot_target {
                    None => Plan::AlreadyThere,
                    Some(target) => Plan::Refuse(
                        TaskStatus::Failed,
                        format!(
                            "the node is already On: On does not restart a node, and a one-time boot override to {target} would only apply at its next boot; to boot it from {target} now, restart it with the override (Soft-Restart, Hard-Restart or Init with bootTarget; rackboot power restart --netboot)"
                        ),
                    ),
                };
            }
            match on() {
                Ok(r) => vec![step(r, Confirm::On)],
                Err(no) => return unsupported(no),
            }
        }
        PowerOperation::Off | PowerOperation::SoftOff => {
            if state == PowerState::Off {
                return Plan::AlreadyThere;
            }
            match off(op == PowerOperation::Off) {
                Ok(s) => vec![s],
                Err(no) => return unsupported(no),
            }
        }
        PowerOperation::ForceOff => {
            if state == PowerState::Off {
                return Plan::AlreadyThere;
            }
            match choose(ResetIntent::ForceOff, allowed) {
                Ok(r) => vec![step(r, Confirm::Off)],
                Err(no) => return unsupported(no),
            }
        }
        PowerOperation::SoftRestart => {
            if state != PowerState::On {
                return Plan::Refuse(
                    TaskStatus::Failed,
                    "Component must be in the On state for Soft-Restart".into(),
                );
            }
            let graceful = allowed.iter().any(|a| a == "GracefulRestart");
            if graceful && sys.restart_observable {
                vec![step("GracefulRestart", Confirm::Restarted)]
            } else {
                // Off then On, as CSM does where a restart is not offered; also where one
                // could not be confirmed (no restart marker in the system's document).
                match (off(false), on()) {
                    (Ok(o), Ok(n)) => vec![o, step(n, Confirm::On)],
                    (Err(no), _) | (_, Err(no)) => return unsupported(no),
                }
            }
        }
        PowerOperation::HardRestart | PowerOperation::Init | PowerOperation::ForceRestart => {
            if op == PowerOperation::HardRestart && state != PowerState::On {
                return Plan::Refuse(
                    TaskStatus::Failed,
                    "Component must be in the On state for Hard-Restart".into(),
                );
            }
            let n = match on() {
                Ok(n) => n,
                Err(no) => return unsupported(no),
            };
            if state == PowerState::Off {
                vec![step(n, Confirm::On)]
            } else if op == PowerOperation::ForceRestart {
                match choose(ResetIntent::ForceRestart, allowed) {
                    // An unadvertised list gets the first preference (`choose`), which is
                    // only right where the restart can be observed.
                    Ok(r) if sys.restart_observable && !allowed.is_empty() => {
                        vec![step(r, Confirm::Restarted)]
                    }
                    // CAPMC's "simulate": a forced off, then on.
                    _ => match choose(ResetIntent::ForceOff, allowed) {
                        Ok(f) => vec![step(f, Confirm::Off), step(n, Confirm::On)],
                        Err(mut no) => {
                            no.wanted.insert(0, ResetIntent::ForceRestart);
                            return unsupported(no);
                        }
                    },
                }
            } else {
                match off(true) {
                    Ok(o) => vec![o, step(n, Confirm::On)],
                    Err(no) => return unsupported(no),
                }
            }
        }
    };
    // A toggle is only ever the first step's risk: later steps start from the state the step
    // before them confirmed, which is the settled opposite.
    if let Some(first) = steps.first() {
        let from = match first.confirm {
            Confirm::On => PowerState::Off,
            Confirm::Off | Confirm::Restarted => PowerState::On,
        };
        if let Some(refusal) = toggle_guard(&first.reset, from) {
            return refusal;
        }
    }
    let mut steps = steps;
    if boot_target.is_some()
        && let Some(booting) = steps
            .iter_mut()
            .rev()
            .find(|s| matches!(s.confirm, Confirm::On | Confirm::Restarted))
    {
        booting.boot_before = true;
    }
    Plan::Steps(steps)
}

/// PCS's `supportedPowerTransitions` from the reset types a system allows: every operation
/// [`plan`] would carry out from the state it applies to.
pub fn supported_transitions(reset_types: &[String]) -> Vec<PowerOperation> {
    PowerOperation::ALL
        .into_iter()
        .filter(|&op| supports(op, reset_types))
        .collect()
}

/// Whether [`plan`] would carry `op` out, from the state it applies to, on a system allowing
/// these reset types (any operation, CAPMC's forced restart included).
pub fn supports(op: PowerOperation, reset_types: &[String]) -> bool {
    let state = if op == PowerOperation::On {
        PowerState::Off
    } else {
        PowerState::On
    };
    let facts = SystemFacts {
        state,
        reset_types: reset_types.to_vec(),
        restart_observable: true,
        boot_override: BootOverrideSupport::Unknown,
    };
    !matches!(
        plan(op, &facts, None),
        Plan::Refuse(TaskStatus::Unsupported, _)
    )
}

/// Why a step was not confirmed by its deadline: what was sent, what was last read.
pub fn unconfirmed(
    reset: &str,
    confirm: Confirm,
    last_state: &str,
    waited: Duration,
    last_error: Option<&str>,
) -> String {
    let secs = waited.as_secs();
    let mut msg = match confirm {
        Confirm::Restarted => format!(
            "{reset} accepted but no restart observed after {secs} s: PowerState stayed {last_state} and LastResetTime did not move"
        ),
        _ => format!("{reset} accepted but PowerState still {last_state} after {secs} s"),
    };
    if let Some(e) = last_error {
        msg.push_str(&format!(" (the last read failed: {e})"));
    }
    msg
}

/// Watches readings after a restart was sent: the restart is observed once `PowerState` has
/// left `On` or a restart marker differs from before, and it is confirmed when the node then
/// reads `On`.
#[derive(Debug, Clone)]
pub struct RestartWatch {
    before: Vec<(String, String)>,
    left_on: bool,
    marker_moved: bool,
}

impl RestartWatch {
    /// `before`: the restart markers read just before the restart was sent.
    pub fn new(before: Vec<(String, String)>) -> RestartWatch {
        RestartWatch {
            before,
            left_on: false,
            marker_moved: false,
        }
    }

    /// Feed one reading; true once the restart is confirmed.
    pub fn observe(&mut self, state: PowerState, markers: &[(String, String)]) -> bool {
        if state != PowerState::On {
            self.left_on = true;
            return false;
        }
        if !self.marker_moved {
            self.marker_moved = markers.iter().any(|(k, v)| {
                self.before
                    .iter()
                    .find(|(bk, _)| bk == k)
                    .is_none_or(|(_, bv)| bv != v)
            });
        }
        self.left_on || self.marker_moved
    }
}

#[cfg(test)]
mod tests;
