//! The one retry pacer of a simulated node: fetching its script (iPXE's `:boot_retry`),
//! reporting to BOS (bos-reporter's backoff) and the configuration agent's rounds all loop
//! with [`Attempts`]:
//!
//! ```ignore
//! let mut attempts = Attempts::new(tries, Backoff::steady(wait));
//! while attempts.next().await {
//!     // one attempt: `return` when done, `continue` to go round again
//! }
//! // every attempt was used: give up
//! ```
//!
//! A node waits *between* attempts, never after the last one, so a node that gives up does
//! so at once and says so in its status. The wait is the backoff's unless an answer asks
//! for another one ([`Attempts::wait_instead`]: a report answered 4xx waits the steady
//! `report_retry`, while the backoff keeps growing underneath).
//!
//! The project keeps these few lines instead of a retry crate: the wait depends on the
//! answer, the attempt count is part of the node's pacing, and the attempt stays a plain
//! loop body in the node's own `async fn`, so it borrows the node freely, stays `Send`,
//! and stops the moment the boot's future is dropped (the power changed).

use std::time::Duration;

/// How long to wait between two attempts: `first`, doubled after every attempt up to
/// `max`. `first == max` gives a steady pace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Backoff {
    first: Duration,
    max: Duration,
}

impl Backoff {
    /// The same wait every time.
    pub(super) fn steady(wait: Duration) -> Backoff {
        Backoff {
            first: wait,
            max: wait,
        }
    }

    /// `first`, then twice as long each time, up to `max`.
    pub(super) fn doubling(first: Duration, max: Duration) -> Backoff {
        Backoff { first, max }
    }

    /// The wait after attempt `n` (from 1): `first`, then `first·2^(n-1)` up to `max`.
    fn after(self, n: u32) -> Duration {
        if n <= 1 {
            return self.first;
        }
        let factor = 1u32.checked_shl(n - 1).unwrap_or(u32::MAX);
        self.first.saturating_mul(factor).min(self.max)
    }
}

/// At most `tries` attempts, paced by a [`Backoff`].
#[derive(Debug)]
pub(super) struct Attempts {
    tries: u32,
    made: u32,
    backoff: Backoff,
    /// The wait an answer asked for, used once instead of the backoff's.
    instead: Option<Duration>,
}

impl Attempts {
    pub(super) fn new(tries: u32, backoff: Backoff) -> Attempts {
        Attempts {
            tries,
            made: 0,
            backoff,
            instead: None,
        }
    }

    /// Start the next attempt: at once for the first, after the wait for the others.
    /// False once every attempt has been made (then it does not wait).
    pub(super) async fn next(&mut self) -> bool {
        if self.made >= self.tries {
            return false;
        }
        if self.made > 0 {
            let wait = self.backoff.after(self.made);
            tokio::time::sleep(self.instead.take().unwrap_or(wait)).await;
        }
        self.made += 1;
        true
    }

    /// Wait this long before the next attempt, instead of the backoff's wait.
    pub(super) fn wait_instead(&mut self, wait: Duration) {
        self.instead = Some(wait);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn sim_node_backoff_doubles_to_its_cap() {
        let waits = |b: Backoff, n: u32| (1..=n).map(|i| b.after(i)).collect::<Vec<_>>();
        assert_eq!(
            waits(Backoff::doubling(100 * MS, 300 * MS), 5),
            [100 * MS, 200 * MS, 300 * MS, 300 * MS, 300 * MS]
        );
        assert_eq!(waits(Backoff::steady(200 * MS), 3), [200 * MS; 3]);
        // Starting above the cap waits `first` once, then the cap.
        assert_eq!(
            waits(Backoff::doubling(50 * MS, 20 * MS), 2),
            [50 * MS, 20 * MS]
        );
        // However many attempts, no overflow.
        assert_eq!(Backoff::doubling(MS, 5 * MS).after(u32::MAX), 5 * MS);
        assert_eq!(
            Backoff::doubling(Duration::ZERO, MS).after(40),
            Duration::ZERO
        );
    }

    #[tokio::test]
    async fn sim_node_attempts_wait_between_attempts_only() {
        let started = Instant::now();
        let mut a = Attempts::new(3, Backoff::steady(10 * MS));
        let mut n = 0;
        while a.next().await {
            n += 1;
        }
        assert_eq!(n, 3);
        // Two waits (none before the first attempt or after the last); sleeps never end
        // early.
        assert!(started.elapsed() >= 20 * MS);
        assert!(!a.next().await, "used up");

        let mut a = Attempts::new(0, Backoff::steady(MS));
        assert!(!a.next().await, "no tries, no attempt");
    }

    #[tokio::test]
    async fn sim_node_attempts_take_an_answers_wait_once() {
        let started = Instant::now();
        let mut a = Attempts::new(3, Backoff::steady(MS));
        assert!(a.next().await);
        a.wait_instead(30 * MS);
        assert!(a.next().await);
        assert!(
            started.elapsed() >= 30 * MS,
            "the answer's wait, not the backoff's"
        );
        assert_eq!(a.instead, None, "used once, then the backoff's wait again");
    }
}
