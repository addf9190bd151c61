//! The latest power sample of every node with a BMC: one shared, fresh-enough view of power
//! state, so BMCs are asked as little as possible.
//!
//! Written by the power monitor (every node, every `power_sample_secs`), by the transition
//! runner, by the BOS operators when they had to ask a BMC, and by BMC events where a BMC
//! sends them; read by power-status calls and the BOS operators, so any number of status
//! calls costs the BMCs nothing. Whoever sends a node a reset says so
//! ([`PowerCache::acted`]), and a sample taken before that is no longer fresh
//! ([`PowerCache::fresh`]): a state from before a reset is never trusted. A leaf of the power
//! seam so that both the operators that fill it and the use cases that read it can hold it
//! without holding each other.

use std::collections::HashMap;
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

/// The latest power sample of every node with a BMC, and when each was last acted on.
#[derive(Default)]
pub struct PowerCache {
    samples: RwLock<HashMap<Xname, PowerSample>>,
    acted: RwLock<HashMap<Xname, DateTime<Utc>>>,
}

impl PowerCache {
    pub fn put(&self, sample: PowerSample) {
        self.samples
            .write()
            .expect("power cache lock")
            .insert(sample.xname.clone(), sample);
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

    /// The sample of `x` if it can be trusted at `now`: the BMC answered, it is at most
    /// `max_age` old, taken after the node was last acted on, and after `since` (a reader's
    /// own bound, e.g. "on since the boot was proven").
    pub fn fresh(
        &self,
        x: &Xname,
        max_age: chrono::Duration,
        now: DateTime<Utc>,
        since: Option<DateTime<Utc>>,
    ) -> Option<PowerSample> {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
