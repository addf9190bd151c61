//! A circuit breaker per BMC, in front of any [`PowerDriver`].
//!
//! A BMC that hangs, answers 5xx or refuses the credentials costs every call made to it a
//! timeout or a retry budget; without a breaker each status pass and each power-on pays that
//! again for each of its nodes. After `threshold` consecutive failures of that kind the
//! BMC's circuit **opens**: calls to it fail at once, naming the BMC, what was not sent and
//! the failure that opened it. After `cooldown` it is **half-open**: one call goes through as
//! a probe (the others still fail at once); success closes the circuit, failure opens it
//! again for twice as long (at most `max_cooldown`). Failures that are the node's and not the
//! BMC's (a reset type not allowed, an override not kept, a bad CA file) never count.
//!
//! Discovery and the certificate read are never refused (an admin asking to discover a BMC
//! wants it asked), but their outcomes count. The state of every BMC that has failed is
//! shown by [`Breakers::snapshot`] (`GET /apis/rackboot/v1/bmcs/health`, `rackboot bmc
//! list`) and in `/metrics`.
//!
//! Our own code rather than a crate: the breaker crates on crates.io (`failsafe`,
//! `recloser`) wrap a closure per call and keep no per-key state or readable snapshot,
//! which is what this needs; the state machine itself is a few pure lines, tested here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{
    BmcAccess, BmcEvent, BootOnce, BootWhen, DiscoveredBmc, PowerDriver, PowerError,
    PowerErrorKind, StreamEnd, SystemReading, SystemRef,
};
use crate::model::Xname;
use crate::model::power::PowerState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Consecutive BMC failures that open the circuit (0: never open).
    pub threshold: u32,
    /// How long it stays open the first time.
    pub cooldown: Duration,
    /// The longest it stays open (the cooldown doubles per failed probe up to this).
    pub max_cooldown: Duration,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        BreakerSettings {
            threshold: 3,
            cooldown: Duration::from_secs(15),
            max_cooldown: Duration::from_secs(300),
        }
    }
}

/// Whether a failure is the BMC's (it counts toward opening the circuit).
pub fn counts(kind: PowerErrorKind) -> bool {
    matches!(
        kind,
        PowerErrorKind::Unreachable | PowerErrorKind::Auth | PowerErrorKind::Failing
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    Closed,
    Open,
    HalfOpen,
}

impl CircuitState {
    pub fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half-open",
        }
    }
}

/// One BMC's circuit: pure, driven by `now`.
#[derive(Debug, Clone)]
pub struct Circuit {
    failures: u32,
    /// Open until then (`None`: closed, or half-open once passed).
    open_until: Option<Instant>,
    cooldown: Duration,
    probing: bool,
    trips: u64,
    last_error: String,
}

/// What [`Circuit::admit`] allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admit {
    Go,
    /// The one call of a half-open circuit.
    Probe,
    /// Not now: open for this long yet (or half-open with its probe out).
    Refuse {
        left: Duration,
    },
}

impl Circuit {
    fn new(settings: &BreakerSettings) -> Circuit {
        Circuit {
            failures: 0,
            open_until: None,
            cooldown: settings.cooldown,
            probing: false,
            trips: 0,
            last_error: String::new(),
        }
    }

    pub fn state(&self, now: Instant) -> CircuitState {
        match self.open_until {
            None => CircuitState::Closed,
            Some(t) if now < t => CircuitState::Open,
            Some(_) => CircuitState::HalfOpen,
        }
    }

    pub fn admit(&mut self, now: Instant) -> Admit {
        match self.state(now) {
            CircuitState::Closed => Admit::Go,
            CircuitState::Open => Admit::Refuse {
                left: self.open_until.map_or(Duration::ZERO, |t| t - now),
            },
            CircuitState::HalfOpen if self.probing => Admit::Refuse {
                left: Duration::ZERO,
            },
            CircuitState::HalfOpen => {
                self.probing = true;
                Admit::Probe
            }
        }
    }

    /// A call that reached (or tried to reach) the BMC ended: `Err` with the BMC's failure.
    /// Returns true when this opened the circuit.
    pub fn record(
        &mut self,
        outcome: Result<(), &str>,
        settings: &BreakerSettings,
        now: Instant,
    ) -> bool {
        let was_probe = std::mem::take(&mut self.probing);
        match outcome {
            Ok(()) => {
                self.failures = 0;
                self.open_until = None;
                self.cooldown = settings.cooldown;
                false
            }
            Err(e) => {
                self.failures += 1;
                self.last_error = e.to_string();
                if was_probe && self.open_until.is_some() {
                    self.cooldown = (self.cooldown * 2).min(settings.max_cooldown);
                    self.open_until = Some(now + self.cooldown);
                    false
                } else if settings.threshold > 0
                    && self.failures >= settings.threshold
                    && self.state(now) == CircuitState::Closed
                {
                    self.open_until = Some(now + self.cooldown);
                    self.trips += 1;
                    true
                } else {
                    false
                }
            }
        }
    }

    /// A call admitted as the probe ended without reaching the BMC (a node-level refusal):
    /// the next call probes instead.
    fn release_probe(&mut self) {
        self.probing = false;
    }
}

/// One BMC's circuit as shown to admins.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BmcHealth {
    pub bmc: String,
    pub state: &'static str,
    pub consecutive_failures: u32,
    /// Seconds until a probe is allowed, while open.
    pub retry_in_secs: Option<u64>,
    pub times_opened: u64,
    pub last_error: String,
}

/// Every BMC's circuit.
pub struct Breakers {
    settings: BreakerSettings,
    circuits: Mutex<HashMap<Xname, Circuit>>,
}

impl Breakers {
    pub fn new(settings: BreakerSettings) -> Breakers {
        Breakers {
            settings,
            circuits: Mutex::new(HashMap::new()),
        }
    }

    fn admit(&self, bmc: &Xname) -> Admit {
        let mut map = self.circuits.lock().expect("breaker lock");
        match map.get_mut(bmc) {
            None => Admit::Go,
            Some(c) => c.admit(Instant::now()),
        }
    }

    fn record(&self, bmc: &Xname, outcome: Result<(), &PowerError>, admitted: &Admit) {
        let mut map = self.circuits.lock().expect("breaker lock");
        let now = Instant::now();
        match outcome {
            Err(e) if counts(e.kind) => {
                let c = map
                    .entry(bmc.clone())
                    .or_insert_with(|| Circuit::new(&self.settings));
                if c.record(Err(&e.message), &self.settings, now) {
                    metrics::counter!("rackboot_bmc_breaker_trips_total").increment(1);
                    tracing::warn!(bmc = %bmc, failures = c.failures, error = %e.message, cooldown = ?c.cooldown, "BMC circuit opened: its calls fail at once until a probe succeeds");
                }
            }
            Err(_) => {
                if *admitted == Admit::Probe
                    && let Some(c) = map.get_mut(bmc)
                {
                    c.release_probe();
                }
            }
            Ok(()) => {
                // A healthy BMC keeps no entry.
                if let Some(c) = map.remove(bmc)
                    && c.open_until.is_some()
                {
                    tracing::info!(bmc = %bmc, "BMC circuit closed: a probe succeeded");
                }
            }
        }
        let open = map
            .values()
            .filter(|c| c.state(now) != CircuitState::Closed)
            .count();
        metrics::gauge!("rackboot_bmc_breakers_open").set(open as f64);
    }

    /// The BMCs whose last calls failed, by BMC id.
    pub fn snapshot(&self) -> Vec<BmcHealth> {
        let map = self.circuits.lock().expect("breaker lock");
        let now = Instant::now();
        let mut out: Vec<BmcHealth> = map
            .iter()
            .map(|(id, c)| BmcHealth {
                bmc: id.to_string(),
                state: c.state(now).as_str(),
                consecutive_failures: c.failures,
                retry_in_secs: c
                    .open_until
                    .filter(|t| *t > now)
                    .map(|t| (t - now).as_secs().max(1)),
                times_opened: c.trips,
                last_error: c.last_error.clone(),
            })
            .collect();
        out.sort_by(|a, b| a.bmc.cmp(&b.bmc));
        out
    }

    fn refused(&self, bmc: &Xname, target: &str, what: &str, left: Duration) -> PowerError {
        let map = self.circuits.lock().expect("breaker lock");
        let (failures, last) = map
            .get(bmc)
            .map(|c| (c.failures, c.last_error.clone()))
            .unwrap_or_default();
        let when = if left.is_zero() {
            "a probe is under way".to_string()
        } else {
            format!("the next probe is in {}s", left.as_secs().max(1))
        };
        PowerError {
            kind: PowerErrorKind::Unreachable,
            message: format!(
                "{target}: {what} not sent: BMC {bmc}'s circuit is open after {failures} failed calls in a row ({when}); last failure: {last}"
            ),
        }
    }
}

/// A [`PowerDriver`] whose calls pass each BMC's circuit first.
pub struct Guarded {
    inner: Arc<dyn PowerDriver>,
    breakers: Arc<Breakers>,
}

impl Guarded {
    pub fn new(inner: Arc<dyn PowerDriver>, breakers: Arc<Breakers>) -> Guarded {
        Guarded { inner, breakers }
    }

    async fn call<T: Send>(
        &self,
        sys: &SystemRef,
        what: &str,
        f: impl Future<Output = Result<T, PowerError>> + Send,
    ) -> Result<T, PowerError> {
        let bmc = &sys.bmc.id;
        let admitted = self.breakers.admit(bmc);
        if let Admit::Refuse { left } = admitted {
            return Err(self.breakers.refused(bmc, &sys.target(), what, left));
        }
        let r = f.await;
        self.breakers.record(bmc, r.as_ref().map(|_| ()), &admitted);
        r
    }
}

#[async_trait]
impl PowerDriver for Guarded {
    async fn discover(&self, bmc: &BmcAccess) -> Result<DiscoveredBmc, PowerError> {
        let r = self.inner.discover(bmc).await;
        self.breakers
            .record(&bmc.id, r.as_ref().map(|_| ()), &Admit::Go);
        r
    }

    async fn certificate(&self, bmc: &BmcAccess) -> Result<Option<String>, PowerError> {
        self.inner.certificate(bmc).await
    }

    async fn power_state(&self, sys: &SystemRef) -> Result<PowerState, PowerError> {
        self.call(sys, "reading PowerState", self.inner.power_state(sys))
            .await
    }

    async fn read(&self, sys: &SystemRef) -> Result<SystemReading, PowerError> {
        self.call(sys, "reading PowerState", self.inner.read(sys))
            .await
    }

    async fn reset(&self, sys: &SystemRef, reset_type: &str) -> Result<(), PowerError> {
        self.call(sys, reset_type, self.inner.reset(sys, reset_type))
            .await
    }

    async fn boot_once(
        &self,
        sys: &SystemRef,
        target: &str,
        when: BootWhen,
    ) -> Result<BootOnce, PowerError> {
        self.call(
            sys,
            &format!("one-time boot override to {target}"),
            self.inner.boot_once(sys, target, when),
        )
        .await
    }

    async fn follow_events(
        &self,
        bmc: &BmcAccess,
        idle: Duration,
        on: &(dyn Fn(BmcEvent) + Send + Sync),
    ) -> Result<Option<StreamEnd>, PowerError> {
        self.inner.follow_events(bmc, idle, on).await
    }

    async fn close(&self) {
        self.inner.close().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> BreakerSettings {
        BreakerSettings {
            threshold: 3,
            cooldown: Duration::from_secs(10),
            max_cooldown: Duration::from_secs(25),
        }
    }

    #[test]
    fn a_circuit_opens_after_the_threshold_probes_once_and_backs_off() {
        let s = settings();
        let t0 = Instant::now();
        let mut c = Circuit::new(&s);
        assert!(!c.record(Err("timeout"), &s, t0));
        assert!(!c.record(Err("timeout"), &s, t0));
        assert_eq!(c.admit(t0), Admit::Go);
        assert!(
            c.record(Err("timeout"), &s, t0),
            "the third failure opens it"
        );
        assert_eq!(c.state(t0), CircuitState::Open);
        assert_eq!(
            c.admit(t0 + Duration::from_secs(4)),
            Admit::Refuse {
                left: Duration::from_secs(6)
            }
        );
        // Half-open: one probe, the others refused while it is out.
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(c.admit(t1), Admit::Probe);
        assert!(matches!(c.admit(t1), Admit::Refuse { .. }));
        // A failed probe opens it for twice as long, capped.
        assert!(!c.record(Err("still down"), &s, t1));
        assert_eq!(c.state(t1 + Duration::from_secs(19)), CircuitState::Open);
        assert_eq!(
            c.state(t1 + Duration::from_secs(20)),
            CircuitState::HalfOpen
        );
        let t2 = t1 + Duration::from_secs(20);
        assert_eq!(c.admit(t2), Admit::Probe);
        c.record(Err("down"), &s, t2);
        assert_eq!(c.cooldown, Duration::from_secs(25), "capped");
        // A successful probe closes it and resets the cooldown.
        let t3 = t2 + Duration::from_secs(25);
        assert_eq!(c.admit(t3), Admit::Probe);
        c.record(Ok(()), &s, t3);
        assert_eq!(c.state(t3), CircuitState::Closed);
        assert_eq!(c.cooldown, s.cooldown);
        assert_eq!(c.trips, 1);
    }

    #[test]
    fn a_success_between_failures_keeps_the_circuit_closed() {
        let s = settings();
        let t = Instant::now();
        let mut c = Circuit::new(&s);
        c.record(Err("x"), &s, t);
        c.record(Err("x"), &s, t);
        c.record(Ok(()), &s, t);
        c.record(Err("x"), &s, t);
        c.record(Err("x"), &s, t);
        assert_eq!(c.state(t), CircuitState::Closed);
    }

    #[test]
    fn only_the_bmcs_own_failures_count() {
        assert!(counts(PowerErrorKind::Unreachable));
        assert!(counts(PowerErrorKind::Auth));
        assert!(counts(PowerErrorKind::Failing));
        for k in [
            PowerErrorKind::Refused,
            PowerErrorKind::NotAllowed,
            PowerErrorKind::NotKept,
            PowerErrorKind::Config,
            PowerErrorKind::Untrusted,
        ] {
            assert!(!counts(k), "{k:?}");
        }
    }
}
