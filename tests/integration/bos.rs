//! BOS v2 end to end: a real appliance, a fleet of SimBmcs and simulated netbooting nodes
//! (`rackboot::sim`). Sessions are created through the API and the tests wait for what a
//! user would wait for — the session completing — then check every node's state. Every
//! BOS response is checked against the upstream OpenAPI contract.

use std::time::Duration;

use rackboot::config::Settings;
use rackboot::sim::{Behaviour, Pacing, SimLab, SimLabConfig};
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
            assert_eq!(
                ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
                "{ep}"
            );
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
            c["actual_state"]["boot_artifacts"], c["desired_state"]["boot_artifacts"],
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
        assert_eq!(
            c["actual_state"]["bss_token"],
            c["desired_state"]["bss_token"]
        );
        assert_eq!(lab.power(i), "On");
        let node = &lab.nodes.nodes()[i];
        assert_eq!(
            node.status().last_reported_token.as_deref(),
            c["desired_state"]["bss_token"].as_str()
        );
        // The boot shows on the node's timeline: power call, script, kernel, initrd, report.
        let (_, tl) = lab
            .s
            .get(&format!("/apis/rackboot/v1/nodes/{x}/timeline"))
            .await;
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

#[tokio::test]
async fn bos_boot_without_a_reporter_is_inferred_from_boot_evidence() {
    let lab = Lab::start(2).await;
    lab.nodes.set_report(false);
    lab.options(json!({"boot_evidence_wait": 0})).await;
    let path = put_image(&lab.s, "img-a");
    lab.template("compute", &path, &lab.xnames).await;
    let done = lab.run("compute", "boot", None).await;
    assert_all_stable(&done);
    for (i, x) in lab.xnames.iter().enumerate() {
        let c = lab.component(x).await;
        assert_eq!(
            c["actual_state"]["bss_token"], c["desired_state"]["bss_token"],
            "{c:#}"
        );
        assert_eq!(lab.nodes.nodes()[i].status().reports_sent, 0);
        let (_, tl) = lab
            .s
            .get(&format!("/apis/rackboot/v1/nodes/{x}/timeline"))
            .await;
        assert!(
            tl.to_string().contains("inferred from boot evidence"),
            "{tl:#}"
        );
    }
}

#[tokio::test]
async fn bos_boot_evidence_can_be_turned_off_and_then_nodes_wait_for_a_report() {
    let lab = Lab::start(1).await;
    lab.nodes.set_report(false);
    lab.options(json!({"boot_evidence": false, "max_boot_wait_time": 600}))
        .await;
    let path = put_image(&lab.s, "img-a");
    lab.template("compute", &path, &lab.xnames).await;
    let name = lab.create("compute", "boot", None).await;
    // The node boots (fetches its initrd) but nothing may conclude that it did.
    let node = &lab.nodes.nodes()[0];
    tokio::time::timeout(Duration::from_secs(20), node.wait_booted(1))
        .await
        .expect("the node never booted");
    passes(&lab.s, &["bos-boot-evidence", "bos-status"], 2).await;
    let c = lab.component(&lab.xnames[0]).await;
    assert_eq!(c["status"]["status"], "power_on_called", "{c:#}");
    assert_eq!(c["actual_state"]["bss_token"], "", "{c:#}");
    // Turning it back on lets the evidence count.
    lab.options(json!({"boot_evidence": true, "boot_evidence_wait": 0}))
        .await;
    let done = lab.wait_complete(&name).await;
    assert_all_stable(&done);
}

#[tokio::test]
async fn bos_boot_of_nodes_already_on_reboots_only_those_with_other_artifacts() {
    let lab = Lab::start(2).await;
    let a = put_image(&lab.s, "img-a");
    let b = put_image(&lab.s, "img-b");
    lab.template("a", &a, &lab.xnames).await;
    lab.template("b", &b, &lab.xnames[..1]).await;
    assert_all_stable(&lab.run("a", "boot", None).await);
    let resets: Vec<u64> = (0..2).map(|i| lab.resets(i)).collect();
    let tokens: Vec<Value> = {
        let mut t = Vec::new();
        for x in &lab.xnames {
            t.push(lab.component(x).await["actual_state"]["bss_token"].clone());
        }
        t
    };
    // The right artifacts already: a Boot does nothing to the power.
    assert_all_stable(&lab.run("a", "boot", None).await);
    assert_eq!(lab.resets(0), resets[0]);
    assert_eq!(lab.resets(1), resets[1]);
    // Other artifacts: node 0 is powered off and on again into image b.
    assert_all_stable(&lab.run("b", "boot", None).await);
    assert!(
        lab.resets(0) >= resets[0] + 2,
        "node 0 was not power-cycled"
    );
    assert_eq!(lab.resets(1), resets[1], "node 1 is not in template b");
    let c0 = lab.component(&lab.xnames[0]).await;
    assert_eq!(
        c0["actual_state"]["boot_artifacts"]["kernel"],
        "s3://boot-images/img-b/kernel"
    );
    assert_ne!(c0["actual_state"]["bss_token"], tokens[0]);
    assert_eq!(lab.nodes.nodes()[0].status().boots_completed, 2);
}

#[tokio::test]
async fn bos_reboot_power_cycles_and_the_actual_state_moves_to_the_new_token() {
    let lab = Lab::start(2).await;
    let a = put_image(&lab.s, "img-a");
    lab.template("a", &a, &lab.xnames).await;
    assert_all_stable(&lab.run("a", "boot", None).await);
    let before = lab.component(&lab.xnames[0]).await;
    let done = lab.run("a", "reboot", None).await;
    assert_all_stable(&done);
    for (i, x) in lab.xnames.iter().enumerate() {
        let c = lab.component(x).await;
        assert_ne!(
            c["actual_state"]["bss_token"],
            before["actual_state"]["bss_token"]
        );
        assert_eq!(
            c["actual_state"]["bss_token"],
            c["desired_state"]["bss_token"]
        );
        assert_eq!(lab.nodes.nodes()[i].status().boots_completed, 2, "{x}");
        assert_eq!(c["last_action"]["action"], "powering_on");
    }
}

#[tokio::test]
async fn bos_shutdown_is_graceful_and_forceful_after_the_wait_when_ignored() {
    let lab = Lab::start(2).await;
    lab.options(json!({"max_power_off_wait_time": 1})).await;
    let a = put_image(&lab.s, "img-a");
    lab.template("a", &a, &lab.xnames).await;
    assert_all_stable(&lab.run("a", "boot", None).await);
    // Node 1 ignores graceful shutdown.
    lab.fleet.bmcs()[1].set_ignore_graceful(true);
    let done = lab.run("a", "shutdown", None).await;
    assert_all_stable(&done);
    assert_eq!(lab.power(0), "Off");
    assert_eq!(lab.power(1), "Off");
    let c0 = lab.component(&lab.xnames[0]).await;
    let c1 = lab.component(&lab.xnames[1]).await;
    assert_eq!(
        c0["last_action"]["action"], "powering_off_gracefully",
        "{c0:#}"
    );
    assert_eq!(
        c1["last_action"]["action"], "powering_off_forcefully",
        "{c1:#}"
    );
    assert_eq!(c1["desired_state"]["boot_artifacts"]["kernel"], "");
    assert_eq!(c1["actual_state"]["boot_artifacts"]["kernel"], "", "{c1:#}");
}

#[tokio::test]
async fn bos_a_node_that_never_boots_fails_when_its_retries_are_spent() {
    let lab = Lab::start(3).await;
    lab.options(
        json!({"max_boot_wait_time": 1, "max_power_off_wait_time": 1, "default_retry_policy": 2}),
    )
    .await;
    // Node 1 never boots; node 2 boots something else and reports a token nobody minted.
    lab.nodes.nodes()[1].set_behaviour(Behaviour::NeverBoots);
    lab.nodes.nodes()[2].set_behaviour(Behaviour::WrongArtifacts);
    let a = put_image(&lab.s, "img-a");
    lab.template("a", &a, &lab.xnames).await;
    let done = lab.run("a", "boot", None).await;
    let st = &done["status"];
    assert_eq!(st["percent_successful"], 33.33, "{done:#}");
    assert_eq!(st["percent_failed"], 66.67, "{done:#}");
    let summary = st["error_summary"].as_object().unwrap();
    assert_eq!(summary.len(), 1, "{done:#}");
    let (err, entry) = summary.iter().next().unwrap();
    assert!(err.contains("retry limit"), "{err}");
    assert_eq!(entry["count"], 2);
    assert_eq!(
        entry["list"],
        format!("{},{}", lab.xnames[1], lab.xnames[2])
    );
    for x in &lab.xnames[1..] {
        let c = lab.component(x).await;
        assert_eq!(c["status"]["status"], "failed", "{c:#}");
        assert_eq!(c["event_stats"]["power_on_attempts"], 2, "{c:#}");
        assert_eq!(c["enabled"], false);
    }
    // The wrong boot was reported, and never taken for the desired artifacts.
    assert!(lab.nodes.nodes()[2].status().reports_ok >= 1);
    let (_, tl) = lab
        .s
        .get(&format!(
            "/apis/rackboot/v1/nodes/{}/timeline",
            lab.xnames[2]
        ))
        .await;
    assert!(tl.to_string().contains("unknown token"), "{tl:#}");
}

#[tokio::test]
async fn bos_limit_grammar_selects_nodes_from_groups_and_roles() {
    let lab = Lab::start(4).await;
    let x = &lab.xnames;
    // Roles and a group in the inventory.
    for (i, role) in ["Compute", "Compute", "Application", "Compute"]
        .iter()
        .enumerate()
    {
        let (st, v) = lab
            .s
            .send(
                Method::PATCH,
                &format!("/apis/smd/hsm/v2/State/Components/{}/Role", x[i]),
                json!({"Role": role}),
            )
            .await;
        assert!(st.is_success(), "{v}");
    }
    let (st, v) = lab
        .s
        .send(
            Method::POST,
            "/apis/smd/hsm/v2/groups",
            json!({"label": "blue", "members": {"ids": [x[0], x[2]]}}),
        )
        .await;
    assert!(st.is_success(), "{v}");
    let a = put_image(&lab.s, "img-a");
    let (st, v) = bos(
        &lab.s,
        Method::PUT,
        "/sessiontemplates/roles",
        Some(
            json!({"enable_cfs": false, "boot_sets": {"compute": {"type": "s3", "path": a,
            "node_roles_groups": ["Compute", "Application"]}}}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let cases: Vec<(&str, Vec<&String>)> = vec![
        ("blue", vec![&x[0], &x[2]]),
        ("Compute,!blue", vec![&x[1], &x[3]]),
        ("all,&blue,!Application", vec![&x[0]]),
        (&x[3], vec![&x[3]]),
        ("*,!Compute", vec![&x[2]]),
        ("&blue", vec![]),
    ];
    for (limit, want) in cases {
        let (st, v) = bos(
            &lab.s,
            Method::POST,
            "/sessions",
            Some(json!({"template_name": "roles", "operation": "boot", "limit": limit, "stage": true})),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        let done = lab
            .wait_complete_or_running(v["name"].as_str().unwrap())
            .await;
        let mut got: Vec<String> = done["components"]
            .as_str()
            .unwrap()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        got.sort();
        let want: Vec<String> = want.into_iter().cloned().collect();
        assert_eq!(got, want, "limit {limit}: {done:#}");
        if want.is_empty() {
            assert_eq!(done["status"]["error"], "No nodes were found to act upon.");
        }
    }
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

#[tokio::test]
async fn bos_staged_sessions_apply_with_applystaged() {
    let lab = Lab::start(2).await;
    let a = put_image(&lab.s, "img-a");
    lab.template("a", &a, &lab.xnames).await;
    let (st, v) = bos(
        &lab.s,
        Method::POST,
        "/sessions",
        Some(json!({"name": "staged", "template_name": "a", "operation": "boot", "stage": true})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["stage"], true);
    let s = lab.wait_complete_or_running("staged").await;
    assert_eq!(s["status"]["status"], "running", "{s:#}");
    let c = lab.component(&lab.xnames[0]).await;
    assert_eq!(c["staged_state"]["session"], "staged", "{c:#}");
    assert_eq!(c["enabled"], false);
    assert_eq!(lab.power(0), "Off", "staging must not touch the node");
    let (st, status) = bos(&lab.s, Method::GET, "/sessions/staged/status", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(status["percent_staged"], 100.0, "{status:#}");
    // Apply one node; an unknown one is ignored.
    let (st, v) = bos(
        &lab.s,
        Method::POST,
        "/applystaged",
        Some(json!({"xnames": [lab.xnames[0], "x9999c0s0b0n0"]})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["succeeded"], json!([lab.xnames[0]]));
    assert_eq!(v["ignored"], json!(["x9999c0s0b0n0"]));
    // The applied node boots.
    wait_until(
        "the applied node to boot",
        Duration::from_secs(30),
        async || {
            let c = lab.component(&lab.xnames[0]).await;
            let booted = c["status"]["status"] == "stable" && c["actual_state"]["bss_token"] != "";
            if booted {
                Ok(())
            } else {
                Err(format!("{c:#}"))
            }
        },
    )
    .await;
    assert_eq!(lab.power(0), "On");
    assert_eq!(lab.power(1), "Off");
    // Clearing the stage on the second node lets the session complete.
    lab.options(json!({"clear_stage": true})).await;
    let (st, v) = bos(
        &lab.s,
        Method::POST,
        "/applystaged",
        Some(json!({"xnames": [lab.xnames[1]]})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = bos(
        &lab.s,
        Method::PATCH,
        "/components",
        Some(
            json!({"patch": {"staged_state": {"session": ""}}, "filters": {"ids": lab.xnames[0]}}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let done = lab.wait_complete("staged").await;
    assert_all_stable(&done);
    assert_eq!(lab.power(1), "On");
}

#[tokio::test]
async fn bos_sessions_delete_one_and_in_bulk_and_completed_ones_expire() {
    let lab = Lab::start(1).await;
    let a = put_image(&lab.s, "img-a");
    lab.template("a", &a, &lab.xnames).await;
    let first = lab.create("a", "boot", None).await;
    lab.wait_complete(&first).await;
    let second = lab.create("a", "boot", None).await;
    lab.wait_complete(&second).await;
    // One by name; the saved status goes with it.
    let (st, _) = bos(&lab.s, Method::DELETE, &format!("/sessions/{first}"), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, v) = bos(
        &lab.s,
        Method::GET,
        &format!("/sessions/{first}/status"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["detail"], format!("Session '{first}' does not exist"));
    // Bulk with filters: a max_age of 1 week matches it, status=pending does not.
    let (st, _) = bos(&lab.s, Method::DELETE, "/sessions?status=pending", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, list) = bos(&lab.s, Method::GET, "/sessions", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (st, v) = bos(&lab.s, Method::DELETE, "/sessions?min_age=soon", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    // TTL cleanup: a completed session older than the TTL is deleted by the cleanup
    // operator (poked by the options write). Its start is moved back two hours through the
    // internal session PATCH.
    let third = lab.create("a", "boot", None).await;
    lab.wait_complete(&third).await;
    let old = chrono::Utc::now() - chrono::Duration::hours(2);
    let (st, v) = bos(
        &lab.s,
        Method::PATCH,
        &format!("/sessions/{third}"),
        Some(json!({"status": {"start_time": old.format("%Y-%m-%dT%H:%M:%S").to_string()}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    lab.options(json!({"cleanup_completed_session_ttl": "1h"}))
        .await;
    let what = format!("session {third} to be cleaned up");
    wait_until(&what, Duration::from_secs(10), async || {
        let (st, v) = bos(&lab.s, Method::GET, &format!("/sessions/{third}"), None).await;
        if st == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(v)
        }
    })
    .await;
    let (_, list) = bos(&lab.s, Method::GET, "/sessions", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list:#}");
    assert_eq!(list[0]["name"], second.as_str());
}

#[tokio::test]
async fn bos_tenants_scope_templates_sessions_and_components() {
    let lab = Lab::start(3).await;
    let a = put_image(&lab.s, "img-a");
    let (st, v) = lab
        .s
        .send(
            Method::PUT,
            "/apis/rackboot/v1/tenants/vcluster-blue",
            json!({"xnames": [lab.xnames[0], lab.xnames[1]]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let t = Some("vcluster-blue");
    // Unknown tenants are refused.
    let (st, v) = bos_as(
        &lab.s,
        Some("nobody"),
        Method::POST,
        "/sessions",
        Some(json!({"template_name": "mine", "operation": "boot"})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["detail"].as_str().unwrap().starts_with("Invalid tenant"),
        "{v}"
    );
    // A template of the tenant's nodes; another with a node it does not own.
    let body = |nodes: &[String]| json!({"enable_cfs": false, "boot_sets": {"c": {"type": "s3", "path": a, "node_list": nodes}}});
    let (st, v) = bos_as(
        &lab.s,
        t,
        Method::PUT,
        "/sessiontemplates/mine",
        Some(body(&lab.xnames[..2])),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["tenant"], "vcluster-blue");
    let (st, _) = bos_as(
        &lab.s,
        t,
        Method::PUT,
        "/sessiontemplates/greedy",
        Some(body(&lab.xnames)),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    // Without the header the tenant's template is not found by name, but is listed.
    let (st, _) = bos(&lab.s, Method::GET, "/sessiontemplates/mine", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, all) = bos(&lab.s, Method::GET, "/sessiontemplates", None).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    // Components: the tenant sees only its nodes.
    let (_, comps) = bos_as(&lab.s, t, Method::GET, "/components", None).await;
    let ids: Vec<&str> = comps
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![lab.xnames[0].as_str(), lab.xnames[1].as_str()]);
    let (st, _) = bos_as(
        &lab.s,
        t,
        Method::GET,
        &format!("/components/{}", lab.xnames[2]),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // A tenant session boots only the tenant's nodes.
    let (st, v) = bos_as(
        &lab.s,
        t,
        Method::POST,
        "/sessions",
        Some(json!({"name": "blue-boot", "template_name": "mine", "operation": "boot"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["tenant"], "vcluster-blue");
    let s = wait_until(
        "blue-boot to complete",
        Duration::from_secs(30),
        async || {
            let (_, s) = bos_as(&lab.s, t, Method::GET, "/sessions/blue-boot", None).await;
            if s["status"]["status"] == "complete" {
                Ok(s)
            } else {
                Err(format!("{s:#}"))
            }
        },
    )
    .await;
    assert!(s["status"]["error"].is_null(), "{s:#}");
    assert_eq!(
        (lab.power(0), lab.power(1), lab.power(2)),
        ("On".into(), "On".into(), "Off".into())
    );
    // The same session name may exist for another scope; a duplicate in one scope is a 409.
    let (st, v) = bos_as(
        &lab.s,
        t,
        Method::POST,
        "/sessions",
        Some(json!({"name": "blue-boot", "template_name": "mine", "operation": "boot"})),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    // A template naming a node the tenant does not own fails its session whole.
    let (_, v) = bos_as(
        &lab.s,
        t,
        Method::POST,
        "/sessions",
        Some(json!({"name": "greedy-boot", "template_name": "greedy", "operation": "boot"})),
    )
    .await;
    let path = format!("/sessions/{}", v["name"].as_str().unwrap());
    let s = wait_until(
        "the session to complete",
        Duration::from_secs(20),
        async || {
            let (_, s) = bos_as(&lab.s, t, Method::GET, &path, None).await;
            if s["status"]["status"] == "complete" {
                Ok(s)
            } else {
                Err(s)
            }
        },
    )
    .await;
    assert!(
        s["status"]["error"]
            .as_str()
            .unwrap()
            .contains("not available to this tenant"),
        "{s:#}"
    );
    assert_eq!(lab.power(2), "Off");
}

#[tokio::test]
async fn bos_bad_input_is_refused_with_the_contract_shape() {
    let lab = Lab::start(1).await;
    let a = put_image(&lab.s, "img-a");
    let s = &lab.s;
    let bad = |st: StatusCode, v: &Value, needle: &str| {
        assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(v["title"], "Bad Request");
        assert!(
            v["detail"].as_str().unwrap().contains(needle),
            "{needle}: {v}"
        );
    };
    // Templates: unknown field, no nodes, bad arch, bad name.
    let (st, v) = bos(s, Method::PUT, "/sessiontemplates/t1", Some(json!({"boot_sets": {"b": {"type": "s3", "path": a, "node_list": ["x1"], "colour": "red"}}}))).await;
    bad(st, &v, "colour");
    let (st, v) = bos(
        s,
        Method::PUT,
        "/sessiontemplates/t1",
        Some(json!({"boot_sets": {"b": {"type": "s3", "path": a}}})),
    )
    .await;
    bad(st, &v, "names no nodes");
    let (st, v) = bos(s, Method::PUT, "/sessiontemplates/t1", Some(json!({"boot_sets": {"b": {"type": "s3", "path": a, "node_list": ["x1"], "arch": "Sparc"}}}))).await;
    bad(st, &v, "arch 'Sparc'");
    let (st, v) = bos(
        s,
        Method::PUT,
        "/sessiontemplates/-bad-",
        Some(json!({"boot_sets": {"b": {"type": "s3", "path": a, "node_list": ["x1"]}}})),
    )
    .await;
    bad(st, &v, "invalid session template name");
    let (st, _) = bos(s, Method::GET, "/sessiontemplates/t1", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "nothing half-written");
    // A template whose image does not exist saves (warnings only) but fails validation and sessions.
    let (st, v) = bos(s, Method::PUT, "/sessiontemplates/ghost", Some(json!({"enable_cfs": false, "boot_sets": {"b": {"type": "s3", "path": "s3://boot-images/nope/manifest.json", "node_list": lab.xnames}}}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, v) = bos(s, Method::GET, "/sessiontemplatesvalid/ghost", None).await;
    assert!(
        v.as_str().unwrap().contains("Can't find boot artifacts"),
        "{v}"
    );
    let (st, v) = bos(
        s,
        Method::POST,
        "/sessions",
        Some(json!({"template_name": "ghost", "operation": "boot"})),
    )
    .await;
    bad(st, &v, "Session template fails check");
    // ...but a shutdown needs no artifacts.
    let (st, v) = bos(
        s,
        Method::POST,
        "/sessions",
        Some(json!({"template_name": "ghost", "operation": "shutdown"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    // Sessions: unknown template, bad operation, unknown field, limit required.
    let (st, v) = bos(
        s,
        Method::POST,
        "/sessions",
        Some(json!({"template_name": "nope", "operation": "boot"})),
    )
    .await;
    bad(st, &v, "Session Template Name invalid: nope");
    let (st, v) = bos(
        s,
        Method::POST,
        "/sessions",
        Some(json!({"template_name": "ghost", "operation": "dance"})),
    )
    .await;
    bad(st, &v, "operation 'dance'");
    let (st, v) = bos(
        s,
        Method::POST,
        "/sessions",
        Some(json!({"template_name": "ghost", "operation": "boot", "x": 1})),
    )
    .await;
    bad(st, &v, "unknown field");
    lab.options(json!({"session_limit_required": true})).await;
    let (st, v) = bos(
        s,
        Method::POST,
        "/sessions",
        Some(json!({"template_name": "ghost", "operation": "shutdown"})),
    )
    .await;
    bad(st, &v, "session_limit_required");
    // Options: out of range and unknown keys are refused whole.
    let (st, v) = bos(
        s,
        Method::PATCH,
        "/options",
        Some(json!({"max_power_on_wait_time": 5, "default_retry_policy": -1})),
    )
    .await;
    bad(st, &v, "default_retry_policy");
    let (_, o) = bos(s, Method::GET, "/options", None).await;
    assert_eq!(o["max_power_on_wait_time"], 120, "nothing half-applied");
    let (st, v) = bos(
        s,
        Method::PATCH,
        "/options",
        Some(json!({"component_actual_state_ttl": "30m"})),
    )
    .await;
    bad(st, &v, "at least one hour");
    // Components: unknown, bad phase, the 409 guard.
    let (st, v) = bos(s, Method::GET, "/components/x9c0s0b0n0", None).await;
    assert_eq!(
        (st, v["title"].as_str()),
        (StatusCode::NOT_FOUND, Some("The resource was not found"))
    );
    let x = &lab.xnames[0];
    let (st, v) = bos(
        s,
        Method::PATCH,
        &format!("/components/{x}"),
        Some(json!({"status": {"phase": "dancing"}})),
    )
    .await;
    bad(st, &v, "status.phase");
    lab.template("a", &a, &lab.xnames).await;
    lab.options(json!({"session_limit_required": false, "max_power_off_wait_time": 600}))
        .await;
    lab.fleet.bmcs()[0].set_power_state(0, "On");
    lab.fleet.bmcs()[0].set_ignore_graceful(true);
    let name = lab.create("a", "reboot", None).await;
    wait_until(
        "a graceful power-off",
        Duration::from_secs(20),
        async || {
            let c = lab.component(x).await;
            let called = c["status"]["status"] == "power_off_gracefully_called";
            if called {
                Ok(())
            } else {
                Err(format!("{c:#}"))
            }
        },
    )
    .await;
    let (st, v) = bos(
        s,
        Method::PATCH,
        &format!("/components/{x}"),
        Some(json!({"actual_state": {"bss_token": "stale"}})),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .starts_with("Actual state can not be updated"),
        "{v}"
    );
    let _ = name;
}

#[tokio::test]
async fn bos_a_session_survives_a_restart_of_the_appliance() {
    // Slow power-ons, so the restart lands while nodes are being powered on.
    let bmc = SimConfig {
        power_delay: Duration::from_millis(1500),
        ..SimConfig::default()
    };
    let lab = Lab::start_with(3, quick(), bmc).await;
    let a = put_image(&lab.s, "img-a");
    lab.template("a", &a, &lab.xnames).await;
    let name = lab.create("a", "boot", None).await;
    wait_until(
        "a node to be powered on",
        Duration::from_secs(20),
        async || {
            let path = "/components?status=power_on_called";
            let (_, comps) = bos(&lab.s, Method::GET, path, None).await;
            if comps.as_array().unwrap().is_empty() {
                Err("nothing was powered on")
            } else {
                Ok(())
            }
        },
    )
    .await;
    let addr = lab.s.base.trim_start_matches("http://").to_string();
    let data = lab.s.data_dir.clone();
    let Lab {
        s,
        _dir,
        fleet,
        nodes,
        xnames,
    } = lab;
    s.stop().await;
    let s = Server::start_at(&data, quick(), &addr).await;
    let lab = Lab {
        s,
        _dir,
        fleet,
        nodes,
        xnames,
    };
    let done = lab.wait_complete(&name).await;
    assert_all_stable(&done);
    for i in 0..3 {
        assert_eq!(lab.power(i), "On");
    }
}

#[tokio::test]
#[ignore = "tier peers: needs s3s-fs in .peers/bin; scripts/test.sh installs and runs it"]
async fn bos_boot_from_an_image_in_s3_with_boot_parameters_and_an_sbps_rootfs() {
    let s3 = crate::s3_peer::S3::start(&["boot-images"]).await;
    let src = s3.source();
    let put = |key: &str, data: Vec<u8>| {
        let src = src.clone();
        let obj = rackboot::artifacts::ObjectRef::new("boot-images", key).unwrap();
        async move { src.put(&obj, bytes::Bytes::from(data)).await.unwrap() }
    };
    put("s3img/kernel", vec![1u8; 200_000]).await;
    put("s3img/initrd", vec![2u8; 500_000]).await;
    let rootfs = put("s3img/rootfs", vec![3u8; 1000]).await;
    put("s3img/boot_parameters", b"quiet  rd.shell\n".to_vec()).await;
    let manifest = json!({"version": "1.0", "created": "2026-11-25", "artifacts": [
        {"link": {"path": "s3://boot-images/s3img/kernel", "etag": "k", "type": "s3"}, "type": "application/vnd.cray.image.kernel"},
        {"link": {"path": "s3://boot-images/s3img/initrd", "etag": "i", "type": "s3"}, "type": "application/vnd.cray.image.initrd"},
        {"link": {"path": "s3://boot-images/s3img/rootfs", "etag": "r00t", "type": "s3"}, "type": "application/vnd.cray.image.rootfs.squashfs"},
        {"link": {"path": "s3://boot-images/s3img/boot_parameters", "etag": "p", "type": "s3"}, "type": "application/vnd.cray.image.parameters.boot"}]});
    put("s3img/manifest.json", manifest.to_string().into_bytes()).await;
    let _ = rootfs;
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(dir.path(), quick().or(s3.settings(crate::s3_peer::SECRET))).await;
    let lab = Lab::around(s, dir, 2, SimConfig::default()).await;
    let (st, v) = bos(
        &lab.s,
        Method::PUT,
        "/sessiontemplates/s3",
        Some(json!({"enable_cfs": false, "boot_sets": {"compute": {
            "type": "s3", "path": "s3://boot-images/s3img/manifest.json", "node_list": lab.xnames,
            "kernel_parameters": "console=ttyS0", "rootfs_provider": "sbps",
            "rootfs_provider_passthrough": "sbps:v1:iqn.x:300"}}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let done = lab.run("s3", "boot", None).await;
    assert_all_stable(&done);
    let c = lab.component(&lab.xnames[0]).await;
    assert_eq!(
        c["desired_state"]["boot_artifacts"]["kernel_parameters"],
        "quiet rd.shell console=ttyS0 root=sbps-s3:s3://boot-images/s3img/rootfs:r00t:sbps:v1:iqn.x:300 nmd_data=url=s3://boot-images/s3img/rootfs,etag=r00t bos_update_frequency=4h",
        "{c:#}"
    );
    // The nodes fetched 200 kB kernels and 500 kB initrds from S3 through the appliance.
    for n in lab.nodes.nodes() {
        assert!(n.status().bytes_fetched >= 700_000, "{:?}", n.status());
    }
}

#[tokio::test]
async fn bos_components_api_filters_pages_and_patches_in_both_bulk_forms() {
    let lab = Lab::start(4).await;
    let s = &lab.s;
    let x = &lab.xnames;
    // Discovery made a disabled component per node.
    let (st, all) = bos(s, Method::GET, "/components", None).await;
    assert_eq!(st, StatusCode::OK);
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, x.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(all[0]["last_action"]["action"], "newly_discovered");
    // Paging: sorted ids, start_after_id and page_size.
    let (_, page) = bos(
        s,
        Method::GET,
        &format!("/components?start_after_id={}&page_size=2", x[0]),
        None,
    )
    .await;
    let ids: Vec<&str> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![x[1].as_str(), x[2].as_str()]);
    // Bulk PATCH, list form; then the filter form by ids and by session.
    let (st, v) = bos(
        s,
        Method::PATCH,
        "/components",
        Some(json!([{"id": x[0], "retry_policy": 7}, {"id": x[1], "error": "oops"}])),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v.as_array().unwrap().len(), 2);
    let (st, v) = bos(
        s,
        Method::PATCH,
        "/components",
        Some(json!({"patch": {"session": "manual"}, "filters": {"ids": format!("{},{}", x[2], x[3])}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, v) = bos(s, Method::GET, "/components?session=manual", None).await;
    assert_eq!(v.as_array().unwrap().len(), 2);
    let (st, v) = bos(
        s,
        Method::PATCH,
        "/components",
        Some(json!({"patch": {"error": "batch"}, "filters": {"session": "manual"}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v.as_array().unwrap().iter().all(|c| c["error"] == "batch"));
    // Both filters, or neither: 400. An unknown id: 404, unless skipped.
    let (st, _) = bos(
        s,
        Method::PATCH,
        "/components",
        Some(json!({"patch": {}, "filters": {"ids": x[0], "session": "manual"}})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = bos(
        s,
        Method::PATCH,
        "/components",
        Some(json!([{"id": "x9c0s0b0n0", "error": "e"}, {"id": x[0], "error": "not written"}])),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(
        lab.component(&x[0]).await["error"],
        "",
        "a bad id writes nothing"
    );
    let (st, v) = bos(
        s,
        Method::PATCH,
        "/components?skip_bad_ids=true",
        Some(json!([{"id": "x9c0s0b0n0", "error": "e"}, {"id": x[0], "error": "written"}])),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v.as_array().unwrap().len(), 1);
    // Auto fields: enabling puts the component on hold; a manual desired state detaches it.
    let (st, c) = bos(
        s,
        Method::PATCH,
        &format!("/components/{}", x[0]),
        Some(json!({"enabled": true, "desired_state": {"configuration": "c"}, "event_stats": {"power_on_attempts": 5}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!(c["session"], "");
    assert_eq!(c["event_stats"]["power_on_attempts"], 0);
    assert!(c["desired_state"]["last_updated"].is_string());
    // Filters by enabled, status and phase.
    // The status operator takes it from there: off and wanting no kernel is done.
    wait_until(
        "the component to be disabled",
        Duration::from_secs(10),
        async || {
            let c = lab.component(&x[0]).await;
            if c["enabled"] == true { Err(c) } else { Ok(()) }
        },
    )
    .await;
    let (_, v) = bos(s, Method::GET, "/components?enabled=false", None).await;
    assert_eq!(v.as_array().unwrap().len(), 4, "{v:#}");
    let (_, v) = bos(s, Method::GET, "/components?enabled=true", None).await;
    assert_eq!(v.as_array().unwrap().len(), 0, "{v:#}");
    let (_, v) = bos(
        s,
        Method::GET,
        "/components?status=stable,on_hold&phase=",
        None,
    )
    .await;
    assert!(!v.as_array().unwrap().is_empty());
    // PUT replaces a record (and may add one); DELETE removes it.
    let (st, v) = bos(
        s,
        Method::PUT,
        "/components/x1000c0s0b0n0",
        Some(json!({"enabled": false, "error": "new"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["id"], "x1000c0s0b0n0");
    let (st, _) = bos(s, Method::DELETE, "/components/x1000c0s0b0n0", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = bos(s, Method::DELETE, "/components/x1000c0s0b0n0", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Version, health and the template skeleton answer in the contract's shape.
    for path in ["/version", "/healthz", "/sessiontemplatetemplate"] {
        let (st, v) = bos(s, Method::GET, path, None).await;
        assert_eq!(st, StatusCode::OK, "{path}: {v}");
    }
    let (st, v) = s.get("/apis/bos/v2").await;
    assert_eq!((st, v["major"].as_str()), (StatusCode::OK, Some("2")));
    // Templates: PATCH merges boot sets.
    let a = put_image(s, "img-a");
    lab.template("t", &a, &x[..1]).await;
    let (st, v) = bos(
        s,
        Method::PATCH,
        "/sessiontemplates/t",
        Some(json!({"description": "patched", "boot_sets": {"compute": {"kernel_parameters": "quiet"}, "more": {"type": "s3", "path": a, "node_groups": ["g"]}}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["description"], "patched");
    assert_eq!(v["boot_sets"]["compute"]["kernel_parameters"], "quiet");
    assert_eq!(v["boot_sets"]["compute"]["node_list"], json!([x[0]]));
    assert_eq!(v["boot_sets"]["more"]["arch"], "X86");
    let (st, _) = bos(s, Method::DELETE, "/sessiontemplates/t", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = bos(s, Method::GET, "/sessiontemplates/t", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Every operator reports.
    let (_, ops) = s.get("/apis/rackboot/v1/operators").await;
    let names: Vec<&str> = ops["operators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    for n in [
        "bos-session-setup",
        "bos-status",
        "bos-power-on",
        "bos-power-off-graceful",
        "bos-power-off-forceful",
        "bos-session-completion",
        "bos-boot-evidence",
        "bos-discovery",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
}
