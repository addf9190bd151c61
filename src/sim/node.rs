//! One simulated netbooting node: it follows the appliance's boot plane over real HTTP.
//!
//! A [`SimNode`] watches its system on a [`SimBmc`] ([`SimBmc::power_events`]) and, every
//! time the host powers on (restarts included), does what iPXE and the booted OS would: GET
//! `/boot/v1/bootscript?mac=…`, follow the script's `kernel` and `initrd` lines to the
//! appliance's `/artifacts/<token>/…` URLs (whole bodies, streamed and counted), then, like
//! bos-reporter, PATCH `actual_state.bss_token` to `/apis/bos/v2/components/{xname}`. Nothing
//! is mocked on the appliance side: what the node does is what the appliance records as boot
//! evidence (DESIGN §5), so tests, the demo and benchmarks exercise the real boot plane.
//!
//! Design choices:
//! - **Cheap**: one Tokio task per node, asleep on its `watch` receiver while nothing
//!   happens; every node shares one `reqwest::Client` (and so one connection pool). Ten
//!   thousand nodes fit in one process.
//! - **Power is the only trigger**: the task keys boots on [`PowerEvent::power_ons`], so a
//!   restart that never shows Off still starts a new boot, and the boot in flight is dropped
//!   (its requests cancelled mid-transfer) as soon as the power changes again.
//! - **Loopback only**: every URL the node follows is re-rooted at the configured base URL
//!   (its path and query are kept). The appliance's advertise URL names the address nodes
//!   use on a boot network, which a test process usually cannot reach; this node only ever
//!   talks to `base`.
//! - **Failures are status**: the node never panics or logs its way out; each failure is
//!   counted and its text kept in [`SimNodeStatus`], which tests read or await.
//!
//! A node spawned while its system is already On boots at once, as if just powered on.
//!
//! After reporting, a node can also act as its own **configuration agent** (the
//! [`ConfigAgent`] knob): like cfs-state-reporter it PATCHes its CFS component
//! (`/apis/cfs/v3/components/{xname}`) to `enabled: true`, then, standing in for the CFS
//! batcher and its Ansible run, reads its desired layers (`config_details=true`) and reports
//! each pending one with `state_append` — `applied`, or `failed` with the error count raised
//! as a failed CFS session would, until CFS says `configured` or `failed`. A 404 (no CFS
//! component, or no built-in CFS) ends the agent quietly: there is nothing to configure.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

use redfish::sim::{PowerEvent, SimBmc};
use reqwest::StatusCode;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use url::Url;

/// The architecture a node says it is when a chain URL asks for `${buildarch}`.
const BUILDARCH: &str = "x86_64";

/// What a node does when its host powers on. A knob: [`SimNode::set_behaviour`] changes it
/// for the next boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum Behaviour {
    /// Fetch the script, the kernel and every initrd; report the script's token.
    #[default]
    Normal = 0,
    /// Nothing at all: a host that hangs in firmware, or does not netboot.
    NeverBoots = 1,
    /// Fetch the script and the kernel but never the initrd (the fetch that counts as boot
    /// evidence), and report a token the appliance never minted: a node that came up on
    /// something other than what it was told to boot.
    WrongArtifacts = 2,
}

impl Behaviour {
    fn from_u8(v: u8) -> Behaviour {
        match v {
            1 => Behaviour::NeverBoots,
            2 => Behaviour::WrongArtifacts,
            _ => Behaviour::Normal,
        }
    }
}

/// What a node does about its configuration once it has booted and reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum ConfigAgent {
    /// Apply every layer of its desired configuration and report them applied.
    #[default]
    Apply = 0,
    /// Report its first pending layer failed, attempt after attempt, until CFS gives up.
    Fail = 1,
    /// Leave configuration alone (no CFS traffic at all).
    Off = 2,
}

impl ConfigAgent {
    fn from_u8(v: u8) -> ConfigAgent {
        match v {
            1 => ConfigAgent::Fail,
            2 => ConfigAgent::Off,
            _ => ConfigAgent::Apply,
        }
    }
}

/// Timing and retry limits. The defaults suit tests: quick retries, bounded effort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pacing {
    /// Wait before fetching the script again after a chain-only answer, an error, or a
    /// failed artifact fetch (iPXE's `:boot_retry`, without the script's long `sleep`).
    pub script_retry: Duration,
    /// Script (and artifact) attempts per power-on before the node gives up (phase Failed).
    pub script_tries: u32,
    /// First wait after a connection error or 5xx from the report; doubles each time up to
    /// `report_retry`.
    pub report_backoff: Duration,
    /// Wait after a 4xx from the report (BOS may be mid-reboot and answer 409).
    pub report_retry: Duration,
    /// Report attempts per boot.
    pub report_tries: u32,
    /// Per HTTP request, body included.
    pub request_timeout: Duration,
    /// Wait between configuration-agent rounds (a layer reported, or the component not
    /// enabled yet).
    pub config_retry: Duration,
    /// Configuration-agent rounds per boot.
    pub config_tries: u32,
}

impl Default for Pacing {
    fn default() -> Pacing {
        Pacing {
            script_retry: Duration::from_millis(200),
            script_tries: 50,
            report_backoff: Duration::from_millis(100),
            report_retry: Duration::from_secs(1),
            report_tries: 30,
            request_timeout: Duration::from_secs(30),
            config_retry: Duration::from_millis(100),
            config_tries: 100,
        }
    }
}

/// How a [`SimNode`] starts.
#[derive(Clone, Debug)]
pub struct SimNodeConfig {
    /// The appliance, e.g. `http://127.0.0.1:PORT`; every request goes here.
    pub base: String,
    /// The MAC the node asks for its script with (its system's NIC on the BMC).
    pub mac: String,
    pub bmc: SimBmc,
    /// The system on `bmc` whose power this node follows.
    pub system: usize,
    /// Shared by every node of a lab.
    pub http: reqwest::Client,
    /// Initial value of the [`SimNode::set_behaviour`] knob.
    pub behaviour: Behaviour,
    /// Initial value of the [`SimNode::set_report`] knob: act like bos-reporter. When false
    /// the node leaves only boot evidence (its script and artifact fetches).
    pub report: bool,
    /// Initial value of the [`SimNode::set_config_agent`] knob.
    pub config_agent: ConfigAgent,
    pub pacing: Pacing,
}

impl SimNodeConfig {
    /// A normal, reporting node with default pacing.
    pub fn new(
        base: impl Into<String>,
        mac: impl Into<String>,
        bmc: SimBmc,
        system: usize,
        http: reqwest::Client,
    ) -> SimNodeConfig {
        SimNodeConfig {
            base: base.into(),
            mac: mac.into(),
            bmc,
            system,
            http,
            behaviour: Behaviour::Normal,
            report: true,
            config_agent: ConfigAgent::Apply,
            pacing: Pacing::default(),
        }
    }
}

/// Where a node is now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NodePhase {
    /// Its host is not On.
    #[default]
    Off,
    /// Fetching its script or artifacts.
    Booting,
    /// Booted (artifacts fetched); reporting, if it does, may still be going on.
    Up,
    /// On, doing nothing ([`Behaviour::NeverBoots`]).
    Hung,
    /// Gave up this power-on after [`Pacing::script_tries`] attempts.
    Failed,
}

/// What a node has done since it was spawned. Counters only grow; `last_*` keep the newest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimNodeStatus {
    pub phase: NodePhase,
    /// Power-ons this node reacted to (NeverBoots ones included).
    pub power_ons: u64,
    /// Boots begun (the first script request of a power-on).
    pub boots_started: u64,
    /// Boots that reached [`NodePhase::Up`].
    pub boots_completed: u64,
    /// Boots dropped because the power changed first.
    pub boots_cancelled: u64,
    /// Scripts received (200 answers), chain-only ones included.
    pub scripts_fetched: u64,
    /// Chain-only or unusable script answers that sent the node round again.
    pub script_retries: u64,
    /// Artifacts read to the end with a 2xx.
    pub artifacts_fetched: u64,
    /// Body bytes read from artifact URLs (partial reads of cancelled fetches included).
    pub bytes_fetched: u64,
    /// `xname=` from the last booted kernel command line.
    pub xname: Option<String>,
    /// `bss_referral_token=` from the last booted kernel command line.
    pub token: Option<String>,
    /// Report PATCHes sent (attempts, whatever the answer).
    pub reports_sent: u64,
    /// Report PATCHes answered 2xx.
    pub reports_ok: u64,
    /// HTTP status of the newest report answer.
    pub last_report_status: Option<u16>,
    /// The token the newest report carried.
    pub last_reported_token: Option<String>,
    /// Configuration layers reported applied (`state_append` answered 2xx).
    pub layers_applied: u64,
    /// Configuration layers reported failed.
    pub layers_failed: u64,
    /// The CFS `configuration_status` the agent last read.
    pub configuration_status: Option<String>,
    pub errors: u64,
    /// The newest failure, kept after later successes.
    pub last_error: Option<String>,
}

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

    /// The configuration agent: enable the component, then report pending layers until
    /// CFS's status is final. Every failure is status; a 404 ends it quietly.
    async fn configure(&self, xname: &str, agent: ConfigAgent) {
        let path = format!("/apis/cfs/v3/components/{xname}");
        let mut enabled = false;
        for round in 0..self.pacing.config_tries {
            if round > 0 {
                tokio::time::sleep(self.pacing.config_retry).await;
            }
            if !enabled {
                match self
                    .cfs_patch(&path, serde_json::json!({"enabled": true}))
                    .await
                {
                    Ok(Some(_)) => enabled = true,
                    Ok(None) => return,
                    Err(e) => {
                        self.shared.fail(format!("cfs enable {xname}: {e}"));
                        continue;
                    }
                }
            }
            let comp = match self.cfs_get(&format!("{path}?config_details=true")).await {
                Ok(Some(c)) => c,
                Ok(None) => return,
                Err(e) => {
                    self.shared.fail(format!("cfs read {xname}: {e}"));
                    continue;
                }
            };
            let status = comp["configuration_status"]
                .as_str()
                .unwrap_or("")
                .to_string();
            self.shared
                .update(|s| s.configuration_status = Some(status.clone()));
            if status != "pending" {
                return;
            }
            if comp["enabled"] == serde_json::json!(false) {
                continue;
            }
            let pending = comp["desired_state"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|l| l["status"] == "pending")
                .cloned();
            let Some(layer) = pending else {
                continue;
            };
            let failed = agent == ConfigAgent::Fail;
            let mut body = serde_json::json!({"state_append": {
                "clone_url": layer["clone_url"], "playbook": layer["playbook"],
                "commit": layer["commit"], "session_name": "sim-node-agent",
                "status": if failed { "failed" } else { "applied" },
            }});
            if failed {
                body["error_count"] =
                    serde_json::json!(comp["error_count"].as_i64().unwrap_or(0) + 1);
            }
            match self.cfs_patch(&path, body).await {
                Ok(Some(_)) => self.shared.update(|s| {
                    if failed {
                        s.layers_failed += 1;
                    } else {
                        s.layers_applied += 1;
                    }
                }),
                Ok(None) => return,
                Err(e) => self.shared.fail(format!("cfs report {xname}: {e}")),
            }
        }
        self.shared.fail(format!(
            "configuration agent gave up after {} rounds",
            self.pacing.config_tries
        ));
    }

    /// A CFS PATCH: the answer's JSON, `None` on a 404, else an error naming the status.
    async fn cfs_patch(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<Option<serde_json::Value>, String> {
        let req = self.http.patch(self.url(path)).json(&body);
        self.cfs_call(req).await
    }

    async fn cfs_get(&self, path: &str) -> Result<Option<serde_json::Value>, String> {
        let req = self.http.get(self.url(path));
        self.cfs_call(req).await
    }

    async fn cfs_call(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<Option<serde_json::Value>, String> {
        let resp = req
            .timeout(self.pacing.request_timeout)
            .send()
            .await
            .map_err(|e| crate::errors::chain(&e))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| crate::errors::chain(&e))?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(format!("{status}: {}", snippet(&text)));
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("unreadable answer: {e}"))
    }

    /// Fetch scripts until one boots, then its artifacts. Returns the kernel line booted, or
    /// None after too many attempts.
    async fn boot(&self, behaviour: Behaviour) -> Option<Kernel> {
        let first = format!("/boot/v1/bootscript?mac={}", self.mac);
        let mut next = first.clone();
        for attempt in 1..=self.pacing.script_tries {
            if attempt > 1 {
                tokio::time::sleep(self.pacing.script_retry).await;
            }
            let script = match self.get_text(&next).await {
                Ok(text) => {
                    self.shared.update(|s| s.scripts_fetched += 1);
                    parse_script(&text)
                }
                Err(e) => {
                    self.shared.fail(format!("bootscript: {e}"));
                    next.clone_from(&first);
                    continue;
                }
            };
            let Some(kernel) = script.kernel else {
                self.shared.update(|s| s.script_retries += 1);
                next = match script.chain {
                    Some(c) => self.expand(&c),
                    None => {
                        self.shared
                            .fail("bootscript: neither a kernel nor a chain line".into());
                        first.clone()
                    }
                };
                continue;
            };
            let images = match behaviour {
                Behaviour::WrongArtifacts => vec![("kernel", &kernel.url)],
                _ => std::iter::once(("kernel", &kernel.url))
                    .chain(script.initrds.iter().map(|u| ("initrd", u)))
                    .collect(),
            };
            let mut ok = true;
            for (what, url) in images {
                if let Err(e) = self.fetch_artifact(url).await {
                    self.shared.fail(format!("{what} {url}: {e}"));
                    ok = false;
                    break;
                }
            }
            if ok {
                return Some(kernel);
            }
            // iPXE's `|| goto boot_retry`: chain back to the script.
            next = script
                .chain
                .map_or_else(|| first.clone(), |c| self.expand(&c));
        }
        self.shared.fail(format!(
            "gave up after {} boot attempts",
            self.pacing.script_tries
        ));
        None
    }

    /// The PATCH bos-reporter sends, retried: backoff on connection errors and 5xx, a
    /// steady `report_retry` after a 4xx, until a 2xx or `report_tries` attempts.
    async fn report(&self, xname: &str, token: &str) -> bool {
        let url = self.url(&format!("/apis/bos/v2/components/{xname}"));
        let body = serde_json::json!({"id": xname, "actual_state": {"bss_token": token}});
        let mut backoff = self.pacing.report_backoff;
        for attempt in 1..=self.pacing.report_tries {
            self.shared.update(|s| {
                s.reports_sent += 1;
                s.last_reported_token = Some(token.to_string());
            });
            let sent = self
                .http
                .patch(url.clone())
                .timeout(self.pacing.request_timeout)
                .json(&body)
                .send()
                .await;
            let wait = match sent {
                Ok(resp) => {
                    let status = resp.status();
                    // Read the answer so the connection can go back to the pool.
                    let text = resp.text().await.unwrap_or_default();
                    self.shared.update(|s| {
                        s.last_report_status = Some(status.as_u16());
                        if status.is_success() {
                            s.reports_ok += 1;
                        }
                    });
                    if status.is_success() {
                        return true;
                    }
                    self.shared
                        .fail(format!("report {xname}: {status}: {}", snippet(&text)));
                    if status.is_client_error() {
                        self.pacing.report_retry
                    } else {
                        backoff
                    }
                }
                Err(e) => {
                    self.shared
                        .fail(format!("report {xname}: {}", crate::errors::chain(&e)));
                    backoff
                }
            };
            if attempt < self.pacing.report_tries {
                tokio::time::sleep(wait).await;
            }
            backoff = (backoff * 2).min(self.pacing.report_retry);
        }
        false
    }

    /// GET a script: the body of a 2xx, else an error naming the status.
    async fn get_text(&self, path_or_url: &str) -> Result<String, String> {
        let resp = self
            .http
            .get(self.url(path_or_url))
            .timeout(self.pacing.request_timeout)
            .send()
            .await
            .map_err(|e| crate::errors::chain(&e))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| crate::errors::chain(&e))?;
        if status != StatusCode::OK {
            return Err(format!("{status}: {}", snippet(&text)));
        }
        Ok(text)
    }

    /// GET an artifact to the end, counting its bytes as they arrive.
    async fn fetch_artifact(&self, path_or_url: &str) -> Result<(), String> {
        let mut resp = self
            .http
            .get(self.url(path_or_url))
            .timeout(self.pacing.request_timeout)
            .send()
            .await
            .map_err(|e| crate::errors::chain(&e))?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            return Err(format!("{status}: {}", snippet(&text)));
        }
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    let n = chunk.len() as u64;
                    // Not a status change worth waking waiters for.
                    self.shared.status.send_if_modified(|s| {
                        s.bytes_fetched += n;
                        false
                    });
                }
                Ok(None) => break,
                Err(e) => return Err(crate::errors::chain(&e)),
            }
        }
        self.shared.update(|s| s.artifacts_fetched += 1);
        Ok(())
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

/// A `kernel` line: its image URL and its command line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Kernel {
    url: String,
    args: Vec<String>,
}

impl Kernel {
    /// The value of the first `key=value` argument.
    fn arg(&self, key: &str) -> Option<String> {
        self.args.iter().find_map(|a| {
            a.strip_prefix(key)
                .and_then(|rest| rest.strip_prefix('='))
                .map(str::to_string)
        })
    }
}

/// What a node takes from an iPXE script: the first `kernel` line, every `initrd` line, and
/// the first `chain` line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Script {
    kernel: Option<Kernel>,
    initrds: Vec<String>,
    chain: Option<String>,
}

/// Read the commands of an iPXE script that matter for fetching: `kernel`/`initrd`/`chain`
/// with their options (`--name x`, `--name=x`, `--autofree`, ...) skipped, and anything
/// after `||` or `&&` (the failure and success branches) ignored.
fn parse_script(text: &str) -> Script {
    let mut script = Script::default();
    for line in text.lines() {
        let line = line.trim();
        let cmd = line
            .split("||")
            .next()
            .and_then(|c| c.split("&&").next())
            .unwrap_or_default();
        let mut words = cmd.split_whitespace();
        let Some(verb) = words.next() else { continue };
        if !matches!(verb, "kernel" | "initrd" | "chain" | "imgfetch" | "module") {
            continue;
        }
        let mut rest: Vec<&str> = Vec::new();
        let mut options_done = false;
        while let Some(w) = words.next() {
            if !options_done && w.starts_with('-') {
                // Options that take a separate value.
                if matches!(w, "--name" | "-n" | "--timeout" | "-t") {
                    words.next();
                }
                continue;
            }
            options_done = true;
            rest.push(w);
        }
        let Some((&url, args)) = rest.split_first() else {
            continue;
        };
        match verb {
            "kernel" if script.kernel.is_none() => {
                script.kernel = Some(Kernel {
                    url: url.to_string(),
                    args: args.iter().map(|a| a.to_string()).collect(),
                });
            }
            "initrd" | "imgfetch" | "module" => script.initrds.push(url.to_string()),
            "chain" if script.chain.is_none() => script.chain = Some(url.to_string()),
            _ => {}
        }
    }
    script
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootscript::{BootScript, render_boot, render_discover_arch};

    #[test]
    fn sim_node_parses_what_rackboot_renders() {
        let text = render_boot(&BootScript {
            kernel_url: "http://10.1.0.1:8080/artifacts/abc/kernel",
            initrd_url: Some("http://10.1.0.1:8080/artifacts/abc/initrd"),
            params: "initrd=initrd console=ttyS0 xname=x1c0s0b0n0 nid=1 bss_referral_token=t-1",
            retry_delay_secs: 30,
            chain_url: "http://10.1.0.1:8080/boot/v1/bootscript?mac=aa:bb:cc:dd:ee:ff&retry=1",
        });
        let s = parse_script(&text);
        let k = s.kernel.expect("a kernel line");
        assert_eq!(k.url, "http://10.1.0.1:8080/artifacts/abc/kernel");
        assert_eq!(k.arg("xname").as_deref(), Some("x1c0s0b0n0"));
        assert_eq!(k.arg("bss_referral_token").as_deref(), Some("t-1"));
        assert_eq!(k.arg("initrd").as_deref(), Some("initrd"));
        assert_eq!(k.arg("nid_missing"), None);
        assert!(!k.args.iter().any(|a| a.contains("||") || a == "goto"));
        assert_eq!(s.initrds, ["http://10.1.0.1:8080/artifacts/abc/initrd"]);
        assert_eq!(
            s.chain.as_deref(),
            Some("http://10.1.0.1:8080/boot/v1/bootscript?mac=aa:bb:cc:dd:ee:ff&retry=1")
        );

        let s = parse_script(&render_discover_arch(
            "http://a/boot/v1/bootscript?mac=m&arch=${buildarch}&ts=1",
        ));
        assert_eq!(s.kernel, None);
        assert_eq!(
            s.chain.as_deref(),
            Some("http://a/boot/v1/bootscript?mac=m&arch=${buildarch}&ts=1")
        );
    }

    #[test]
    fn sim_node_script_options_and_branches() {
        let s = parse_script(
            "#!ipxe\n:label\nkernel --name=k --autofree /k a=1 && echo ok\n\
             initrd -n i2 /i1\ninitrd /i2 || goto x\nchain --autofree /c1\nchain /c2\n",
        );
        assert_eq!(
            s.kernel,
            Some(Kernel {
                url: "/k".into(),
                args: vec!["a=1".into()]
            })
        );
        assert_eq!(s.initrds, ["/i1", "/i2"]);
        assert_eq!(s.chain.as_deref(), Some("/c1"));
        assert_eq!(parse_script("#!ipxe\nkernel\n"), Script::default());
    }

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
