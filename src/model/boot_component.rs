//! BOS v2 components: each node's actual, desired and staged boot state, its last action,
//! retry counters and phase (docs/bos.md, "Components").
//!
//! A component is what the BOS operators reconcile: a session writes `desired_state`, the
//! node's boot (reported or inferred) fills `actual_state`, and the status operator moves
//! `status.phase` until the two match. The status BOS shows is derived on every read from
//! the phase, the override and the last action ([`BootComponent::derived_status`]), never
//! stored. These are domain types: the wire form lives in `api::bos::types`, the stored
//! row in `store::records`, and both convert to and from these explicitly. How a PUT or
//! PATCH changes a component is `component_patch`.

use chrono::{DateTime, Utc};

use super::bos_state::{Action, Phase, Status, StatusOverride};
use super::names::OrOther;

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BootArtifacts {
    pub kernel: String,
    pub kernel_parameters: String,
    pub initrd: String,
}

impl BootArtifacts {
    pub fn is_empty(&self) -> bool {
        self.kernel.is_empty() && self.kernel_parameters.is_empty() && self.initrd.is_empty()
    }

    /// BOS's comparison: kernel and initrd equal, parameters equal (empty counts as none).
    pub fn matches(&self, other: &BootArtifacts) -> bool {
        self.kernel == other.kernel
            && self.initrd == other.initrd
            && self.kernel_parameters.trim() == other.kernel_parameters.trim()
    }
}

/// What the node booted, as it reported (or as its boot evidence proved).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActualState {
    pub boot_artifacts: BootArtifacts,
    pub bss_token: String,
    pub last_updated: Option<String>,
}

/// What the node should boot and be configured with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesiredState {
    pub boot_artifacts: BootArtifacts,
    pub configuration: String,
    /// The BSS referral token of the boot parameters written for it (power-on).
    pub bss_token: String,
    pub last_updated: Option<String>,
}

/// What a staged session wants for the node, applied by `applystaged`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StagedState {
    pub boot_artifacts: BootArtifacts,
    pub configuration: String,
    pub session: String,
    pub last_updated: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LastAction {
    /// `None` until something acts (an empty action is not in the contract's enum).
    pub action: Option<Action>,
    pub failed: bool,
    pub last_updated: Option<String>,
    /// The action was recorded before its BMC call and the call's outcome is not recorded
    /// yet: the intent half of the power-action journal (operators/bos/journal.rs). Kept in
    /// the store, never on the wire.
    pub unsent: bool,
}

impl LastAction {
    pub fn is_unset(&self) -> bool {
        self.action.is_none() && !self.failed && self.last_updated.is_none()
    }

    pub fn is(&self, action: Action) -> bool {
        self.action == Some(action)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventStats {
    pub power_on_attempts: u32,
    pub power_off_graceful_attempts: u32,
    pub power_off_forceful_attempts: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentStatus {
    pub phase: Phase,
    pub status_override: StatusOverride,
}

/// One BOS component (a node).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootComponent {
    pub id: String,
    pub actual_state: ActualState,
    pub desired_state: DesiredState,
    pub staged_state: StagedState,
    pub last_action: LastAction,
    pub event_stats: EventStats,
    pub status: ComponentStatus,
    pub enabled: bool,
    pub error: String,
    pub session: String,
    pub retry_policy: Option<u32>,
}

/// BOS timestamps: naive ISO-8601, seconds precision, no zone (UTC here).
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Parse a BOS timestamp (naive or with a zone; a zone is dropped, naive means UTC).
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let s = s.trim_end_matches('Z');
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
    .map(|n| n.and_utc())
}

impl BootComponent {
    /// A component as discovery creates it: disabled, empty states.
    pub fn discovered(id: &str, now: DateTime<Utc>) -> BootComponent {
        BootComponent {
            id: id.to_string(),
            last_action: LastAction {
                action: Some(Action::NewlyDiscovered),
                failed: false,
                last_updated: Some(timestamp(now)),
                unsent: false,
            },
            ..Default::default()
        }
    }

    /// The status BOS shows, derived from the override, the phase and the last action.
    pub fn derived_status(&self) -> Status {
        match &self.status.status_override {
            Some(OrOther::Known(s)) => return *s,
            Some(OrOther::Other(_)) => return Status::OnHold,
            None => {}
        }
        match self.status.phase {
            Phase::PoweringOn => {
                if self.last_action.is(Action::PoweringOn) && !self.last_action.failed {
                    Status::PowerOnCalled
                } else {
                    Status::PowerOnPending
                }
            }
            Phase::PoweringOff => match self.last_action.action {
                Some(Action::PoweringOffGracefully) => Status::PowerOffGracefullyCalled,
                Some(Action::PoweringOffForcefully) => Status::PowerOffForcefullyCalled,
                _ => Status::PowerOffPending,
            },
            Phase::Configuring => Status::Configuring,
            Phase::None => Status::Stable,
        }
    }

    /// Whether BOS has given up on driving the node: failed (retries exhausted), or put on
    /// hold by an error (its BMC or the configuration service could not be asked). A node
    /// an admin put on hold, with no error, is not. Sessions count these as failed: BOS
    /// itself counts only `failed`, which let a session of unreachable nodes read 0 % failed
    /// (a difference on purpose, README "BOS differences").
    pub fn undriven(&self) -> bool {
        match self.derived_status() {
            Status::Failed => true,
            Status::OnHold => !self.error.is_empty(),
            _ => false,
        }
    }

    /// Whether the override is the given status.
    pub fn overridden(&self, s: Status) -> bool {
        self.status.status_override == Some(OrOther::Known(s))
    }

    /// Set (or, with `None`, clear) the override.
    pub fn set_override(&mut self, s: Option<Status>) {
        self.status.status_override = s.map(OrOther::Known);
    }

    pub fn desired_off(&self) -> bool {
        self.desired_state.boot_artifacts.kernel.is_empty()
    }

    pub fn last_action_time(&self) -> Option<DateTime<Utc>> {
        self.last_action
            .last_updated
            .as_deref()
            .and_then(parse_timestamp)
    }

    /// Record an action now.
    pub fn act(&mut self, action: Action, now: DateTime<Utc>) {
        self.last_action = LastAction {
            action: Some(action),
            failed: false,
            last_updated: Some(timestamp(now)),
            unsent: false,
        };
    }

    pub fn retry_limit(&self, default: u32) -> u32 {
        self.retry_policy.unwrap_or(default)
    }
}

/// Why a component document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ComponentDocError(pub String);

/// Check the limits of the schema that the types do not (lengths, ranges).
pub fn check(c: &BootComponent) -> Result<(), ComponentDocError> {
    let err = |m: String| Err(ComponentDocError(m));
    if c.id.is_empty() || c.id.chars().count() > 127 {
        return err("id must be 1-127 characters".into());
    }
    let override_len = super::bos_state::override_text(&c.status.status_override)
        .chars()
        .count();
    if c.error.chars().count() > 65536 || override_len > 65536 {
        return err("error and status_override are limited to 65536 characters".into());
    }
    if c.retry_policy.is_some_and(|r| r > 1_048_576) {
        return err("retry_policy must be between 0 and 1048576".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_status_follows_bos() {
        let mut c = BootComponent::discovered("x1", Utc::now());
        assert_eq!(c.derived_status(), Status::Stable);
        c.status.phase = Phase::PoweringOn;
        assert_eq!(c.derived_status(), Status::PowerOnPending);
        c.act(Action::PoweringOn, Utc::now());
        assert_eq!(c.derived_status(), Status::PowerOnCalled);
        c.last_action.failed = true;
        assert_eq!(c.derived_status(), Status::PowerOnPending);
        c.status.phase = Phase::PoweringOff;
        c.act(Action::PoweringOffGracefully, Utc::now());
        assert_eq!(c.derived_status(), Status::PowerOffGracefullyCalled);
        c.act(Action::PoweringOffForcefully, Utc::now());
        assert_eq!(c.derived_status(), Status::PowerOffForcefullyCalled);
        c.act(Action::SessionSetup, Utc::now());
        assert_eq!(c.derived_status(), Status::PowerOffPending);
        c.set_override(Some(Status::Failed));
        assert_eq!(c.derived_status(), Status::Failed);
        c.status.status_override = Some(OrOther::Other("mine".into()));
        assert_eq!(c.derived_status(), Status::OnHold);
    }

    #[test]
    fn timestamps_round_trip() {
        let t = parse_timestamp("2025-06-01T12:34:56").unwrap();
        assert_eq!(timestamp(t), "2025-06-01T12:34:56");
        assert!(parse_timestamp("2025-06-01T12:34:56+02:00").is_some());
        assert!(parse_timestamp("yesterday").is_none());
    }
}
