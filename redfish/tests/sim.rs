//! SimBmc driven over real HTTP(S) with raw reqwest and `serde_json::Value`: these tests check
//! the simulator itself, so they deliberately avoid the crate's client and its models.

#![cfg(feature = "sim")]

use std::time::{Duration, Instant};

use redfish::sim::{PowerEvent, SimBmc, SimConfig, SimFleet, self_signed_cert};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const USER: &str = "admin";
const PASS: &str = "password";

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn start(cfg: SimConfig) -> SimBmc {
    SimBmc::start(cfg).await.expect("start SimBmc")
}

/// A request with Basic auth; returns status, headers and the JSON body (Null if none).
async fn call(
    c: &Client,
    bmc: &SimBmc,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = c
        .request(method, format!("{}{path}", bmc.url()))
        .basic_auth(USER, Some(PASS));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, headers, body)
}

async fn get(c: &Client, bmc: &SimBmc, path: &str) -> (StatusCode, Value) {
    let (s, _, b) = call(c, bmc, Method::GET, path, None, &[]).await;
    (s, b)
}

fn message_id(body: &Value) -> &str {
    body["error"]["@Message.ExtendedInfo"][0]["MessageId"]
        .as_str()
        .unwrap_or("")
}

async fn reset(c: &Client, bmc: &SimBmc, system: usize, reset_type: &str) -> (StatusCode, Value) {
    let path = format!(
        "{}/Actions/ComputerSystem.Reset",
        bmc.system_paths()[system]
    );
    let (s, _, b) = call(
        c,
        bmc,
        Method::POST,
        &path,
        Some(json!({ "ResetType": reset_type })),
        &[],
    )
    .await;
    (s, b)
}

async fn patch_boot(
    c: &Client,
    bmc: &SimBmc,
    system: usize,
    boot: Value,
    if_match: Option<&str>,
) -> (StatusCode, Value) {
    let path = &bmc.system_paths()[system];
    let headers: Vec<(&str, &str)> = if_match.map(|t| ("If-Match", t)).into_iter().collect();
    let (s, _, b) = call(
        c,
        bmc,
        Method::PATCH,
        path,
        Some(json!({ "Boot": boot })),
        &headers,
    )
    .await;
    (s, b)
}

/// Poll until `f` is true, up to `limit`.
async fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    f()
}

#[test]
fn handles_are_shareable() {
    fn assert_shareable<T: Send + Sync + Clone + 'static>() {}
    assert_shareable::<SimBmc>();
    assert_shareable::<SimConfig>();
}

#[tokio::test]
async fn service_root_needs_no_auth() {
    let bmc = start(SimConfig::default()).await;
    let c = client();
    for path in ["/redfish/v1", "/redfish/v1/"] {
        let resp = c.get(format!("{}{path}", bmc.url())).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["OData-Version"], "4.0");
        assert!(
            resp.headers()["Content-Type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let root: Value = resp.json().await.unwrap();
        assert_eq!(root["@odata.type"], "#ServiceRoot.v1_15_0.ServiceRoot");
        assert_eq!(root["RedfishVersion"], "1.15.0");
        assert_eq!(root["Systems"]["@odata.id"], "/redfish/v1/Systems");
        assert_eq!(
            root["SessionService"]["@odata.id"],
            "/redfish/v1/SessionService"
        );
        assert_eq!(
            root["Links"]["Sessions"]["@odata.id"],
            "/redfish/v1/SessionService/Sessions"
        );
        assert!(root["Oem"].is_object());
        assert_eq!(root["UUID"].as_str().unwrap().len(), 36);
    }
    bmc.shutdown().await;

    let bmc = start(SimConfig {
        sessions: false,
        ..SimConfig::default()
    })
    .await;
    let (s, root) = get(&c, &bmc, "/redfish/v1").await;
    assert_eq!(s, 200);
    assert!(root.get("SessionService").is_none());
    assert!(root["Links"].get("Sessions").is_none());
    let (s, _) = get(&c, &bmc, "/redfish/v1/SessionService").await;
    assert_eq!(s, 404);
    bmc.shutdown().await;
}

#[tokio::test]
async fn everything_else_needs_auth() {
    let bmc = start(SimConfig::default()).await;
    let c = client();
    let url = format!("{}/redfish/v1/Systems", bmc.url());

    let resp = c.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["WWW-Authenticate"], "Basic realm=\"SimBmc\"");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "Base.1.8.GeneralError");
    assert_eq!(message_id(&body), "Base.1.8.NoValidSession");

    let resp = c
        .get(&url)
        .basic_auth(USER, Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = c
        .get(&url)
        .header("X-Auth-Token", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // Unknown paths are not revealed to unauthenticated callers.
    let resp = c
        .get(format!("{}/redfish/v1/Nope", bmc.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(bmc.counters().auth_failures, 4);

    let resp = c
        .get(&url)
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    bmc.set_password("s3cret");
    let resp = c
        .get(&url)
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = c
        .get(&url)
        .basic_auth(USER, Some("s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(bmc.counters().auth_failures, 5);
    assert_eq!(bmc.counters().requests, 7);
    bmc.shutdown().await;
}

#[tokio::test]
async fn sessions_create_use_delete_and_limit() {
    let bmc = start(SimConfig::default()).await;
    let c = client();
    let sessions = format!("{}/redfish/v1/SessionService/Sessions", bmc.url());

    let (s, svc) = get(&c, &bmc, "/redfish/v1/SessionService").await;
    assert_eq!(s, 200);
    assert_eq!(
        svc["Sessions"]["@odata.id"],
        "/redfish/v1/SessionService/Sessions"
    );

    // Wrong credentials.
    let resp = c
        .post(&sessions)
        .json(&json!({"UserName": USER, "Password": "bad"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(bmc.counters().auth_failures, 1);
    // Malformed.
    let resp = c
        .post(&sessions)
        .json(&json!({"UserName": USER}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    // Create without any auth header.
    let resp = c
        .post(&sessions)
        .json(&json!({"UserName": USER, "Password": PASS}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let token = resp.headers()["X-Auth-Token"].to_str().unwrap().to_string();
    let location = resp.headers()["Location"].to_str().unwrap().to_string();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["@odata.id"], location.as_str());
    assert_eq!(body["UserName"], USER);
    assert_eq!(
        location,
        format!(
            "/redfish/v1/SessionService/Sessions/{}",
            body["Id"].as_str().unwrap()
        )
    );

    // Use it.
    let resp = c
        .get(format!("{}/redfish/v1/Systems", bmc.url()))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let list: Value = c
        .get(&sessions)
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["Members@odata.count"], 1);
    assert_eq!(list["Members"][0]["@odata.id"], location.as_str());
    assert_eq!(bmc.counters().live_sessions, 1);

    // Delete it; the token dies with it.
    let resp = c
        .delete(format!("{}{location}", bmc.url()))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = c
        .get(format!("{}/redfish/v1/Systems", bmc.url()))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let (s, _, _) = call(&c, &bmc, Method::DELETE, &location, None, &[]).await;
    assert_eq!(s, 404);

    // The limit.
    bmc.set_session_limit(2);
    for _ in 0..2 {
        let resp = c
            .post(&sessions)
            .json(&json!({"UserName": USER, "Password": PASS}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    }
    let resp = c
        .post(&sessions)
        .json(&json!({"UserName": USER, "Password": PASS}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(message_id(&body), "Base.1.8.SessionLimitExceeded");

    let n = bmc.counters();
    assert_eq!(
        (n.sessions_created, n.sessions_deleted, n.live_sessions),
        (3, 1, 2)
    );
    bmc.shutdown().await;
}

#[tokio::test]
async fn systems_nics_and_managers() {
    let bmc = start(SimConfig {
        systems: 3,
        nics_per_system: 2,
        mac_seed: 0x0102_0300,
        ..SimConfig::default()
    })
    .await;
    let c = client();

    let (s, coll) = get(&c, &bmc, "/redfish/v1/Systems").await;
    assert_eq!(s, 200);
    assert_eq!(coll["Members@odata.count"], 3);
    let members: Vec<&str> = coll["Members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["@odata.id"].as_str().unwrap())
        .collect();
    assert_eq!(members, bmc.system_paths());
    assert_eq!(members[2], "/redfish/v1/Systems/Node2");

    let (s, sys) = get(&c, &bmc, "/redfish/v1/Systems/Node1").await;
    assert_eq!(s, 200);
    assert_eq!(sys["@odata.type"], "#ComputerSystem.v1_20_0.ComputerSystem");
    assert_eq!(sys["Id"], "Node1");
    assert_eq!(sys["PowerState"], "Off");
    assert_eq!(sys["Status"]["Health"], "OK");
    assert_eq!(sys["Boot"]["BootSourceOverrideEnabled"], "Disabled");
    assert_eq!(sys["Boot"]["BootSourceOverrideTarget"], "None");
    assert_eq!(sys["Boot"]["BootSourceOverrideMode"], "UEFI");
    assert_eq!(
        sys["Boot"]["BootSourceOverrideTarget@Redfish.AllowableValues"][4],
        "UefiHttp"
    );
    assert_eq!(
        sys["Actions"]["#ComputerSystem.Reset"]["target"],
        "/redfish/v1/Systems/Node1/Actions/ComputerSystem.Reset"
    );
    assert_eq!(
        sys["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"][1],
        "ForceOff"
    );
    assert_eq!(
        sys["Links"]["ManagedBy"][0]["@odata.id"],
        "/redfish/v1/Managers/BMC"
    );
    assert_eq!(sys["IndicatorLED"], "");
    let (_, sys0) = get(&c, &bmc, "/redfish/v1/Systems/Node0").await;
    assert_ne!(sys0["UUID"], sys["UUID"]);

    assert_eq!(bmc.macs(1), ["02:00:01:02:03:02", "02:00:01:02:03:03"]);
    let nics_path = sys["EthernetInterfaces"]["@odata.id"].as_str().unwrap();
    let (s, nics) = get(&c, &bmc, nics_path).await;
    assert_eq!(s, 200);
    assert_eq!(nics["Members@odata.count"], 2);
    for (n, m) in nics["Members"].as_array().unwrap().iter().enumerate() {
        let (s, nic) = get(&c, &bmc, m["@odata.id"].as_str().unwrap()).await;
        assert_eq!(s, 200);
        assert_eq!(nic["Id"], format!("NIC{n}"));
        assert_eq!(nic["MACAddress"], bmc.macs(1)[n].as_str());
        assert_eq!(nic["PermanentMACAddress"], bmc.macs(1)[n].as_str());
        assert_eq!(nic["LinkStatus"], "LinkUp");
        assert!(nic["SpeedMbps"].as_u64().unwrap() > 0);
    }

    let (s, mgrs) = get(&c, &bmc, "/redfish/v1/Managers").await;
    assert_eq!(s, 200);
    assert_eq!(mgrs["Members"][0]["@odata.id"], "/redfish/v1/Managers/BMC");
    let (_, mgr) = get(&c, &bmc, "/redfish/v1/Managers/BMC").await;
    assert_eq!(mgr["ManagerType"], "BMC");
    assert!(mgr["FirmwareVersion"].is_string());

    for path in [
        "/redfish/v1/Systems/Node3",
        "/redfish/v1/Systems/Node01",
        "/redfish/v1/Chassis",
        "/redfish/v1/Systems/Node0/ResetActionInfo",
    ] {
        let (s, body) = get(&c, &bmc, path).await;
        assert_eq!(s, 404, "{path}");
        assert_eq!(message_id(&body), "Base.1.8.ResourceMissingAtURI");
    }
    let (s, h, _) = call(
        &c,
        &bmc,
        Method::DELETE,
        "/redfish/v1/Systems/Node0",
        None,
        &[],
    )
    .await;
    assert_eq!(s, 405);
    assert_eq!(h["Allow"], "GET, HEAD, PATCH");
    let (s, _, _) = call(
        &c,
        &bmc,
        Method::GET,
        "/redfish/v1/Systems/Node0/Actions/ComputerSystem.Reset",
        None,
        &[],
    )
    .await;
    assert_eq!(s, 405);
    bmc.shutdown().await;
}

#[tokio::test]
async fn patch_honours_if_match_and_validates() {
    let bmc = start(SimConfig::default()).await;
    let c = client();
    let path = &bmc.system_paths()[0];

    let (s, h, sys) = call(&c, &bmc, Method::GET, path, None, &[]).await;
    assert_eq!(s, 200);
    let etag = h["ETag"].to_str().unwrap().to_string();
    assert!(etag.starts_with("W/\""), "{etag}");
    assert_eq!(sys["@odata.etag"], etag.as_str());

    let (s, body) = patch_boot(
        &c,
        &bmc,
        0,
        json!({"BootSourceOverrideTarget": "Pxe"}),
        Some("W/\"999\""),
    )
    .await;
    assert_eq!(s, 412);
    assert_eq!(message_id(&body), "Base.1.8.PreconditionFailed");
    assert_eq!(bmc.boot_override(0).1, "None");

    let boot = json!({"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Continuous", "BootSourceOverrideMode": "UEFI"});
    let (s, _) = patch_boot(&c, &bmc, 0, boot, Some(&etag)).await;
    assert_eq!(s, 204);
    assert_eq!(
        bmc.boot_override(0),
        ("Continuous".into(), "Pxe".into(), "UEFI".into())
    );
    let (_, h, sys) = call(&c, &bmc, Method::GET, path, None, &[]).await;
    assert_eq!(sys["Boot"]["BootSourceOverrideTarget"], "Pxe");
    assert_eq!(sys["Boot"]["BootSourceOverrideEnabled"], "Continuous");
    assert_ne!(
        h["ETag"].to_str().unwrap(),
        etag,
        "the ETag changes with the resource"
    );

    // The old ETag is now stale; no If-Match at all is accepted.
    let (s, _) = patch_boot(
        &c,
        &bmc,
        0,
        json!({"BootSourceOverrideTarget": "Hdd"}),
        Some(&etag),
    )
    .await;
    assert_eq!(s, 412);
    let (s, _) = patch_boot(
        &c,
        &bmc,
        0,
        json!({"BootSourceOverrideTarget": "Hdd"}),
        None,
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(bmc.boot_override(0).1, "Hdd");

    let (s, body) = patch_boot(
        &c,
        &bmc,
        0,
        json!({"BootSourceOverrideTarget": "Floppy"}),
        None,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(message_id(&body), "Base.1.8.PropertyValueNotInList");
    assert!(
        body["error"]["@Message.ExtendedInfo"][0]["Message"]
            .as_str()
            .unwrap()
            .contains("BootSourceOverrideTarget")
    );
    let (s, body) = patch_boot(&c, &bmc, 0, json!({"BootNext": "0001"}), None).await;
    assert_eq!(s, 400);
    assert_eq!(message_id(&body), "Base.1.8.PropertyUnknown");
    let (s, _, body) = call(
        &c,
        &bmc,
        Method::PATCH,
        path,
        Some(json!({"AssetTag": "x"})),
        &[],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(message_id(&body), "Base.1.8.PropertyUnknown");
    // A rejected PATCH changes nothing, even where other properties were valid.
    let (s, _) = patch_boot(
        &c,
        &bmc,
        0,
        json!({"BootSourceOverrideTarget": "Cd", "BootSourceOverrideMode": "Bios"}),
        None,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(bmc.boot_override(0).1, "Hdd");

    assert_eq!(bmc.counters().patches, 2);
    bmc.shutdown().await;

    // Without ETag support there is no header and If-Match is ignored.
    let bmc = start(SimConfig {
        etag: false,
        ..SimConfig::default()
    })
    .await;
    let (_, h, _) = call(&c, &bmc, Method::GET, &bmc.system_paths()[0], None, &[]).await;
    assert!(h.get("ETag").is_none());
    let (s, _) = patch_boot(
        &c,
        &bmc,
        0,
        json!({"BootSourceOverrideTarget": "Pxe"}),
        Some("W/\"999\""),
    )
    .await;
    assert_eq!(s, 204);
    bmc.shutdown().await;
}

#[tokio::test]
async fn drop_knob_accepts_and_forgets() {
    let bmc = start(SimConfig::default()).await;
    let c = client();
    bmc.set_drop_boot_override(true);
    let (s, _) = patch_boot(
        &c,
        &bmc,
        0,
        json!({"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}),
        None,
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(
        bmc.boot_override(0),
        ("Disabled".into(), "None".into(), "UEFI".into())
    );
    bmc.set_drop_boot_override(false);
    let (s, _) = patch_boot(
        &c,
        &bmc,
        0,
        json!({"BootSourceOverrideTarget": "Pxe"}),
        None,
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(bmc.boot_override(0).1, "Pxe");
    assert_eq!(bmc.counters().patches, 2);
    bmc.shutdown().await;
}

#[tokio::test]
async fn reset_validates_type_and_body() {
    let cfg = SimConfig {
        reset_types: vec!["On".into(), "ForceOff".into()],
        ..SimConfig::default()
    };
    let bmc = start(cfg).await;
    let c = client();
    let (s, body) = reset(&c, &bmc, 0, "GracefulRestart").await;
    assert_eq!(s, 400);
    assert_eq!(message_id(&body), "Base.1.8.ActionParameterNotSupported");
    let msg = body["error"]["@Message.ExtendedInfo"][0]["Message"]
        .as_str()
        .unwrap();
    assert!(msg.contains("On, ForceOff"), "{msg}");

    let path = format!("{}/Actions/ComputerSystem.Reset", bmc.system_paths()[0]);
    let (s, _, _) = call(&c, &bmc, Method::POST, &path, Some(json!({})), &[]).await;
    assert_eq!(s, 400);
    let (s, _, _) = call(&c, &bmc, Method::POST, &path, None, &[]).await;
    assert_eq!(s, 400);
    let (s, _, _) = call(
        &c,
        &bmc,
        Method::POST,
        &path,
        Some(json!({"ResetType": 3})),
        &[],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(bmc.counters().resets, 0);

    let (s, _) = reset(&c, &bmc, 0, "On").await;
    assert_eq!(s, 204);
    assert_eq!(bmc.power_state(0), "On");
    let (s, _) = reset(&c, &bmc, 0, "On").await;
    assert_eq!(s, 204, "On when already On is accepted");
    let (s, _) = reset(&c, &bmc, 0, "ForceOff").await;
    assert_eq!(s, 204);
    assert_eq!(bmc.power_state(0), "Off");
    assert_eq!(bmc.counters().resets, 3);
    bmc.shutdown().await;
}

#[tokio::test]
async fn power_delay_shows_transitional_states() {
    let bmc = start(SimConfig {
        power_delay: Duration::from_millis(400),
        ..SimConfig::default()
    })
    .await;
    let c = client();
    let (s, _) = reset(&c, &bmc, 0, "On").await;
    assert_eq!(s, 204);
    let (_, sys) = get(&c, &bmc, &bmc.system_paths()[0]).await;
    assert_eq!(sys["PowerState"], "PoweringOn");
    assert!(wait_for(Duration::from_secs(10), || bmc.power_state(0) == "On").await);
    let (_, sys) = get(&c, &bmc, &bmc.system_paths()[0]).await;
    assert_eq!(sys["PowerState"], "On");

    let (s, _) = reset(&c, &bmc, 0, "GracefulShutdown").await;
    assert_eq!(s, 204);
    assert_eq!(bmc.power_state(0), "PoweringOff");
    assert!(wait_for(Duration::from_secs(10), || bmc.power_state(0) == "Off").await);

    // ForceOff is immediate even with a delay, and cancels a transition in flight.
    reset(&c, &bmc, 0, "On").await;
    assert_eq!(bmc.power_state(0), "PoweringOn");
    reset(&c, &bmc, 0, "ForceOff").await;
    assert_eq!(bmc.power_state(0), "Off");

    // The setter's Powering* states are sticky.
    bmc.set_power_state(0, "PoweringOn");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(bmc.power_state(0), "PoweringOn");
    bmc.shutdown().await;
}

#[tokio::test]
async fn power_events_show_every_change_and_count_restarts() {
    let bmc = start(SimConfig {
        power_delay: Duration::from_millis(200),
        ..SimConfig::default()
    })
    .await;
    let c = client();
    let ev = |state, power_ons| PowerEvent { state, power_ons };
    let mut rx = bmc.power_events(0);
    assert_eq!(*rx.borrow_and_update(), ev("Off", 0));
    let next = async |rx: &mut tokio::sync::watch::Receiver<PowerEvent>| {
        tokio::time::timeout(Duration::from_secs(10), rx.changed())
            .await
            .expect("a power event in time")
            .unwrap();
        *rx.borrow_and_update()
    };

    // A delayed power-on is seen twice, and lands by itself: nobody reads the system here.
    reset(&c, &bmc, 0, "On").await;
    assert_eq!(next(&mut rx).await, ev("PoweringOn", 0));
    assert_eq!(next(&mut rx).await, ev("On", 1));

    // Restarts pass through Off and come back On.
    reset(&c, &bmc, 0, "ForceRestart").await;
    assert_eq!(next(&mut rx).await, ev("Off", 1));
    assert_eq!(next(&mut rx).await, ev("On", 2));
    // A restart with no visible Off (no delay) still counts.
    bmc.set_power_delay(Duration::ZERO);
    reset(&c, &bmc, 0, "PowerCycle").await;
    assert_eq!(next(&mut rx).await, ev("On", 3));
    bmc.set_power_delay(Duration::from_millis(200));
    // A graceful restart goes through PoweringOff and Off and lands On again.
    reset(&c, &bmc, 0, "GracefulRestart").await;
    assert_eq!(next(&mut rx).await, ev("PoweringOff", 3));
    assert_eq!(next(&mut rx).await, ev("Off", 3));
    assert_eq!(next(&mut rx).await, ev("On", 4));
    // ...unless the OS ignores it.
    bmc.set_ignore_graceful(true);
    reset(&c, &bmc, 0, "GracefulRestart").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!rx.has_changed().unwrap());
    bmc.set_ignore_graceful(false);

    // The test-facing setter is published too; a second watcher starts from the present.
    bmc.set_power_state(0, "Off");
    assert_eq!(next(&mut rx).await, ev("Off", 4));
    let mut late = bmc.power_events(0);
    assert_eq!(*late.borrow_and_update(), ev("Off", 4));
    bmc.set_power_state(0, "On");
    assert_eq!(next(&mut rx).await, ev("On", 5));
    assert_eq!(next(&mut late).await, ev("On", 5));

    // A watcher that looks only now and then misses the states in between, never the count.
    reset(&c, &bmc, 0, "ForceOff").await;
    reset(&c, &bmc, 0, "On").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(*rx.borrow_and_update(), ev("On", 6));
    bmc.shutdown().await;
}

#[tokio::test]
async fn once_override_clears_on_power_on() {
    let bmc = start(SimConfig {
        systems: 2,
        ..SimConfig::default()
    })
    .await;
    let c = client();
    for i in 0..2 {
        let (s, _) = patch_boot(
            &c,
            &bmc,
            i,
            json!({"BootSourceOverrideEnabled": "Once", "BootSourceOverrideTarget": "Pxe"}),
            None,
        )
        .await;
        assert_eq!(s, 204);
    }
    // Off -> On consumes it.
    reset(&c, &bmc, 0, "On").await;
    assert_eq!(bmc.boot_override(0).0, "Disabled");
    // So does a restart of a running system; ForceOff does not.
    bmc.set_power_state(1, "On");
    assert_eq!(
        bmc.boot_override(1).0,
        "Disabled",
        "set_power_state On counts as a power-on"
    );
    patch_boot(
        &c,
        &bmc,
        1,
        json!({"BootSourceOverrideEnabled": "Once"}),
        None,
    )
    .await;
    reset(&c, &bmc, 1, "ForceOff").await;
    assert_eq!(bmc.boot_override(1).0, "Once");
    reset(&c, &bmc, 1, "On").await;
    patch_boot(
        &c,
        &bmc,
        1,
        json!({"BootSourceOverrideEnabled": "Once"}),
        None,
    )
    .await;
    reset(&c, &bmc, 1, "ForceRestart").await;
    assert_eq!(bmc.boot_override(1).0, "Disabled");
    // Continuous survives power-ons.
    patch_boot(
        &c,
        &bmc,
        1,
        json!({"BootSourceOverrideEnabled": "Continuous"}),
        None,
    )
    .await;
    reset(&c, &bmc, 1, "PowerCycle").await;
    assert_eq!(
        bmc.boot_override(1),
        ("Continuous".into(), "Pxe".into(), "UEFI".into())
    );
    bmc.shutdown().await;
}

#[tokio::test]
async fn ignore_graceful_keeps_the_host_up() {
    let bmc = start(SimConfig {
        initial_power: "On".into(),
        ..SimConfig::default()
    })
    .await;
    let c = client();
    bmc.set_ignore_graceful(true);
    for t in ["GracefulShutdown", "GracefulRestart"] {
        let (s, _) = reset(&c, &bmc, 0, t).await;
        assert_eq!(s, 204);
        assert_eq!(bmc.power_state(0), "On");
    }
    let (s, _) = reset(&c, &bmc, 0, "ForceOff").await;
    assert_eq!(s, 204);
    assert_eq!(bmc.power_state(0), "Off");
    bmc.set_ignore_graceful(false);
    reset(&c, &bmc, 0, "On").await;
    reset(&c, &bmc, 0, "GracefulShutdown").await;
    assert_eq!(bmc.power_state(0), "Off");
    assert_eq!(bmc.counters().resets, 5);
    bmc.shutdown().await;
}

#[tokio::test]
async fn fail_next_then_success() {
    let bmc = start(SimConfig::default()).await;
    let c = client();
    bmc.fail_next(2, 503);
    // The service root GET is never failed and does not use up a fault.
    let (s, _) = get(&c, &bmc, "/redfish/v1").await;
    assert_eq!(s, 200);
    for _ in 0..2 {
        let (s, h, body) = call(&c, &bmc, Method::GET, "/redfish/v1/Systems", None, &[]).await;
        assert_eq!(s, 503);
        assert_eq!(h["Retry-After"], "1");
        assert_eq!(message_id(&body), "Base.1.8.ServiceTemporarilyUnavailable");
    }
    let (s, _) = get(&c, &bmc, "/redfish/v1/Systems").await;
    assert_eq!(s, 200);

    bmc.fail_next(1, 500);
    let (s, body) = reset(&c, &bmc, 0, "On").await;
    assert_eq!(s, 500);
    assert!(body["error"].is_object());
    assert_eq!(bmc.power_state(0), "Off");
    assert_eq!(bmc.counters().requests, 5);
    assert_eq!(bmc.counters().resets, 0);
    bmc.shutdown().await;
}

#[tokio::test]
async fn latency_knob_delays_responses() {
    let bmc = start(SimConfig::default()).await;
    let c = client();
    get(&c, &bmc, "/redfish/v1").await; // warm the connection
    bmc.set_latency(Duration::from_millis(300));
    let t = Instant::now();
    let (s, _) = get(&c, &bmc, "/redfish/v1/Systems/Nope").await;
    assert_eq!(s, 404, "errors are delayed too");
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    bmc.set_latency(Duration::ZERO);
    let t = Instant::now();
    get(&c, &bmc, "/redfish/v1").await;
    assert!(t.elapsed() < Duration::from_secs(5));
    bmc.shutdown().await;
}

#[tokio::test]
async fn unresponsive_knob_times_clients_out() {
    let bmc = start(SimConfig::default()).await;
    let impatient = Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    bmc.set_unresponsive(true);
    let err = impatient
        .get(format!("{}/redfish/v1", bmc.url()))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(bmc.counters().requests, 1, "the request was read");

    // A patient request is released when the knob goes off.
    let c = client();
    let url = format!("{}/redfish/v1", bmc.url());
    let pending = tokio::spawn(async move { c.get(url).send().await.map(|r| r.status()) });
    assert!(wait_for(Duration::from_secs(10), || bmc.counters().requests == 2).await);
    bmc.set_unresponsive(false);
    assert_eq!(pending.await.unwrap().unwrap(), 200);

    // Shutdown does not wait for held requests.
    bmc.set_unresponsive(true);
    let url = format!("{}/redfish/v1", bmc.url());
    let pending = tokio::spawn(async move { client().get(url).send().await.map(|r| r.status()) });
    assert!(wait_for(Duration::from_secs(10), || bmc.counters().requests == 3).await);
    tokio::time::timeout(Duration::from_secs(10), bmc.shutdown())
        .await
        .expect("shutdown returns");
    assert!(pending.await.unwrap().is_err());
}

#[tokio::test]
async fn action_info_mode() {
    let cfg = SimConfig {
        action_info: true,
        reset_types: vec!["On".into(), "ForceOff".into(), "Nmi".into()],
        ..SimConfig::default()
    };
    let bmc = start(cfg).await;
    let c = client();
    let (_, sys) = get(&c, &bmc, &bmc.system_paths()[0]).await;
    let action = &sys["Actions"]["#ComputerSystem.Reset"];
    assert!(action.get("ResetType@Redfish.AllowableValues").is_none());
    let info_path = action["@Redfish.ActionInfo"].as_str().unwrap();
    assert_eq!(info_path, "/redfish/v1/Systems/Node0/ResetActionInfo");
    let (s, info) = get(&c, &bmc, info_path).await;
    assert_eq!(s, 200);
    let p = &info["Parameters"][0];
    assert_eq!(p["Name"], "ResetType");
    assert_eq!(p["Required"], true);
    assert_eq!(p["DataType"], "String");
    assert_eq!(p["AllowableValues"], json!(["On", "ForceOff", "Nmi"]));
    let (s, _) = reset(&c, &bmc, 0, "Nmi").await;
    assert_eq!(s, 204);
    assert_eq!(bmc.power_state(0), "Off");
    bmc.shutdown().await;
}

#[tokio::test]
async fn https_with_pinned_self_signed_cert() {
    let bmc = start(SimConfig {
        tls: true,
        ..SimConfig::default()
    })
    .await;
    assert!(bmc.url().starts_with("https://127.0.0.1:"));
    let pem = bmc.cert_pem().unwrap();
    let sha = bmc.cert_sha256().unwrap();
    assert_eq!(sha.len(), 64);
    assert!(
        sha.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );

    let cert = reqwest::Certificate::from_pem(pem.as_bytes()).unwrap();
    let trusting = Client::builder()
        .tls_certs_only([cert])
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let (s, _, root) = call(&trusting, &bmc, Method::GET, "/redfish/v1", None, &[]).await;
    assert_eq!(s, 200);
    assert_eq!(root["Id"], "RootService");
    let (s, _) = get(&trusting, &bmc, "/redfish/v1/Systems").await;
    assert_eq!(s, 200);
    // The name "localhost" is in the certificate too.
    let local = format!("https://localhost:{}/redfish/v1", bmc.addr().port());
    assert_eq!(trusting.get(local).send().await.unwrap().status(), 200);

    let err = client()
        .get(format!("{}/redfish/v1", bmc.url()))
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_timeout(), "{err:?}");
    // Another BMC's certificate does not vouch for this one.
    let other = start(SimConfig {
        tls: true,
        ..SimConfig::default()
    })
    .await;
    assert_ne!(other.cert_sha256(), bmc.cert_sha256());
    let wrong = Client::builder()
        .tls_certs_only([
            reqwest::Certificate::from_pem(other.cert_pem().unwrap().as_bytes()).unwrap(),
        ])
        .build()
        .unwrap();
    assert!(
        wrong
            .get(format!("{}/redfish/v1", bmc.url()))
            .send()
            .await
            .is_err()
    );
    other.shutdown().await;
    bmc.shutdown().await;

    let plain = start(SimConfig::default()).await;
    assert!(plain.cert_pem().is_none() && plain.cert_sha256().is_none());
    assert!(plain.url().starts_with("http://127.0.0.1:"));
    plain.shutdown().await;
}

#[tokio::test]
async fn self_signed_cert_is_usable_by_rustls() {
    let (cert_pem, key_pem, sha) = self_signed_cert(&["sim.example", "10.1.2.3"]);
    assert!(cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(key_pem.contains("PRIVATE KEY"));
    assert_eq!(sha.len(), 64);
    // reqwest (rustls/webpki) accepts it as a trust anchor.
    Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap()])
        .build()
        .unwrap();
}

#[tokio::test]
async fn shutdown_closes_the_listener() {
    let bmc = start(SimConfig::default()).await;
    let addr = bmc.addr();
    let c = client();
    assert_eq!(get(&c, &bmc, "/redfish/v1").await.0, 200);
    bmc.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    // The kept-alive connection was dropped too.
    assert!(
        c.get(format!("http://{addr}/redfish/v1"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn fleet_of_a_thousand_bmcs() {
    let cfg = SimConfig {
        systems: 10,
        power_delay: Duration::from_secs(3600),
        ..SimConfig::default()
    };
    let t = Instant::now();
    let fleet = SimFleet::start(1000, cfg)
        .await
        .expect("start fleet (needs ~1,000 file descriptors)");
    assert_eq!(fleet.bmcs.len(), 1000);
    let c = client();
    for &i in &[0usize, 1, 499, 999] {
        let bmc = &fleet.bmcs[i];
        let (s, coll) = get(&c, bmc, "/redfish/v1/Systems").await;
        assert_eq!(s, 200);
        assert_eq!(coll["Members@odata.count"], 10);
        // A transition pending for an hour costs nothing but a deadline.
        let (s, _) = reset(&c, bmc, 9, "On").await;
        assert_eq!(s, 204);
        assert_eq!(bmc.power_state(9), "PoweringOn");
    }
    // MACs are distinct across the whole fleet.
    let mut macs: Vec<String> = fleet
        .bmcs
        .iter()
        .flat_map(|b| (0..10).flat_map(move |s| b.macs(s)))
        .collect();
    macs.sort();
    macs.dedup();
    assert_eq!(macs.len(), 10_000);
    let n = fleet.counters();
    assert_eq!((n.requests, n.resets), (8, 4));
    fleet.shutdown().await;
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
}
