//! SimBmc: a simulated Redfish BMC over real HTTP and HTTPS, for tests and benchmarks.
//!
//! In the spirit of omicron's `sp-sim`, this is not a mock: it speaks the real protocol on a
//! real socket, so the client under test runs its production code path (TLS, auth, sessions,
//! ETags, error bodies), and tests steer it through fault and behaviour knobs and read back
//! what happened through [`Counters`]. It shares no model structs with the client in this
//! crate; every document is built here with `serde_json::json!`.
//!
//! Layout: `state` (systems, sessions, knobs, lazy power transitions, the stop token), `http`
//! (request pipeline, routing, Redfish documents and errors), `server` (accept loop, TLS
//! handshake, hyper connections), `tls` (certificate generation and the rustls acceptor).
//! Dependencies point one way: `server` → `http` → `state`. Stopping is a
//! `CancellationToken` in the state: [`SimBmc::shutdown`] (or dropping the last handle)
//! cancels it, the accept loop ends on it, and requests held by the unresponsive knob are
//! released with their connections.
//!
//! Scale: each BMC is one listener task plus one task per open connection; systems are a few
//! dozen bytes each and power transitions are computed on read, so a [`SimFleet`] of 1,000
//! BMCs with 10 systems each lives comfortably in one test process (it needs one file
//! descriptor per BMC, plus connections).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use redfish::sim::{SimBmc, SimConfig};
//! let bmc = SimBmc::start(SimConfig { systems: 2, ..SimConfig::default() }).await?;
//! assert_eq!(bmc.system_paths()[1], "/redfish/v1/Systems/Node1");
//! bmc.fail_next(2, 503); // the next two requests get 503 + Retry-After
//! bmc.shutdown().await;
//! # Ok(()) }
//! ```

mod http;
mod server;
mod state;
mod tls;

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use state::{Power, SimState};
pub use tls::self_signed_cert;

/// How a [`SimBmc`] starts. Fields marked "knob" can also be changed while running.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Systems on this BMC (`Node0`, `Node1`, ...). Default 1.
    pub systems: usize,
    /// Ethernet interfaces per system (`NIC0`, ...). Default 1.
    pub nics_per_system: usize,
    /// Default "admin".
    pub username: String,
    /// Default "password" (knob: [`SimBmc::set_password`]).
    pub password: String,
    /// Serve HTTPS with a freshly generated self-signed certificate. Default false.
    pub tls: bool,
    /// Offer the SessionService and `Links.Sessions` in the service root. Default true.
    pub sessions: bool,
    /// ComputerSystem GET returns an `ETag`; PATCH honours `If-Match` (412 on mismatch).
    /// Default true.
    pub etag: bool,
    /// Publish reset types through an `@Redfish.ActionInfo` link (AMI style) instead of
    /// inline `ResetType@Redfish.AllowableValues`. Default false.
    pub action_info: bool,
    /// Accepted ResetTypes. Default On, ForceOff, GracefulShutdown, GracefulRestart,
    /// ForceRestart, PowerCycle.
    pub reset_types: Vec<String>,
    /// PoweringOn -> On and PoweringOff -> Off take this long; zero (the default) makes
    /// transitions immediate, with no Powering* state visible (knob: [`SimBmc::set_power_delay`]).
    pub power_delay: Duration,
    /// Added before every response. Default zero (knob: [`SimBmc::set_latency`]).
    pub latency: Duration,
    /// "Off" (default), "On", or a sticky "PoweringOn"/"PoweringOff".
    pub initial_power: String,
    /// First MAC index: MACs are `02:00:xx:xx:xx:xx` from a counter starting here, one per
    /// NIC in system order. BMCs meant to coexist need disjoint ranges ([`SimFleet`] does
    /// this). The UUIDs are derived from it too. Default 0.
    pub mac_seed: u32,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            systems: 1,
            nics_per_system: 1,
            username: "admin".to_string(),
            password: "password".to_string(),
            tls: false,
            sessions: true,
            etag: true,
            action_info: false,
            reset_types: [
                "On",
                "ForceOff",
                "GracefulShutdown",
                "GracefulRestart",
                "ForceRestart",
                "PowerCycle",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            power_delay: Duration::ZERO,
            latency: Duration::ZERO,
            initial_power: "Off".to_string(),
            mac_seed: 0,
        }
    }
}

/// What a BMC has seen. `requests` counts every request received, including ones answered
/// by an injected fault or never answered; `resets` and `patches` count accepted ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub requests: u64,
    pub resets: u64,
    pub patches: u64,
    /// Accepted Boot PATCHes that set `BootSourceOverrideMode`.
    pub mode_patches: u64,
    pub sessions_created: u64,
    pub sessions_deleted: u64,
    pub live_sessions: u64,
    pub auth_failures: u64,
}

impl Counters {
    fn sum(self, o: Counters) -> Counters {
        Counters {
            requests: self.requests + o.requests,
            resets: self.resets + o.resets,
            patches: self.patches + o.patches,
            mode_patches: self.mode_patches + o.mode_patches,
            sessions_created: self.sessions_created + o.sessions_created,
            sessions_deleted: self.sessions_deleted + o.sessions_deleted,
            live_sessions: self.live_sessions + o.live_sessions,
            auth_failures: self.auth_failures + o.auth_failures,
        }
    }
}

/// One system's power as [`SimBmc::power_events`] publishes it.
///
/// `power_ons` is what makes restarts observable: a `watch` channel keeps only the newest
/// value, so a watcher can miss the Off (or PoweringOff) in the middle of a restart, but it
/// cannot miss the count going up. "The host booted again" is `power_ons` changing while
/// `state` is On.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PowerEvent {
    /// "On", "Off", "PoweringOn" or "PoweringOff", as a client would see it.
    pub state: &'static str,
    /// How many times the host has powered on since the BMC started: reaching On from any
    /// other state, and every restart (GracefulRestart, ForceRestart, PowerCycle), including
    /// an instant On -> On one. A system that starts On starts at 0.
    pub power_ons: u64,
}

/// A running simulated BMC. A cheap handle: clones share one BMC, and knobs take `&self`.
/// The BMC stops on [`SimBmc::shutdown`] or when the last handle is dropped.
///
/// Methods taking a `system` index panic if it is out of range, like slice indexing.
#[derive(Clone)]
pub struct SimBmc {
    inner: Arc<Inner>,
}

struct Inner {
    state: Arc<SimState>,
    addr: SocketAddr,
    url: String,
    cert: Option<tls::SimCert>,
    server: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.state.stop.cancel();
    }
}

impl fmt::Debug for SimBmc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimBmc")
            .field("url", &self.inner.url)
            .field("systems", &self.inner.state.fixed.systems)
            .finish_non_exhaustive()
    }
}

impl SimBmc {
    /// Start a BMC on `127.0.0.1:0`.
    pub async fn start(cfg: SimConfig) -> io::Result<SimBmc> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        SimBmc::start_on(listener, cfg).await
    }

    /// Start a BMC on an already bound listener. Fails with `InvalidInput` on a bad
    /// `initial_power`.
    pub async fn start_on(listener: TcpListener, cfg: SimConfig) -> io::Result<SimBmc> {
        let state = SimState::new(&cfg)?;
        let addr = listener.local_addr()?;
        let (cert, acceptor) = if cfg.tls {
            let cert =
                tls::SimCert::generate(&["127.0.0.1", "localhost"]).map_err(io::Error::other)?;
            let acceptor = cert.acceptor()?;
            (Some(cert), Some(acceptor))
        } else {
            (None, None)
        };
        let host = match addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let scheme = if cfg.tls { "https" } else { "http" };
        let url = format!("{scheme}://{}", SocketAddr::new(host, addr.port()));
        let server = tokio::spawn(server::run(listener, state.clone(), acceptor));
        Ok(SimBmc {
            inner: Arc::new(Inner {
                state,
                addr,
                url,
                cert,
                server: Mutex::new(Some(server)),
            }),
        })
    }

    fn state(&self) -> &SimState {
        &self.inner.state
    }

    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> String {
        self.inner.url.clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// PEM of the served certificate, when serving HTTPS.
    pub fn cert_pem(&self) -> Option<String> {
        self.inner.cert.as_ref().map(|c| c.cert_pem.clone())
    }

    /// Lower-case hex SHA-256 of the served certificate's DER (64 characters), when HTTPS.
    pub fn cert_sha256(&self) -> Option<String> {
        self.inner.cert.as_ref().map(|c| c.sha256.clone())
    }

    /// `/redfish/v1/Systems/<id>` in collection order.
    pub fn system_paths(&self) -> Vec<String> {
        (0..self.state().fixed.systems)
            .map(|i| format!("/redfish/v1/Systems/Node{i}"))
            .collect()
    }

    /// The MAC addresses of a system's NICs, lower-case colon form, in NIC order.
    pub fn macs(&self, system: usize) -> Vec<String> {
        let st = self.state();
        assert!(
            system < st.fixed.systems,
            "SimBmc: system index {system} out of range"
        );
        (0..st.fixed.nics_per_system)
            .map(|n| st.mac(system, n))
            .collect()
    }

    /// "On", "Off", "PoweringOn" or "PoweringOff", as a client would see it now.
    pub fn power_state(&self, system: usize) -> String {
        self.state()
            .with_system(system, |s| s.visible().as_str().to_string())
    }

    /// Watch a system's power: the receiver holds the current [`PowerEvent`] and is told
    /// about every change, however it happened (a Redfish reset, [`SimBmc::set_power_state`],
    /// or a delayed PoweringOn -> On landing, which is landed on time by a timer while the
    /// system is watched). Any number of watchers; unwatched systems cost nothing extra.
    pub fn power_events(&self, system: usize) -> watch::Receiver<PowerEvent> {
        self.state().power_events(system)
    }

    /// How many systems this BMC has.
    pub fn systems(&self) -> usize {
        self.state().fixed.systems
    }

    /// Put a system in `state` now, cancelling any transition in flight. Reaching "On" from
    /// anything else counts as a power-on (a pending `Once` boot override is consumed, as if
    /// someone pressed the power button). "PoweringOn"/"PoweringOff" set here stay until a
    /// reset action or another call changes them.
    ///
    /// # Panics
    ///
    /// On a state other than those four.
    pub fn set_power_state(&self, system: usize, state: &str) {
        let power = Power::parse(state)
            .unwrap_or_else(|| panic!("SimBmc::set_power_state: unknown power state {state:?}"));
        self.state().set_power(system, power);
    }

    /// (BootSourceOverrideEnabled, BootSourceOverrideTarget, BootSourceOverrideMode).
    pub fn boot_override(&self, system: usize) -> (String, String, String) {
        self.state().with_system(system, |s| {
            (
                s.boot.enabled.to_string(),
                s.boot.target.to_string(),
                s.boot.mode.to_string(),
            )
        })
    }

    /// Added before every response, errors included.
    pub fn set_latency(&self, d: Duration) {
        self.state().knobs().latency = d;
    }

    /// How long PoweringOn/PoweringOff last for actions issued from now on.
    pub fn set_power_delay(&self, d: Duration) {
        self.state().knobs().power_delay = d;
    }

    /// While on, requests are read but never answered; turning it off releases them.
    pub fn set_unresponsive(&self, on: bool) {
        self.state().unresponsive.send_replace(on);
    }

    /// The next `n` requests (any but the service root GET) get `status` with a Redfish error
    /// body; 503 also carries `Retry-After: 1`. Replaces any faults still pending.
    pub fn fail_next(&self, n: u32, status: u16) {
        let mut k = self.state().knobs();
        k.fail_next = n;
        k.fail_status = status;
    }

    /// While on, a PATCH of Boot answers 204 but changes nothing (a BMC that drops it). Such
    /// PATCHes still count in [`Counters::patches`]: the BMC accepted them.
    pub fn set_drop_boot_override(&self, on: bool) {
        self.state().knobs().drop_boot_override = on;
    }

    /// While on, systems report no `BootSourceOverrideMode` (legacy BIOS systems of some
    /// BMCs, e.g. sushy-tools' libvirt driver).
    pub fn set_hide_boot_mode(&self, on: bool) {
        self.state().knobs().hide_boot_mode = on;
    }

    /// While on, systems' `Boot` has no override properties (no BootSourceOverrideTarget,
    /// Enabled or Mode, nor their AllowableValues), like an HPE Cray EX node controller's,
    /// which boots by its BootOrder.
    pub fn set_hide_boot_override(&self, on: bool) {
        self.state().knobs().hide_boot_override = on;
    }

    /// Max live sessions (default 64); creating one more answers 503
    /// `Base.1.8.SessionLimitExceeded`. Existing sessions are kept.
    pub fn set_session_limit(&self, n: usize) {
        self.state().knobs().session_limit = n;
    }

    /// Forget every live session (a BMC reboot or a session timeout): requests with an old
    /// token get 401. Returns how many sessions there were.
    pub fn expire_sessions(&self) -> usize {
        self.state().expire_sessions()
    }

    /// While on, GracefulShutdown, Off (a Cray EX graceful off), GracefulRestart and a
    /// PushPowerButton press on a running host are accepted (204) but nothing happens:
    /// an OS that ignores ACPI.
    pub fn set_ignore_graceful(&self, on: bool) {
        self.state().knobs().ignore_graceful = on;
    }

    /// New password for Basic auth and session creation; live sessions stay valid.
    pub fn set_password(&self, p: &str) {
        self.state().knobs().password = p.to_string();
    }

    pub fn counters(&self) -> Counters {
        self.state().counters()
    }

    /// Stop serving: close the listener and drop every connection. Other clones of this
    /// handle see a stopped BMC.
    pub async fn shutdown(self) {
        self.signal_stop();
        self.join().await;
    }

    fn signal_stop(&self) {
        self.state().stop.cancel();
    }

    async fn join(&self) {
        let task = self
            .inner
            .server
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
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
    pub async fn start(count: usize, cfg: SimConfig) -> io::Result<SimFleet> {
        let per_bmc = (cfg.systems * cfg.nics_per_system.max(1)).max(1) as u32;
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
