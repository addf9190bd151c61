//! The latest power sample of every node with a BMC: written by the power monitor and the
//! transition runner, read by power-status calls, so any number of status calls costs the
//! BMCs nothing. A leaf of the power seam so that both the operators that fill it and the
//! use cases that read it can hold it without holding each other.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::model::Xname;
use crate::model::power::PowerSample;

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

    /// Drop samples of nodes that no longer have a BMC.
    pub fn retain(&self, keep: impl Fn(&Xname) -> bool) {
        self.0
            .write()
            .expect("power cache lock")
            .retain(|x, _| keep(x));
    }
}
