//! The latest power sample of every node with a BMC: one shared, fresh-enough view of power
//! state, so BMCs are asked as little as possible.
//!
//! Written by the power monitor (every node, every `power_sample_secs`), by the transition
//! runner, by the BOS operators when they had to ask a BMC, and by BMC events where a BMC
//! sends them; read by power-status calls and the BOS operators, so any number of status
//! calls costs the BMCs nothing. Whoever sends a node a reset says so
//! ([`PowerCache::acted`]), and a sample taken before that is no longer fresh
//! ([`PowerCache::fresh`]): a state from before a reset is never trusted. A node whose BMC
//! streams events is *watched* while its stream is open: its sample is current until an
//! event says otherwise, so readers take it as it is, and the monitor polls it only rarely,
//! in case a BMC loses an event. A leaf of the power
//! seam so that both the operators that fill it and the use cases that read it can hold it
//! without holding each other.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use chrono::{DateTime, Utc};

use super::SystemRef;
use crate::model::Xname;
use crate::model::power::{PowerSample, PowerState, supported_transitions};

/// The sample of one answer (or failure) of `x`'s BMC about its system `sys`, read at `now`.
pub fn sample(
    x: &Xname,
    sys: &SystemRef,
    read: Result<PowerState, String>,
    now: DateTime<Utc>,
) -> PowerSample {
    let (state, available, error) = match read {
        Ok(s) => (s, true, None),
        Err(e) => (PowerState::Undefined, false, Some(e)),
    };
    PowerSample {
        xname: x.clone(),
        state,
        available,
        error,
        supported: supported_transitions(&sys.reset_types),
        updated: now,
    }
}

/// Where new samples are told (`PowerCache::relay_to`).
type SampleRelay = Box<dyn Fn(&PowerSample) + Send + Sync>;

/// The latest power sample of every node with a BMC, and when each was last acted on.
#[derive(Default)]
pub struct PowerCache {
    samples: RwLock<HashMap<Xname, PowerSample>>,
    /// Told of every sample that says something new (`cluster::bus`: the leader's samples
    /// reach the followers' power-status views).
    relay: std::sync::OnceLock<SampleRelay>,
    acted: RwLock<HashMap<Xname, DateTime<Utc>>>,
    watched: RwLock<HashSet<Xname>>,
}

/// How many monitor periods a watched node's sample may age before the monitor reads it.
const WATCHED_PERIODS: i32 = 10;

impl PowerCache {
    pub fn put(&self, sample: PowerSample) {
        if let Some(relay) = self.relay.get() {
            let news = self
                .samples
                .read()
                .expect("power cache lock")
                .get(&sample.xname)
                .is_none_or(|old| {
                    (old.state, old.available, &old.error, &old.supported)
                        != (
                            sample.state,
                            sample.available,
                            &sample.error,
                            &sample.supported,
                        )
                });
            if news {
                relay(&sample);
            }
        }
        self.put_here(sample);
    }

    /// Keep a sample another replica took (not relayed again).
    pub fn put_here(&self, sample: PowerSample) {
        self.samples
            .write()
            .expect("power cache lock")
            .insert(sample.xname.clone(), sample);
    }

    /// Tell `f` of every sample that changes what a node's power says (set once).
    pub fn relay_to(&self, f: impl Fn(&PowerSample) + Send + Sync + 'static) {
        let _ = self.relay.set(Box::new(f));
    }

    pub fn get(&self, x: &Xname) -> Option<PowerSample> {
        self.samples
            .read()
            .expect("power cache lock")
            .get(x)
            .cloned()
    }

    /// `x` was sent a reset (or a boot override) at `at`.
    pub fn acted(&self, x: &Xname, at: DateTime<Utc>) {
        self.acted
            .write()
            .expect("power cache lock")
            .insert(x.clone(), at);
    }

    /// `nodes`' BMC streams events now (or, with `on` false, no longer does).
    pub fn set_watched(&self, nodes: &[Xname], on: bool) {
        let mut w = self.watched.write().expect("power cache lock");
        for x in nodes {
            if on {
                w.insert(x.clone());
            } else {
                w.remove(x);
            }
        }
    }

    pub fn is_watched(&self, x: &Xname) -> bool {
        self.watched.read().expect("power cache lock").contains(x)
    }

    /// Whether the power monitor, passing every `period`, should read `x` now: a watched node
    /// when its sample is `WATCHED_PERIODS` periods old, any other when nobody read it in the
    /// last half period.
    pub fn needs_sample(&self, x: &Xname, period: chrono::Duration, now: DateTime<Utc>) -> bool {
        if self.is_watched(x) {
            return self
                .get(x)
                .is_none_or(|s| !s.available || now - s.updated >= period * WATCHED_PERIODS);
        }
        self.fresh(x, period / 2, now, None).is_none()
    }

    /// A watched node's latest answered sample, whatever its age (an event would have said
    /// otherwise). Otherwise, the sample of `x` if it can be trusted at `now`: the BMC answered, it is at most
    /// `max_age` old, taken after the node was last acted on, and after `since` (a reader's
    /// own bound, e.g. "on since the boot was proven").
    pub fn fresh(
        &self,
        x: &Xname,
        max_age: chrono::Duration,
        now: DateTime<Utc>,
        since: Option<DateTime<Utc>>,
    ) -> Option<PowerSample> {
        if self.is_watched(x) {
            return self.get(x).filter(|s| s.available);
        }
        let acted = self.acted.read().expect("power cache lock").get(x).copied();
        let all = self.samples.read().expect("power cache lock");
        let s = all.get(x)?;
        let after = |t: Option<DateTime<Utc>>| t.is_none_or(|t| s.updated > t);
        (s.available && now - s.updated <= max_age && after(acted) && after(since))
            .then(|| s.clone())
    }

    /// Drop samples of nodes that no longer have a BMC.
    pub fn retain(&self, keep: impl Fn(&Xname) -> bool) {
        self.samples
            .write()
            .expect("power cache lock")
            .retain(|x, _| keep(x));
        self.acted
            .write()
            .expect("power cache lock")
            .retain(|x, _| keep(x));
        self.watched
            .write()
            .expect("power cache lock")
            .retain(|x| keep(x));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_samples_that_say_something_new_are_relayed() {
        let told = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let cache = PowerCache::default();
        cache.relay_to({
            let told = told.clone();
            move |s: &PowerSample| told.lock().unwrap().push(s.available)
        });
        let x = Xname::parse("x3000c0s0b0n0").unwrap();
        let t = Utc::now();
        cache.put(at(&x, t, true));
        cache.put(at(&x, t + chrono::Duration::seconds(30), true));
        cache.put(at(&x, t + chrono::Duration::seconds(60), false));
        cache.put_here(at(&x, t + chrono::Duration::seconds(90), true));
        assert_eq!(
            *told.lock().unwrap(),
            [true, false],
            "new, unchanged, changed, remote"
        );
        assert!(cache.get(&x).unwrap().available, "a remote sample is kept");
    }

    fn at(x: &Xname, t: DateTime<Utc>, available: bool) -> PowerSample {
        PowerSample {
            xname: x.clone(),
            state: PowerState::On,
            available,
            error: None,
            supported: Vec::new(),
            updated: t,
        }
    }

    #[test]
    fn fresh_samples_only_within_their_age_and_after_actions() {
        let c = PowerCache::default();
        let x = Xname::parse("x1c0s0b0n0").unwrap();
        let t = Utc::now();
        let max = chrono::Duration::seconds(30);
        let ms = chrono::Duration::milliseconds;
        assert!(c.fresh(&x, max, t, None).is_none(), "nothing sampled yet");
        c.put(at(&x, t, true));
        let later = t + chrono::Duration::seconds(30);
        assert!(c.fresh(&x, max, later, None).is_some());
        assert!(c.fresh(&x, max, later + ms(1), None).is_none(), "too old");
        assert!(
            c.fresh(&x, max, t, Some(t)).is_none(),
            "not after the reader's bound"
        );
        assert!(c.fresh(&x, max, t, Some(t - ms(1))).is_some());
        c.acted(&x, t);
        assert!(c.fresh(&x, max, t, None).is_none(), "acted on since");
        c.put(at(&x, t + ms(1), true));
        assert!(
            c.fresh(&x, max, t + ms(1), None).is_some(),
            "a sample after the action"
        );
        c.put(at(&x, t + ms(2), false));
        assert!(
            c.fresh(&x, max, t + ms(2), None).is_none(),
            "an unanswered sample is no reading"
        );
    }

    #[test]
    fn watched_samples_stand_until_an_event_and_are_polled_rarely() {
        let c = PowerCache::default();
        let x = Xname::parse("x1c0s0b0n0").unwrap();
        let t = Utc::now();
        let period = chrono::Duration::seconds(30);
        c.put(at(&x, t, true));
        c.acted(&x, t + chrono::Duration::seconds(1));
        assert!(
            c.fresh(&x, period, t + period * 3, None).is_none(),
            "unwatched: too old"
        );
        c.set_watched(std::slice::from_ref(&x), true);
        assert!(
            c.fresh(&x, period, t + period * 3, Some(t + period))
                .is_some(),
            "watched: current until an event says otherwise"
        );
        assert!(!c.needs_sample(&x, period, t + period * 9));
        assert!(
            c.needs_sample(&x, period, t + period * 10),
            "a rare poll, in case of a lost event"
        );
        c.set_watched(std::slice::from_ref(&x), false);
        assert!(c.needs_sample(&x, period, t + period));
    }
}
