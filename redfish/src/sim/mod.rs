//! SimBmc: a simulated Redfish BMC over real HTTP and HTTPS, for tests and benchmarks.
//!
//! In the spirit of omicron's `sp-sim`, this is not a mock: it speaks the real protocol on a
//! real socket, so the client under test runs its production code path (TLS, auth, sessions,
//! ETags, error bodies), and tests steer it through fault and behaviour knobs and read back
//! what happened through [`Counters`]. It shares no model structs with the client in this
//! crate; every document is built here with `serde_json::json!`.
//!
//! Two modes share everything below the documents: a *synthetic* BMC builds its documents
//! (`Node0`…, clean MACs, knobs for each quirk), a *replaying* one ([`SimConfig::mockup`])
//! serves a recorded tree of a real BMC ([`Mockup`]) with a writable state on top: resets
//! follow each system's own allowable values, the Boot override sticks where the system has
//! its properties, ETags change, recorded failures answer as recorded. Both offer an
//! EventService with Server-Sent Events about power (its wire format is in `events`).
//!
//! Layout: `state` (systems, sessions, knobs, the stop token), `power` (one system's lazy
//! power transitions), `mockup` (loading recorded trees, MAC/UUID rewriting), `events` (the
//! SSE streams and the Event payload), `http` (request pipeline, routing, Redfish documents
//! and errors), `server` (accept loop, TLS handshake, hyper connections), `tls` (certificate
//! generation and the rustls acceptor), `fleet` (many BMCs). Dependencies point one way:
//! `server` → `http` → `state` → `power`, `mockup`, `events`. Stopping is a
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

mod events;
mod fleet;
mod http;
mod mockup;
mod power;
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

pub use fleet::SimFleet;
pub use mockup::Mockup;
use power::Power;
use state::SimState;
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
    ///
    /// Replaying, it seeds the rewrite of the tree's MACs and UUIDs instead: 0 serves them as
    /// recorded, any other value gives every MAC and UUID a new value derived from it.
    pub mac_seed: u32,
    /// Offer the EventService with its Server-Sent Events stream (`ServerSentEventUri`).
    /// Off: a BMC without events (no `ServerSentEventUri`, the stream's URI answers 404; a
    /// synthetic BMC then has no EventService at all). Default true.
    pub events: bool,
    /// Replay this recorded tree instead of building documents. The tree decides the systems
    /// (`systems`, `nics_per_system`, `reset_types` and `action_info` are not used), each
    /// starts in its recorded PowerState and override (`initial_power` is not used), and
    /// `mac_seed` rewrites MACs and UUIDs. Default none.
    pub mockup: Option<Mockup>,
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
            events: true,
            mockup: None,
        }
    }
}

pub use fleet::Counters;

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

    /// `/redfish/v1/Systems/<id>` in collection order (replaying: the links as the recorded
    /// collection lists them, without trailing slashes).
    pub fn system_paths(&self) -> Vec<String> {
        self.state().system_paths()
    }

    /// The MAC addresses of a system's NICs, lower-case colon form, in NIC order (replaying:
    /// the `MACAddress` of each member of its EthernetInterfaces collection, as served, where
    /// it is a MAC at all).
    pub fn macs(&self, system: usize) -> Vec<String> {
        let st = self.state();
        assert!(
            system < st.fixed.systems,
            "SimBmc: system index {system} out of range"
        );
        if st.fixed.replay.is_some() {
            return http::replayed_macs(st, system);
        }
        (0..st.fixed.nics_per_system)
            .map(|n| st.mac(system, n))
            .collect()
    }

    /// Replaying: the JSON document at `path` as this BMC serves it now (state laid over,
    /// MACs and UUIDs rewritten); `None` for a synthetic BMC or a path without a document.
    pub fn document(&self, path: &str) -> Option<serde_json::Value> {
        http::replayed_document(self.state(), path)
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

    /// While on, GracefulShutdown/GracefulRestart are accepted (204) but nothing happens:
    /// an OS that ignores ACPI.
    pub fn set_ignore_graceful(&self, on: bool) {
        self.state().knobs().ignore_graceful = on;
    }

    /// While on, every reset is accepted (204) and nothing happens: a BMC that acknowledges
    /// and drops its actions.
    pub fn set_ignore_resets(&self, on: bool) {
        self.state().knobs().ignore_resets = on;
    }

    /// While on, every answer declares its full `Content-Length`, sends half its body and
    /// drops the connection (a BMC whose web server dies mid-answer).
    pub fn set_cut_bodies(&self, on: bool) {
        self.state().knobs().cut_bodies = on;
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

    pub(crate) fn signal_stop(&self) {
        self.state().stop.cancel();
    }

    pub(crate) async fn join(&self) {
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
