//! One simulated ComputerSystem's power and boot override: what a reset does, in what steps.
//!
//! Transitions are *lazy*: a reset with a delay stores the steps a client should see meanwhile
//! (`PoweringOn`, `PoweringOff`, `Off` in the middle of a restart), each with its deadline, and
//! the final state; every read settles the steps whose deadline has passed. No timer task exists
//! per system, so one process can host tens of thousands of systems for the price of their
//! memory ([`super::state`] adds timers only for systems someone watches).
//!
//! The reset vocabulary is the union of what real BMCs accept: the Redfish `ResetType` values
//! plus Cray EX's `Off`, which is its *graceful* off (an EX node controller allows `On`, `Off`,
//! `ForceOff`). Which of them a system accepts is decided before this module is reached (from
//! the system's AllowableValues or ActionInfo); here every type has one meaning.

use std::borrow::Cow;
use std::time::Duration;

use tokio::time::Instant;

use super::PowerEvent;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Power {
    On,
    Off,
    PoweringOn,
    PoweringOff,
}

impl Power {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Power::On => "On",
            Power::Off => "Off",
            Power::PoweringOn => "PoweringOn",
            Power::PoweringOff => "PoweringOff",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Power> {
        Some(match s {
            "On" => Power::On,
            "Off" => Power::Off,
            "PoweringOn" => Power::PoweringOn,
            "PoweringOff" => Power::PoweringOff,
            _ => return None,
        })
    }

    /// On, or on its way there: asking for On again changes nothing.
    fn is_on_or_rising(self) -> bool {
        matches!(self, Power::On | Power::PoweringOn)
    }
}

/// At most this many visible steps before a transition lands (a graceful restart has two).
const MAX_STEPS: usize = 2;

/// A transition in flight: `steps[step..]` are shown in turn, each until its deadline, then
/// the system lands in `target`.
#[derive(Clone, Copy, Debug)]
struct Pending {
    steps: [(Power, Instant); MAX_STEPS],
    len: usize,
    step: usize,
    target: Power,
    /// Landing in `target` is a power-on (consumes a `Once` boot override).
    powers_on: bool,
}

impl Pending {
    fn shown(&self) -> Power {
        self.steps[self.step].0
    }

    fn at(&self) -> Instant {
        self.steps[self.step].1
    }
}

/// The boot override: the three values as the system reports them. Borrowed for the synthetic
/// systems (the values come from fixed lists), owned for replayed ones (from the tree).
#[derive(Clone, Debug)]
pub(crate) struct BootOverride {
    pub(crate) enabled: Cow<'static, str>,
    pub(crate) target: Cow<'static, str>,
    pub(crate) mode: Cow<'static, str>,
}

impl Default for BootOverride {
    fn default() -> BootOverride {
        BootOverride {
            enabled: Cow::Borrowed("Disabled"),
            target: Cow::Borrowed("None"),
            mode: Cow::Borrowed("UEFI"),
        }
    }
}

/// One ComputerSystem. Kept small: a fleet may hold 10,000 of these.
#[derive(Debug)]
pub(crate) struct System {
    power: Power,
    pending: Option<Pending>,
    pub(crate) boot: BootOverride,
    /// Bumped on every visible change; the ETag is `W/"<generation>"`.
    generation: u64,
    /// Power-ons so far: every landing that powers the host on (restarts included).
    power_ons: u64,
    /// Present once someone has asked to watch this system's power.
    pub(crate) events: Option<tokio::sync::watch::Sender<PowerEvent>>,
    /// The deadline a timer task is already sleeping towards (watched systems only).
    pub(crate) timer_at: Option<Instant>,
}

impl System {
    pub(crate) fn new(power: Power, boot: BootOverride) -> System {
        System {
            power,
            pending: None,
            boot,
            generation: 1,
            power_ons: 0,
            events: None,
            timer_at: None,
        }
    }

    /// What a watcher of this system sees now (call [`System::settle`] first).
    pub(crate) fn event(&self) -> PowerEvent {
        PowerEvent {
            state: self.visible().as_str(),
            power_ons: self.power_ons,
        }
    }

    /// The deadline of the step shown now, if a transition is in flight.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.pending.map(|p| p.at())
    }

    /// Advance through the steps whose deadline has passed, landing the transition at the end.
    pub(crate) fn settle(&mut self, now: Instant) {
        while let Some(mut p) = self.pending
            && now >= p.at()
        {
            if p.step + 1 < p.len {
                p.step += 1;
                self.pending = Some(p);
                self.touch();
            } else {
                self.pending = None;
                self.land(p.target, p.powers_on);
            }
        }
    }

    /// The state a client sees (call [`System::settle`] first).
    pub(crate) fn visible(&self) -> Power {
        self.pending.map_or(self.power, |p| p.shown())
    }

    pub(crate) fn etag(&self) -> String {
        format!("W/\"{}\"", self.generation)
    }

    pub(crate) fn touch(&mut self) {
        self.generation += 1;
    }

    fn land(&mut self, target: Power, powers_on: bool) {
        self.power = target;
        if powers_on {
            self.power_ons += 1;
            if self.boot.enabled == "Once" {
                // Real BMCs consume a one-shot override when the host next boots.
                self.boot.enabled = Cow::Borrowed("Disabled");
            }
        }
        self.touch();
    }

    /// Cancel anything in flight and go to `target` now.
    pub(crate) fn force(&mut self, target: Power, powers_on: bool) {
        self.pending = None;
        self.land(target, powers_on);
    }

    /// Show `steps` in turn, splitting `delay` evenly between them, then land in `target`;
    /// with no delay, land now.
    fn begin(
        &mut self,
        steps: &[Power],
        target: Power,
        powers_on: bool,
        delay: Duration,
        now: Instant,
    ) {
        if delay.is_zero() || steps.is_empty() {
            self.force(target, powers_on);
            return;
        }
        let share = delay / steps.len() as u32;
        let mut p = Pending {
            steps: [(Power::Off, now); MAX_STEPS],
            len: steps.len().min(MAX_STEPS),
            step: 0,
            target,
            powers_on,
        };
        for (i, s) in steps.iter().take(MAX_STEPS).enumerate() {
            p.steps[i] = (*s, now + share * (i as u32 + 1));
        }
        self.pending = Some(p);
        self.touch();
    }

    /// Apply an accepted ResetType. Restarts (ForceRestart, PowerCycle, GracefulRestart) pass
    /// through Off and come back On, taking `delay` in all; with no delay they are instant and
    /// only the power-on count shows them. Types this simulator gives no meaning to (Nmi,
    /// Suspend, ...) are accepted and change nothing.
    pub(crate) fn reset(
        &mut self,
        reset_type: &str,
        delay: Duration,
        ignore_graceful: bool,
        now: Instant,
    ) {
        use Power::{Off, On, PoweringOff, PoweringOn};
        let v = self.visible();
        match reset_type {
            "On" if !v.is_on_or_rising() => self.begin(&[PoweringOn], On, true, delay, now),
            "ForceOn" if v != On => self.force(On, true),
            "ForceOff" if v != Off => self.force(Off, false),
            // Cray EX's `Off` is its graceful off.
            "GracefulShutdown" | "Off" if !ignore_graceful && v.is_on_or_rising() => {
                self.begin(&[PoweringOff], Off, false, delay, now)
            }
            "ForceRestart" | "PowerCycle" => self.begin(&[Off], On, true, delay, now),
            "GracefulRestart" if !ignore_graceful => {
                self.begin(&[PoweringOff, Off], On, true, delay, now)
            }
            "PushPowerButton" if v.is_on_or_rising() && !ignore_graceful => {
                self.begin(&[PoweringOff], Off, false, delay, now)
            }
            "PushPowerButton" if !v.is_on_or_rising() => {
                self.begin(&[PoweringOn], On, true, delay, now)
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system(power: Power) -> System {
        System::new(power, BootOverride::default())
    }

    #[test]
    fn lazy_transition_lands_after_deadline_and_consumes_once() {
        let mut s = system(Power::Off);
        s.boot.enabled = "Once".into();
        let t0 = Instant::now();
        s.reset("On", Duration::from_secs(5), false, t0);
        assert_eq!(s.visible(), Power::PoweringOn);
        let tag = s.etag();
        s.settle(t0 + Duration::from_secs(1));
        assert_eq!(s.visible(), Power::PoweringOn);
        assert_eq!(s.boot.enabled, "Once");
        s.settle(t0 + Duration::from_secs(5));
        assert_eq!(s.visible(), Power::On);
        assert_eq!(s.boot.enabled, "Disabled");
        assert_ne!(s.etag(), tag);
    }

    #[test]
    fn graceful_is_ignored_when_asked() {
        let mut s = system(Power::On);
        s.reset("GracefulShutdown", Duration::ZERO, true, Instant::now());
        assert_eq!(s.visible(), Power::On);
        s.reset("GracefulShutdown", Duration::ZERO, false, Instant::now());
        assert_eq!(s.visible(), Power::Off);
    }

    #[test]
    fn cray_off_is_graceful() {
        let mut s = system(Power::On);
        let t0 = Instant::now();
        s.reset("Off", Duration::from_secs(2), true, t0);
        assert_eq!(s.visible(), Power::On, "ignored like any graceful off");
        s.reset("Off", Duration::from_secs(2), false, t0);
        assert_eq!(s.visible(), Power::PoweringOff);
        s.settle(t0 + Duration::from_secs(2));
        assert_eq!(s.visible(), Power::Off);
    }

    #[test]
    fn restarts_pass_through_off_and_come_back_on() {
        let t0 = Instant::now();
        let d = Duration::from_secs(4);
        let mut s = system(Power::On);
        s.reset("GracefulRestart", d, false, t0);
        assert_eq!(s.visible(), Power::PoweringOff);
        s.settle(t0 + Duration::from_secs(2));
        assert_eq!(s.visible(), Power::Off);
        s.settle(t0 + d);
        assert_eq!((s.visible(), s.event().power_ons), (Power::On, 1));
        for t in ["ForceRestart", "PowerCycle"] {
            let mut s = system(Power::On);
            s.reset(t, d, false, t0);
            assert_eq!(s.visible(), Power::Off, "{t}");
            s.settle(t0 + d);
            assert_eq!((s.visible(), s.event().power_ons), (Power::On, 1), "{t}");
        }
        // Without a delay, only the count shows a restart.
        let mut s = system(Power::On);
        s.reset("ForceRestart", Duration::ZERO, false, t0);
        assert_eq!((s.visible(), s.event().power_ons), (Power::On, 1));
    }
}
