//! The PCS task journal: where a multi-step transition stands, kept on the task so that a
//! restart resumes it at its step instead of planning it again from what the node reads now
//! (a `hard-restart` interrupted after its graceful off would otherwise be refused: "must be
//! in the On state").
//!
//! Before each reset the runner records the plan, the step, the reset about to be sent and
//! the restart markers read before it (durably: the send waits for the write), then marks it
//! sent after the BMC took it. [`resume`] decides, purely, from that record and one reading
//! of the system now, what an interrupted task does next: the step is already reached, or its
//! reset was sent (confirm it), or it was probably never received (send it again — except a
//! power-button press, which toggles and is never repeated).

use serde::{Deserialize, Serialize};

use super::PowerState;
use super::plan::{Confirm, Step};
use super::reset::TOGGLE;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskJournal {
    /// The plan as first made.
    pub steps: Vec<Step>,
    /// The step under way.
    pub step: usize,
    /// The reset of that step being sent: its own, or its forced fallback (`escalated`).
    pub reset: String,
    #[serde(default)]
    pub escalated: bool,
    /// The BMC took the reset (false: recorded before the send, outcome unknown).
    #[serde(default)]
    pub sent: bool,
    /// The restart markers read just before the reset (what a restart is confirmed against).
    #[serde(default)]
    pub before: Vec<(String, String)>,
}

/// What an interrupted task does at its recorded step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// The step's goal already reads true: go on to the next step.
    Reached,
    /// The reset was (or may have been, and repeating it could undo it) taken: confirm it.
    Confirm,
    /// The reset never reached the BMC: send it again.
    Send,
}

/// Decide from the journal and the system's state and restart markers now.
pub fn resume(j: &TaskJournal, state: PowerState, markers: &[(String, String)]) -> Resume {
    let Some(step) = j.steps.get(j.step) else {
        return Resume::Reached;
    };
    let moved = !markers.is_empty()
        && markers.iter().any(|(k, v)| {
            j.before
                .iter()
                .find(|(bk, _)| bk == k)
                .is_none_or(|(_, bv)| bv != v)
        });
    let reached = match step.confirm {
        Confirm::On => state == PowerState::On,
        Confirm::Off => state == PowerState::Off,
        Confirm::Restarted => state == PowerState::On && moved,
    };
    if reached {
        return Resume::Reached;
    }
    if j.sent || state == PowerState::Transition || j.reset == TOGGLE {
        return Resume::Confirm;
    }
    Resume::Send
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(confirm: Confirm, reset: &str, sent: bool) -> TaskJournal {
        TaskJournal {
            steps: vec![
                Step {
                    reset: "GracefulShutdown".into(),
                    confirm: Confirm::Off,
                    fallback: Some("ForceOff".into()),
                    boot_before: false,
                },
                Step {
                    reset: reset.into(),
                    confirm,
                    fallback: None,
                    boot_before: true,
                },
            ],
            step: 1,
            reset: reset.into(),
            escalated: false,
            sent,
            before: vec![("/LastResetTime".into(), "t0".into())],
        }
    }

    #[test]
    fn a_hard_restart_interrupted_after_its_off_resumes_at_its_on() {
        // Off reached, the On recorded but not known sent, the node still off: send the On.
        let j = journal(Confirm::On, "On", false);
        assert_eq!(resume(&j, PowerState::Off, &[]), Resume::Send);
        // It was sent: confirm, never send a second On.
        let j = journal(Confirm::On, "On", true);
        assert_eq!(resume(&j, PowerState::Off, &[]), Resume::Confirm);
        assert_eq!(resume(&j, PowerState::On, &[]), Resume::Reached);
        // Powering on already: it took.
        let j = journal(Confirm::On, "On", false);
        assert_eq!(resume(&j, PowerState::Transition, &[]), Resume::Confirm);
    }

    #[test]
    fn a_restart_is_reached_only_when_a_marker_moved() {
        let j = journal(Confirm::Restarted, "ForceRestart", false);
        let same = [("/LastResetTime".to_string(), "t0".to_string())];
        let moved = [("/LastResetTime".to_string(), "t1".to_string())];
        assert_eq!(resume(&j, PowerState::On, &moved), Resume::Reached);
        assert_eq!(resume(&j, PowerState::On, &same), Resume::Send);
        let j = journal(Confirm::Restarted, "ForceRestart", true);
        assert_eq!(resume(&j, PowerState::On, &same), Resume::Confirm);
    }

    #[test]
    fn a_power_button_press_is_never_repeated() {
        let mut j = journal(Confirm::Off, TOGGLE, false);
        j.step = 0;
        j.steps[0].reset = TOGGLE.into();
        assert_eq!(resume(&j, PowerState::On, &[]), Resume::Confirm);
        assert_eq!(resume(&j, PowerState::Off, &[]), Resume::Reached);
    }

    #[test]
    fn the_journal_round_trips_through_json() {
        let j = journal(Confirm::Restarted, "ForceRestart", true);
        let back: TaskJournal = serde_json::from_str(&serde_json::to_string(&j).unwrap()).unwrap();
        assert_eq!(back, j);
    }
}
