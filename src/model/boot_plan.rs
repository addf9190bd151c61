//! The BOS status state machine (docs/bos.md, "Status operator") as a pure function.
//!
//! Given a component, its power state as the BMC reports it and what the configuration
//! handoff says, [`plan_status`] returns the component as it should be after this pass, or
//! `None` when nothing changes. The status operator only gathers the inputs and writes the
//! result; every decision is here, where it can be tested without a BMC.

use chrono::{DateTime, Utc};

use super::boot_component::{ActualState, BootComponent, EventStats};
use super::bos_state::{Action, Phase, Status};
use super::cfs::{ConfigurationStatus, ReportedStatus};
use super::names::OrOther;
use super::power::PowerState;

/// The configuration service's view of one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigView {
    pub desired_config: String,
    /// As the service reported it (an external CFS may say something this version does
    /// not know; that fails the node with the service's words).
    pub status: ReportedStatus,
}

/// What the status pass learnt about a node's power.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PowerReading {
    State(PowerState),
    /// The BMC could not be asked; the message names it and the cause.
    Unavailable(String),
}

#[derive(Debug, Clone, Copy)]
pub struct Waits {
    pub max_power_on_wait: chrono::Duration,
    pub max_boot_wait: chrono::Duration,
}

/// The next state of an enabled component, or `None` if this pass changes nothing.
pub fn plan_status(
    c: &BootComponent,
    power: &PowerReading,
    config: Option<&ConfigView>,
    waits: Waits,
    now: DateTime<Utc>,
) -> Option<BootComponent> {
    let mut n = c.clone();
    let mut disable = false;
    let mut error = String::new();
    let mut newly_failed = false;
    let phase: Phase;
    match (power, config) {
        (PowerReading::Unavailable(why), _) => {
            n.set_override(Some(Status::OnHold));
            disable = true;
            error = format!("Component information was not returned by the BMC: {why}");
            phase = c.status.phase;
        }
        (_, None) => {
            n.set_override(Some(Status::OnHold));
            disable = true;
            error = "Component information was not returned by cfs".into();
            phase = c.status.phase;
        }
        // A BMC mid-transition: wait for it to settle rather than guess.
        (PowerReading::State(PowerState::Transition), _) => {
            if c.overridden(Status::OnHold) {
                n.set_override(None);
            } else {
                return None;
            }
            phase = c.status.phase;
        }
        (PowerReading::State(state), Some(cfs)) => {
            n.set_override(None);
            if c.derived_status() == Status::Failed {
                n.set_override(Some(Status::Failed));
                disable = true;
            }
            let on = !matches!(state, PowerState::Off);
            let recent_power_on = |t: chrono::Duration| {
                c.last_action.is(Action::PoweringOn)
                    && c.last_action_time().is_some_and(|at| now <= at + t)
            };
            if !on {
                if c.desired_off() {
                    phase = Phase::None;
                    disable = true;
                } else {
                    phase = Phase::PoweringOn;
                    if c.last_action.is(Action::PoweringOn)
                        && !c.last_action.failed
                        && !recent_power_on(waits.max_power_on_wait)
                    {
                        n.last_action.failed = true;
                        newly_failed = true;
                    }
                }
            } else if c.desired_off() {
                phase = Phase::PoweringOff;
            } else if c
                .actual_state
                .boot_artifacts
                .matches(&c.desired_state.boot_artifacts)
            {
                let desired_cfg = &c.desired_state.configuration;
                let status = cfs.status.known();
                if cfs.desired_config != *desired_cfg {
                    phase = Phase::Configuring;
                } else if desired_cfg.is_empty() || status == Some(ConfigurationStatus::Configured)
                {
                    phase = Phase::None;
                    disable = true;
                } else if status == Some(ConfigurationStatus::Failed) {
                    phase = Phase::Configuring;
                    disable = true;
                    n.set_override(Some(Status::Failed));
                    error = "cfs configuration failed".into();
                } else if status == Some(ConfigurationStatus::Pending) {
                    phase = Phase::Configuring;
                } else {
                    phase = Phase::Configuring;
                    disable = true;
                    n.set_override(Some(Status::Failed));
                    let said = match &cfs.status {
                        OrOther::Known(s) => s.as_str(),
                        OrOther::Other(t) => t,
                    };
                    error = format!(
                        "cfs is not reporting a valid configuration status for this component: {said}"
                    );
                }
            } else if recent_power_on(waits.max_boot_wait) {
                phase = Phase::PoweringOn;
            } else {
                phase = Phase::PoweringOff;
            }
        }
    }
    if phase != c.status.phase {
        if c.status.phase == Phase::PoweringOff {
            n.actual_state = ActualState::default();
        }
        n.status.phase = phase;
    }
    if phase == Phase::None {
        n.event_stats = EventStats::default();
    }
    if disable {
        n.enabled = false;
    }
    if !error.is_empty() && error != c.error {
        n.error = error;
    }
    if newly_failed {
        n.last_action.failed = true;
    }
    (n != *c).then_some(n)
}

/// [`plan_status`] when the configuration service could not be asked: every node's
/// configuration counts as still pending (an outage fails or disables nothing), and a node
/// left waiting in `configuring` carries `why` as its error until the service answers.
pub fn plan_status_config_unavailable(
    c: &BootComponent,
    power: &PowerReading,
    why: &str,
    waits: Waits,
    now: DateTime<Utc>,
) -> Option<BootComponent> {
    let pending = ConfigView {
        desired_config: c.desired_state.configuration.clone(),
        status: OrOther::Known(ConfigurationStatus::Pending),
    };
    let mut n = plan_status(c, power, Some(&pending), waits, now).unwrap_or_else(|| c.clone());
    if n.enabled && n.status.phase == Phase::Configuring && n.error.is_empty() {
        n.error = why.to_string();
    }
    (n != *c).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::boot_component::{BootArtifacts, timestamp};

    fn waits() -> Waits {
        Waits {
            max_power_on_wait: chrono::Duration::seconds(120),
            max_boot_wait: chrono::Duration::seconds(1200),
        }
    }

    fn arts(k: &str) -> BootArtifacts {
        BootArtifacts {
            kernel: k.into(),
            kernel_parameters: "console=ttyS0".into(),
            initrd: "i".into(),
        }
    }

    fn booting(now: DateTime<Utc>) -> BootComponent {
        let mut c = BootComponent::discovered("x1", now);
        c.enabled = true;
        c.session = "s".into();
        c.desired_state.boot_artifacts = arts("k");
        c.act(Action::SessionSetup, now);
        c
    }

    fn cfg(desired: &str, status: &str) -> ConfigView {
        ConfigView {
            desired_config: desired.into(),
            status: status.into(),
        }
    }

    fn on() -> PowerReading {
        PowerReading::State(PowerState::On)
    }
    fn off() -> PowerReading {
        PowerReading::State(PowerState::Off)
    }

    #[test]
    fn off_node_with_artifacts_powers_on_and_retries_after_the_wait() {
        let now = Utc::now();
        let c = booting(now);
        let n = plan_status(&c, &off(), Some(&cfg("", "configured")), waits(), now).unwrap();
        assert_eq!(n.status.phase, "powering_on");
        assert_eq!(n.derived_status(), "power_on_pending");
        let mut called = n.clone();
        called.act(Action::PoweringOn, now - chrono::Duration::seconds(200));
        let f = plan_status(&called, &off(), Some(&cfg("", "configured")), waits(), now).unwrap();
        assert!(f.last_action.failed);
        assert_eq!(f.derived_status(), "power_on_pending");
        // Within the wait: nothing changes.
        called.act(Action::PoweringOn, now);
        assert!(plan_status(&called, &off(), Some(&cfg("", "configured")), waits(), now).is_none());
    }

    #[test]
    fn matching_artifacts_without_configuration_is_stable() {
        let now = Utc::now();
        let mut c = booting(now);
        c.status.phase = "powering_on".into();
        c.actual_state.boot_artifacts = arts("k");
        c.event_stats.power_on_attempts = 1;
        let n = plan_status(&c, &on(), Some(&cfg("", "configured")), waits(), now).unwrap();
        assert_eq!((n.status.phase.as_str(), n.enabled), ("", false));
        assert_eq!(n.derived_status(), "stable");
        assert_eq!(n.event_stats, EventStats::default());
    }

    #[test]
    fn wrong_artifacts_on_reboots_unless_recently_powered_on() {
        let now = Utc::now();
        let mut c = booting(now);
        c.actual_state.boot_artifacts = arts("old");
        let n = plan_status(&c, &on(), Some(&cfg("", "configured")), waits(), now).unwrap();
        assert_eq!(n.status.phase, "powering_off");
        c.status.phase = "powering_on".into();
        c.act(Action::PoweringOn, now);
        assert!(plan_status(&c, &on(), Some(&cfg("", "configured")), waits(), now).is_none());
        c.last_action.last_updated = Some(timestamp(now - chrono::Duration::seconds(1300)));
        let n = plan_status(&c, &on(), Some(&cfg("", "configured")), waits(), now).unwrap();
        assert_eq!(n.status.phase, "powering_off");
    }

    #[test]
    fn leaving_powering_off_clears_actual_state() {
        let now = Utc::now();
        let mut c = booting(now);
        c.status.phase = "powering_off".into();
        c.actual_state.boot_artifacts = arts("old");
        let n = plan_status(&c, &off(), Some(&cfg("", "configured")), waits(), now).unwrap();
        assert_eq!(n.status.phase, "powering_on");
        assert!(n.actual_state.boot_artifacts.is_empty());
    }

    #[test]
    fn shutdown_finishes_when_off() {
        let now = Utc::now();
        let mut c = booting(now);
        c.desired_state.boot_artifacts = BootArtifacts::default();
        let n = plan_status(&c, &on(), Some(&cfg("", "configured")), waits(), now).unwrap();
        assert_eq!(n.status.phase, "powering_off");
        let n = plan_status(&n, &off(), Some(&cfg("", "configured")), waits(), now).unwrap();
        assert_eq!((n.status.phase.as_str(), n.enabled), ("", false));
    }

    #[test]
    fn a_configuration_outage_waits_and_says_why() {
        let now = Utc::now();
        let mut c = booting(now);
        c.desired_state.configuration = "site".into();
        c.actual_state.boot_artifacts = c.desired_state.boot_artifacts.clone();
        let why = "configuration status unavailable: CFS GET http://cfs/v3/components: refused";
        let n = plan_status_config_unavailable(&c, &on(), why, waits(), now).unwrap();
        assert_eq!((n.status.phase.as_str(), n.enabled), ("configuring", true));
        assert_eq!(n.error, why);
        assert_eq!(
            n.derived_status(),
            "configuring",
            "nothing fails for an outage"
        );
        // Once written, the next pass changes nothing.
        assert!(plan_status_config_unavailable(&n, &on(), why, waits(), now).is_none());
        // Without a configuration, booted is done whatever CFS says.
        c.desired_state.configuration.clear();
        let n = plan_status_config_unavailable(&c, &on(), why, waits(), now).unwrap();
        assert_eq!(
            (n.status.phase.as_str(), n.enabled, n.error.as_str()),
            ("", false, "")
        );
    }

    #[test]
    fn configuration_outcomes() {
        let now = Utc::now();
        let mut c = booting(now);
        c.desired_state.configuration = "site".into();
        c.actual_state.boot_artifacts = arts("k");
        let n = plan_status(&c, &on(), Some(&cfg("", "unconfigured")), waits(), now).unwrap();
        assert_eq!(n.status.phase, "configuring");
        let n = plan_status(&c, &on(), Some(&cfg("site", "pending")), waits(), now).unwrap();
        assert_eq!((n.status.phase.as_str(), n.enabled), ("configuring", true));
        let n = plan_status(&c, &on(), Some(&cfg("site", "failed")), waits(), now).unwrap();
        assert_eq!(n.derived_status(), "failed");
        assert_eq!(n.error, "cfs configuration failed");
        assert!(!n.enabled);
        let n = plan_status(&c, &on(), Some(&cfg("site", "configured")), waits(), now).unwrap();
        assert_eq!(n.derived_status(), "stable");
        assert!(!n.enabled);
    }

    #[test]
    fn unreachable_bmc_holds_and_disables() {
        let now = Utc::now();
        let c = booting(now);
        let n = plan_status(
            &c,
            &PowerReading::Unavailable("bmc 127.0.0.1:1: connection refused".into()),
            Some(&cfg("", "configured")),
            waits(),
            now,
        )
        .unwrap();
        assert_eq!(n.derived_status(), "on_hold");
        assert!(!n.enabled);
        assert!(n.error.contains("connection refused"));
    }

    #[test]
    fn a_failed_component_is_disabled() {
        let now = Utc::now();
        let mut c = booting(now);
        c.set_override(Some(Status::Failed));
        let n = plan_status(&c, &off(), Some(&cfg("", "configured")), waits(), now).unwrap();
        assert!(!n.enabled);
        assert_eq!(n.derived_status(), "failed");
    }
}
