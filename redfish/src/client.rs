//! The Redfish client: one [`Bmc`] per BMC, created from a shared [`Pool`].
//!
//! Every request goes through [`Bmc::call`], which is where the rules live: a global and a
//! per-BMC concurrency cap (BMCs are small computers and fall over under parallel load),
//! authentication (Basic, or an `X-Auth-Token` session that is created once, reused,
//! re-created once on a 401 and deleted on [`Bmc::logout`]), timeouts, and retries with
//! backoff for answers that mean "busy, try again" (503, connection resets, and known busy
//! MessageIds). Errors are [`Error`] values that name the BMC and the cause.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Semaphore;
use url::Url;

use crate::error::{Error, Result};
use crate::model::{
    ActionInfo, Boot, Collection, ComputerSystem, ErrorBody, EthernetInterface, Manager,
    PowerState, ServiceRoot,
};
use crate::tls::{self, TlsTrust};

const ROOT: &str = "/redfish/v1/";
const DEFAULT_SESSIONS: &str = "/redfish/v1/SessionService/Sessions";

/// MessageIds (suffixes) that mean "busy now, the same request may work later".
const BUSY_MESSAGES: &[&str] = &[
    "ServiceTemporarilyUnavailable",
    "ResourceInUse",
    "SessionLimitExceeded",
    "ServiceInUnknownState",
    "ServiceShuttingDown",
];

/// How to authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// A session when the service root advertises `Links.Sessions`, else Basic.
    #[default]
    Auto,
    Basic,
    Session,
}

/// Everything needed to talk to one BMC.
#[derive(Clone)]
pub struct BmcConfig {
    /// `https://host[:port]` (or `http://` for simulators); any path is ignored.
    pub url: String,
    pub username: String,
    pub password: String,
    pub trust: TlsTrust,
    pub auth: AuthMode,
    /// Per request.
    pub timeout: Duration,
    /// Extra attempts for busy answers and connection resets.
    pub retries: u32,
    /// Delay before the first retry; doubles each time.
    pub backoff: Duration,
    /// Requests in flight to this BMC at once.
    pub max_concurrency: usize,
}

impl BmcConfig {
    pub fn new(
        url: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> BmcConfig {
        BmcConfig {
            url: url.into(),
            username: username.into(),
            password: password.into(),
            trust: TlsTrust::System,
            auth: AuthMode::Auto,
            timeout: Duration::from_secs(20),
            retries: 3,
            backoff: Duration::from_millis(200),
            max_concurrency: 2,
        }
    }
}

impl std::fmt::Debug for BmcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BmcConfig")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &"***")
            .field("trust", &self.trust)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// Shared by all BMC clients: the global concurrency cap and HTTP clients per trust mode
/// (so a thousand BMCs trusted the same way share one connection pool).
pub struct Pool {
    global: Arc<Semaphore>,
    connect_timeout: Duration,
    clients: Mutex<HashMap<TrustKey, reqwest::Client>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum TrustKey {
    System,
    Ca(String),
    Pin(String),
    Insecure,
}

impl Pool {
    /// `global_cap`: requests in flight to all BMCs together.
    pub fn new(global_cap: usize, connect_timeout: Duration) -> Pool {
        Pool {
            global: Arc::new(Semaphore::new(global_cap.max(1))),
            connect_timeout,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// A client for one BMC. Fails only on an unusable configuration (bad URL, CA, pin).
    pub fn bmc(&self, cfg: BmcConfig) -> Result<Bmc> {
        let base = parse_base(&cfg.url).map_err(|what| Error::Config {
            bmc: cfg.url.clone(),
            what,
        })?;
        let label = label(&base);
        let http = self.http_for(&cfg.trust).map_err(|what| Error::Config {
            bmc: label.clone(),
            what,
        })?;
        Ok(Bmc {
            per_bmc: Semaphore::new(cfg.max_concurrency.max(1)),
            global: self.global.clone(),
            auth: tokio::sync::Mutex::new(AuthState::Undecided),
            connect_timeout: self.connect_timeout,
            http,
            base,
            label,
            cfg,
        })
    }

    fn http_for(&self, trust: &TlsTrust) -> std::result::Result<reqwest::Client, String> {
        let key = match trust {
            TlsTrust::System => TrustKey::System,
            TlsTrust::Ca(pem) => TrustKey::Ca(pem.clone()),
            TlsTrust::Pin(pin) => TrustKey::Pin(tls::normalise_pin(pin).ok_or_else(|| {
                format!("certificate pin '{pin}' is not a SHA-256 fingerprint (64 hex digits)")
            })?),
            TlsTrust::Insecure => TrustKey::Insecure,
        };
        let mut clients = self.clients.lock().expect("client cache lock");
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let builder = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .no_proxy()
            .user_agent(concat!("rackboot-redfish/", env!("CARGO_PKG_VERSION")));
        let builder = match &key {
            TrustKey::System => builder,
            TrustKey::Ca(pem) => {
                let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                    .map_err(|e| format!("CA certificate is not valid PEM: {e}"))?;
                if certs.is_empty() {
                    return Err("CA file holds no certificate".into());
                }
                builder.tls_certs_only(certs)
            }
            TrustKey::Pin(pin) => builder.tls_backend_preconfigured(tls::pinned_config(pin)),
            TrustKey::Insecure => builder.tls_danger_accept_invalid_certs(true),
        };
        let client = builder
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        clients.insert(key, client.clone());
        Ok(client)
    }
}

fn parse_base(raw: &str) -> std::result::Result<Url, String> {
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    };
    let mut url = Url::parse(&with_scheme).map_err(|e| format!("'{raw}' is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("'{raw}' must be http(s)"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{raw}' has no host"));
    }
    url.set_path("/");
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

fn label(base: &Url) -> String {
    let host = base.host_str().unwrap_or("?");
    match base.port_or_known_default() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

enum AuthState {
    Undecided,
    Basic,
    Session {
        token: String,
        location: Option<String>,
    },
}

/// A successful answer.
pub struct Reply {
    pub status: StatusCode,
    pub etag: Option<String>,
    pub location: Option<String>,
    pub token: Option<String>,
    pub body: Vec<u8>,
}

/// What the client found on a BMC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub redfish_version: Option<String>,
    pub uuid: Option<String>,
    pub systems: Vec<SystemInfo>,
    pub managers: Vec<ManagerInfo>,
}

/// One ComputerSystem, as far as power and boot are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemInfo {
    /// `@odata.id`, e.g. `/redfish/v1/Systems/1`.
    pub path: String,
    pub id: String,
    pub name: String,
    pub uuid: Option<String>,
    pub power_state: PowerState,
    /// Reset types the BMC allows (inline or via ActionInfo); empty if it did not say.
    pub reset_types: Vec<String>,
    /// Where to POST a reset.
    pub reset_target: String,
    pub boot: Boot,
    /// MACs of the system's interfaces, as the BMC printed them.
    pub macs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerInfo {
    pub path: String,
    pub id: String,
    pub manager_type: Option<String>,
    pub firmware_version: Option<String>,
}

/// A one-time (or persistent) boot source override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootOverride {
    /// `Pxe`, `UefiHttp`, `Hdd`, `None`, … as the BMC names them.
    pub target: String,
    /// `Once`, `Continuous` or `Disabled`.
    pub enabled: String,
    /// `UEFI` or `Legacy`; `None` leaves the BMC's mode alone.
    pub mode: Option<String>,
}

impl BootOverride {
    pub fn once(target: &str) -> BootOverride {
        BootOverride {
            target: target.to_string(),
            enabled: "Once".to_string(),
            mode: None,
        }
    }
}

/// The outcome of a boot override that stuck.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootApplied {
    /// What the BMC reads back.
    pub boot: Boot,
    /// A difference the BMC is known to have that still boots the wanted target (for
    /// example it reports `Continuous` when asked for `Once`).
    pub note: Option<String>,
    /// The full Boot block had to be sent a second time before it stuck.
    pub retried: bool,
}

/// A client for one BMC.
pub struct Bmc {
    cfg: BmcConfig,
    base: Url,
    label: String,
    http: reqwest::Client,
    connect_timeout: Duration,
    per_bmc: Semaphore,
    global: Arc<Semaphore>,
    auth: tokio::sync::Mutex<AuthState>,
}

impl std::fmt::Debug for Bmc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bmc").field("bmc", &self.label).finish()
    }
}

impl Bmc {
    /// `host:port` of the BMC, as errors name it.
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn config(&self) -> &BmcConfig {
        &self.cfg
    }

    // ----- resources

    /// The service root. Read without credentials (as the standard allows) and, if the
    /// BMC insists, again with Basic credentials.
    pub async fn service_root(&self) -> Result<ServiceRoot> {
        let reply = self
            .call(
                Method::GET,
                ROOT,
                None,
                None,
                Auth::None,
                "GET service root",
            )
            .await;
        let reply = match reply {
            Err(Error::Auth { .. }) => {
                self.call(
                    Method::GET,
                    ROOT,
                    None,
                    None,
                    Auth::Basic,
                    "GET service root",
                )
                .await?
            }
            other => other?,
        };
        self.decode(&reply, "GET service root")
    }

    /// `@odata.id` of every ComputerSystem, in collection order.
    pub async fn system_paths(&self) -> Result<Vec<String>> {
        let root = self.service_root().await?;
        let systems = root
            .systems
            .map(|l| l.odata_id)
            .unwrap_or_else(|| "/redfish/v1/Systems".to_string());
        let c: Collection = self.get(&systems, "GET Systems").await?;
        Ok(c.members.into_iter().map(|l| l.odata_id).collect())
    }

    /// A ComputerSystem and its ETag (if the BMC gives one).
    pub async fn system(&self, path: &str) -> Result<(ComputerSystem, Option<String>)> {
        let op = format!("GET {path}");
        let reply = self
            .call(Method::GET, path, None, None, Auth::Required, &op)
            .await?;
        let sys = self.decode(&reply, &op)?;
        Ok((sys, reply.etag))
    }

    /// Power state of a system. Decodes only `PowerState` (the hot path of power
    /// operations: confirmation polls read it thousands of times).
    pub async fn power_state(&self, path: &str) -> Result<PowerState> {
        let op = format!("GET {path}");
        let reply = self
            .call(Method::GET, path, None, None, Auth::Required, &op)
            .await?;
        let only: crate::model::PowerOnly = self.decode(&reply, &op)?;
        Ok(only.power_state())
    }

    /// The reset types a system allows: inline AllowableValues, else its ActionInfo.
    pub async fn reset_types(&self, sys: &ComputerSystem) -> Result<Vec<String>> {
        let Some(reset) = &sys.actions.reset else {
            return Ok(Vec::new());
        };
        if !reset.allowed.is_empty() {
            return Ok(reset.allowed.clone());
        }
        let Some(info) = &reset.action_info else {
            return Ok(Vec::new());
        };
        let info: ActionInfo = self.get(info, "GET ResetActionInfo").await?;
        Ok(info
            .parameters
            .into_iter()
            .find(|p| p.name.as_deref() == Some("ResetType"))
            .map(|p| p.allowable_values)
            .unwrap_or_default())
    }

    /// Everything discovery needs from this BMC.
    pub async fn discover(&self) -> Result<Discovery> {
        let root = self.service_root().await?;
        let systems_path = root
            .systems
            .as_ref()
            .map(|l| l.odata_id.clone())
            .unwrap_or_else(|| "/redfish/v1/Systems".to_string());
        let members: Collection = self.get(&systems_path, "GET Systems").await?;
        // Systems are read concurrently; the per-BMC cap still bounds what the BMC sees.
        let systems = futures::future::try_join_all(
            members
                .members
                .iter()
                .map(|m| self.system_info(&m.odata_id)),
        )
        .await?;
        let mut managers = Vec::new();
        if let Some(mp) = &root.managers {
            let ms: Collection = self.get(&mp.odata_id, "GET Managers").await?;
            for m in ms.members {
                let man: Manager = self
                    .get(&m.odata_id, &format!("GET {}", m.odata_id))
                    .await?;
                managers.push(ManagerInfo {
                    id: man
                        .ident
                        .id
                        .clone()
                        .unwrap_or_else(|| last_segment(&m.odata_id)),
                    path: m.odata_id,
                    manager_type: man.manager_type,
                    firmware_version: man.firmware_version,
                });
            }
        }
        Ok(Discovery {
            redfish_version: root.redfish_version,
            uuid: root.uuid,
            systems,
            managers,
        })
    }

    /// One system with its reset types and MACs.
    pub async fn system_info(&self, path: &str) -> Result<SystemInfo> {
        let (sys, _) = self.system(path).await?;
        let reset_types = self.reset_types(&sys).await?;
        let mut macs = Vec::new();
        if let Some(nics) = &sys.ethernet_interfaces {
            let c: Collection = self.get(&nics.odata_id, "GET EthernetInterfaces").await?;
            for m in c.members {
                let nic: EthernetInterface = self
                    .get(&m.odata_id, &format!("GET {}", m.odata_id))
                    .await?;
                if let Some(mac) = nic.mac() {
                    macs.push(mac.to_string());
                }
            }
        }
        Ok(SystemInfo {
            path: sys
                .ident
                .odata_id
                .clone()
                .unwrap_or_else(|| path.to_string()),
            id: sys.ident.id.clone().unwrap_or_else(|| last_segment(path)),
            name: sys.ident.name.clone().unwrap_or_default(),
            uuid: sys.uuid.clone(),
            power_state: sys.power_state(),
            reset_target: reset_target(&sys, path),
            reset_types,
            boot: sys.boot.clone(),
            macs,
        })
    }

    // ----- actions

    /// Reset a system with `reset_type`, refusing types the BMC does not allow. When the BMC
    /// advertises no list at all (some drop it intermittently), the reset is tried anyway.
    pub async fn reset(&self, path: &str, reset_type: &str) -> Result<()> {
        let (sys, _) = self.system(path).await?;
        let allowed = self.reset_types(&sys).await?;
        self.reset_known(path, &reset_target(&sys, path), &allowed, reset_type)
            .await
    }

    /// Reset when the target and allowed types are already known (from discovery).
    pub async fn reset_known(
        &self,
        system: &str,
        target: &str,
        allowed: &[String],
        reset_type: &str,
    ) -> Result<()> {
        if !allowed.is_empty() && !allowed.iter().any(|a| a == reset_type) {
            return Err(Error::ResetNotAllowed {
                bmc: self.label.clone(),
                system: system.to_string(),
                requested: reset_type.to_string(),
                allowed: allowed.to_vec(),
            });
        }
        let body = serde_json::json!({ "ResetType": reset_type });
        let op = format!("reset {reset_type} of {system}");
        match self
            .call(Method::POST, target, Some(&body), None, Auth::Required, &op)
            .await
        {
            Err(Error::Http {
                status, message, ..
            }) if status == 400 && message.contains("ActionParameterNotSupported") => {
                Err(Error::ResetNotAllowed {
                    bmc: self.label.clone(),
                    system: system.to_string(),
                    requested: reset_type.to_string(),
                    allowed: allowed.to_vec(),
                })
            }
            other => other.map(|_| ()),
        }
    }

    /// Set a boot override, then read it back. If it did not stick, send the full Boot
    /// block once more; if it still did not stick, fail with [`Error::OverrideNotKept`].
    pub async fn set_boot_override(&self, path: &str, want: &BootOverride) -> Result<BootApplied> {
        let (sys, etag) = self.system(path).await?;
        let boot = &sys.boot;
        if !boot.allowed_targets.is_empty() && !boot.allowed_targets.contains(&want.target) {
            return Err(Error::Unsupported {
                bmc: self.label.clone(),
                what: format!(
                    "boot target {} is not allowed on {path} (it allows: {})",
                    want.target,
                    boot.allowed_targets.join(", ")
                ),
            });
        }
        let mut minimal = serde_json::Map::new();
        minimal.insert(
            "BootSourceOverrideTarget".into(),
            want.target.clone().into(),
        );
        minimal.insert(
            "BootSourceOverrideEnabled".into(),
            want.enabled.clone().into(),
        );
        if let Some(mode) = &want.mode {
            minimal.insert("BootSourceOverrideMode".into(), mode.clone().into());
        }
        self.patch_boot(path, Value::Object(minimal), etag).await?;
        let (after, etag) = self.system(path).await?;
        if let Some(applied) = stuck(&after.boot, want) {
            return Ok(BootApplied {
                boot: after.boot,
                note: applied,
                retried: false,
            });
        }
        tracing::warn!(bmc = %self.label, system = path, "boot override did not stick; sending the full Boot block again");
        let mut full = serde_json::json!({
            "BootSourceOverrideTarget": want.target,
            "BootSourceOverrideEnabled": want.enabled,
        });
        // The mode only when asked for or reported: guessing one (say UEFI) would switch a
        // legacy-BIOS system's firmware (sushy-tools rebuilds the domain with a UEFI loader).
        if let Some(mode) = want.mode.clone().or(after.boot.mode.clone()) {
            full["BootSourceOverrideMode"] = mode.into();
        }
        self.patch_boot(path, full, etag).await?;
        let (again, _) = self.system(path).await?;
        match stuck(&again.boot, want) {
            Some(note) => Ok(BootApplied {
                boot: again.boot,
                note,
                retried: true,
            }),
            None => Err(Error::OverrideNotKept {
                bmc: self.label.clone(),
                system: path.to_string(),
                wanted: format!("{} ({})", want.target, want.enabled),
                found: format!(
                    "{} ({})",
                    again.boot.target.as_deref().unwrap_or("nothing"),
                    again.boot.enabled.as_deref().unwrap_or("nothing")
                ),
            }),
        }
    }

    /// PATCH `Boot` with `If-Match` when there is an ETag; on 412 (someone else changed
    /// the system) re-read the ETag and try once more.
    async fn patch_boot(&self, path: &str, boot: Value, etag: Option<String>) -> Result<()> {
        let body = serde_json::json!({ "Boot": boot });
        let op = format!("PATCH Boot of {path}");
        match self
            .call(
                Method::PATCH,
                path,
                Some(&body),
                etag.as_deref(),
                Auth::Required,
                &op,
            )
            .await
        {
            Err(Error::Http { status: 412, .. }) => {
                let (_, fresh) = self.system(path).await?;
                self.call(
                    Method::PATCH,
                    path,
                    Some(&body),
                    fresh.as_deref(),
                    Auth::Required,
                    &op,
                )
                .await
                .map(|_| ())
            }
            other => other.map(|_| ()),
        }
    }

    /// Delete the session, if there is one. Called at shutdown.
    pub async fn logout(&self) {
        let mut auth = self.auth.lock().await;
        if let AuthState::Session {
            token,
            location: Some(location),
        } = &*auth
        {
            let url = self.url(location);
            let res = self
                .http
                .delete(url)
                .header("X-Auth-Token", token)
                .timeout(self.cfg.timeout)
                .send()
                .await;
            if let Err(e) = res {
                tracing::debug!(bmc = %self.label, error = %e, "session logout failed");
            }
        }
        *auth = AuthState::Undecided;
    }

    // ----- the request path

    async fn get<T: DeserializeOwned>(&self, path: &str, op: &str) -> Result<T> {
        let reply = self
            .call(Method::GET, path, None, None, Auth::Required, op)
            .await?;
        self.decode(&reply, op)
    }

    fn decode<T: DeserializeOwned>(&self, reply: &Reply, op: &str) -> Result<T> {
        serde_json::from_slice(&reply.body).map_err(|e| Error::Decode {
            bmc: self.label.clone(),
            op: op.to_string(),
            cause: e.to_string(),
        })
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).unwrap_or_else(|_| self.base.clone())
    }

    /// One request with the caps, auth, retries and error mapping described above.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        if_match: Option<&str>,
        auth: Auth,
        op: &str,
    ) -> Result<Reply> {
        // Per-BMC first: a request waiting for its busy BMC must not hold a global permit
        // that a request to an idle BMC could use (head-of-line blocking across BMCs).
        let _local = self
            .per_bmc
            .acquire()
            .await
            .expect("semaphore never closed");
        let _global = self.global.acquire().await.expect("semaphore never closed");
        let mut attempt = 0u32;
        let mut relogged = false;
        loop {
            let cred = match auth {
                Auth::None => Cred::None,
                Auth::Basic => Cred::Basic,
                Auth::Required => self.credentials().await?,
            };
            let mut req = self
                .http
                .request(method.clone(), self.url(path))
                .timeout(self.cfg.timeout)
                .header(header::ACCEPT, "application/json");
            req = match &cred {
                Cred::None => req,
                Cred::Basic => req.basic_auth(&self.cfg.username, Some(&self.cfg.password)),
                Cred::Token(t) => req.header("X-Auth-Token", t),
            };
            if let Some(tag) = if_match {
                req = req.header(header::IF_MATCH, tag);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    let retry = is_reset(&e);
                    let err = self.transport_error(e, op).await;
                    if retry && attempt < self.cfg.retries {
                        tracing::debug!(bmc = %self.label, op, error = %err, "retrying after a connection reset");
                        tokio::time::sleep(self.backoff(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(err);
                }
            };
            let status = resp.status();
            let etag = header_string(&resp, header::ETAG);
            let location = header_string(&resp, header::LOCATION);
            let token = resp
                .headers()
                .get("X-Auth-Token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let retry_after = header_string(&resp, header::RETRY_AFTER)
                .and_then(|s| s.trim().parse::<u64>().ok())
                .map(|s| Duration::from_secs(s.min(10)));
            let bytes = match resp.bytes().await {
                Ok(b) => b.to_vec(),
                Err(e) => {
                    let retry = is_reset(&e);
                    let err = self.transport_error(e, op).await;
                    if retry && attempt < self.cfg.retries {
                        tokio::time::sleep(self.backoff(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(err);
                }
            };
            if status.is_success() {
                return Ok(Reply {
                    status,
                    etag,
                    location,
                    token,
                    body: bytes,
                });
            }
            let err_body: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
            if status == StatusCode::UNAUTHORIZED {
                if let Cred::Token(t) = &cred
                    && !relogged
                {
                    relogged = true;
                    self.forget_session(t).await;
                    continue;
                }
                return Err(Error::Auth {
                    bmc: self.label.clone(),
                });
            }
            let busy = status == StatusCode::SERVICE_UNAVAILABLE
                || err_body
                    .message_ids()
                    .any(|id| BUSY_MESSAGES.iter().any(|b| id.ends_with(b)));
            if busy && attempt < self.cfg.retries {
                let wait = retry_after.unwrap_or_else(|| self.backoff(attempt));
                tracing::debug!(bmc = %self.label, op, %status, ?wait, "BMC busy; retrying");
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            let mut message = err_body.summary().unwrap_or_else(|| {
                let text = String::from_utf8_lossy(&bytes);
                let text = text.trim();
                if text.is_empty() {
                    status.canonical_reason().unwrap_or("error").to_string()
                } else {
                    text.chars().take(300).collect()
                }
            });
            if let Some(id) = err_body.message_ids().next()
                && !message.contains(id)
            {
                message = format!("{message} [{id}]");
            }
            return Err(Error::Http {
                bmc: self.label.clone(),
                op: op.to_string(),
                status: status.as_u16(),
                message,
            });
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.cfg.backoff.saturating_mul(1u32 << attempt.min(6))
    }

    /// The credentials for an authenticated request, logging in first if needed.
    async fn credentials(&self) -> Result<Cred> {
        let mut auth = self.auth.lock().await;
        match &*auth {
            AuthState::Basic => return Ok(Cred::Basic),
            AuthState::Session { token, .. } => return Ok(Cred::Token(token.clone())),
            AuthState::Undecided => {}
        }
        let sessions = match self.cfg.auth {
            AuthMode::Basic => None,
            AuthMode::Session => Some(DEFAULT_SESSIONS.to_string()),
            AuthMode::Auto => {
                let reply = self.raw_root().await?;
                reply.links.sessions.map(|l| l.odata_id)
            }
        };
        let Some(sessions) = sessions else {
            *auth = AuthState::Basic;
            return Ok(Cred::Basic);
        };
        match self.login(&sessions).await {
            Ok((token, location)) => {
                *auth = AuthState::Session {
                    token: token.clone(),
                    location,
                };
                Ok(Cred::Token(token))
            }
            // Advertised but missing, broken, or full (session limit reached, still after
            // the busy retries): Basic auth works on such BMCs. Wrong credentials are not
            // retried another way.
            Err(Error::Http {
                status, message, ..
            }) if self.cfg.auth == AuthMode::Auto => {
                tracing::info!(bmc = %self.label, status, message, "cannot create a session; using Basic auth");
                *auth = AuthState::Basic;
                Ok(Cred::Basic)
            }
            Err(e) => Err(e),
        }
    }

    /// The service root without taking the caps again (called while holding them).
    async fn raw_root(&self) -> Result<ServiceRoot> {
        let send = |basic: bool| {
            let mut req = self
                .http
                .get(self.url(ROOT))
                .timeout(self.cfg.timeout)
                .header(header::ACCEPT, "application/json");
            if basic {
                req = req.basic_auth(&self.cfg.username, Some(&self.cfg.password));
            }
            req.send()
        };
        let mut resp = match send(false).await {
            Ok(r) => r,
            Err(e) => return Err(self.transport_error(e, "GET service root").await),
        };
        if resp.status() == StatusCode::UNAUTHORIZED {
            resp = match send(true).await {
                Ok(r) => r,
                Err(e) => return Err(self.transport_error(e, "GET service root").await),
            };
        }
        if resp.status() == StatusCode::UNAUTHORIZED {
            return Err(Error::Auth {
                bmc: self.label.clone(),
            });
        }
        let bytes = resp.bytes().await.map_err(|e| Error::Unreachable {
            bmc: self.label.clone(),
            cause: cause_text(&e),
        })?;
        Ok(serde_json::from_slice(&bytes).unwrap_or_default())
    }

    /// Create a session; returns the token and the session's URI.
    async fn login(&self, sessions: &str) -> Result<(String, Option<String>)> {
        let body =
            serde_json::json!({"UserName": self.cfg.username, "Password": self.cfg.password});
        let mut attempt = 0;
        loop {
            let resp = self
                .http
                .post(self.url(sessions))
                .timeout(self.cfg.timeout)
                .json(&body)
                .send()
                .await;
            let resp = match resp {
                Ok(r) => r,
                Err(e) => return Err(self.transport_error(e, "create session").await),
            };
            let status = resp.status();
            let token = resp
                .headers()
                .get("X-Auth-Token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let location = header_string(&resp, header::LOCATION);
            let bytes = resp.bytes().await.unwrap_or_default();
            if status.is_success() {
                let location = location.or_else(|| {
                    serde_json::from_slice::<crate::model::Identity>(&bytes)
                        .ok()
                        .and_then(|i| i.odata_id)
                });
                return match token {
                    Some(t) => Ok((t, location.map(|l| path_of(&l)))),
                    None => Err(Error::Http {
                        bmc: self.label.clone(),
                        op: "create session".into(),
                        status: status.as_u16(),
                        message: "no X-Auth-Token in the answer".into(),
                    }),
                };
            }
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                return Err(Error::Auth {
                    bmc: self.label.clone(),
                });
            }
            let err_body: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
            let busy = status == StatusCode::SERVICE_UNAVAILABLE
                || err_body
                    .message_ids()
                    .any(|id| BUSY_MESSAGES.iter().any(|b| id.ends_with(b)));
            if busy && attempt < self.cfg.retries {
                tokio::time::sleep(self.backoff(attempt)).await;
                attempt += 1;
                continue;
            }
            return Err(Error::Http {
                bmc: self.label.clone(),
                op: "create session".into(),
                status: status.as_u16(),
                message: err_body
                    .summary()
                    .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").into()),
            });
        }
    }

    async fn forget_session(&self, used: &str) {
        let mut auth = self.auth.lock().await;
        if matches!(&*auth, AuthState::Session { token, .. } if token == used) {
            *auth = AuthState::Undecided;
        }
    }

    /// Turn a transport error into an [`Error`] naming the BMC and the cause. For an
    /// untrusted certificate, fetch the certificate's fingerprint so the message can say
    /// exactly how to pin it.
    async fn transport_error(&self, e: reqwest::Error, op: &str) -> Error {
        if e.is_timeout() {
            return Error::Timeout {
                bmc: self.label.clone(),
                op: op.to_string(),
                secs: self.cfg.timeout.as_secs().max(1),
            };
        }
        if let Some(cause) = tls_cause(&e) {
            let fingerprint = self
                .probe_fingerprint()
                .await
                .unwrap_or_else(|| "<sha256>".to_string());
            return Error::Untrusted {
                bmc: self.label.clone(),
                cause,
                fingerprint,
            };
        }
        Error::Unreachable {
            bmc: self.label.clone(),
            cause: cause_text(&e),
        }
    }

    /// The SHA-256 of the certificate the BMC presents, read without trusting it and
    /// without sending credentials.
    pub async fn probe_fingerprint(&self) -> Option<String> {
        let client = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .tls_danger_accept_invalid_certs(true)
            .tls_info(true)
            .no_proxy()
            .build()
            .ok()?;
        let resp = client
            .get(self.url(ROOT))
            .timeout(self.cfg.timeout)
            .send()
            .await
            .ok()?;
        let info = resp.extensions().get::<reqwest::tls::TlsInfo>()?;
        info.peer_certificate().map(tls::fingerprint)
    }
}

#[derive(Clone, Copy)]
enum Auth {
    None,
    Basic,
    Required,
}

enum Cred {
    None,
    Basic,
    Token(String),
}

fn header_string(resp: &reqwest::Response, name: header::HeaderName) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn reset_target(sys: &ComputerSystem, path: &str) -> String {
    sys.actions
        .reset
        .as_ref()
        .and_then(|r| r.target.clone())
        .unwrap_or_else(|| {
            format!(
                "{}/Actions/ComputerSystem.Reset",
                path.trim_end_matches('/')
            )
        })
}

fn last_segment(path: &str) -> String {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
        .to_string()
}

/// A Location header may be absolute; keep only the path.
fn path_of(location: &str) -> String {
    match Url::parse(location) {
        Ok(u) => u.path().to_string(),
        Err(_) => location.to_string(),
    }
}

/// Whether the wanted override is in effect. `Some(note)` when it is, with a note when the
/// BMC reports a different but equivalent-for-booting `enabled` value.
fn stuck(boot: &Boot, want: &BootOverride) -> Option<Option<String>> {
    if boot.target.as_deref() != Some(want.target.as_str()) {
        return None;
    }
    if let Some(mode) = &want.mode
        && boot.mode.as_deref().is_some_and(|m| m != mode)
    {
        return None;
    }
    match boot.enabled.as_deref() {
        Some(e) if e == want.enabled => Some(None),
        Some("Disabled") | None => None,
        Some(other) if want.enabled != "Disabled" => Some(Some(format!(
            "the BMC reports BootSourceOverrideEnabled {other} (asked for {})",
            want.enabled
        ))),
        Some(_) => None,
    }
}

/// Connection resets and closed connections: the request may simply be retried.
fn is_reset(e: &reqwest::Error) -> bool {
    if e.is_timeout() || e.is_connect() || tls_cause(e).is_some() {
        return false;
    }
    let text = cause_text(e).to_ascii_lowercase();
    text.contains("reset")
        || text.contains("connection closed")
        || text.contains("incomplete message")
        || text.contains("broken pipe")
        || text.contains("channel closed")
}

/// The TLS failure inside a transport error, if that is what it is.
fn tls_cause(e: &reqwest::Error) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r.to_string());
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(r) = inner.downcast_ref::<rustls::Error>()
        {
            return Some(r.to_string());
        }
        cur = err.source();
    }
    let text = cause_text(e);
    (text.contains("certificate") || text.contains("UnknownIssuer")).then_some(text)
}

/// The innermost two distinct messages of an error chain: the useful part, without the
/// URL-laden outer wrapper.
fn cause_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msgs: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let m = err.to_string();
        if msgs.last() != Some(&m) {
            msgs.push(m);
        }
        cur = err.source();
    }
    let n = msgs.len();
    let keep = if n > 1 {
        &msgs[n.saturating_sub(2)..]
    } else {
        &msgs[..]
    };
    keep.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot(target: &str, enabled: &str) -> Boot {
        Boot {
            target: Some(target.into()),
            enabled: Some(enabled.into()),
            ..Boot::default()
        }
    }

    #[test]
    fn override_stuck_rules() {
        let want = BootOverride::once("Pxe");
        assert_eq!(stuck(&boot("Pxe", "Once"), &want), Some(None));
        assert!(matches!(
            stuck(&boot("Pxe", "Continuous"), &want),
            Some(Some(_))
        ));
        assert_eq!(stuck(&boot("Pxe", "Disabled"), &want), None);
        assert_eq!(stuck(&boot("Hdd", "Once"), &want), None);
    }

    #[test]
    fn base_urls_parse() {
        assert_eq!(
            parse_base("10.0.0.1").unwrap().as_str(),
            "https://10.0.0.1/"
        );
        assert_eq!(
            parse_base("http://127.0.0.1:8000/redfish/v1")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8000/"
        );
        assert!(parse_base("ftp://x").is_err());
        assert_eq!(label(&parse_base("bmc1").unwrap()), "bmc1:443");
    }
}
