//! The BOS power-action journal: what makes a crash cost nothing.
//!
//! The power operators record each node's action *before* its BMC call, marked unsent
//! (`LastAction::unsent`), and the call's outcome *after* it, clearing the mark and counting
//! the attempt. So attempts count only calls whose outcome is known: a crash is never a
//! node failure and never uses up a retry budget. A node still marked unsent when no call
//! for it is in flight ([`Calls`]) was left by an interrupted process; [`recover`] reads its
//! BMC and decides with [`after_interruption`] (pure) whether the call took effect (count
//! it, wait for it as usual) or not (drive it again now, free of charge), so a reset the
//! BMC took is never repeated and one it never got is not waited out.
//!
//! [`Calls`] also lets BMC calls outlive the activation that started them: an operator waits
//! a short while for its calls, then returns, and the calls record themselves when they end
//! (a hanging BMC holds up only its own nodes, never the next activation).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use futures::StreamExt;

use super::BosContext;
use crate::model::power::PowerState;
use crate::model::power::reset::TOGGLE;
use crate::model::power::{ResetIntent, choose};
use crate::model::{Action, BootComponent};
use crate::store::{StoreResult, Versioned};

/// The nodes with a BMC call in flight in this process.
#[derive(Default)]
pub struct Calls {
    inflight: Mutex<HashSet<String>>,
    idle: tokio::sync::Notify,
}

impl Calls {
    /// Claim `ids` for a call; returns those not already in flight (now claimed).
    pub fn claim(&self, ids: impl IntoIterator<Item = String>) -> Vec<String> {
        let mut set = self.inflight.lock().expect("calls lock");
        ids.into_iter()
            .filter(|id| set.insert(id.clone()))
            .collect()
    }

    pub fn release<'a>(&self, ids: impl IntoIterator<Item = &'a String>) {
        let mut set = self.inflight.lock().expect("calls lock");
        for id in ids {
            set.remove(id);
        }
        if set.is_empty() {
            self.idle.notify_waiters();
        }
    }

    pub fn busy(&self, id: &str) -> bool {
        self.inflight.lock().expect("calls lock").contains(id)
    }

    pub fn len(&self) -> usize {
        self.inflight.lock().expect("calls lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Wait until no call is in flight, or `grace` has passed (at shutdown: in-flight calls
    /// finish and record their outcome). Returns how many were still in flight.
    pub async fn drain(&self, grace: Duration) -> usize {
        let wait = async {
            loop {
                let idle = self.idle.notified();
                if self.is_empty() {
                    return;
                }
                idle.await;
            }
        };
        let _ = tokio::time::timeout(grace, wait).await;
        self.len()
    }
}

/// Whether an interrupted call took effect, judged from the BMC's power state now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It took (or may have, and repeating it could undo it): count it and wait as usual.
    Took,
    /// It did not: drive the node again now, without counting an attempt.
    NotTaken,
}

/// The pure decision for a node whose `action` was recorded but whose outcome was not.
/// `state`: its power state now; `reset_types`: what its system allows. A power-on took if
/// the node is on or powering on; a power-off took if it is off or on its way, and a
/// graceful one is assumed to have taken when the node's graceful off is the power button
/// (pressing it again could power the node back on; the forceful pass follows if it stays
/// on). An idempotent off (`GracefulShutdown`, `Off`, `ForceOff`) is simply sent again.
pub fn after_interruption(action: Action, state: PowerState, reset_types: &[String]) -> Verdict {
    let moving = matches!(state, PowerState::Transition);
    match action {
        Action::PoweringOn => match state {
            PowerState::Off => Verdict::NotTaken,
            _ => Verdict::Took,
        },
        Action::PoweringOffGracefully => {
            let toggle = choose(ResetIntent::GracefulOff, reset_types).is_ok_and(|r| r == TOGGLE);
            if state == PowerState::Off || moving || toggle {
                Verdict::Took
            } else {
                Verdict::NotTaken
            }
        }
        _ => {
            if state == PowerState::On {
                Verdict::NotTaken
            } else {
                Verdict::Took
            }
        }
    }
}

/// What [`recover`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Recovered {
    pub took: usize,
    pub redriven: usize,
    /// The BMC could not be read: left marked, tried again at the next activation.
    pub unread: usize,
}

impl Recovered {
    pub fn any(&self) -> bool {
        self.took + self.redriven > 0
    }
}

/// Settle the interrupted calls among `comps` whose action is one of `actions`.
pub async fn recover(
    ctx: &BosContext,
    comps: &[Versioned<BootComponent>],
    actions: &[Action],
) -> StoreResult<Recovered> {
    let left: Vec<&BootComponent> = comps
        .iter()
        .map(|v| &v.value)
        .filter(|c| {
            c.last_action.unsent
                && c.last_action.action.is_some_and(|a| actions.contains(&a))
                && !ctx.calls.busy(&c.id)
        })
        .collect();
    if left.is_empty() {
        return Ok(Recovered::default());
    }
    let systems = ctx.systems().await?;
    let driver = &ctx.driver;
    let verdicts: HashMap<String, Verdict> = futures::stream::iter(left)
        .filter_map(|c| {
            let sys = systems.get(&c.id).cloned();
            async move {
                let sys = sys?;
                let action = c.last_action.action?;
                let state = driver.power_state(&sys).await.ok()?;
                Some((
                    c.id.clone(),
                    after_interruption(action, state, &sys.reset_types),
                ))
            }
        })
        .collect()
        .await;
    let mut out = Recovered::default();
    let unread = comps
        .iter()
        .filter(|v| v.value.last_action.unsent && !verdicts.contains_key(&v.value.id))
        .count();
    let ids: HashSet<String> = verdicts.keys().cloned().collect();
    ctx.update(&ids, |c| {
        let Some(v) = verdicts.get(&c.id) else {
            return false;
        };
        if !c.last_action.unsent {
            return false;
        }
        c.last_action.unsent = false;
        match v {
            Verdict::Took => count_attempt(c),
            Verdict::NotTaken => {
                // Back to pending: a power-on whose action failed is pending again; a
                // power-off with no action recorded is.
                if c.last_action.is(Action::PoweringOn) {
                    c.last_action.failed = true;
                } else {
                    c.last_action.action = None;
                }
            }
        }
        true
    })
    .await?;
    for v in verdicts.values() {
        match v {
            Verdict::Took => out.took += 1,
            Verdict::NotTaken => out.redriven += 1,
        }
    }
    out.unread = unread;
    if out.any() {
        tracing::info!(
            took = out.took,
            redriven = out.redriven,
            unread = out.unread,
            "settled power calls an interrupted process left unrecorded"
        );
    }
    Ok(out)
}

/// Count the attempt of the component's last action.
pub fn count_attempt(c: &mut BootComponent) {
    match c.last_action.action {
        Some(Action::PoweringOn) => c.event_stats.power_on_attempts += 1,
        Some(Action::PoweringOffGracefully) => c.event_stats.power_off_graceful_attempts += 1,
        Some(Action::PoweringOffForcefully) => c.event_stats.power_off_forceful_attempts += 1,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_interrupted_power_on_is_redriven_only_while_the_node_is_off() {
        let t = types(&["On", "ForceOff"]);
        assert_eq!(
            after_interruption(Action::PoweringOn, PowerState::Off, &t),
            Verdict::NotTaken
        );
        for s in [PowerState::On, PowerState::Transition] {
            assert_eq!(after_interruption(Action::PoweringOn, s, &t), Verdict::Took);
        }
    }

    #[test]
    fn an_interrupted_power_button_press_is_never_repeated() {
        let button = types(&["On", "PushPowerButton", "ForceOff"]);
        let shutdown = types(&["On", "GracefulShutdown", "ForceOff"]);
        let g = Action::PoweringOffGracefully;
        assert_eq!(
            after_interruption(g, PowerState::On, &button),
            Verdict::Took
        );
        assert_eq!(
            after_interruption(g, PowerState::On, &shutdown),
            Verdict::NotTaken
        );
        assert_eq!(
            after_interruption(g, PowerState::Off, &shutdown),
            Verdict::Took
        );
        let f = Action::PoweringOffForcefully;
        assert_eq!(
            after_interruption(f, PowerState::On, &shutdown),
            Verdict::NotTaken
        );
        assert_eq!(
            after_interruption(f, PowerState::Off, &shutdown),
            Verdict::Took
        );
    }

    #[tokio::test]
    async fn calls_drain_when_the_last_one_is_released() {
        let calls = std::sync::Arc::new(Calls::default());
        let got = calls.claim(["a".to_string(), "b".to_string()]);
        assert_eq!(got.len(), 2);
        assert!(calls.claim(["a".to_string()]).is_empty(), "a is in flight");
        let c2 = calls.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            c2.release(&["a".to_string(), "b".to_string()]);
        });
        assert_eq!(calls.drain(Duration::from_secs(5)).await, 0);
    }
}
