//! The simulated BMC's state: systems, sessions, knobs and counters.
//!
//! Everything here is synchronous and behind short-lived `std::sync::Mutex` locks (never held
//! across an `.await`), so the HTTP layer and the test-facing knobs see one consistent state.
//! What one system does on a reset lives in [`super::power`]; this module owns the set of them.
//! A replaying BMC ([`Fixed::replay`]) has the same state per system, seeded from its tree.
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

use super::events::EventHub;
use super::mockup::{Mockup, ReplaySystem};
use super::power::{BootOverride, Power, System};
use super::{Counters, PowerEvent, SimConfig};

/// `BootSourceOverrideTarget@Redfish.AllowableValues`.
pub(crate) const BOOT_TARGETS: &[&str] = &["None", "Pxe", "Hdd", "Cd", "UefiHttp", "BiosSetup"];
/// `BootSourceOverrideEnabled@Redfish.AllowableValues`.
pub(crate) const BOOT_ENABLED: &[&str] = &["Once", "Continuous", "Disabled"];
/// `BootSourceOverrideMode@Redfish.AllowableValues`.
pub(crate) const BOOT_MODES: &[&str] = &["UEFI", "Legacy"];

/// How many sessions may be live before creating one more fails, unless changed by the knob.
const DEFAULT_SESSION_LIMIT: usize = 64;

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
    /// Offer the EventService with its SSE stream.
    pub(crate) events: bool,
    /// Replaying a recorded tree instead of building documents.
    pub(crate) replay: Option<Replay>,
}

/// A recorded tree and how this BMC rewrites its MACs and UUIDs (seed 0: as recorded).
#[derive(Debug)]
pub(crate) struct Replay {
    pub(crate) mockup: Mockup,
    pub(crate) seed: u64,
}

impl Replay {
    pub(crate) fn systems(&self) -> &[ReplaySystem] {
        &self.mockup.tree.systems
    }
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
    pub(crate) session_limit: usize,
    pub(crate) ignore_graceful: bool,
    pub(crate) ignore_resets: bool,
    pub(crate) cut_bodies: bool,
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
    pub(crate) gets: AtomicU64,
    pub(crate) resets: AtomicU64,
    pub(crate) patches: AtomicU64,
    pub(crate) mode_patches: AtomicU64,
    pub(crate) sessions_created: AtomicU64,
    pub(crate) sessions_deleted: AtomicU64,
    pub(crate) auth_failures: AtomicU64,
    pub(crate) sse_streams: AtomicU64,
    pub(crate) events_sent: AtomicU64,
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
    /// The SSE streams open now (their EventDestinations).
    pub(crate) hub: EventHub,
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
        let replay = cfg.mockup.as_ref().map(|m| Replay {
            mockup: m.clone(),
            seed: u64::from(cfg.mac_seed),
        });
        let systems: Vec<System> = match &replay {
            Some(r) => r
                .systems()
                .iter()
                .map(|s| System::new(s.initial_power, s.initial_boot.clone()))
                .collect(),
            None => (0..cfg.systems)
                .map(|_| System::new(initial, BootOverride::default()))
                .collect(),
        };
        Ok(Arc::new_cyclic(|me| SimState {
            me: me.clone(),
            fixed: Fixed {
                systems: systems.len(),
                nics_per_system: cfg.nics_per_system,
                username: cfg.username.clone(),
                sessions: cfg.sessions,
                etag: cfg.etag,
                action_info: cfg.action_info,
                reset_types: cfg.reset_types.clone(),
                mac_seed: cfg.mac_seed,
                events: cfg.events,
                replay,
            },
            knobs: Mutex::new(Knobs {
                password: cfg.password.clone(),
                latency: cfg.latency,
                power_delay: cfg.power_delay,
                fail_next: 0,
                fail_status: 503,
                drop_boot_override: false,
                hide_boot_mode: false,
                session_limit: DEFAULT_SESSION_LIMIT,
                ignore_graceful: false,
                ignore_resets: false,
                cut_bodies: false,
            }),
            systems: Mutex::new(systems),
            sessions: Mutex::new(Sessions {
                next_id: 1,
                ..Sessions::default()
            }),
            counters: AtomicCounters::default(),
            unresponsive: watch::Sender::new(false),
            stop: CancellationToken::new(),
            hub: EventHub::default(),
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
        let Some(at) = system.next_deadline() else {
            system.timer_at = None;
            return;
        };
        if system.timer_at == Some(at) {
            return;
        }
        // Outside a runtime there is no timer to start; the next read lands it instead.
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        system.timer_at = Some(at);
        let me = self.me.clone();
        rt.spawn(async move {
            tokio::time::sleep_until(at).await;
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
            if k.ignore_resets {
                return;
            }
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
            gets: get(&c.gets),
            resets: get(&c.resets),
            patches: get(&c.patches),
            mode_patches: get(&c.mode_patches),
            sessions_created: get(&c.sessions_created),
            sessions_deleted: get(&c.sessions_deleted),
            live_sessions: self.sessions().by_id.len() as u64,
            auth_failures: get(&c.auth_failures),
            sse_streams: get(&c.sse_streams),
            events_sent: get(&c.events_sent),
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

    /// The systems' links, in Systems collection order.
    pub(crate) fn system_paths(&self) -> Vec<String> {
        match &self.fixed.replay {
            Some(r) => r.systems().iter().map(|s| s.path.clone()).collect(),
            None => (0..self.fixed.systems)
                .map(|i| format!("/redfish/v1/Systems/Node{i}"))
                .collect(),
        }
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
