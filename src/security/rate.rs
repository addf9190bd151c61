//! Requests per client address on the boot plane: a token bucket per address (`rate`
//! requests a second, bursts up to `burst`). A node netbooting asks a handful of times
//! (script, kernel, initrd, a retry now and then); a client asking thousands of times a
//! second is not booting, and must not take the boot plane from the nodes that are.
//!
//! Our own small limiter rather than a crate (governor, tower's RateLimit): tower's limits
//! the whole service, not per client, and governor's keyed limiter brings its own clock and
//! a dashmap for what is a dozen lines here. Buckets live in 16 shards, so concurrent
//! requests rarely wait on one lock; idle buckets (full again) are dropped when a shard grows.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

const SHARDS: usize = 16;
/// Buckets a shard holds before full ones are swept out.
const SWEEP_AT: usize = 4096;

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct RateLimit {
    rate: f64,
    burst: f64,
    shards: [Mutex<HashMap<IpAddr, Bucket>>; SHARDS],
}

impl RateLimit {
    /// `rate` requests a second per address, bursts of `burst`.
    pub fn new(rate: u32, burst: u32) -> RateLimit {
        RateLimit {
            rate: f64::from(rate.max(1)),
            burst: f64::from(burst.max(rate).max(1)),
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
        }
    }

    /// Whether `ip` may make one more request now.
    pub fn admit(&self, ip: IpAddr) -> bool {
        self.admit_at(ip, Instant::now())
    }

    fn admit_at(&self, ip: IpAddr, now: Instant) -> bool {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        ip.hash(&mut h);
        let mut shard = self.shards[(h.finish() as usize) % SHARDS]
            .lock()
            .expect("rate shard");
        if shard.len() >= SWEEP_AT {
            let (rate, burst) = (self.rate, self.burst);
            shard.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let b = shard.entry(ip).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * self.rate).min(self.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_then_the_rate_per_address() {
        let l = RateLimit::new(10, 20);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t0 = Instant::now();
        assert_eq!(
            (0..30).filter(|_| l.admit_at(a, t0)).count(),
            20,
            "the burst"
        );
        assert!(l.admit_at(b, t0), "another address has its own bucket");
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(
            (0..30).filter(|_| l.admit_at(a, t1)).count(),
            5,
            "10 a second refill"
        );
    }
}
