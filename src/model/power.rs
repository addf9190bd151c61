//! Power: the PCS vocabulary (operations, transitions, tasks, power status) and the pure
//! rules that turn a node's reported state and reset capabilities into Redfish actions.
//!
//! Everything that decides *what* to do is here and synchronous: [`reset`] (which Redfish
//! reset type carries out an intent on a given system: one table, CSM's) and [`plan`] (a PCS
//! task's steps); `operators::power` and the BOS power operators only carry them out. Names and
//! strings follow PCS (docs/pcs.md) so `cray power` clients read them unchanged.

pub mod journal;
pub mod plan;
pub mod reset;

use chrono::{DateTime, Utc};

pub use self::plan::{
    BootOverrideSupport, Confirm, FORCED_CONFIRM_WAIT, Plan, RestartWatch, Step, SystemFacts, plan,
    supported_transitions, supports, unconfirmed,
};
pub use self::reset::{NoReset, ResetIntent, choose};
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
    /// CAPMC's forced reinit (`xname_reinit` with `force`): a `ForceRestart`/`PowerCycle`
    /// reset, or a forced off and an on where the system has neither. Not a PCS operation,
    /// so it is not in [`PowerOperation::ALL`]: PCS clients can neither ask for it nor see it
    /// among `supportedPowerTransitions`.
    ForceRestart,
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

    /// The PCS operations (everything but CAPMC's [`PowerOperation::ForceRestart`]).
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
            PowerOperation::ForceRestart => "Force-Restart",
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
    /// Where a task under way stands (`journal`): kept in the store, never on the wire, and
    /// dropped when the task is done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<journal::TaskJournal>,
}

impl PowerTask {
    pub fn new(xname: String) -> PowerTask {
        PowerTask {
            xname,
            status: TaskStatus::New,
            description: "Task is new".into(),
            error: None,
            updated: None,
            journal: None,
        }
    }

    pub fn failed(xname: String, description: &str, error: String) -> PowerTask {
        PowerTask {
            xname,
            status: TaskStatus::Failed,
            description: description.into(),
            error: Some(error),
            updated: Some(Utc::now()),
            journal: None,
        }
    }
}

/// The last power sample of a node.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PowerSample {
    pub xname: Xname,
    pub state: PowerState,
    /// `false` when the BMC could not be asked.
    pub available: bool,
    pub error: Option<String>,
    pub supported: Vec<PowerOperation>,
    pub updated: DateTime<Utc>,
}
