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
    pub base: String,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    running: Option<rackboot::Running>,
    _dir: Option<tempfile::TempDir>,
    pub data_dir: PathBuf,
    /// The TFTP server's address, when a test turned it on (`tftp_listen`).
    pub tftp: Option<std::net::SocketAddr>,
}

impl Server {
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
            ..Default::default()
        });
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
        Server {
            tftp: running.tftp_addr,
            base: format!("http://{}", running.local_addr),
            http: reqwest::Client::new(),
            stop: Some(tx),
            running: Some(running),
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
