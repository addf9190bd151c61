//! BOS v2 end to end: a real appliance, a fleet of SimBmcs and simulated netbooting nodes
//! (`rackboot::sim`). Sessions are created through the API and the tests wait for what a
//! user would wait for — the session completing — then check every node's state. Every
//! BOS response is checked against the upstream OpenAPI contract.

use std::time::{Duration, Instant};

use rackboot::config::Settings;
use rackboot::sim::{Behaviour, Pacing, SimLab, SimLabConfig};
use redfish::sim::{SimConfig, SimFleet};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::Server;
use crate::openapi::assert_valid;
use crate::power::{discovered, register};

pub const BOS: &str = "/apis/bos/v2";

/// A BOS call whose answer must match the contract.
pub async fn bos(s: &Server, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    bos_as(s, None, method, path, body).await
}

/// The same with a `Cray-Tenant-Name` header.
pub async fn bos_as(
    s: &Server,
    tenant: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = s.url(&format!("{BOS}{path}"));
    let mut req = s.http.request(method.clone(), url);
    if let Some(t) = tenant {
        req = req.header("Cray-Tenant-Name", t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let st = resp.status();
    let text = resp.text().await.unwrap();
    let v: Value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    assert_valid(method.as_str(), &format!("{BOS}{path}"), st.as_u16(), &v);
    (st, v)
}

/// Settings for quick tests: operators poll every 100 ms, BMCs time out fast.
pub fn quick() -> Settings {
    Settings {
        bos_poll_ms: Some(100),
        power_confirm_ms: Some(100),
        power_sample_secs: Some(1),
        bmc_timeout_secs: Some(2),
        ..Default::default()
    }
}

/// An image with a kernel, an initrd and an IMS-style manifest in the local artifact dir.
pub fn put_image(s: &Server, img: &str) -> String {
    let dir = s.data_dir.join("artifacts/boot-images").join(img);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("kernel"), format!("kernel of {img}").repeat(1000)).unwrap();
    std::fs::write(dir.join("initrd"), format!("initrd of {img}").repeat(5000)).unwrap();
    let manifest = json!({"version": "1.0", "created": "2026-11-25", "artifacts": [
        {"link": {"path": format!("s3://boot-images/{img}/kernel"), "etag": "k", "type": "s3"},
         "type": "application/vnd.cray.image.kernel"},
        {"link": {"path": format!("s3://boot-images/{img}/initrd"), "etag": "i", "type": "s3"},
         "type": "application/vnd.cray.image.initrd"}]});
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    format!("s3://boot-images/{img}/manifest.json")
}

/// A running appliance with `n` simulated nodes, each behind its own SimBmc, discovered.
pub struct Lab {
    pub s: Server,
    pub _dir: tempfile::TempDir,
    pub fleet: SimFleet,
    pub nodes: SimLab,
    /// Node xnames in fleet order.
    pub xnames: Vec<String>,
}

pub fn pacing() -> Pacing {
    Pacing {
        script_retry: Duration::from_millis(50),
        report_backoff: Duration::from_millis(20),
        report_retry: Duration::from_millis(100),
        ..Pacing::default()
    }
}

impl Lab {
    pub async fn start(n: usize) -> Lab {
        Lab::start_with(n, quick(), SimConfig::default()).await
    }

    pub async fn start_with(n: usize, settings: Settings, bmc: SimConfig) -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start_in(dir.path(), settings).await;
        Lab::around(s, dir, n, bmc).await
    }

    pub async fn around(s: Server, dir: tempfile::TempDir, n: usize, bmc: SimConfig) -> Lab {
        let fleet = SimFleet::start(n, bmc).await.unwrap();
        let mut xnames = Vec::new();
        for (i, b) in fleet.bmcs().iter().enumerate() {
            let id = format!("x{}c0s{}b0", 3000 + i / 8, i % 8);
            register(&s, &id, &b.url(), json!({})).await;
            let ep = discovered(&s, &id).await;
            assert_eq!(ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK", "{ep}");
            xnames.push(format!("{id}n0"));
        }
        let mut cfg = SimLabConfig::new(s.base.clone(), reqwest::Client::new());
        cfg.pacing = pacing();
        let nodes = SimLab::for_fleet(&cfg, &fleet);
        Lab {
            s,
            _dir: dir,
            fleet,
            nodes,
            xnames,
        }
    }

    pub async fn options(&self, patch: Value) {
        let (st, v) = bos(&self.s, Method::PATCH, "/options", Some(patch)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }

    pub async fn template(&self, name: &str, path: &str, nodes: &[String]) {
        let (st, v) = bos(
            &self.s,
            Method::PUT,
            &format!("/sessiontemplates/{name}"),
            Some(json!({"enable_cfs": false, "boot_sets": {"compute": {
                "type": "s3", "path": path, "node_list": nodes,
                "kernel_parameters": "console=ttyS0,115200"}}})),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }

    /// Create a session and wait for it to complete; returns its extended status.
    pub async fn run(&self, template: &str, operation: &str, limit: Option<&str>) -> Value {
        let name = self.create(template, operation, limit).await;
        self.wait_complete(&name).await
    }

    pub async fn create(&self, template: &str, operation: &str, limit: Option<&str>) -> String {
        let mut body = json!({"template_name": template, "operation": operation});
        if let Some(l) = limit {
            body["limit"] = l.into();
        }
        let (st, v) = bos(&self.s, Method::POST, "/sessions", Some(body)).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        v["name"].as_str().unwrap().to_string()
    }

    pub async fn wait_complete(&self, name: &str) -> Value {
        let start = Instant::now();
        loop {
            let (st, v) = bos(&self.s, Method::GET, &format!("/sessions/{name}"), None).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            if v["status"]["status"] == "complete" {
                let (st, status) =
                    bos(&self.s, Method::GET, &format!("/sessions/{name}/status"), None).await;
                assert_eq!(st, StatusCode::OK, "{status}");
                return json!({"session": v, "status": status});
            }
            if start.elapsed() > Duration::from_secs(60) {
                let (_, comps) = bos(&self.s, Method::GET, "/components", None).await;
                let (_, ops) = self.s.get("/apis/rackboot/v1/operators").await;
                panic!(
                    "session {name} did not complete: {v:#}\ncomponents: {comps:#}\noperators: {ops:#}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn component(&self, x: &str) -> Value {
        let (st, v) = bos(&self.s, Method::GET, &format!("/components/{x}"), None).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        v
    }

    pub fn power(&self, i: usize) -> String {
        self.fleet.bmcs()[i].power_state(0)
    }

    pub fn resets(&self, i: usize) -> u64 {
        self.fleet.bmcs()[i].counters().resets
    }
}

fn assert_all_stable(status: &Value) {
    assert_eq!(status["status"]["percent_successful"], 100.0, "{status:#}");
    assert_eq!(status["status"]["percent_failed"], 0.0, "{status:#}");
    assert_eq!(status["status"]["error_summary"], json!({}), "{status:#}");
    assert!(status["session"]["status"]["error"].is_null(), "{status:#}");
}

#[tokio::test]
async fn bos_boot_of_powered_off_nodes_reaches_stable_with_reports() {
    let lab = Lab::start(3).await;
    let path = put_image(&lab.s, "img-a");
    lab.template("compute", &path, &lab.xnames).await;
    let (st, v) = bos(&lab.s, Method::GET, "/sessiontemplatesvalid/compute", None).await;
    assert_eq!((st, v.as_str()), (StatusCode::OK, Some("Valid")));
    let done = lab.run("compute", "boot", None).await;
    assert_all_stable(&done);
    assert_eq!(done["status"]["managed_components_count"], 3);
    for (i, x) in lab.xnames.iter().enumerate() {
        let c = lab.component(x).await;
        assert_eq!(c["status"]["status"], "stable", "{c:#}");
        assert_eq!(c["enabled"], false);
        assert_eq!(
            c["actual_state"]["boot_artifacts"],
            c["desired_state"]["boot_artifacts"],
            "{c:#}"
        );
        assert_eq!(
            c["desired_state"]["boot_artifacts"]["kernel"],
            "s3://boot-images/img-a/kernel"
        );
        let params = c["desired_state"]["boot_artifacts"]["kernel_parameters"]
            .as_str()
            .unwrap();
        assert!(
            params.contains("console=ttyS0,115200") && params.ends_with("bos_update_frequency=4h"),
            "{params}"
        );
        assert_eq!(c["actual_state"]["bss_token"], c["desired_state"]["bss_token"]);
        assert_eq!(lab.power(i), "On");
        let node = &lab.nodes.nodes()[i];
        assert_eq!(node.status().last_reported_token.as_deref(), c["desired_state"]["bss_token"].as_str());
        // The boot shows on the node's timeline: power call, script, kernel, initrd, report.
        let (_, tl) = lab.s.get(&format!("/apis/rackboot/v1/nodes/{x}/timeline")).await;
        let what: Vec<&str> = tl["events"]
            .as_array()
            .or(tl.as_array())
            .unwrap()
            .iter()
            .map(|e| e["what"].as_str().unwrap())
            .collect();
        for step in ["power-on", "bootscript", "kernel", "initrd", "reported"] {
            assert!(what.contains(&step), "{x}: {step} missing from {what:?}");
        }
    }
    // Sessions list and get answer in the contract's shape.
    let (st, list) = bos(&lab.s, Method::GET, "/sessions?status=complete", None).await;
    assert_eq!((st, list.as_array().unwrap().len()), (StatusCode::OK, 1));
}
