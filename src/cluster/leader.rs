//! One leader for the operators (DESIGN §9): the replica holding the database's operator
//! lock runs them; every other replica serves the API and the boot plane and waits.
//!
//! The lock is a PostgreSQL session advisory lock on a connection of its own
//! ([`super::ClusterBackend::try_lead`]); it is released the moment that session ends (the
//! process dies, the connection is cut, the server drops it). What makes a deposed leader
//! stop *before* the next one starts is a lease on this side, not the server's word:
//!
//! - the leader confirms its session every `beat` (one round trip on the lock's
//!   connection, which also records its heartbeat), and may act only until `hold` after
//!   the last confirmation it *sent* ([`Leadership::may_act`], checked before every BMC
//!   action batch and by the fenced driver before every BMC action);
//! - a replica that takes the lock waits `hold` before it acts, so any lease the previous
//!   leader still believed in has run out (its last confirmation was sent before the
//!   server released the lock, which is before this replica could take it).
//!
//! Timings come from one setting, `leader_lease_secs` (default 10): the bound on how long
//! a rack goes without a leader when one dies. `hold` is 30 % of it, `beat` a third of
//! `hold`; the server is told (TCP keepalives and user timeout on the lock's session) to
//! drop a silent leader's session within about half the lease, and followers try the lock
//! every `beat`. A killed leader is replaced in about `beat + hold` (≈ 4 s at the default),
//! a cut-off one in about 0.5 × lease + `beat` + `hold` (≈ 9 s).
//!
//! With SQLite there is one appliance per data directory (its lock file): it always leads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::{ClusterBackend, LeaderSession, ReplicaInfo};
use crate::shutdown::Stop;

/// Timings derived from the lease (see the module note).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseTimings {
    /// The bound on a leaderless gap after a leader dies.
    pub lease: Duration,
    /// How long a confirmation keeps a leader acting; how long a new leader waits.
    pub hold: Duration,
    /// How often a leader confirms and a follower tries the lock.
    pub beat: Duration,
}

impl LeaseTimings {
    pub fn from_lease(lease: Duration) -> LeaseTimings {
        let hold = lease.mul_f64(0.3);
        LeaseTimings {
            lease,
            hold,
            beat: hold / 3,
        }
    }

    /// When the server should drop a silent leader's session (keepalives, user timeout).
    pub fn server_drop_after(&self) -> Duration {
        self.lease / 2
    }
}

/// Whether this replica leads, shared by the operators, the fenced driver and the status
/// view. Cloning shares it.
#[derive(Clone)]
pub struct Leadership(Arc<Inner>);

struct Inner {
    /// `None`: leads for good (SQLite). `Some`: until this instant, unless renewed.
    lease: std::sync::Mutex<Option<Instant>>,
    forever: bool,
    leading: AtomicBool,
    since: std::sync::Mutex<Option<DateTime<Utc>>>,
    terms: AtomicU64,
    changed: watch::Sender<bool>,
}

impl Leadership {
    /// Leads from the start and for good: the single appliance of a data directory.
    pub fn always() -> Leadership {
        let l = Leadership::standby();
        let mut i = Arc::into_inner(l.0).expect("fresh");
        i.forever = true;
        i.leading = AtomicBool::new(true);
        i.since = std::sync::Mutex::new(Some(Utc::now()));
        i.terms = AtomicU64::new(1);
        let _ = i.changed.send(true);
        Leadership(Arc::new(i))
    }

    /// Does not lead until an election says so.
    pub fn standby() -> Leadership {
        Leadership(Arc::new(Inner {
            lease: std::sync::Mutex::new(None),
            forever: false,
            leading: AtomicBool::new(false),
            since: std::sync::Mutex::new(None),
            terms: AtomicU64::new(0),
            changed: watch::channel(false).0,
        }))
    }

    /// Whether this replica may act on the rack now: it leads and its lease has not run
    /// out. Checked before every BMC action batch and every BMC action.
    pub fn may_act(&self) -> bool {
        if !self.0.leading.load(Ordering::SeqCst) {
            return false;
        }
        self.0.forever
            || self
                .0
                .lease
                .lock()
                .expect("lease")
                .is_some_and(|until| Instant::now() < until)
    }

    /// Whether this replica leads (its lease may be running out: see [`Self::may_act`]).
    pub fn leading(&self) -> bool {
        self.0.leading.load(Ordering::SeqCst)
    }

    /// When this replica became the leader, while it is.
    pub fn since(&self) -> Option<DateTime<Utc>> {
        *self.0.since.lock().expect("since")
    }

    /// How many times this replica has become the leader.
    pub fn terms(&self) -> u64 {
        self.0.terms.load(Ordering::SeqCst)
    }

    /// Resolves once this replica leads (at once if it does).
    pub async fn until_leading(&self) {
        let mut rx = self.0.changed.subscribe();
        let _ = rx.wait_for(|leading| *leading).await;
    }

    /// Resolves once this replica no longer leads (never for [`Self::always`]).
    pub async fn until_deposed(&self) {
        let mut rx = self.0.changed.subscribe();
        let _ = rx.wait_for(|leading| !*leading).await;
    }

    fn renew(&self, until: Instant) {
        *self.0.lease.lock().expect("lease") = Some(until);
    }

    fn become_leader(&self, until: Instant) {
        self.renew(until);
        *self.0.since.lock().expect("since") = Some(Utc::now());
        self.0.terms.fetch_add(1, Ordering::SeqCst);
        self.0.leading.store(true, Ordering::SeqCst);
        let _ = self.0.changed.send(true);
        metrics::gauge!("rackboot_cluster_leader").set(1.0);
        metrics::counter!("rackboot_cluster_leader_terms_total").increment(1);
    }

    fn step_down(&self) {
        *self.0.lease.lock().expect("lease") = None;
        *self.0.since.lock().expect("since") = None;
        if self.0.leading.swap(false, Ordering::SeqCst) {
            let _ = self.0.changed.send(false);
            metrics::gauge!("rackboot_cluster_leader").set(0.0);
        }
    }
}

/// Contend for the lock until `stop`: wait for it as a follower, lead while it is
/// confirmed, step down the moment a confirmation fails or is late, and contend again.
pub async fn run_election(
    backend: Arc<dyn ClusterBackend>,
    me: ReplicaInfo,
    leadership: Leadership,
    t: LeaseTimings,
    stop: Stop,
) {
    let mut last_error: Option<String> = None;
    while !stop.is_cancelled() {
        match backend.try_lead(t.server_drop_after()).await {
            Ok(Some(session)) => {
                last_error = None;
                lead(session, &me, &leadership, t, &stop).await;
            }
            Ok(None) => {
                last_error = None;
                if let Err(e) = backend.heartbeat(&me).await {
                    tracing::warn!(error = %crate::errors::chain(&e), "cannot record this replica's heartbeat");
                }
            }
            Err(e) => {
                let msg = crate::errors::chain(&e);
                if last_error.as_ref() != Some(&msg) {
                    tracing::warn!(error = %msg, "cannot contend for the operator lock; retrying");
                    last_error = Some(msg);
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(t.beat) => {}
            _ = stop.cancelled() => {}
        }
    }
    leadership.step_down();
}

/// Hold the lock: wait out the previous leader's lease, then act while confirmations land.
async fn lead(
    mut session: Box<dyn LeaderSession>,
    me: &ReplicaInfo,
    leadership: &Leadership,
    t: LeaseTimings,
    stop: &Stop,
) {
    let took = Instant::now();
    tracing::info!(replica = %me.id, wait_secs = t.hold.as_secs_f64(), "took the operator lock; leading once the previous leader's lease has run out");
    loop {
        let sent = Instant::now();
        let acts = sent >= took + t.hold;
        let confirmed = tokio::time::timeout(t.beat, session.confirm(me, acts)).await;
        match confirmed {
            Ok(Ok(())) => {
                if leadership.leading() {
                    leadership.renew(sent + t.hold);
                } else if acts {
                    leadership.become_leader(sent + t.hold);
                    tracing::info!(replica = %me.id, "leading: the operators run here");
                }
            }
            Ok(Err(e)) => {
                tracing::warn!(replica = %me.id, error = %crate::errors::chain(&e), "lost the operator lock; the operators stop here");
                break;
            }
            Err(_) => {
                tracing::warn!(replica = %me.id, timeout_secs = t.beat.as_secs_f64(), "the operator lock's session did not answer in time; stepping down");
                break;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(t.beat.saturating_sub(sent.elapsed())) => {}
            _ = stop.cancelled() => break,
        }
    }
    leadership.step_down();
    // Dropping the session closes its connection, which releases the lock at once.
    drop(session);
}

#[cfg(test)]
mod tests;
