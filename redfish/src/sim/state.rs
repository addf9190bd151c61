//! The simulated BMC's state: systems, sessions, knobs and counters.
//!
//! Everything here is synchronous and behind short-lived `std::sync::Mutex` locks (never held
//! across an `.await`), so the HTTP layer and the test-facing knobs see one consistent state.
//!
//! Power transitions are *lazy*: an action with a delay stores what the caller should see
//! meanwhile (`PoweringOn`/`PoweringOff`), the final state and a deadline, and every read
//! settles the transition if the deadline has passed. No timer task exists per system, so one
//! process can host tens of thousands of systems for the price of their memory.
//!
//! Power can also be *watched* ([`SimState::power_events`]): a system someone watches gets a
//! `watch` sender, every access publishes its (state, power-on count) if it changed, and a
//! transition with a delay on a watched system gets one short-lived timer task that lands it
//! on time, so watchers see PoweringOn -> On without anyone polling. Unwatched systems pay
//! nothing for this.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Counters, PowerEvent, SimConfig};

/// `BootSourceOverrideTarget@Redfish.AllowableValues`.
pub(crate) const BOOT_TARGETS: &[&str] = &["None", "Pxe", "Hdd", "Cd", "UefiHttp", "BiosSetup"];
/// `BootSourceOverrideEnabled@Redfish.AllowableValues`.
pub(crate) const BOOT_ENABLED: &[&str] = &["Once", "Continuous", "Disabled"];
/// `BootSourceOverrideMode@Redfish.AllowableValues`.
pub(crate) const BOOT_MODES: &[&str] = &["UEFI", "Legacy"];

/// How many sessions may be live before creating one more fails, unless changed by the knob.
const DEFAULT_SESSION_LIMIT: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Power {
    On,
    Off,
    PoweringOn,
    PoweringOff,
}

impl Power {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Power::On => "On",
            Power::Off => "Off",
            Power::PoweringOn => "PoweringOn",
            Power::PoweringOff => "PoweringOff",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Power> {
        Some(match s {
            "On" => Power::On,
            "Off" => Power::Off,
            "PoweringOn" => Power::PoweringOn,
            "PoweringOff" => Power::PoweringOff,
            _ => return None,
        })
    }

    /// On, or on its way there: asking for On again changes nothing.
    fn is_on_or_rising(self) -> bool {
        matches!(self, Power::On | Power::PoweringOn)
    }
}

/// A transition in flight: `shown` until `at`, then `target`.
#[derive(Clone, Copy, Debug)]
struct Pending {
    shown: Power,
    target: Power,
    at: Instant,
    /// Landing in `target` is a power-on (consumes a `Once` boot override).
    powers_on: bool,
}

/// The boot override, as three values out of the allowable lists.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BootOverride {
    pub(crate) enabled: &'static str,
    pub(crate) target: &'static str,
    pub(crate) mode: &'static str,
}

/// One ComputerSystem. Kept small: a fleet may hold 10,000 of these.
#[derive(Debug)]
pub(crate) struct System {
    power: Power,
    pending: Option<Pending>,
    pub(crate) boot: BootOverride,
    /// Bumped on every visible change; the ETag is `W/"<generation>"`.
    generation: u64,
    /// Power-ons so far: every landing that powers the host on (restarts included).
    power_ons: u64,
    /// When the host last powered on (ms since the Unix epoch), served as `LastResetTime`
    /// so a restart that leaves PowerState at On is still observable.
    pub(crate) last_reset_ms: u64,
    /// Present once someone has asked to watch this system's power.
    events: Option<watch::Sender<PowerEvent>>,
    /// The deadline a timer task is already sleeping towards (watched systems only).
    timer_at: Option<Instant>,
}

impl System {
    fn new(power: Power) -> System {
        System {
            power,
            pending: None,
            boot: BootOverride {
                enabled: "Disabled",
                target: "None",
                mode: "UEFI",
            },
            generation: 1,
            power_ons: 0,
            last_reset_ms: now_ms(),
            events: None,
            timer_at: None,
        }
    }

    /// What a watcher of this system sees now (call [`System::settle`] first).
    fn event(&self) -> PowerEvent {
        PowerEvent {
            state: self.visible().as_str(),
            power_ons: self.power_ons,
        }
    }

    /// Land a transition whose deadline has passed.
    pub(crate) fn settle(&mut self, now: Instant) {
        if let Some(p) = self.pending
            && now >= p.at
        {
            self.pending = None;
            self.land(p.target, p.powers_on);
        }
    }

    /// The state a client sees (call [`System::settle`] first).
    pub(crate) fn visible(&self) -> Power {
        self.pending.map_or(self.power, |p| p.shown)
    }

    pub(crate) fn etag(&self) -> String {
        format!("W/\"{}\"", self.generation)
    }

    pub(crate) fn touch(&mut self) {
        self.generation += 1;
    }

    fn land(&mut self, target: Power, powers_on: bool) {
        self.power = target;
        if powers_on {
            self.power_ons += 1;
            // Strictly increasing, so two restarts in one millisecond still differ.
            self.last_reset_ms = now_ms().max(self.last_reset_ms + 1);
            if self.boot.enabled == "Once" {
                // Real BMCs consume a one-shot override when the host next boots.
                self.boot.enabled = "Disabled";
            }
        }
        self.touch();
    }

    /// Cancel anything in flight and go to `target` now.
    fn force(&mut self, target: Power, powers_on: bool) {
        self.pending = None;
        self.land(target, powers_on);
    }

    /// Show `shown` for `delay`, then land in `target`; with no delay, land now.
    fn begin(
        &mut self,
        shown: Power,
        target: Power,
        powers_on: bool,
        delay: Duration,
        now: Instant,
    ) {
        if delay.is_zero() {
            self.force(target, powers_on);
        } else {
            self.pending = Some(Pending {
                shown,
                target,
                at: now + delay,
                powers_on,
            });
            self.touch();
        }
    }

    /// Apply an accepted ResetType. Types this simulator gives no meaning to (Nmi, Suspend,
    /// ...) are accepted and change nothing.
    fn reset(&mut self, reset_type: &str, delay: Duration, ignore_graceful: bool, now: Instant) {
        let v = self.visible();
        match reset_type {
            "On" if !v.is_on_or_rising() => {
                self.begin(Power::PoweringOn, Power::On, true, delay, now)
            }
            "ForceOn" if v != Power::On => self.force(Power::On, true),
            "ForceOff" if v != Power::Off => self.force(Power::Off, false),
            // `Off` is a Cray EX node controller's graceful off.
            "GracefulShutdown" | "Off" if !ignore_graceful && v.is_on_or_rising() => {
                self.begin(Power::PoweringOff, Power::Off, false, delay, now)
            }
            "ForceRestart" | "PowerCycle" => self.force(Power::On, true),
            "GracefulRestart" if !ignore_graceful => {
                self.begin(Power::PoweringOff, Power::On, true, delay, now)
            }
            "PushPowerButton" if v.is_on_or_rising() && !ignore_graceful => {
                self.begin(Power::PoweringOff, Power::Off, false, delay, now)
            }
            "PushPowerButton" if !v.is_on_or_rising() => {
                self.begin(Power::PoweringOn, Power::On, true, delay, now)
            }
            _ => {}
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The parts of [`SimConfig`] that never change while running.
#[derive(Debug)]
pub(crate) struct Fixed {
    pub(crate) systems: usize,
    pub(crate) nics_per_system: usize,
    pub(crate) username: String,
    pub(crate) sessions: bool,
    pub(crate) etag: bool,
    pub(crate) action_info: bool,
    pub(crate) reset_types: Vec<String>,
    pub(crate) mac_seed: u32,
}

/// Behaviour knobs, changeable while running.
#[derive(Debug)]
pub(crate) struct Knobs {
    pub(crate) password: String,
    pub(crate) latency: Duration,
    pub(crate) power_delay: Duration,
    pub(crate) fail_next: u32,
    pub(crate) fail_status: u16,
    pub(crate) drop_boot_override: bool,
    pub(crate) hide_boot_mode: bool,
    pub(crate) hide_boot_override: bool,
    pub(crate) session_limit: usize,
    pub(crate) ignore_graceful: bool,
}

#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) token: String,
    pub(crate) user: String,
}

#[derive(Debug, Default)]
pub(crate) struct Sessions {
    next_id: u64,
    /// Session Id -> session, in creation order.
    pub(crate) by_id: BTreeMap<u64, Session>,
    /// X-Auth-Token -> session Id.
    by_token: HashMap<String, u64>,
}

#[derive(Debug, Default)]
pub(crate) struct AtomicCounters {
    pub(crate) requests: AtomicU64,
    pub(crate) resets: AtomicU64,
    pub(crate) patches: AtomicU64,
    pub(crate) mode_patches: AtomicU64,
    pub(crate) sessions_created: AtomicU64,
    pub(crate) sessions_deleted: AtomicU64,
    pub(crate) auth_failures: AtomicU64,
}

impl AtomicCounters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Why a session could not be created.
pub(crate) enum SessionError {
    BadCredentials,
    LimitReached(usize),
}

#[derive(Debug)]
pub(crate) struct SimState {
    /// This state itself, for the timer tasks that land watched transitions.
    me: Weak<SimState>,
    pub(crate) fixed: Fixed,
    knobs: Mutex<Knobs>,
    systems: Mutex<Vec<System>>,
    sessions: Mutex<Sessions>,
    pub(crate) counters: AtomicCounters,
    /// While true, requests are read but not answered.
    pub(crate) unresponsive: watch::Sender<bool>,
    /// Cancelled once, when the BMC stops serving (by [`super::SimBmc::shutdown`] or when
    /// the last handle is dropped).
    pub(crate) stop: CancellationToken,
    /// Random per BMC, so session tokens differ between BMCs and runs.
    token_seed: u64,
}

impl SimState {
    pub(crate) fn new(cfg: &SimConfig) -> io::Result<Arc<SimState>> {
        let initial = Power::parse(&cfg.initial_power).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "SimConfig.initial_power {:?}: expected On, Off, PoweringOn or PoweringOff",
                    cfg.initial_power
                ),
            )
        })?;
        Ok(Arc::new_cyclic(|me| SimState {
            me: me.clone(),
            fixed: Fixed {
                systems: cfg.systems,
                nics_per_system: cfg.nics_per_system,
                username: cfg.username.clone(),
                sessions: cfg.sessions,
                etag: cfg.etag,
                action_info: cfg.action_info,
                reset_types: cfg.reset_types.clone(),
                mac_seed: cfg.mac_seed,
            },
            knobs: Mutex::new(Knobs {
                password: cfg.password.clone(),
                latency: cfg.latency,
                power_delay: cfg.power_delay,
                fail_next: 0,
                fail_status: 503,
                drop_boot_override: false,
                hide_boot_mode: false,
                hide_boot_override: false,
                session_limit: DEFAULT_SESSION_LIMIT,
                ignore_graceful: false,
            }),
            systems: Mutex::new((0..cfg.systems).map(|_| System::new(initial)).collect()),
            sessions: Mutex::new(Sessions {
                next_id: 1,
                ..Sessions::default()
            }),
            counters: AtomicCounters::default(),
            unresponsive: watch::Sender::new(false),
            stop: CancellationToken::new(),
            token_seed: std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish(),
        }))
    }

    pub(crate) fn knobs(&self) -> MutexGuard<'_, Knobs> {
        // A panic while holding the lock cannot leave these plain values inconsistent.
        self.knobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One system, with its due transition landed. Panics if `i` is out of range.
    pub(crate) fn with_system<T>(&self, i: usize, f: impl FnOnce(&mut System) -> T) -> T {
        let mut systems = self.systems.lock().unwrap_or_else(|e| e.into_inner());
        let n = systems.len();
        let system = systems
            .get_mut(i)
            .unwrap_or_else(|| panic!("SimBmc: system index {i} out of range (this BMC has {n})"));
        system.settle(Instant::now());
        let out = f(system);
        if system.events.is_some() {
            self.publish(i, system);
        }
        out
    }

    /// Tell a watched system's watchers what changed, and make sure a transition in flight
    /// lands on time even if nobody reads the system meanwhile.
    fn publish(&self, i: usize, system: &mut System) {
        let event = system.event();
        if let Some(tx) = &system.events {
            tx.send_if_modified(|v| {
                let changed = *v != event;
                *v = event;
                changed
            });
        }
        let Some(p) = system.pending else {
            system.timer_at = None;
            return;
        };
        if system.timer_at == Some(p.at) {
            return;
        }
        // Outside a runtime there is no timer to start; the next read lands it instead.
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        system.timer_at = Some(p.at);
        let me = self.me.clone();
        rt.spawn(async move {
            tokio::time::sleep_until(p.at).await;
            if let Some(st) = me.upgrade() {
                st.with_system(i, |_| ());
            }
        });
    }

    /// Watch one system's power (see [`super::SimBmc::power_events`]).
    pub(crate) fn power_events(&self, i: usize) -> watch::Receiver<PowerEvent> {
        self.with_system(i, |s| {
            let event = s.event();
            s.events
                .get_or_insert_with(|| watch::Sender::new(event))
                .subscribe()
        })
    }

    pub(crate) fn sessions(&self) -> MutexGuard<'_, Sessions> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn reset(&self, i: usize, reset_type: &str) {
        let (delay, ignore_graceful) = {
            let k = self.knobs();
            (k.power_delay, k.ignore_graceful)
        };
        self.with_system(i, |s| {
            s.reset(reset_type, delay, ignore_graceful, Instant::now())
        });
    }

    /// The test-facing setter: go to `state` now, cancelling any transition. Reaching On from
    /// anything else counts as a power-on. `PoweringOn`/`PoweringOff` set this way stay until
    /// something changes them.
    pub(crate) fn set_power(&self, i: usize, state: Power) {
        self.with_system(i, |s| {
            let powers_on = state == Power::On && s.visible() != Power::On;
            s.force(state, powers_on);
        });
    }

    /// Basic credentials against the configured user and the current password.
    pub(crate) fn check_password(&self, user: &str, password: &str) -> bool {
        user == self.fixed.username && password == self.knobs().password
    }

    pub(crate) fn token_valid(&self, token: &str) -> bool {
        self.sessions().by_token.contains_key(token)
    }

    /// Create a session; returns its Id and token.
    pub(crate) fn create_session(
        &self,
        user: &str,
        password: &str,
    ) -> Result<(u64, String), SessionError> {
        if !self.check_password(user, password) {
            return Err(SessionError::BadCredentials);
        }
        let limit = self.knobs().session_limit;
        let mut sessions = self.sessions();
        if sessions.by_id.len() >= limit {
            return Err(SessionError::LimitReached(limit));
        }
        let id = sessions.next_id;
        sessions.next_id += 1;
        let mut h = Sha256::new();
        h.update(self.token_seed.to_le_bytes());
        h.update(id.to_le_bytes());
        h.update(self.fixed.mac_seed.to_le_bytes());
        let token = super::tls::hex(&h.finalize()[..16]);
        sessions.by_token.insert(token.clone(), id);
        sessions.by_id.insert(
            id,
            Session {
                token: token.clone(),
                user: user.to_string(),
            },
        );
        AtomicCounters::bump(&self.counters.sessions_created);
        Ok((id, token))
    }

    /// Delete a session by Id; false if there is no such session.
    pub(crate) fn delete_session(&self, id: u64) -> bool {
        let mut sessions = self.sessions();
        let Some(s) = sessions.by_id.remove(&id) else {
            return false;
        };
        sessions.by_token.remove(&s.token);
        AtomicCounters::bump(&self.counters.sessions_deleted);
        true
    }

    /// Forget every session (as a BMC reboot or session timeout does); not counted as
    /// deletions. Returns how many there were.
    pub(crate) fn expire_sessions(&self) -> usize {
        let mut sessions = self.sessions();
        let n = sessions.by_id.len();
        sessions.by_id.clear();
        sessions.by_token.clear();
        n
    }

    /// Consume one injected fault, if any are left.
    pub(crate) fn take_fault(&self) -> Option<u16> {
        let mut k = self.knobs();
        if k.fail_next == 0 {
            return None;
        }
        k.fail_next -= 1;
        Some(k.fail_status)
    }

    pub(crate) fn counters(&self) -> Counters {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Counters {
            requests: get(&c.requests),
            resets: get(&c.resets),
            patches: get(&c.patches),
            mode_patches: get(&c.mode_patches),
            sessions_created: get(&c.sessions_created),
            sessions_deleted: get(&c.sessions_deleted),
            live_sessions: self.sessions().by_id.len() as u64,
            auth_failures: get(&c.auth_failures),
        }
    }

    /// MAC index of NIC `nic` of system `system`.
    fn mac_index(&self, system: usize, nic: usize) -> u32 {
        let n = (system * self.fixed.nics_per_system + nic) as u32;
        self.fixed.mac_seed.wrapping_add(n)
    }

    /// `02:00:xx:xx:xx:xx`, lower-case, from the MAC counter.
    pub(crate) fn mac(&self, system: usize, nic: usize) -> String {
        let [a, b, c, d] = self.mac_index(system, nic).to_be_bytes();
        format!("02:00:{a:02x}:{b:02x}:{c:02x}:{d:02x}")
    }

    /// A stable UUID for system `system` (or for the BMC itself, `None`), from the MAC seed.
    pub(crate) fn uuid(&self, what: &str, system: Option<usize>) -> String {
        let mut h = Sha256::new();
        h.update(what.as_bytes());
        h.update(self.fixed.mac_seed.to_le_bytes());
        h.update(system.map_or(u64::MAX, |s| s as u64).to_le_bytes());
        let mut b: [u8; 16] = h.finalize()[..16].try_into().expect("sha256 is 32 bytes");
        b[6] = (b[6] & 0x0f) | 0x50; // version 5 (name-based, SHA)
        b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
        let x = super::tls::hex(&b);
        format!(
            "{}-{}-{}-{}-{}",
            &x[0..8],
            &x[8..12],
            &x[12..16],
            &x[16..20],
            &x[20..32]
        )
    }

    /// `Node<i>` -> i, for existing systems only (and only the canonical spelling).
    pub(crate) fn system_index(&self, id: &str) -> Option<usize> {
        let n: usize = id.strip_prefix("Node")?.parse().ok()?;
        (n < self.fixed.systems && format!("Node{n}") == id).then_some(n)
    }

    /// `NIC<i>` -> i, for existing NICs only.
    pub(crate) fn nic_index(&self, id: &str) -> Option<usize> {
        let n: usize = id.strip_prefix("NIC")?.parse().ok()?;
        (n < self.fixed.nics_per_system && format!("NIC{n}") == id).then_some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lazy_transition_lands_after_deadline_and_consumes_once() {
        let mut s = System::new(Power::Off);
        s.boot.enabled = "Once";
        let t0 = Instant::now();
        s.reset("On", Duration::from_secs(5), false, t0);
        assert_eq!(s.visible(), Power::PoweringOn);
        let tag = s.etag();
        s.settle(t0 + Duration::from_secs(1));
        assert_eq!(s.visible(), Power::PoweringOn);
        assert_eq!(s.boot.enabled, "Once");
        s.settle(t0 + Duration::from_secs(5));
        assert_eq!(s.visible(), Power::On);
        assert_eq!(s.boot.enabled, "Disabled");
        assert_ne!(s.etag(), tag);
    }

    #[test]
    fn graceful_is_ignored_when_asked() {
        for graceful in ["GracefulShutdown", "Off"] {
            let mut s = System::new(Power::On);
            s.reset(graceful, Duration::ZERO, true, Instant::now());
            assert_eq!(s.visible(), Power::On);
            s.reset(graceful, Duration::ZERO, false, Instant::now());
            assert_eq!(s.visible(), Power::Off);
        }
    }

    #[test]
    fn an_instant_restart_moves_the_last_reset_time() {
        let mut s = System::new(Power::On);
        let before = s.last_reset_ms;
        s.reset("GracefulRestart", Duration::ZERO, true, Instant::now());
        assert_eq!(s.last_reset_ms, before, "an ignored restart moves nothing");
        s.reset("GracefulRestart", Duration::ZERO, false, Instant::now());
        assert_eq!(s.visible(), Power::On);
        assert!(s.last_reset_ms > before);
    }
}
