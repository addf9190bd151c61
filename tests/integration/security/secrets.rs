//! Secrets at rest and in flight: BMC passwords sealed in the database and in no log line,
//! private files, credentials that do not follow a re-pointed endpoint, uploads within
//! their limit, and artifact tokens that stand for the exact object they first served.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use redfish::sim::{SimBmc, SimConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Server, secure_settings, wait_until};
use crate::power::{discovered, register};

const EP: &str = "/apis/smd/hsm/v2/Inventory/RedfishEndpoints";
const PASSWORD: &str = "Sealed-BMC-Pass-7731";

/// Every log line of this process (each test runs in its own process under nextest).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn bmc_passwords_are_sealed_in_the_store_never_shown_never_logged_and_files_are_private() {
    let logs = Logs::default();
    let sink = logs.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .finish(),
    )
    .unwrap();
    let bmc = SimBmc::start(SimConfig {
        username: "root".into(),
        password: PASSWORD.into(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(dir.path(), secure_settings()).await;
    register(
        &s,
        "x3000c0s0b0",
        &bmc.url(),
        json!({"User": "root", "Password": PASSWORD}),
    )
    .await;
    let ep = discovered(&s, "x3000c0s0b0").await;
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
        "the sealed password works: {ep}"
    );
    assert!(!ep.to_string().contains(PASSWORD), "{ep}");
    let (_, all) = s.get(EP).await;
    assert!(!all.to_string().contains(PASSWORD), "{all}");
    let (_, dump) = s.get("/boot/v1/dumpstate").await;
    assert!(!dump.to_string().contains(PASSWORD));
    // Power calls use it too.
    let (st, v) = s
        .send(
            Method::POST,
            "/apis/power-control/v1/transitions",
            json!({"operation": "on", "location": [{"xname": "x3000c0s0b0n0"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let data = s.data_dir.clone();
    s.stop().await;

    let basic = base64::engine::general_purpose::STANDARD.encode(format!("root:{PASSWORD}"));
    for f in ["rackboot.db", "rackboot.db-wal", "rackboot.db-shm"] {
        // Read and stat through one handle: the WAL files go away when the store's last
        // connection closes, which may be now.
        if let Ok(mut file) = std::fs::File::open(data.join(f)) {
            let mut raw = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut raw).unwrap();
            let text = String::from_utf8_lossy(&raw);
            assert!(
                !text.contains(PASSWORD) && !text.contains(&basic),
                "{f} holds the BMC password in the clear"
            );
            let m = file.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(m, 0o600, "{f}");
        }
    }
    assert_eq!(mode(&data), 0o700, "the data directory");
    for f in [
        "seal.key",
        "jwt.key",
        "artifact-token.key",
        "initial-admin-password",
        "tls/key.pem",
    ] {
        assert_eq!(mode(&data.join(f)), 0o600, "{f}");
    }
    let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).to_string();
    assert!(
        logged.lines().count() > 20,
        "the log was captured: {logged}"
    );
    for (i, line) in logged.lines().enumerate() {
        assert!(
            !line.contains(PASSWORD) && !line.contains(&basic),
            "log line {i} holds the BMC password: {line}"
        );
    }
}

/// A server that answers 401 to everything and keeps every request (headers and body).
async fn capture() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let keep = seen.clone();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let keep = keep.clone();
        async move {
            let head = format!("{} {} {:?}", req.method(), req.uri(), req.headers());
            let body = axum::body::to_bytes(req.into_body(), 1 << 20)
                .await
                .unwrap_or_default();
            keep.lock()
                .unwrap()
                .push(format!("{head} {}", String::from_utf8_lossy(&body)));
            StatusCode::UNAUTHORIZED
        }
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (addr.to_string(), seen)
}

#[tokio::test]
async fn a_re_pointed_endpoint_keeps_no_credentials_it_was_not_given_again() {
    let bmc = SimBmc::start(SimConfig {
        username: "root".into(),
        password: PASSWORD.into(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let s = Server::start_secure().await;
    register(
        &s,
        "x3000c0s2b0",
        &bmc.url(),
        json!({"User": "root", "Password": PASSWORD}),
    )
    .await;
    discovered(&s, "x3000c0s2b0").await;
    let (addr, seen) = capture().await;
    let (st, v) = s
        .send(
            Method::PUT,
            &format!("{EP}/x3000c0s2b0"),
            json!({"ID": "x3000c0s2b0", "FQDN": addr, "Scheme": "http", "User": "root"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let ep = discovered(&s, "x3000c0s2b0").await;
    assert_ne!(
        ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
        "{ep}"
    );
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("root:{PASSWORD}"));
    let got = seen.lock().unwrap().clone();
    for r in &got {
        assert!(
            !r.contains(PASSWORD) && !r.contains(&basic),
            "the old password went to the new address: {r}"
        );
    }
    // Given again with the new address, the new password is the one sent.
    let (st, v) = s
        .send(
            Method::PATCH,
            &format!("{EP}/x3000c0s2b0"),
            json!({"Password": "given-again", "RediscoverOnUpdate": true}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let again = base64::engine::general_purpose::STANDARD.encode("root:given-again");
    wait_until(
        "discovery with the password given again",
        Duration::from_secs(20),
        async || {
            let got = seen.lock().unwrap().clone();
            if got
                .iter()
                .any(|r| r.contains("given-again") || r.contains(&again))
            {
                Ok(())
            } else {
                Err(format!("{got:?}"))
            }
        },
    )
    .await;
    s.stop().await;
}

#[tokio::test]
async fn uploads_over_the_limit_are_refused_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(
        dir.path(),
        rackboot::config::Settings {
            max_upload_bytes: Some(1 << 20),
            ..secure_settings()
        },
    )
    .await;
    let put = |body: reqwest::Body| {
        s.http
            .put(s.url("/apis/rackboot/v1/images/big/kernel"))
            .body(body)
            .send()
    };
    let r = put(vec![7u8; 2 << 20].into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["detail"].as_str().unwrap().contains("max_upload_bytes"),
        "{v}"
    );
    // Without a declared length (chunked), cut off as the bytes come.
    let chunks = futures::stream::iter(
        (0..40).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![1u8; 64 << 10]))),
    );
    let r = put(reqwest::Body::wrap_stream(chunks)).await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let (st, v) = s.get("/apis/rackboot/v1/images/big").await;
    assert!(
        st == StatusCode::NOT_FOUND || v["artifacts"].as_array().is_none_or(|a| a.is_empty()),
        "{st} {v}"
    );
    // Within the limit it is stored; anonymous callers cannot upload at all.
    let r = put(vec![7u8; 1000].into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = s
        .anonymous()
        .put(s.url("/apis/rackboot/v1/images/big/kernel"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test]
async fn an_artifact_token_serves_only_the_object_it_began_with() {
    let s = Server::start().await;
    s.add_node("x3000c0s0b0n0", 1, "Compute", "02:00:00:00:00:01")
        .await;
    let root = s.data_dir.join("artifacts/boot-images/img");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("kernel"), b"kernel one").unwrap();
    let put_params = async || {
        let (st, v) = s
            .send(
                Method::PUT,
                "/boot/v1/bootparameters",
                json!({"hosts": ["x3000c0s0b0n0"], "kernel": "s3://boot-images/img/kernel"}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
    };
    put_params().await;
    let kernel_url = async || {
        let (st, _, v) = s
            .call(
                Method::GET,
                "/boot/v1/bootscript?mac=02:00:00:00:00:01",
                None,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let script = v.as_str().unwrap().to_string();
        let url = script
            .split_whitespace()
            .find(|w| w.contains("/artifacts/"))
            .unwrap()
            .to_string();
        url.replace(crate::common::ADVERTISE, &s.base)
    };
    let url = kernel_url().await;
    let got = reqwest::get(&url).await.unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"kernel one");
    // Replaced under the live token (another size, so another ETag at once).
    std::fs::write(root.join("kernel"), b"a different kernel").unwrap();
    wait_until(
        "the replaced kernel to be refused under the old token",
        Duration::from_secs(90),
        async || {
            let r = reqwest::get(&url).await.unwrap();
            match r.status() {
                StatusCode::CONFLICT => Ok(r.json::<Value>().await.unwrap()),
                st => Err(format!("{st}: {:?}", r.bytes().await)),
            }
        },
    )
    .await;
    // New boot parameters, a new token: the new kernel.
    put_params().await;
    let url2 = kernel_url().await;
    assert_ne!(url, url2);
    assert_eq!(
        reqwest::get(&url2)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        b"a different kernel"
    );
    s.stop().await;
}
