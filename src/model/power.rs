//! Power: the PCS vocabulary (operations, transitions, tasks, power status) and the pure
//! rules that turn a node's reported state and reset capabilities into Redfish actions.
//!
//! Everything that decides *what* to do is here and synchronous ([`plan`],
//! [`supported_transitions`]); `operators::power` only carries plans out. Names and
//! strings follow PCS (docs/pcs.md) so `cray power` clients read them unchanged.

use chrono::{DateTime, Utc};

use super::Xname;

/// A PCS transition operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PowerOperation {
    On,
    Off,
    SoftOff,
    ForceOff,
    SoftRestart,
    HardRestart,
    Init,
}

impl PowerOperation {
    pub const ALL: [PowerOperation; 7] = [
        PowerOperation::On,
        PowerOperation::Off,
        PowerOperation::SoftOff,
        PowerOperation::ForceOff,
        PowerOperation::SoftRestart,
        PowerOperation::HardRestart,
        PowerOperation::Init,
    ];

    /// Case-insensitive, as PCS accepts (`soft-off`, `Soft-Off`, …).
    pub fn parse(s: &str) -> Option<PowerOperation> {
        PowerOperation::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The name PCS echoes: `On`, `Soft-Off`, `Hard-Restart`, …
    pub fn as_str(self) -> &'static str {
        match self {
            PowerOperation::On => "On",
            PowerOperation::Off => "Off",
            PowerOperation::SoftOff => "Soft-Off",
            PowerOperation::ForceOff => "Force-Off",
            PowerOperation::SoftRestart => "Soft-Restart",
            PowerOperation::HardRestart => "Hard-Restart",
            PowerOperation::Init => "Init",
        }
    }
}

impl std::fmt::Display for PowerOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The coarse power state PCS reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PowerState {
    On,
    Off,
    /// Includes the transient states: unlike PCS (which maps PoweringOn to `off`), a node
    /// in transition is reported as such (`transition`) so nobody mistakes it for settled.
    Transition,
    Undefined,
}

impl PowerState {
    /// From a Redfish `PowerState` string.
    pub fn from_redfish(s: &str) -> PowerState {
        match s {
            "On" => PowerState::On,
            "Off" => PowerState::Off,
            "PoweringOn" | "PoweringOff" => PowerState::Transition,
            _ => PowerState::Undefined,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PowerState::On => "on",
            PowerState::Off => "off",
            PowerState::Transition => "transition",
            PowerState::Undefined => "undefined",
        }
    }
}

/// PCS's `supportedPowerTransitions` from the Redfish reset types a BMC allows.
pub fn supported_transitions(reset_types: &[String]) -> Vec<PowerOperation> {
    let has = |t: &str| reset_types.iter().any(|r| r == t);
    let mut out = Vec::new();
    let on = has("On") || has("ForceOn");
    let off = has("Off") || has("GracefulShutdown");
    if on {
        out.push(PowerOperation::On);
    }
    if off {
        out.push(PowerOperation::SoftOff);
        out.push(PowerOperation::Off);
    }
    if has("ForceOff") {
        out.push(PowerOperation::ForceOff);
        if !off {
            out.push(PowerOperation::Off);
        }
    }
    if has("GracefulRestart") || has("ForceRestart") || (on && (off || has("ForceOff"))) {
        out.push(PowerOperation::SoftRestart);
    }
    if on && (off || has("ForceOff")) {
        out.push(PowerOperation::HardRestart);
        out.push(PowerOperation::Init);
    }
    out
}

/// One step of a task's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this Redfish reset type, then wait until the node reports `expect`. With a
    /// `fallback`, if the deadline passes first, send that reset and wait again
    /// (graceful → forced escalation).
    Reset {
        reset: String,
        expect: PowerState,
        fallback: Option<String>,
    },
}

/// What a task will do, decided from the node's current state and what its BMC allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Nothing to do: `Component already in desired state`.
    AlreadyThere,
    Steps(Vec<Step>),
    /// Cannot be done; the message becomes the task's error.
    Refuse(TaskStatus, String),
}

/// The first of `preferred` the BMC allows; with no advertised list (some BMCs drop it),
/// the first preference is tried.
fn pick(allowed: &[String], preferred: &[&str]) -> Option<String> {
    if allowed.is_empty() {
        return preferred.first().map(|s| s.to_string());
    }
    preferred
        .iter()
        .find(|p| allowed.iter().any(|a| a == *p))
        .map(|s| s.to_string())
}

/// Pure planning of one task (docs/pcs.md, "Operations as Redfish resets").
pub fn plan(op: PowerOperation, state: PowerState, allowed: &[String]) -> Plan {
    let unsupported = || {
        Plan::Refuse(
            TaskStatus::Unsupported,
            format!(
                "Unsupported for transition operation {op}: the BMC allows {}",
                if allowed.is_empty() {
                    "no reset types".to_string()
                } else {
                    allowed.join(", ")
                }
            ),
        )
    };
    let on_step = |reset: String| Step::Reset {
        reset,
        expect: PowerState::On,
        fallback: None,
    };
    // Graceful off with an optional forced escalation.
    let off_step = |escalate: bool| -> Option<Step> {
        let graceful = pick(allowed, &["GracefulShutdown", "Off"]);
        let force = pick(allowed, &["ForceOff"]);
        match (graceful, force) {
            (Some(g), f) => Some(Step::Reset {
                reset: g,
                expect: PowerState::Off,
                fallback: if escalate { f } else { None },
            }),
            (None, Some(f)) if escalate => Some(Step::Reset {
                reset: f,
                expect: PowerState::Off,
                fallback: None,
            }),
            _ => None,
        }
    };
    match op {
        PowerOperation::On => {
            if state == PowerState::On {
                return Plan::AlreadyThere;
            }
            match pick(allowed, &["On", "ForceOn"]) {
                Some(r) => Plan::Steps(vec![on_step(r)]),
                None => unsupported(),
            }
        }
        PowerOperation::Off | PowerOperation::SoftOff => {
            if state == PowerState::Off {
                return Plan::AlreadyThere;
            }
            match off_step(op == PowerOperation::Off) {
                Some(s) => Plan::Steps(vec![s]),
                None => unsupported(),
            }
        }
        PowerOperation::ForceOff => {
            if state == PowerState::Off {
                return Plan::AlreadyThere;
            }
            match pick(allowed, &["ForceOff"]) {
                Some(r) => Plan::Steps(vec![Step::Reset {
                    reset: r,
                    expect: PowerState::Off,
                    fallback: None,
                }]),
                None => unsupported(),
            }
        }
        PowerOperation::SoftRestart => {
            if state != PowerState::On {
                return Plan::Refuse(
                    TaskStatus::Failed,
                    "Component must be in the On state for Soft-Restart".into(),
                );
            }
            if let Some(r) = pick(allowed, &["GracefulRestart", "ForceRestart"])
                && (!allowed.is_empty())
            {
                return Plan::Steps(vec![on_step(r)]);
            }
            match (off_step(false), pick(allowed, &["On", "ForceOn"])) {
                (Some(off), Some(on)) => Plan::Steps(vec![off, on_step(on)]),
                _ => unsupported(),
            }
        }
        PowerOperation::HardRestart | PowerOperation::Init => {
            if op == PowerOperation::HardRestart && state != PowerState::On {
                return Plan::Refuse(
                    TaskStatus::Failed,
                    "Component must be in the On state for Hard-Restart".into(),
                );
            }
            let Some(on) = pick(allowed, &["On", "ForceOn"]) else {
                return unsupported();
            };
            if state == PowerState::Off {
                return Plan::Steps(vec![on_step(on)]);
            }
            match off_step(true) {
                Some(off) => Plan::Steps(vec![off, on_step(on)]),
                None => unsupported(),
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransitionStatus {
    New,
    InProgress,
    Completed,
    Aborted,
    AbortSignaled,
}

impl Transition {
    /// How long each step waits for confirmation: `None` = forever, zero = not at all.
    pub fn step_deadline(&self) -> Option<std::time::Duration> {
        if let Some(s) = self.deadline_seconds {
            return Some(std::time::Duration::from_secs(s));
        }
        match self.deadline_minutes {
            m if m < 0 => None,
            m => Some(std::time::Duration::from_secs(m as u64 * 60)),
        }
    }
}

impl TransitionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TransitionStatus::New => "new",
            TransitionStatus::InProgress => "in-progress",
            TransitionStatus::Completed => "completed",
            TransitionStatus::Aborted => "aborted",
            TransitionStatus::AbortSignaled => "abort-signaled",
        }
    }

    pub fn is_done(self) -> bool {
        matches!(
            self,
            TransitionStatus::Completed | TransitionStatus::Aborted
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskStatus {
    New,
    InProgress,
    Failed,
    Succeeded,
    Unsupported,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::New => "new",
            TaskStatus::InProgress => "in-progress",
            TaskStatus::Failed => "failed",
            TaskStatus::Succeeded => "succeeded",
            TaskStatus::Unsupported => "unsupported",
        }
    }

    pub fn is_done(self) -> bool {
        matches!(
            self,
            TaskStatus::Failed | TaskStatus::Succeeded | TaskStatus::Unsupported
        )
    }
}

/// A recorded request to change the power of some nodes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Transition {
    pub id: uuid::Uuid,
    pub operation: PowerOperation,
    /// Minutes to wait for confirmation: 0 = do not confirm, negative = wait forever.
    pub deadline_minutes: i64,
    /// A finer deadline (rackboot extension); wins over `deadline_minutes` when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_seconds: Option<u64>,
    /// Boot override to set before powering on (rackboot extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_target: Option<String>,
    pub created: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    pub status: TransitionStatus,
    #[serde(default)]
    pub counts: TaskCounts,
}

/// Per-status task counts, kept on the transition so listing stays cheap.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TaskCounts {
    pub total: u64,
    pub new: u64,
    pub in_progress: u64,
    pub failed: u64,
    pub succeeded: u64,
    pub unsupported: u64,
}

impl TaskCounts {
    pub fn of<'a>(tasks: impl IntoIterator<Item = &'a PowerTask>) -> TaskCounts {
        let mut c = TaskCounts::default();
        for t in tasks {
            c.total += 1;
            match t.status {
                TaskStatus::New => c.new += 1,
                TaskStatus::InProgress => c.in_progress += 1,
                TaskStatus::Failed => c.failed += 1,
                TaskStatus::Succeeded => c.succeeded += 1,
                TaskStatus::Unsupported => c.unsupported += 1,
            }
        }
        c
    }
}

/// One node's part of a transition. `xname` is kept as given (PCS records even invalid
/// names as failed tasks).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PowerTask {
    pub xname: String,
    pub status: TaskStatus,
    pub description: String,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub updated: Option<DateTime<Utc>>,
}

impl PowerTask {
    pub fn new(xname: String) -> PowerTask {
        PowerTask {
            xname,
            status: TaskStatus::New,
            description: "Task is new".into(),
            error: None,
            updated: None,
        }
    }

    pub fn failed(xname: String, description: &str, error: String) -> PowerTask {
        PowerTask {
            xname,
            status: TaskStatus::Failed,
            description: description.into(),
            error: Some(error),
            updated: Some(Utc::now()),
        }
    }
}

/// The last power sample of a node.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PowerSample {
    pub xname: Xname,
    pub state: PowerState,
    /// `false` when the BMC could not be asked.
    pub available: bool,
    pub error: Option<String>,
    pub supported: Vec<PowerOperation>,
    pub updated: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    const FULL: &[&str] = &[
        "On",
        "ForceOff",
        "GracefulShutdown",
        "GracefulRestart",
        "ForceRestart",
    ];

    #[test]
    fn operations_parse_case_insensitively() {
        assert_eq!(
            PowerOperation::parse("soft-off"),
            Some(PowerOperation::SoftOff)
        );
        assert_eq!(
            PowerOperation::parse("FORCE-OFF"),
            Some(PowerOperation::ForceOff)
        );
        assert_eq!(PowerOperation::parse("reboot"), None);
    }

    #[test]
    fn on_when_on_is_already_there() {
        assert_eq!(
            plan(PowerOperation::On, PowerState::On, &s(FULL)),
            Plan::AlreadyThere
        );
    }

    #[test]
    fn off_escalates_but_soft_off_does_not() {
        let Plan::Steps(steps) = plan(PowerOperation::Off, PowerState::On, &s(FULL)) else {
            panic!()
        };
        assert_eq!(
            steps,
            vec![Step::Reset {
                reset: "GracefulShutdown".into(),
                expect: PowerState::Off,
                fallback: Some("ForceOff".into())
            }]
        );
        let Plan::Steps(steps) = plan(PowerOperation::SoftOff, PowerState::On, &s(FULL)) else {
            panic!()
        };
        assert!(matches!(&steps[0], Step::Reset { fallback: None, .. }));
    }

    #[test]
    fn init_from_on_goes_off_then_on_and_from_off_just_on() {
        let Plan::Steps(steps) = plan(PowerOperation::Init, PowerState::On, &s(FULL)) else {
            panic!()
        };
        assert_eq!(steps.len(), 2);
        let Plan::Steps(steps) = plan(PowerOperation::Init, PowerState::Off, &s(FULL)) else {
            panic!()
        };
        assert_eq!(steps.len(), 1);
    }

    #[test]
    fn restarts_need_on() {
        assert!(matches!(
            plan(PowerOperation::SoftRestart, PowerState::Off, &s(FULL)),
            Plan::Refuse(TaskStatus::Failed, _)
        ));
        assert!(matches!(
            plan(PowerOperation::HardRestart, PowerState::Off, &s(FULL)),
            Plan::Refuse(TaskStatus::Failed, _)
        ));
    }

    #[test]
    fn missing_reset_types_are_unsupported() {
        assert!(matches!(
            plan(
                PowerOperation::ForceOff,
                PowerState::On,
                &s(&["On", "GracefulShutdown"])
            ),
            Plan::Refuse(TaskStatus::Unsupported, _)
        ));
        // No advertised list at all: try the preferred action rather than refuse.
        assert!(matches!(
            plan(PowerOperation::On, PowerState::Off, &[]),
            Plan::Steps(_)
        ));
    }

    #[test]
    fn supported_transitions_follow_pcs() {
        let ops = supported_transitions(&s(FULL));
        for op in PowerOperation::ALL {
            assert!(ops.contains(&op), "{op} missing");
        }
        assert_eq!(supported_transitions(&s(&["On"])), vec![PowerOperation::On]);
    }
}
