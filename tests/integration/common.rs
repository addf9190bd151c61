//! Starting and stopping a real appliance for a test, and waiting on conditions.
//!
//! Tests wait on what they can observe, never on a fixed sleep: [`wait_until`] polls a
//! condition with a deadline and says what it awaited when the deadline passes. A sleep
//! stays only where time passing is the behaviour under test (a timeout, or "nothing
//! happens"), with a comment saying so.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rackboot::config::{Config, Settings};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;

pub const ADVERTISE: &str = "http://10.1.0.1:8080";

pub struct Server {
    /// The control plane (the boot listener too in the lab shape).
    pub base: String,
    /// The boot plane: what nodes use.
    pub boot_base: String,
    /// Talks to `base`: in the secure shape it trusts the control plane's certificate and
    /// sends the first admin's API token.
    pub http: reqwest::Client,
    /// The secure shape's facts: the control plane's certificate SHA-256 and the admin's
    /// API token.
    pub secure: Option<Secure>,
    stop: Option<oneshot::Sender<()>>,
    running: Option<rackboot::Running>,
    _dir: Option<tempfile::TempDir>,
    pub data_dir: PathBuf,
    /// The TFTP server's address, when a test turned it on (`tftp_listen`).
    pub tftp: Option<std::net::SocketAddr>,
}

/// How a test reaches a control plane with authentication on.
#[derive(Clone)]
pub struct Secure {
    pub pin: String,
    pub admin_token: String,
}

/// The production shape: an HTTPS control plane on its own listener, authentication on.
pub fn secure_settings() -> Settings {
    Settings {
        control_listen: Some("127.0.0.1:0".into()),
        no_auth: Some(false),
        ..Default::default()
    }
}

/// A client that trusts exactly the certificate with SHA-256 `pin`.
pub fn pinned_client(pin: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured(redfish::tls::pinned_config(pin))
        .build()
        .unwrap()
}

impl Server {
    /// The production shape, signed in: `http` carries the first admin's API token.
    pub async fn start_secure() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let mut s = Server::start_in(&path, secure_settings()).await;
        s._dir = Some(dir);
        s
    }

    pub async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let mut s = Server::start_in(&path, Settings::default()).await;
        s._dir = Some(dir);
        s
    }

    pub async fn start_in(data_dir: &Path, extra: Settings) -> Server {
        Server::start_at(data_dir, extra, "127.0.0.1:0").await
    }

    /// Start on a given address (a restart that nodes must find where they left it).
    pub async fn start_at(data_dir: &Path, extra: Settings, addr: &str) -> Server {
        Server::start_with(data_dir, extra, addr, None).await
    }

    /// Start with DHCP sockets bound elsewhere (inside a test's network namespace).
    pub async fn start_with(
        data_dir: &Path,
        extra: Settings,
        addr: &str,
        dhcp: Option<rackboot::dhcp::server::Sockets>,
    ) -> Server {
        // The lab shape unless a test asks otherwise: one plain-HTTP listener for both
        // planes, authentication off. The security tests (access.rs, tls.rs) start the
        // production shape: HTTPS control plane, users and tokens.
        let settings = extra.or(Settings {
            data_dir: Some(data_dir.to_path_buf()),
            advertise_url: Some(ADVERTISE.into()),
            tftp_listen: Some("off".into()),
            control_listen: Some("boot".into()),
            no_auth: Some(true),
            // Simulated nodes all ask from 127.0.0.1 (the secure shape keeps the limit).
            boot_rate_limit: Some(0),
            ..Default::default()
        });
        let settings = settings.or(test_store(data_dir).await);
        let config = Config::resolve(settings).unwrap();
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let backends = rackboot::Backends::open(&config).await.unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let listeners = rackboot::Listeners {
            http: listener,
            control: None,
            dhcp,
        };
        let running = rackboot::start(config, backends, listeners, async move {
            let _ = rx.await;
        })
        .await
        .unwrap();
        let boot_base = format!("http://{}", running.local_addr);
        let (base, http, secure) = match (running.control_addr, &running.tls_fingerprint) {
            (Some(addr), Some(pin)) => {
                let base = format!("https://{addr}");
                let token = admin_token(&base, pin, data_dir).await;
                let mut headers = reqwest::header::HeaderMap::new();
                headers.insert(
                    reqwest::header::AUTHORIZATION,
                    format!("Bearer {token}").parse().unwrap(),
                );
                let http = reqwest::Client::builder()
                    .tls_backend_preconfigured(redfish::tls::pinned_config(pin))
                    .default_headers(headers)
                    .build()
                    .unwrap();
                let secure = Secure {
                    pin: pin.clone(),
                    admin_token: token,
                };
                (base, http, Some(secure))
            }
            _ => (boot_base.clone(), reqwest::Client::new(), None),
        };
        Server {
            tftp: running.tftp_addr,
            base,
            boot_base,
            http,
            secure,
            stop: Some(tx),
            running: Some(running),
            _dir: None,
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// An appliance this test does not run in-process (a `rackboot serve` child, lab shape),
    /// reached at `base`: every helper that takes a [`Server`] works on it; `stop` does not.
    pub fn remote(base: &str, data_dir: &Path) -> Server {
        Server {
            tftp: None,
            base: base.to_string(),
            boot_base: base.to_string(),
            http: reqwest::Client::new(),
            secure: None,
            stop: None,
            running: None,
            _dir: None,
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// Shut down gracefully and wait until it has (the data directory stays).
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        let _ = self.stop.take().unwrap().send(());
        self.running.take().unwrap().wait().await.unwrap();
        self._dir.take()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The running application (to build its routers in a test).
    pub fn app(&self) -> std::sync::Arc<rackboot::app::App> {
        self.running.as_ref().unwrap().app.clone()
    }

    /// The boot plane's HTTPS listener and its certificate's SHA-256, when asked for.
    pub fn boot_https(&self) -> Option<(std::net::SocketAddr, String)> {
        let r = self.running.as_ref().unwrap();
        Some((r.boot_https_addr?, r.boot_https_fingerprint.clone()?))
    }

    /// A URL on the boot plane.
    pub fn boot_url(&self, path: &str) -> String {
        format!("{}{}", self.boot_base, path)
    }

    /// A client for the control plane without credentials (trusting its certificate).
    pub fn anonymous(&self) -> reqwest::Client {
        match &self.secure {
            Some(sec) => pinned_client(&sec.pin),
            None => reqwest::Client::new(),
        }
    }

    /// Make a user with `role` and an API token for them; returns the token.
    pub async fn user_token(&self, name: &str, role: &str) -> String {
        let (st, v) = self
            .send(
                Method::POST,
                "/apis/rackboot/v1/users",
                serde_json::json!({"name": name, "role": role, "password": format!("{name}-password-long")}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        self.admin_made_token(name, None).await
    }

    /// An API token for user `owner`, made by the admin, optionally expiring.
    pub async fn admin_made_token(&self, owner: &str, expires_in_secs: Option<i64>) -> String {
        let (st, v) = self
            .send(
                Method::POST,
                "/apis/rackboot/v1/tokens",
                serde_json::json!({"name": format!("{owner}-t"), "owner": owner, "expires_in_secs": expires_in_secs}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        v["token"].as_str().unwrap().to_string()
    }

    /// Send a request; returns status, headers and the body (JSON, or a string for text).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, headers, v)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (s, _, v) = self.call(Method::GET, path, None).await;
        (s, v)
    }

    pub async fn send(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        let (s, _, v) = self.call(method, path, Some(body)).await;
        (s, v)
    }

    /// A raw body, for malformed-JSON tests.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: &str,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let resp = self
            .http
            .request(method, self.url(path))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Register a node with a NID, role and one MAC.
    pub async fn add_node(&self, xname: &str, nid: i64, role: &str, mac: &str) {
        let (s, v) = self
            .send(
                Method::POST,
                "/apis/smd/hsm/v2/State/Components",
                serde_json::json!({"Components": [{"ID": xname, "State": "Off", "NID": nid, "Role": role}]}),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
        let (s, v) = self
            .send(
                Method::POST,
                "/apis/smd/hsm/v2/Inventory/EthernetInterfaces",
                serde_json::json!({"MACAddress": mac, "ComponentID": xname}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
}

/// Log in as the first admin (its password from the file the appliance wrote at first
/// start) over HTTPS, and make an API token for the test.
async fn admin_token(base: &str, pin: &str, data_dir: &Path) -> String {
    let password = std::fs::read_to_string(data_dir.join("initial-admin-password")).unwrap();
    let http = pinned_client(pin);
    let url = format!("{base}/keycloak/realms/shasta/protocol/openid-connect/token");
    let resp = http
        .post(&url)
        .form(&[
            ("grant_type", "password"),
            ("client_id", "shasta"),
            ("username", "admin"),
            ("password", password.trim()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.unwrap();
    let access = v["access_token"].as_str().unwrap();
    let resp = http
        .post(format!("{base}/apis/rackboot/v1/tokens"))
        .bearer_auth(access)
        .json(&serde_json::json!({"name": "test-admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let v: Value = resp.json().await.unwrap();
    v["token"].as_str().unwrap().to_string()
}

/// Assert a problem+json answer with this status whose detail contains `needle`.
pub fn assert_problem(
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &Value,
    want: StatusCode,
    needle: &str,
) {
    assert_eq!(status, want, "{body}");
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{body}"
    );
    assert_eq!(body["status"], want.as_u16(), "{body}");
    assert_eq!(body["title"], want.canonical_reason().unwrap(), "{body}");
    let d = body["detail"].as_str().unwrap_or_default();
    assert!(d.contains(needle), "detail {d:?} should contain {needle:?}");
}

/// Compare with a golden file; UPDATE_GOLDEN=1 rewrites it.
pub fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}; run with UPDATE_GOLDEN=1",
            path.display()
        )
    });
    assert_eq!(
        actual,
        want,
        "rendered output differs from {}",
        path.display()
    );
}

/// How often [`poll`] asks.
const POLL_EVERY: Duration = Duration::from_millis(20);

/// Ask `probe` until it answers `Ok`, for at most `within`; the last `Err` (the state seen)
/// when the time is up. For a caller that must clean up before failing; others use
/// [`wait_until`].
pub async fn poll<T, E>(
    within: Duration,
    mut probe: impl AsyncFnMut() -> Result<T, E>,
) -> Result<T, E> {
    let deadline = Instant::now() + within;
    loop {
        match probe().await {
            Ok(v) => return Ok(v),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => tokio::time::sleep(POLL_EVERY).await,
        }
    }
}

/// Wait until `probe` answers `Ok` (its value is returned), for at most `within`; then panic
/// saying what was awaited and the last state `probe` described in its `Err`.
pub async fn wait_until<T, E: Display>(
    what: &str,
    within: Duration,
    probe: impl AsyncFnMut() -> Result<T, E>,
) -> T {
    poll(within, probe).await.unwrap_or_else(|last| {
        panic!("timed out after {within:?} waiting for {what}; last seen: {last}")
    })
}

/// The store the in-process appliances use: SQLite in their data directory, unless
/// `RACKBOOT_TEST_STORE=postgres` asks for a PostgreSQL database of their own on the tests'
/// server (scripts/pg.sh), the same one again for the same data directory (restarts).
async fn test_store(data_dir: &Path) -> Settings {
    static DATABASES: std::sync::Mutex<Vec<(std::path::PathBuf, String)>> =
        std::sync::Mutex::new(Vec::new());
    if std::env::var("RACKBOOT_TEST_STORE").as_deref() != Ok("postgres") {
        return Settings::default();
    }
    let known = DATABASES
        .lock()
        .unwrap()
        .iter()
        .find(|(d, _)| d == data_dir)
        .map(|(_, u)| u.clone());
    let url = match known {
        Some(u) => u,
        None => {
            let u = rackboot::store::postgres::testdb::fresh_database().await;
            DATABASES
                .lock()
                .unwrap()
                .push((data_dir.to_path_buf(), u.clone()));
            u
        }
    };
    Settings {
        store_url: Some(url),
        ..Default::default()
    }
}
