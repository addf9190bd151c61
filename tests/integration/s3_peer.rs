//! The artifact plane against a real S3 server: s3s-fs (checks request signatures),
//! installed by scripts/peers.sh into .peers/bin.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use rackboot::artifacts::{ObjectRef, SourceConfig, open_source};
use rackboot::config::Settings;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{ADVERTISE, Server, assert_problem, wait_until};

pub struct S3 {
    pub endpoint: String,
    child: Child,
    _dir: tempfile::TempDir,
}

pub const ACCESS: &str = "rackboot-test";
pub const SECRET: &str = "rackboot-test-secret";

impl S3 {
    /// Start s3s-fs on a free port with the given buckets; returns once it listens.
    pub async fn start(buckets: &[&str]) -> S3 {
        let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".peers/bin/s3s-fs");
        assert!(
            bin.is_file(),
            "s3s-fs is not installed ({} is missing): run scripts/test.sh (or scripts/peers.sh)",
            bin.display()
        );
        let dir = tempfile::tempdir().unwrap();
        for b in buckets {
            std::fs::create_dir_all(dir.path().join(b)).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS, "--secret-key", SECRET])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start s3s-fs");
        let s3 = S3 {
            endpoint: format!("http://127.0.0.1:{port}"),
            child,
            _dir: dir,
        };
        wait_until("s3s-fs to listen", Duration::from_secs(10), async || {
            tokio::net::TcpStream::connect(("127.0.0.1", port)).await
        })
        .await;
        s3
    }

    pub fn settings(&self, secret: &str) -> Settings {
        Settings {
            s3_endpoint: Some(self.endpoint.clone()),
            s3_access_key: Some(ACCESS.into()),
            s3_secret_key: Some(secret.into()),
            ..Default::default()
        }
    }

    pub fn source(&self) -> std::sync::Arc<dyn rackboot::artifacts::ArtifactSource> {
        open_source(&SourceConfig::S3 {
            endpoint: self.endpoint.clone(),
            region: "us-east-1".into(),
            access_key: ACCESS.into(),
            secret_key: SECRET.into(),
            path_style: true,
            ca_pem: None,
        })
        .unwrap()
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .map(|v| v as u64)
        .unwrap_or(0)
}

#[tokio::test]
#[ignore = "tier peers: needs s3s-fs in .peers/bin; scripts/test.sh installs and runs it"]
async fn artifacts_stream_from_s3_once_for_many_nodes_and_bad_credentials_are_named() {
    let s3 = S3::start(&["boot-images"]).await;
    let src = s3.source();
    let kernel: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    let k = ObjectRef::parse("s3://boot-images/img1/kernel").unwrap();
    src.put(&k, Bytes::from(kernel.clone())).await.unwrap();
    assert_eq!(src.head(&k).await.unwrap().size, kernel.len() as u64);

    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(dir.path(), s3.settings(SECRET)).await;
    for i in 0..8 {
        s.add_node(
            &format!("x1c0s0b0n{i}"),
            i + 1,
            "Compute",
            &format!("aa:bb:cc:00:00:0{i}"),
        )
        .await;
    }
    let (st, v) = s
        .send(
            Method::PUT,
            "/boot/v1/bootparameters",
            json!({"hosts": ["Compute"], "kernel": "s3://boot-images/img1/kernel"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, m0) = s.get("/metrics").await;
    let before = metric(m0.as_str().unwrap(), "rackboot_artifact_origin_gets_total");
    // Eight nodes fetch their kernel at once, each with its own token.
    let mut fetches = Vec::new();
    for i in 0..8 {
        let (_, script) = s
            .get(&format!("/boot/v1/bootscript?mac=aa:bb:cc:00:00:0{i}"))
            .await;
        let script = script.as_str().unwrap().to_string();
        let url = script
            .lines()
            .find_map(|l| l.strip_prefix("kernel --name kernel "))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("{script}"))
            .replace(ADVERTISE, &s.base);
        let http = s.http.clone();
        fetches.push(tokio::spawn(async move {
            http.get(url).send().await.unwrap().bytes().await.unwrap()
        }));
    }
    for f in fetches {
        assert!(f.await.unwrap().to_vec() == kernel);
    }
    let (_, m1) = s.get("/metrics").await;
    assert_eq!(
        metric(m1.as_str().unwrap(), "rackboot_artifact_origin_gets_total") - before,
        1,
        "one origin read for eight nodes"
    );
    // Images import over real S3: artifacts streamed in, manifest written and read back.
    let resp = s
        .http
        .put(s.url("/apis/rackboot/v1/images/img2/kernel"))
        .body(vec![7u8; 100_000])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let (st, img) = s
        .send(
            Method::POST,
            "/apis/rackboot/v1/images/img2",
            json!({"params": "quiet"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{img}");
    assert_eq!(img["manifest"], "s3://boot-images/img2/manifest.json");
    let (_, list) = s.get("/apis/rackboot/v1/images").await;
    let names: Vec<&str> = list["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["img2"], "img1 has no manifest: {list}");
    s.stop().await;

    // Wrong credentials: the origin refuses, and the node's request says so (502).
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(dir.path(), s3.settings("wrong-secret")).await;
    s.add_node("x1c0s0b0n0", 1, "Compute", "aa:bb:cc:00:00:00")
        .await;
    s.send(
        Method::PUT,
        "/boot/v1/bootparameters",
        json!({"hosts": ["x1c0s0b0n0"], "kernel": "s3://boot-images/img1/kernel"}),
    )
    .await;
    let (_, script) = s.get("/boot/v1/bootscript?mac=aa:bb:cc:00:00:00").await;
    let script = script.as_str().unwrap().to_string();
    let path = script
        .lines()
        .find_map(|l| l.strip_prefix("kernel --name kernel "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .trim_start_matches(ADVERTISE)
        .to_string();
    let (st, h, v) = s.call(Method::GET, &path, None).await;
    assert_problem(
        st,
        &h,
        &v,
        StatusCode::BAD_GATEWAY,
        &format!("S3 {} refused access", s3.endpoint),
    );
    s.stop().await;
}
