//! One simulated netbooting node: it follows the appliance's boot plane over real HTTP.
//!
//! A [`SimNode`] watches its system on a [`SimBmc`] ([`SimBmc::power_events`]) and, every time
//! the host powers on (restarts included), does what iPXE and the booted OS would: GET
//! `/boot/v1/bootscript?mac=…`, follow the script's `kernel` and `initrd` lines to the
//! appliance's `/artifacts/<token>/…` URLs (whole bodies, streamed and counted), then, like
//! bos-reporter, PATCH `actual_state.bss_token` to `/apis/bos/v2/components/{xname}`. Nothing is
//! mocked on the appliance side: what the node does is what the appliance records as boot
//! evidence (docs/architecture.md, "Knowing what a node booted"), so tests, the demo and
//! benchmarks exercise the real boot plane.
//!
//! Design choices:
//! - **Cheap**: one Tokio task per node, asleep on its `watch` receiver while nothing happens;
//!   every node shares one `reqwest::Client` (and so one connection pool). Ten thousand nodes
//!   fit in one process.
//! - **Power is the only trigger**: the task keys boots on [`PowerEvent::power_ons`], so a
//!   restart that never shows Off still starts a new boot, and the boot in flight is dropped
//!   (its requests cancelled mid-transfer) as soon as the power changes again.
//! - **Loopback only**: every URL the node follows is re-rooted at the configured base URL (its
//!   path and query are kept). The appliance's advertise URL names the address nodes use on a
//!   boot network, which a test process usually cannot reach; this node only ever talks to
//!   `base`.
//! - **Failures are status**: the node never panics or logs its way out; each failure is counted
//!   and its text kept in [`SimNodeStatus`], which tests read or await.
//!
//! A node spawned while its system is already On boots at once, as if just powered on.
//!
//! After reporting, a node can also act as its own **configuration agent** (the [`ConfigAgent`]
//! knob), applying its desired CFS layers and reporting each one (`cfs_agent` says how).
//!
//! The parts: `config` holds the knobs and pacing a node starts with, `status` what it reports
//! about itself, `script` reads iPXE scripts, `boot` fetches scripts and artifacts, `report` is
//! the bos-reporter PATCH, `cfs_agent` the configuration agent, and `retry` the one retry pacer
//! those three share. This file is the handle ([`SimNode`]) and the task's power loop.

mod boot;
mod cfs_agent;
mod config;
mod report;
mod retry;
mod script;
mod status;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use redfish::sim::{PowerEvent, SimBmc};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use url::Url;

pub use config::{Behaviour, ConfigAgent, ConfigService, Pacing, SimNodeConfig};
pub use status::{NodePhase, SimNodeStatus};

/// The architecture a node says it is when a chain URL asks for `${buildarch}`.
const BUILDARCH: &str = "x86_64";

/// The knobs and the status, shared by the handle and the task.
struct Shared {
    behaviour: AtomicU8,
    report: AtomicBool,
    config_agent: AtomicU8,
    status: watch::Sender<SimNodeStatus>,
}

impl Shared {
    fn update(&self, f: impl FnOnce(&mut SimNodeStatus)) {
        self.status.send_modify(f);
    }

    fn fail(&self, what: String) {
        tracing::debug!(error = %what, "sim node");
        self.update(|s| {
            s.errors += 1;
            s.last_error = Some(what);
        });
    }
}

/// A running simulated node. A cheap handle: clones share one node, knobs take `&self`.
/// The node stops when the last handle is dropped, on [`SimNode::shutdown`], or when its
/// BMC stops.
#[derive(Clone)]
pub struct SimNode {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    mac: String,
    bmc: SimBmc,
    system: usize,
    task: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for SimNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimNode")
            .field("mac", &self.inner.mac)
            .field("system", &self.inner.system)
            .field("phase", &self.inner.shared.status.borrow().phase)
            .finish_non_exhaustive()
    }
}

impl SimNode {
    /// Start following the system's power.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime, if `cfg.system` is not a system of `cfg.bmc`, or if
    /// `cfg.base` is not an absolute URL.
    pub fn spawn(cfg: SimNodeConfig) -> SimNode {
        let base = Url::parse(&cfg.base)
            .unwrap_or_else(|e| panic!("SimNode: base URL {:?}: {e}", cfg.base));
        let shared = Arc::new(Shared {
            behaviour: AtomicU8::new(cfg.behaviour as u8),
            report: AtomicBool::new(cfg.report),
            config_agent: AtomicU8::new(cfg.config_agent as u8),
            status: watch::Sender::new(SimNodeStatus::default()),
        });
        let power = cfg.bmc.power_events(cfg.system);
        let node = Node {
            shared: shared.clone(),
            http: cfg.http,
            base,
            mac: cfg.mac.clone(),
            pacing: cfg.pacing,
            config_service: cfg.config_service.clone(),
        };
        let task = tokio::spawn(node.run(power));
        SimNode {
            inner: Arc::new(Inner {
                shared,
                mac: cfg.mac,
                bmc: cfg.bmc,
                system: cfg.system,
                task,
            }),
        }
    }

    pub fn mac(&self) -> &str {
        &self.inner.mac
    }

    pub fn bmc(&self) -> &SimBmc {
        &self.inner.bmc
    }

    pub fn system(&self) -> usize {
        self.inner.system
    }

    /// A snapshot of what the node has done.
    pub fn status(&self) -> SimNodeStatus {
        self.inner.shared.status.borrow().clone()
    }

    /// A receiver told about every status change, for tests that await several things.
    pub fn watch_status(&self) -> watch::Receiver<SimNodeStatus> {
        self.inner.shared.status.subscribe()
    }

    /// Wait until `pred` holds for the status (at once if it already does). Bound it with
    /// `tokio::time::timeout`.
    pub async fn wait_for(&self, pred: impl FnMut(&SimNodeStatus) -> bool) -> SimNodeStatus {
        let mut rx = self.watch_status();
        let status = rx
            .wait_for(pred)
            .await
            .expect("the status sender lives as long as this handle");
        status.clone()
    }

    /// Wait until the node has completed `n` boots since it was spawned.
    pub async fn wait_booted(&self, n: u64) -> SimNodeStatus {
        self.wait_for(|s| s.boots_completed >= n).await
    }

    pub fn behaviour(&self) -> Behaviour {
        Behaviour::from_u8(self.inner.shared.behaviour.load(Ordering::Relaxed))
    }

    /// Takes effect at the next power-on.
    pub fn set_behaviour(&self, b: Behaviour) {
        self.inner
            .shared
            .behaviour
            .store(b as u8, Ordering::Relaxed);
    }

    pub fn report(&self) -> bool {
        self.inner.shared.report.load(Ordering::Relaxed)
    }

    /// Act like bos-reporter (true) or leave only boot evidence (false). Takes effect when
    /// the next boot comes up.
    pub fn set_report(&self, on: bool) {
        self.inner.shared.report.store(on, Ordering::Relaxed);
    }

    pub fn config_agent(&self) -> ConfigAgent {
        ConfigAgent::from_u8(self.inner.shared.config_agent.load(Ordering::Relaxed))
    }

    /// What the node does about configuration after its next boot.
    pub fn set_config_agent(&self, a: ConfigAgent) {
        self.inner
            .shared
            .config_agent
            .store(a as u8, Ordering::Relaxed);
    }

    /// An OS that ignores ACPI: forwards to [`SimBmc::set_ignore_graceful`], so it applies
    /// to every system of this node's BMC.
    pub fn set_ignore_graceful(&self, on: bool) {
        self.inner.bmc.set_ignore_graceful(on);
    }

    /// Stop the node (the BMC keeps running). Other clones see a node that no longer
    /// reacts; its status stays readable.
    pub fn stop(&self) {
        self.inner.task.abort();
    }
}

/// The task's side: everything it needs to boot, owned.
struct Node {
    shared: Arc<Shared>,
    http: reqwest::Client,
    base: Url,
    mac: String,
    pacing: Pacing,
    config_service: Option<config::ConfigService>,
}

impl Node {
    /// Sleep until the power changes; boot on every fresh power-on, dropping the boot in
    /// flight on any other change. Ends when the BMC goes away.
    async fn run(self, mut power: watch::Receiver<PowerEvent>) {
        // The power-on count of the last power-on reacted to.
        let mut handled: Option<u64> = None;
        loop {
            let ev = *power.borrow_and_update();
            if ev.state == "On" && handled != Some(ev.power_ons) {
                handled = Some(ev.power_ons);
                self.shared.update(|s| s.power_ons += 1);
                tokio::select! {
                    () = self.power_on() => {}
                    changed = power.changed() => {
                        self.shared.update(|s| {
                            if s.phase == NodePhase::Booting {
                                s.boots_cancelled += 1;
                            }
                            s.phase = NodePhase::Off;
                        });
                        if changed.is_err() {
                            return;
                        }
                        continue;
                    }
                }
            } else if ev.state != "On" {
                self.shared.update(|s| s.phase = NodePhase::Off);
            }
            if power.changed().await.is_err() {
                return;
            }
        }
    }

    /// One power-on: boot per the behaviour knob, then report if asked to.
    async fn power_on(&self) {
        let behaviour = Behaviour::from_u8(self.shared.behaviour.load(Ordering::Relaxed));
        if behaviour == Behaviour::NeverBoots {
            self.shared.update(|s| s.phase = NodePhase::Hung);
            return;
        }
        self.shared.update(|s| {
            s.boots_started += 1;
            s.phase = NodePhase::Booting;
        });
        let Some(kernel) = self.boot(behaviour).await else {
            self.shared.update(|s| s.phase = NodePhase::Failed);
            return;
        };
        let xname = kernel.arg("xname");
        let token = kernel.arg("bss_referral_token");
        self.shared.update(|s| {
            s.boots_completed += 1;
            s.phase = NodePhase::Up;
            s.xname.clone_from(&xname);
            s.token.clone_from(&token);
        });
        if !self.shared.report.load(Ordering::Relaxed) {
            return;
        }
        let Some(xname) = xname else {
            self.shared
                .fail("cannot report: no xname= on the kernel command line".into());
            return;
        };
        let token = match behaviour {
            Behaviour::WrongArtifacts => format!("{}-wrong", token.as_deref().unwrap_or("none")),
            _ => token.unwrap_or_default(),
        };
        if !self.report(&xname, &token).await {
            return;
        }
        let agent = ConfigAgent::from_u8(self.shared.config_agent.load(Ordering::Relaxed));
        if agent != ConfigAgent::Off {
            self.configure(&xname, agent).await;
        }
    }

    /// Send a request with the node's per-request timeout; a failure to get an answer is
    /// its error chain as text (the node's errors are status, see [`SimNodeStatus`]).
    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, String> {
        req.timeout(self.pacing.request_timeout)
            .send()
            .await
            .map_err(|e| crate::errors::chain(&e))
    }

    /// `raw` (absolute, or a path) re-rooted at the base URL: only its path and query are
    /// kept, so the node talks to nobody but `base`.
    fn url(&self, raw: &str) -> Url {
        let mut u = self.base.clone();
        match Url::parse(raw) {
            Ok(abs) => {
                u.set_path(abs.path());
                u.set_query(abs.query());
            }
            Err(_) => match self.base.join(raw) {
                Ok(joined) => u = joined,
                Err(_) => u.set_path(raw),
            },
        }
        u
    }

    /// The iPXE variables a chain URL may carry, as this node would fill them in.
    fn expand(&self, chain: &str) -> String {
        chain
            .replace("${buildarch}", BUILDARCH)
            .replace("${net0/mac}", &self.mac)
    }
}

/// A few hundred characters of an answer body, for error text.
fn snippet(text: &str) -> &str {
    let t = text.trim();
    match t.char_indices().nth(200) {
        Some((i, _)) => &t[..i],
        None => t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_node_urls_stay_on_the_base() {
        let node = Node {
            shared: Arc::new(Shared {
                behaviour: AtomicU8::new(0),
                report: AtomicBool::new(true),
                config_agent: AtomicU8::new(0),
                status: watch::Sender::new(SimNodeStatus::default()),
            }),
            http: reqwest::Client::new(),
            base: Url::parse("http://127.0.0.1:9").unwrap(),
            mac: "02:00:00:00:00:01".into(),
            pacing: Pacing::default(),
            config_service: None,
        };
        assert_eq!(
            node.url("http://10.1.0.1:8080/artifacts/t/kernel?x=1")
                .as_str(),
            "http://127.0.0.1:9/artifacts/t/kernel?x=1"
        );
        assert_eq!(
            node.url("/boot/v1/bootscript?mac=a").as_str(),
            "http://127.0.0.1:9/boot/v1/bootscript?mac=a"
        );
        assert_eq!(
            node.expand("/b?mac=${net0/mac}&arch=${buildarch}"),
            "/b?mac=02:00:00:00:00:01&arch=x86_64"
        );
    }
}
