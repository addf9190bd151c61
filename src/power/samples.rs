//! The latest power sample of every node with a BMC: one shared, fresh-enough view of power
//! state, so BMCs are asked as little as possible.
//!
//! Written by the power monitor (every node, every `power_sample_secs`), by the transition
//! runner, by the BOS status pass when it had to ask a BMC, and by BMC events where a BMC
//! sends them; read by power-status calls and the BOS operators, so any number of status
//! calls costs the BMCs nothing. A reader that knows when it last acted on a node asks for a
//! sample taken after that ([`PowerCache::fresh`]), so a state from before a reset is never
//! trusted. A leaf of the power seam so that both the operators that fill it and the use
//! cases that read it can hold it without holding each other.

use std::collections::HashMap;
use std::sync::RwLock;

use chrono::{DateTime, Utc};

use crate::model::Xname;
use crate::model::power::{PowerSample, PowerState, supported_transitions};

use super::SystemRef;

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

/// The latest power sample of every node with a BMC.
#[derive(Default)]
pub struct PowerCache(RwLock<HashMap<Xname, PowerSample>>);

impl PowerCache {
    pub fn put(&self, sample: PowerSample) {
        self.0
            .write()
            .expect("power cache lock")
            .insert(sample.xname.clone(), sample);
    }

    pub fn get(&self, x: &Xname) -> Option<PowerSample> {
        self.0.read().expect("power cache lock").get(x).cloned()
    }

    /// The sample of `x` if it can be trusted at `now`: the BMC answered, it is at most
    /// `max_age` old, and it was taken after `since` (when the reader last acted on the node).
    pub fn fresh(
        &self,
        x: &Xname,
        max_age: chrono::Duration,
        now: DateTime<Utc>,
        since: Option<DateTime<Utc>>,
    ) -> Option<PowerSample> {
        let all = self.0.read().expect("power cache lock");
        let s = all.get(x)?;
        (s.available && now - s.updated <= max_age && since.is_none_or(|t| s.updated > t))
            .then(|| s.clone())
    }

    /// Drop samples of nodes that no longer have a BMC.
    pub fn retain(&self, keep: impl Fn(&Xname) -> bool) {
        self.0
            .write()
            .expect("power cache lock")
            .retain(|x, _| keep(x));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::power::PowerState;

    fn sample(x: &Xname, at: DateTime<Utc>, available: bool) -> PowerSample {
        PowerSample {
            xname: x.clone(),
            state: PowerState::On,
            available,
            error: None,
            supported: Vec::new(),
            updated: at,
        }
    }

    #[test]
    fn fresh_samples_only_within_their_age_and_after_the_last_action() {
        let c = PowerCache::default();
        let x = Xname::parse("x1c0s0b0n0").unwrap();
        let t = Utc::now();
        let max = chrono::Duration::seconds(30);
        assert!(c.fresh(&x, max, t, None).is_none(), "nothing sampled yet");
        c.put(sample(&x, t, true));
        let later = t + chrono::Duration::seconds(30);
        assert!(c.fresh(&x, max, later, None).is_some());
        assert!(
            c.fresh(&x, max, later + chrono::Duration::seconds(1), None)
                .is_none(),
            "too old"
        );
        assert!(
            c.fresh(&x, max, t, Some(t)).is_none(),
            "not after the action"
        );
        assert!(
            c.fresh(&x, max, t, Some(t - chrono::Duration::seconds(1)))
                .is_some()
        );
        c.put(sample(&x, t, false));
        assert!(
            c.fresh(&x, max, t, None).is_none(),
            "an unanswered sample is no reading"
        );
    }
}
