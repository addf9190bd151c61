//! Many simulated BMCs in one process, and the counters they keep.
//!
//! A fleet gives each BMC its own `mac_seed`, so synthetic BMCs get disjoint MAC ranges and
//! UUIDs, and replayed ones (all from one tree) get MACs and UUIDs rewritten apart: a real
//! site never has two BMCs with one MAC. The tree itself is shared, not copied.

use std::io;

use super::{SimBmc, SimConfig};

/// What a BMC has seen. `requests` counts every request received, including ones answered
/// by an injected fault or never answered, and `gets` the GET and HEAD requests among them;
/// `resets` and `patches` count accepted ones, `sessions_created` the session logins. A
/// benchmark's Redfish requests per node are `requests` over the nodes served.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub requests: u64,
    pub gets: u64,
    pub resets: u64,
    pub patches: u64,
    /// Accepted Boot PATCHes that set `BootSourceOverrideMode`.
    pub mode_patches: u64,
    pub sessions_created: u64,
    pub sessions_deleted: u64,
    pub live_sessions: u64,
    pub auth_failures: u64,
    /// SSE streams opened on the EventService.
    pub sse_streams: u64,
    /// Events sent over SSE streams (one per stream per change).
    pub events_sent: u64,
}

impl Counters {
    fn sum(self, o: Counters) -> Counters {
        Counters {
            requests: self.requests + o.requests,
            gets: self.gets + o.gets,
            resets: self.resets + o.resets,
            patches: self.patches + o.patches,
            mode_patches: self.mode_patches + o.mode_patches,
            sessions_created: self.sessions_created + o.sessions_created,
            sessions_deleted: self.sessions_deleted + o.sessions_deleted,
            live_sessions: self.live_sessions + o.live_sessions,
            auth_failures: self.auth_failures + o.auth_failures,
            sse_streams: self.sse_streams + o.sse_streams,
            events_sent: self.events_sent + o.events_sent,
        }
    }
}

/// Many BMCs in one process, with disjoint MAC ranges and UUIDs.
#[derive(Debug)]
pub struct SimFleet {
    pub bmcs: Vec<SimBmc>,
}

impl SimFleet {
    pub fn bmcs(&self) -> &[SimBmc] {
        &self.bmcs
    }

    /// Start `count` BMCs each with `cfg.systems` systems (distinct `mac_seed` per BMC, the
    /// first one starting at `cfg.mac_seed`), each on its own `127.0.0.1:0` listener.
    /// Replaying (`cfg.mockup`), BMC `i` gets seed `cfg.mac_seed + i`: with the default 0 the
    /// first BMC serves the tree's own MACs and UUIDs and every other one rewritten ones.
    pub async fn start(count: usize, cfg: SimConfig) -> io::Result<SimFleet> {
        let per_bmc = if cfg.mockup.is_some() {
            1
        } else {
            (cfg.systems * cfg.nics_per_system.max(1)).max(1) as u32
        };
        let mut bmcs = Vec::with_capacity(count);
        for i in 0..count {
            let cfg = SimConfig {
                mac_seed: cfg.mac_seed.wrapping_add(per_bmc.wrapping_mul(i as u32)),
                ..cfg.clone()
            };
            // On error the BMCs already started stop as their handles drop.
            bmcs.push(SimBmc::start(cfg).await?);
        }
        Ok(SimFleet { bmcs })
    }

    /// Summed over all BMCs.
    pub fn counters(&self) -> Counters {
        self.bmcs
            .iter()
            .map(SimBmc::counters)
            .fold(Counters::default(), Counters::sum)
    }

    /// Stop every BMC (all are told first, then awaited).
    pub async fn shutdown(self) {
        for b in &self.bmcs {
            b.signal_stop();
        }
        for b in &self.bmcs {
            b.join().await;
        }
    }
}
