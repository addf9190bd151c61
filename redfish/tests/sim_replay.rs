//! SimBmc replaying the recorded trees of real BMCs (`tests/fixtures/redfish-mockups`), driven
//! over HTTP with raw reqwest and `serde_json::Value`, and checked against the recorded files
//! themselves (read here with plain `std::fs`, not through the simulator).

#![cfg(feature = "sim")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use redfish::sim::{Mockup, SimBmc, SimConfig, SimFleet};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const TREES: &[&str] = &[
    "DL325",
    "EX425",
    "Gigabyte",
    "OpenBMC-stock",
    "public-rackmount1",
];

fn tree_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/redfish-mockups")
        .join(name)
}

/// The recorded JSON at a Redfish path of a tree, read from disk.
fn recorded(tree: &str, path: &str) -> Value {
    let rel = path.trim_start_matches("/redfish/v1").trim_matches('/');
    let file = tree_dir(tree).join(rel).join("index.json");
    serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap()
}

fn mockup(tree: &str) -> Mockup {
    Mockup::load(tree_dir(tree)).unwrap_or_else(|e| panic!("load {tree}: {e}"))
}

async fn replay(m: Mockup, delay: Duration) -> SimBmc {
    SimBmc::start(SimConfig {
        mockup: Some(m),
        power_delay: delay,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

async fn call(
    bmc: &SimBmc,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let c = Client::new();
    let mut req = c
        .request(method, format!("{}{path}", bmc.url()))
        .basic_auth("admin", Some("password"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

async fn get(bmc: &SimBmc, path: &str) -> Value {
    let (s, _, v) = call(bmc, Method::GET, path, None).await;
    assert_eq!(s, 200, "GET {path}: {v}");
    v
}

/// The reset types a recorded system allows, read as a client would (inline or ActionInfo).
async fn allowed_resets(bmc: &SimBmc, sys: &Value) -> Vec<String> {
    let reset = &sys["Actions"]["#ComputerSystem.Reset"];
    let list = match reset["@Redfish.ActionInfo"].as_str() {
        Some(info) => get(bmc, info).await["Parameters"][0]["AllowableValues"].clone(),
        None => reset["ResetType@Redfish.AllowableValues"].clone(),
    };
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

async fn wait_for_power(bmc: &SimBmc, system: usize, want: &str) {
    let start = Instant::now();
    while bmc.power_state(system) != want {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never reached {want}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn message(body: &Value) -> String {
    body["error"]["@Message.ExtendedInfo"][0]["Message"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn message_id(body: &Value) -> &str {
    body["error"]["@Message.ExtendedInfo"][0]["MessageId"]
        .as_str()
        .unwrap_or("")
}

#[tokio::test]
async fn every_tree_loads_and_serves_its_systems() {
    for tree in TREES {
        let bmc = replay(mockup(tree), Duration::ZERO).await;
        // The service root answers without credentials, as recorded.
        let root = Client::new()
            .get(format!("{}/redfish/v1/", bmc.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(root.status(), 200, "{tree}");
        assert_eq!(
            root.json::<Value>().await.unwrap(),
            recorded(tree, "/redfish/v1"),
            "{tree}"
        );
        let collection = get(&bmc, "/redfish/v1/Systems").await;
        assert_eq!(collection, recorded(tree, "/redfish/v1/Systems"), "{tree}");
        let members: Vec<&str> = collection["Members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["@odata.id"].as_str().unwrap())
            .collect();
        assert_eq!(bmc.system_paths(), members, "{tree}");
        for (i, path) in members.iter().enumerate() {
            let want = recorded(tree, path);
            let sys = get(&bmc, path).await;
            assert_eq!(sys["@odata.id"], want["@odata.id"], "{tree} {path}");
            assert_eq!(sys["PowerState"], want["PowerState"], "{tree} {path}");
            assert_eq!(bmc.power_state(i), want["PowerState"].as_str().unwrap());
            // Trailing slashes are tolerated.
            assert_eq!(
                get(&bmc, &format!("{path}/")).await["@odata.id"],
                want["@odata.id"]
            );
            // MACs are the recorded ones (seed 0).
            if let Some(nics) = want["EthernetInterfaces"]["@odata.id"].as_str() {
                let mut macs = Vec::new();
                for m in recorded(tree, nics)["Members"].as_array().unwrap() {
                    let nic = recorded(tree, m["@odata.id"].as_str().unwrap());
                    if let Some(mac) = nic["MACAddress"].as_str().filter(|m| m.len() == 17) {
                        macs.push(mac.to_ascii_lowercase().replace('-', ":"));
                    }
                }
                assert_eq!(bmc.macs(i), macs, "{tree} {path}");
            }
        }
        bmc.shutdown().await;
    }
}

#[tokio::test]
async fn resets_follow_each_systems_allowable_values() {
    for tree in TREES {
        let bmc = replay(mockup(tree), Duration::ZERO).await;
        for (i, path) in bmc.system_paths().iter().enumerate() {
            let sys = get(&bmc, path).await;
            let allowed = allowed_resets(&bmc, &sys).await;
            let target = sys["Actions"]["#ComputerSystem.Reset"]["target"]
                .as_str()
                .unwrap()
                .to_string();
            let refused = [
                "GracefulShutdown",
                "PowerCycle",
                "Off",
                "ForceOn",
                "Suspend",
            ]
            .into_iter()
            .find(|t| !allowed.iter().any(|a| a == t))
            .unwrap();
            let (s, _, body) = call(
                &bmc,
                Method::POST,
                &target,
                Some(json!({"ResetType": refused})),
            )
            .await;
            assert_eq!(s, 400, "{tree} {refused}");
            assert_eq!(message_id(&body), "Base.1.8.ActionParameterNotSupported");
            assert!(
                message(&body).contains(&allowed.join(", ")),
                "{tree}: {}",
                message(&body)
            );
            for t in &allowed {
                let (s, _, body) =
                    call(&bmc, Method::POST, &target, Some(json!({"ResetType": t}))).await;
                assert_eq!(s, 204, "{tree} {path} {t}: {body}");
            }
            // Off the hard way, then On: every tree allows both.
            bmc.set_power_state(i, "On");
            let (s, _, _) = call(
                &bmc,
                Method::POST,
                &target,
                Some(json!({"ResetType": "ForceOff"})),
            )
            .await;
            assert_eq!(
                (s, bmc.power_state(i).as_str()),
                (StatusCode::NO_CONTENT, "Off"),
                "{tree}"
            );
            call(
                &bmc,
                Method::POST,
                &target,
                Some(json!({"ResetType": "On"})),
            )
            .await;
            assert_eq!(get(&bmc, path).await["PowerState"], "On", "{tree}");
        }
        assert!(bmc.counters().resets > 0);
        bmc.shutdown().await;
    }
}

#[tokio::test]
async fn ex425_off_is_a_graceful_off_and_restarts_pass_through_off() {
    let bmc = replay(mockup("EX425"), Duration::from_millis(300)).await;
    let target = "/redfish/v1/Systems/Node0/Actions/ComputerSystem.Reset";
    assert_eq!(bmc.power_state(0), "On");
    let (s, _, _) = call(
        &bmc,
        Method::POST,
        target,
        Some(json!({"ResetType": "Off"})),
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(
        get(&bmc, "/redfish/v1/Systems/Node0").await["PowerState"],
        "PoweringOff"
    );
    wait_for_power(&bmc, 0, "Off").await;
    assert_eq!(bmc.power_state(1), "On", "Node1 has its own state");
    // An OS that ignores ACPI ignores EX's graceful Off too.
    bmc.set_power_state(0, "On");
    bmc.set_ignore_graceful(true);
    call(
        &bmc,
        Method::POST,
        target,
        Some(json!({"ResetType": "Off"})),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(bmc.power_state(0), "On");
    bmc.shutdown().await;

    // DL325 allows ForceRestart: the system shows Off, then comes back On.
    let bmc = replay(mockup("DL325"), Duration::from_millis(300)).await;
    let mut rx = bmc.power_events(0);
    let before = rx.borrow_and_update().power_ons;
    let (s, _, _) = call(
        &bmc,
        Method::POST,
        "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset",
        Some(json!({"ResetType": "ForceRestart"})),
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(bmc.power_state(0), "Off");
    wait_for_power(&bmc, 0, "On").await;
    assert_eq!(rx.borrow_and_update().power_ons, before + 1);
    bmc.shutdown().await;
}

#[tokio::test]
async fn boot_override_sticks_is_refused_or_dropped() {
    // DL325 has the properties: the override sticks and the ETag changes.
    let bmc = replay(mockup("DL325"), Duration::ZERO).await;
    let path = "/redfish/v1/Systems/1";
    let (_, h, before) = call(&bmc, Method::GET, path, None).await;
    let etag = h["ETag"].to_str().unwrap().to_string();
    let boot =
        json!({"Boot": {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}});
    let (s, _, body) = call(&bmc, Method::PATCH, path, Some(boot.clone())).await;
    assert_eq!(s, 204, "{body}");
    let (_, h, after) = call(&bmc, Method::GET, path, None).await;
    assert_eq!(after["Boot"]["BootSourceOverrideTarget"], "Pxe");
    assert_eq!(after["Boot"]["BootSourceOverrideEnabled"], "Once");
    assert_eq!(
        after["Boot"]["BootOrder"], before["Boot"]["BootOrder"],
        "the rest stays as recorded"
    );
    assert_ne!(h["ETag"].to_str().unwrap(), etag);
    assert_eq!(after["@odata.etag"], h["ETag"].to_str().unwrap());
    assert_eq!(bmc.boot_override(0).1, "Pxe");
    // Values outside the system's own allowable list are refused.
    let (s, _, body) = call(
        &bmc,
        Method::PATCH,
        path,
        Some(json!({"Boot": {"BootSourceOverrideTarget": "Floppy"}})),
    )
    .await;
    assert_eq!(
        (s.as_u16(), message_id(&body)),
        (400, "Base.1.8.PropertyValueNotInList")
    );
    // The knob drops the override: accepted, forgotten.
    bmc.set_drop_boot_override(true);
    let (s, _, _) = call(
        &bmc,
        Method::PATCH,
        path,
        Some(json!({"Boot": {"BootSourceOverrideTarget": "Hdd"}})),
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(
        get(&bmc, path).await["Boot"]["BootSourceOverrideTarget"],
        "Pxe"
    );
    // The Once override is consumed by the next power-on.
    bmc.set_drop_boot_override(false);
    bmc.set_power_state(0, "Off");
    bmc.set_power_state(0, "On");
    assert_eq!(
        get(&bmc, path).await["Boot"]["BootSourceOverrideEnabled"],
        "Disabled"
    );
    bmc.shutdown().await;

    // EX425 has no override properties: refused with a Redfish error, nothing changes.
    let bmc = replay(mockup("EX425"), Duration::ZERO).await;
    let path = "/redfish/v1/Systems/Node0";
    let (s, _, body) = call(&bmc, Method::PATCH, path, Some(boot)).await;
    assert_eq!(s, 400);
    assert_eq!(message_id(&body), "Base.1.8.PropertyUnknown");
    assert!(message(&body).contains("BootSourceOverride"), "{body}");
    assert!(
        get(&bmc, path).await["Boot"]
            .get("BootSourceOverrideTarget")
            .is_none()
    );
    assert_eq!(bmc.counters().patches, 0);
    bmc.shutdown().await;
}

#[tokio::test]
async fn error_txt_answers_its_recorded_error() {
    let bmc = replay(mockup("DL325"), Duration::ZERO).await;
    let path = "/redfish/v1/Managers/1/SecurityService/PlatformCertUpdate/Certificates";
    let (s, h, _) = call(&bmc, Method::GET, path, None).await;
    assert_eq!(s, 405, "as error.txt says");
    assert_eq!(h["Allow"], "");
    assert_eq!(h["X-Frame-Options"], "sameorigin");
    let (s, _, _) = call(&bmc, Method::GET, "/redfish/v1/Systems/1/NoSuchThing", None).await;
    assert_eq!(s, 404);
    bmc.shutdown().await;
}

#[tokio::test]
async fn fault_knobs_and_counters_work_on_a_replayed_tree() {
    let bmc = replay(mockup("Gigabyte"), Duration::ZERO).await;
    bmc.fail_next(1, 503);
    let (s, h, _) = call(&bmc, Method::GET, "/redfish/v1/Systems/Self", None).await;
    assert_eq!((s.as_u16(), h["Retry-After"].to_str().unwrap()), (503, "1"));
    get(&bmc, "/redfish/v1/Systems/Self").await;
    bmc.set_latency(Duration::from_millis(200));
    let t = Instant::now();
    get(&bmc, "/redfish/v1/Chassis").await;
    assert!(t.elapsed() >= Duration::from_millis(200));
    bmc.set_latency(Duration::ZERO);
    // Unauthenticated requests are refused as on a synthetic BMC.
    let resp = Client::new()
        .get(format!("{}/redfish/v1/Systems", bmc.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // Sessions work against the recorded SessionService.
    let login = Client::new()
        .post(format!("{}/redfish/v1/SessionService/Sessions", bmc.url()))
        .json(&json!({"UserName": "admin", "Password": "password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 201);
    let c = bmc.counters();
    assert_eq!(
        (c.gets, c.sessions_created, c.auth_failures),
        (4, 1, 1),
        "{c:?}"
    );
    assert_eq!(c.requests, 5);
    bmc.shutdown().await;
}

#[tokio::test]
async fn out_of_order_multi_node_blade() {
    let m = mockup("EX425")
        .with_nodes(&["Node3", "Node1", "Node2", "Node0"])
        .unwrap();
    let bmc = replay(m, Duration::ZERO).await;
    let order: Vec<String> = ["Node3", "Node1", "Node2", "Node0"]
        .iter()
        .map(|n| format!("/redfish/v1/Systems/{n}"))
        .collect();
    assert_eq!(bmc.system_paths(), order);
    let members: Vec<Value> = get(&bmc, "/redfish/v1/Systems").await["Members"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(members.len(), 4);
    assert_eq!(members[0]["@odata.id"], "/redfish/v1/Systems/Node3");
    let mut all_macs = Vec::new();
    for (i, path) in order.iter().enumerate() {
        let sys = get(&bmc, path).await;
        assert_eq!(sys["@odata.id"], path.as_str());
        assert_eq!(sys["Id"], path.rsplit('/').next().unwrap());
        // The copied ActionInfo is there and names the copy's own reset target.
        let allowed = allowed_resets(&bmc, &sys).await;
        assert_eq!(allowed, ["ForceOff", "On", "Off"]);
        let target = sys["Actions"]["#ComputerSystem.Reset"]["target"]
            .as_str()
            .unwrap();
        assert_eq!(target, format!("{path}/Actions/ComputerSystem.Reset"));
        let (s, _, _) = call(
            &bmc,
            Method::POST,
            target,
            Some(json!({"ResetType": "ForceOff"})),
        )
        .await;
        assert_eq!(s, 204);
        assert_eq!(bmc.power_state(i), "Off");
        let macs = bmc.macs(i);
        assert!(!macs.is_empty(), "{path}");
        all_macs.extend(macs);
    }
    let n = all_macs.len();
    all_macs.sort();
    all_macs.dedup();
    assert_eq!(all_macs.len(), n, "every node has MACs of its own");
    // Recorded nodes keep their recorded MACs.
    let node0 = order.iter().position(|p| p.ends_with("Node0")).unwrap();
    let recorded_nic = recorded("EX425", "/redfish/v1/Systems/Node0/EthernetInterfaces");
    assert!(!recorded_nic["Members"].as_array().unwrap().is_empty());
    assert_eq!(
        bmc.macs(node0),
        replay(mockup("EX425"), Duration::ZERO).await.macs(0)
    );
    bmc.shutdown().await;
}

#[tokio::test]
async fn a_fleet_from_one_tree_never_shares_a_mac_or_uuid() {
    let fleet = SimFleet::start(
        3,
        SimConfig {
            mockup: Some(mockup("DL325")),
            ..SimConfig::default()
        },
    )
    .await
    .unwrap();
    let mut macs = Vec::new();
    let mut uuids = Vec::new();
    for b in fleet.bmcs() {
        macs.extend(b.macs(0));
        uuids.push(b.document("/redfish/v1/Systems/1").unwrap()["UUID"].clone());
        uuids.push(b.document("/redfish/v1").unwrap()["UUID"].clone());
    }
    assert_eq!(
        macs[..fleet.bmcs()[0].macs(0).len()],
        fleet.bmcs()[0].macs(0)[..]
    );
    assert_eq!(
        uuids[0],
        recorded("DL325", "/redfish/v1/Systems/1")["UUID"],
        "BMC 0 is as recorded"
    );
    let (n, m) = (macs.len(), uuids.len());
    macs.sort();
    macs.dedup();
    uuids.sort_by_key(|u| u.to_string());
    uuids.dedup();
    assert_eq!((macs.len(), uuids.len()), (n, m), "{macs:?} {uuids:?}");
    // Over HTTP too, and each BMC has its own state.
    let b1 = &fleet.bmcs()[1];
    assert_eq!(
        get(b1, "/redfish/v1/Systems/1").await["UUID"],
        b1.document("/redfish/v1/Systems/1").unwrap()["UUID"]
    );
    b1.set_power_state(0, "Off");
    assert_eq!(fleet.bmcs()[0].power_state(0), "On");
    fleet.shutdown().await;
}
