//! The names of BOS v2's component and session state machine (docs/bos.md): a component's
//! phase, its derived status, the last action taken on it, a session's operation and status.
//!
//! Each is a [`named_enum!`](super::names) spelled exactly as BOS spells it, so the wire
//! and the stored rows keep their text while the code matches on variants.

use super::names::{OrOther, named_enum};

named_enum! {
    /// Where a component is in its boot: what the status operator decides from its power
    /// state, its actual and desired state and its configuration.
    pub enum Phase("status.phase", "configuring, powering_off, powering_on or empty") {
        /// Nothing to do (the contract's empty string).
        None = "",
        PoweringOn = "powering_on",
        PoweringOff = "powering_off",
        Configuring = "configuring",
    }
}

// The macro's enums derive no Default (most have none); a phase's is "nothing to do".
#[allow(clippy::derivable_impls)]
impl Default for Phase {
    fn default() -> Phase {
        Phase::None
    }
}

named_enum! {
    /// A component's status as BOS derives it from the phase, the override and the last
    /// action (`BootComponent::derived_status`); also what a client may set as an override.
    pub enum Status("status", "power_on_pending, power_on_called, power_off_pending, power_off_gracefully_called, power_off_forcefully_called, configuring, stable, failed, on_hold") {
        PowerOnPending = "power_on_pending",
        PowerOnCalled = "power_on_called",
        PowerOffPending = "power_off_pending",
        PowerOffGracefullyCalled = "power_off_gracefully_called",
        PowerOffForcefullyCalled = "power_off_forcefully_called",
        Configuring = "configuring",
        Stable = "stable",
        Failed = "failed",
        OnHold = "on_hold",
    }
}

named_enum! {
    /// The last thing an operator (or applystaged) did to a component.
    pub enum Action("last_action.action", "actual_state_cleanup, apply_staged, newly_discovered, powering_off_forcefully, powering_off_gracefully, powering_on, session_setup") {
        ActualStateCleanup = "actual_state_cleanup",
        ApplyStaged = "apply_staged",
        NewlyDiscovered = "newly_discovered",
        PoweringOffForcefully = "powering_off_forcefully",
        PoweringOffGracefully = "powering_off_gracefully",
        PoweringOn = "powering_on",
        SessionSetup = "session_setup",
    }
}

named_enum! {
    /// What a session does to its nodes.
    pub enum Operation("operation", "boot, reboot or shutdown") {
        Boot = "boot",
        Reboot = "reboot",
        Shutdown = "shutdown",
    }
}

impl Operation {
    /// BOS accepts the operation in any case (`Boot`, `REBOOT`).
    pub fn parse_any_case(s: &str) -> Option<Operation> {
        Operation::parse(&s.to_ascii_lowercase())
    }
}

named_enum! {
    /// Where a session is: recorded, set up and acting, or done.
    pub enum SessionStatus("status", "pending, running or complete") {
        Pending = "pending",
        Running = "running",
        Complete = "complete",
    }
}

/// A component's `status_override`: empty (none), one of the statuses, or any other text a
/// client wrote (kept as written; BOS treats it as `on_hold`).
pub type StatusOverride = Option<OrOther<Status>>;

/// The override as the contract spells it ("" for none).
pub fn override_text(o: &StatusOverride) -> &str {
    match o {
        None => "",
        Some(OrOther::Known(s)) => s.as_str(),
        Some(OrOther::Other(t)) => t,
    }
}

/// The override a client's text stands for ("" is none).
pub fn parse_override(text: &str) -> StatusOverride {
    match text {
        "" => None,
        t => Some(Status::parse(t).map_or_else(|| OrOther::Other(t.to_string()), OrOther::Known)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_refusals_name_the_field() {
        for p in Phase::ALL {
            assert_eq!(Phase::parse(p.as_str()), Some(*p));
        }
        assert_eq!(serde_json::to_value(Phase::None).unwrap(), "");
        assert_eq!(
            serde_json::from_value::<Phase>("powering_on".into()).unwrap(),
            Phase::PoweringOn
        );
        let e = serde_json::from_value::<Phase>("dancing".into()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("status.phase 'dancing' is not one of"),
            "{e}"
        );
        assert_eq!(Operation::parse_any_case("ReBoot"), Some(Operation::Reboot));
        assert_eq!(
            parse_override("on_hold"),
            Some(OrOther::Known(Status::OnHold))
        );
        assert_eq!(override_text(&parse_override("mine")), "mine");
        assert_eq!(parse_override(""), None);
    }
}
