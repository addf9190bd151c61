//! Crash points for the fault-injection suite (`tests/integration/faults`).
//!
//! `crash_point("bos.power_on.intent")` marks a place where a crash would leave the most to
//! recover: with the `fault-injection` feature (test builds only) and
//! `RACKBOOT_CRASH_AT=<name>[:<n>]` in the environment, the process aborts (SIGABRT: no
//! destructor, no flush, like `kill -9`) the `n`-th time (default: the first) it passes that
//! point. Without the feature, or without the variable, a crash point is nothing. The suite
//! kills the appliance from outside too (SIGKILL when it observes a state); crash points are
//! for the windows too narrow to hit from outside: after an intent is written and before
//! its BMC call, after a call and before its outcome is written.
//!
//! Our own few lines rather than the `fail` crate: `fail` has no action that ends the
//! process, and a panic in a task is caught by tokio, which is the opposite of a crash.

/// Abort here if `RACKBOOT_CRASH_AT` names this point (fault-injection builds only).
#[inline]
pub fn crash_point(name: &str) {
    #[cfg(feature = "fault-injection")]
    armed::hit(name);
    #[cfg(not(feature = "fault-injection"))]
    let _ = name;
}

#[cfg(feature = "fault-injection")]
mod armed {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};

    struct Armed {
        name: String,
        nth: u64,
        hits: AtomicU64,
    }

    fn armed() -> Option<&'static Armed> {
        static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
        ARMED
            .get_or_init(|| {
                let v = std::env::var("RACKBOOT_CRASH_AT").ok()?;
                let (name, nth) = match v.rsplit_once(':') {
                    Some((n, k)) => (n.to_string(), k.parse().ok()?),
                    None => (v, 1),
                };
                Some(Armed {
                    name,
                    nth,
                    hits: AtomicU64::new(0),
                })
            })
            .as_ref()
    }

    pub fn hit(name: &str) {
        let Some(a) = armed() else { return };
        if a.name == name && a.hits.fetch_add(1, Ordering::SeqCst) + 1 == a.nth {
            eprintln!("rackboot: crash point {name} reached: aborting (RACKBOOT_CRASH_AT)");
            std::process::abort();
        }
    }
}
