//! The BOS test lab: a real appliance, a fleet of SimBmcs and simulated netbooting nodes
//! (`rackboot::sim`), and the helpers every BOS test uses. Every BOS response is checked
//! against the upstream OpenAPI contract.

use std::time::Duration;

use rackboot::config::Settings;
use rackboot::sim::{Pacing, SimLab, SimLabConfig};
use redfish::sim::{SimConfig, SimFleet};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Server, poll, wait_until};
use crate::openapi::assert_valid;
use crate::power::{discovered, register};

pub const BOS: &str = "/apis/bos/v2";

/// A BOS call whose answer must match the contract.
pub async fn bos(
    s: &Server,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
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

/// A running appliance with simulated nodes behind SimBmcs, discovered.
pub struct Lab {
    pub s: Server,
    pub _dir: tempfile::TempDir,
    pub fleet: SimFleet,
    pub nodes: SimLab,
    /// Node xnames in fleet order.
    pub xnames: Vec<String>,
    /// For each of `xnames`, its BMC in the fleet and its system on that BMC.
    pub at: Vec<(usize, usize)>,
}

pub fn pacing() -> Pacing {
    Pacing {
        script_retry: Duration::from_millis(50),
        report_backoff: Duration::from_millis(20),
        report_retry: Duration::from_millis(100),
        ..Pacing::default()
    }
}

/// Simulated nodes on the server's boot plane; in the secure shape their configuration
/// agent (standing in for CFS's Ansible) reaches CFS over the control plane with the
/// admin's token.
pub fn sim_config(s: &Server) -> SimLabConfig {
    let mut cfg = SimLabConfig::new(s.boot_base.clone(), reqwest::Client::new());
    cfg.pacing = pacing();
    if let Some(sec) = &s.secure {
        cfg.config_service = Some(rackboot::sim::ConfigService {
            base: s.base.clone(),
            http: crate::common::pinned_client(&sec.pin),
            token: sec.admin_token.clone(),
        });
    }
    cfg
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
            assert_eq!(
                ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
                "{ep}"
            );
            xnames.push(format!("{id}n0"));
        }
        let at = (0..n).map(|i| (i, 0)).collect();
        Lab::with_nodes(s, dir, fleet, xnames, at)
    }

    /// One BMC (e.g. a replayed tree), registered as `x3000c0s0b0`; every node discovery
    /// named on it, in xname order.
    pub async fn one_bmc(settings: Settings, bmc: SimConfig) -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start_in(dir.path(), settings).await;
        let fleet = SimFleet::start(1, bmc).await.unwrap();
        let id = "x3000c0s0b0";
        register(&s, id, &fleet.bmcs()[0].url(), json!({})).await;
        let ep = discovered(&s, id).await;
        assert_eq!(
            ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
            "{ep}"
        );
        let paths = fleet.bmcs()[0].system_paths();
        let (xnames, at) = crate::mockup::nodes_of(&s, id)
            .await
            .into_iter()
            .map(|(x, path)| {
                let system = paths.iter().position(|p| *p == path);
                (
                    x,
                    (0, system.unwrap_or_else(|| panic!("{path} not served"))),
                )
            })
            .unzip();
        let mut lab = Lab::with_nodes(s, dir, fleet, xnames, at);
        lab.add_unlisted_macs().await;
        lab
    }

    /// A node whose BMC lists no host NIC (stock OpenBMC) has no MAC in HSM, so nothing can
    /// netboot it: add one as an admin would (`cray hsm inventory ethernetInterfaces
    /// create`), and a simulated node that asks with it.
    async fn add_unlisted_macs(&mut self) {
        let cfg = sim_config(&self.s);
        for i in 0..self.xnames.len() {
            let x = self.xnames[i].clone();
            if !crate::mockup::macs_of(&self.s, &x).await.is_empty() {
                continue;
            }
            // Discovery says so, and how to fix it.
            let bmc_id = &x[..x.rfind('n').unwrap()];
            let (_, ep) = self
                .s
                .get(&format!(
                    "/apis/smd/hsm/v2/Inventory/RedfishEndpoints/{bmc_id}"
                ))
                .await;
            let problems = ep["DiscoveryInfo"]["Problems"].as_array().cloned();
            assert!(
                problems.iter().flatten().any(|p| p["Kind"] == "NoMAC"
                    && p["Message"]
                        .as_str()
                        .is_some_and(|m| m.contains(x.as_str()))),
                "{ep:#}"
            );
            let mac = format!("02:00:00:00:00:{i:02x}");
            let body = json!({"ComponentID": x, "MACAddress": mac});
            let (st, v) = self
                .s
                .send(
                    Method::POST,
                    "/apis/smd/hsm/v2/Inventory/EthernetInterfaces",
                    body,
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
            let (bmc, system) = self.bmc(i);
            let bmc = bmc.clone();
            self.nodes.add(&cfg, &bmc, system, mac);
        }
    }

    fn with_nodes(
        s: Server,
        dir: tempfile::TempDir,
        fleet: SimFleet,
        xnames: Vec<String>,
        at: Vec<(usize, usize)>,
    ) -> Lab {
        let nodes = SimLab::for_fleet(&sim_config(&s), &fleet);
        Lab {
            s,
            _dir: dir,
            fleet,
            nodes,
            xnames,
            at,
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
        let done = poll(Duration::from_secs(60), async || {
            let (st, v) = bos(&self.s, Method::GET, &format!("/sessions/{name}"), None).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            if v["status"]["status"] == "complete" {
                Ok(v)
            } else {
                Err(v)
            }
        })
        .await;
        let v = match done {
            Ok(v) => v,
            Err(v) => {
                let (_, comps) = bos(&self.s, Method::GET, "/components", None).await;
                let (_, ops) = self.s.get("/apis/rackboot/v1/operators").await;
                panic!(
                    "session {name} did not complete: {v:#}\ncomponents: {comps:#}\noperators: {ops:#}"
                );
            }
        };
        let (st, status) = bos(
            &self.s,
            Method::GET,
            &format!("/sessions/{name}/status"),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{status}");
        json!({"session": v, "status": status})
    }

    pub async fn component(&self, x: &str) -> Value {
        let (st, v) = bos(&self.s, Method::GET, &format!("/components/{x}"), None).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        v
    }

    /// The BMC and system of the `i`th node.
    pub fn bmc(&self, i: usize) -> (&redfish::sim::SimBmc, usize) {
        let (b, system) = self.at[i];
        (&self.fleet.bmcs()[b], system)
    }

    pub fn power(&self, i: usize) -> String {
        let (bmc, system) = self.bmc(i);
        bmc.power_state(system)
    }

    /// Resets the `i`th node's BMC received (for all its systems).
    pub fn resets(&self, i: usize) -> u64 {
        self.bmc(i).0.counters().resets
    }
}

pub fn assert_all_stable(status: &Value) {
    assert_eq!(status["status"]["percent_successful"], 100.0, "{status:#}");
    assert_eq!(status["status"]["percent_failed"], 0.0, "{status:#}");
    assert_eq!(status["status"]["error_summary"], json!({}), "{status:#}");
    assert!(status["session"]["status"]["error"].is_null(), "{status:#}");
}

/// Wait until each named operator has finished `n` more activations than now, so whatever it
/// would conclude from the present state has been concluded (for "nothing happens" checks).
pub async fn passes(s: &Server, names: &[&str], n: u64) {
    let activations = async || {
        let (_, v) = s.get("/apis/rackboot/v1/operators").await;
        let count = |name: &&str| {
            let ops = v["operators"].as_array().unwrap();
            let op = ops.iter().find(|o| o["name"] == *name);
            op.and_then(|o| o["activations"].as_u64()).unwrap_or(0)
        };
        (names.iter().map(count).collect::<Vec<u64>>(), v)
    };
    let (before, _) = activations().await;
    let what = format!("{n} more passes of {names:?}");
    wait_until(&what, Duration::from_secs(20), async || {
        let (now, v) = activations().await;
        let done = now.iter().zip(&before).all(|(now, then)| *now >= then + n);
        if done { Ok(()) } else { Err(v) }
    })
    .await
}

impl Lab {
    /// Wait until a session has left `pending`; returns the session record.
    pub async fn wait_complete_or_running(&self, name: &str) -> Value {
        let what = format!("session {name} to leave pending");
        wait_until(&what, Duration::from_secs(20), async || {
            let (_, v) = bos(&self.s, Method::GET, &format!("/sessions/{name}"), None).await;
            if v["status"]["status"] != "pending" {
                Ok(v)
            } else {
                Err(format!("{v:#}"))
            }
        })
        .await
    }
}
