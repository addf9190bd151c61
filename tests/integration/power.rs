//! The power plane against SimBmc (real Redfish over HTTP(S)): discovery, transitions,
//! power status, and every fault knob, through rackboot's HTTP API.

use std::time::{Duration, Instant};

use rackboot::config::Settings;
use redfish::sim::{SimBmc, SimConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Server, assert_problem, wait_until};

pub const EP: &str = "/apis/smd/hsm/v2/Inventory/RedfishEndpoints";
pub const PCS: &str = "/apis/power-control/v1";

/// Fast timings for tests: confirm every 100 ms, sample every second, 2 s BMC timeout.
pub fn fast() -> Settings {
    Settings {
        power_confirm_ms: Some(100),
        power_sample_secs: Some(1),
        bmc_timeout_secs: Some(2),
        ..Default::default()
    }
}

pub async fn start_fast() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(dir.path(), fast()).await;
    (s, dir)
}

/// FQDN (host:port) and scheme of a URL.
pub fn split_url(url: &str) -> (String, String) {
    let u = url::Url::parse(url).unwrap();
    (
        format!("{}:{}", u.host_str().unwrap(), u.port().unwrap()),
        u.scheme().to_string(),
    )
}

/// Register a BMC; `extra` adds/overrides fields (CACert, CertSHA256, Insecure, Password…).
pub async fn register(s: &Server, id: &str, url: &str, extra: Value) {
    let (fqdn, scheme) = split_url(url);
    let mut body =
        json!({"ID": id, "FQDN": fqdn, "Scheme": scheme, "User": "admin", "Password": "password"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (st, v) = s.send(Method::POST, EP, body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
}

/// Wait until discovery of `id` has finished; returns the endpoint.
pub async fn discovered(s: &Server, id: &str) -> Value {
    let what = format!("discovery of {id} to finish");
    wait_until(&what, Duration::from_secs(30), async || {
        let (st, ep) = s.get(&format!("{EP}/{id}")).await;
        assert_eq!(st, StatusCode::OK, "{ep}");
        let status = ep["DiscoveryInfo"]["LastDiscoveryStatus"].as_str().unwrap();
        if status != "NotYetQueried" && status != "DiscoveryStarted" {
            Ok(ep)
        } else {
            Err(ep)
        }
    })
    .await
}

/// Start a transition; returns its ID.
pub async fn transition(s: &Server, body: Value) -> String {
    let (st, v) = s
        .send(Method::POST, &format!("{PCS}/transitions"), body)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["transitionID"].as_str().unwrap().to_string()
}

/// Wait until a transition is completed or aborted; returns it with its tasks.
pub async fn finished(s: &Server, id: &str, limit: Duration) -> Value {
    let what = format!("transition {id} to be completed or aborted");
    wait_until(&what, limit, async || {
        let (st, t) = s.get(&format!("{PCS}/transitions/{id}")).await;
        assert_eq!(st, StatusCode::OK, "{t}");
        let done = matches!(
            t["transitionStatus"].as_str(),
            Some("completed" | "aborted")
        );
        if done { Ok(t) } else { Err(t) }
    })
    .await
}

/// Wait until the task of `xname` in transition `id` is confirming its power change (the
/// command was sent and the transition is running).
pub async fn confirming(s: &Server, id: &str, xname: &str) {
    let what = format!("transition {id} to be confirming {xname}");
    wait_until(&what, Duration::from_secs(10), async || {
        let (_, t) = s.get(&format!("{PCS}/transitions/{id}")).await;
        let described = task(&t, xname)["taskStatusDescription"].as_str();
        if described.unwrap().starts_with("Confirming") {
            Ok(())
        } else {
            Err(t)
        }
    })
    .await
}

pub fn task<'a>(t: &'a Value, xname: &str) -> &'a Value {
    t["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["xname"] == xname)
        .unwrap_or_else(|| panic!("no task for {xname} in {t}"))
}

async fn sim(cfg: SimConfig) -> SimBmc {
    SimBmc::start(cfg).await.unwrap()
}

/// A discovered plain-HTTP SimBmc with `systems` nodes under x1000c0s0b0.
async fn ready_bmc(s: &Server, cfg: SimConfig) -> SimBmc {
    let bmc = sim(cfg).await;
    register(s, "x1000c0s0b0", &bmc.url(), json!({})).await;
    let ep = discovered(s, "x1000c0s0b0").await;
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
        "{ep}"
    );
    bmc
}

#[tokio::test]
async fn discovery_over_https_with_ca_creates_nodes_macs_and_capabilities() {
    let (s, _d) = start_fast().await;
    let bmc = sim(SimConfig {
        systems: 2,
        tls: true,
        ..Default::default()
    })
    .await;
    register(
        &s,
        "x1000c0s0b0",
        &bmc.url(),
        json!({"CACert": bmc.cert_pem().unwrap()}),
    )
    .await;
    let ep = discovered(&s, "x1000c0s0b0").await;
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
        "{ep}"
    );
    assert_eq!(ep["DiscoveryInfo"]["RedfishVersion"], "1.15.0");
    assert_eq!(ep["TLS"], "ca");
    assert!(ep.get("Password").is_none());

    for (i, node) in ["x1000c0s0b0n0", "x1000c0s0b0n1"].iter().enumerate() {
        let (st, c) = s
            .get(&format!("/apis/smd/hsm/v2/State/Components/{node}"))
            .await;
        assert_eq!(st, StatusCode::OK, "{c}");
        assert_eq!(c["Type"], "Node");
        assert_eq!(c["State"], "Off");
        let mac = bmc.macs(i)[0].clone();
        let id = mac.replace(':', "");
        let (st, iface) = s
            .get(&format!(
                "/apis/smd/hsm/v2/Inventory/EthernetInterfaces/{id}"
            ))
            .await;
        assert_eq!(st, StatusCode::OK, "{iface}");
        assert_eq!(iface["ComponentID"], *node);
        let (st, ce) = s
            .get(&format!(
                "/apis/smd/hsm/v2/Inventory/ComponentEndpoints/{node}"
            ))
            .await;
        assert_eq!(st, StatusCode::OK, "{ce}");
        assert_eq!(ce["OdataID"], bmc.system_paths()[i]);
        let allowed = &ce["RedfishSystemInfo"]["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"];
        assert!(
            allowed
                .as_array()
                .unwrap()
                .contains(&json!("GracefulShutdown")),
            "{ce}"
        );
    }
    // The boot script service now knows a discovered node by its MAC.
    let (st, v) = s
        .send(Method::PUT, "/boot/v1/bootparameters", json!({"hosts": ["x1000c0s0b0n1"], "kernel": "http://k/vmlinuz", "params": "console=ttyS0"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let mac = bmc.macs(1)[0].clone();
    let (st, script) = s
        .get(&format!("/boot/v1/bootscript?mac={mac}&arch=x86_64"))
        .await;
    assert_eq!(st, StatusCode::OK, "{script}");
    assert!(
        script.as_str().unwrap().contains("xname=x1000c0s0b0n1"),
        "{script}"
    );
    s.stop().await;
}

#[tokio::test]
async fn power_on_with_netboot_then_off_and_status() {
    let (s, _d) = start_fast().await;
    let bmc = ready_bmc(
        &s,
        SimConfig {
            systems: 2,
            power_delay: Duration::from_millis(300),
            ..Default::default()
        },
    )
    .await;
    let nodes = ["x1000c0s0b0n0", "x1000c0s0b0n1"];
    let loc: Vec<Value> = nodes.iter().map(|x| json!({"xname": x})).collect();
    let id = transition(
        &s,
        json!({"operation": "on", "location": loc, "bootTarget": "Pxe"}),
    )
    .await;
    let t = finished(&s, &id, Duration::from_secs(20)).await;
    assert_eq!(t["transitionStatus"], "completed", "{t}");
    assert_eq!(t["operation"], "On");
    assert_eq!(t["taskCounts"]["succeeded"], 2, "{t}");
    for x in nodes {
        assert_eq!(
            task(&t, x)["taskStatusDescription"],
            "Transition confirmed, on"
        );
    }
    for i in 0..2 {
        assert_eq!(bmc.power_state(i), "On");
    }
    let c = bmc.counters();
    assert_eq!(c.resets, 2);
    assert_eq!(c.patches, 2, "one boot override per node");

    // Power status reflects it, with PCS's supported transitions.
    let (st, v) = s
        .send(
            Method::POST,
            &format!("{PCS}/power-status"),
            json!({"xname": nodes}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    for e in v["status"].as_array().unwrap() {
        assert_eq!(e["powerState"], "on", "{v}");
        assert_eq!(e["managementState"], "available");
        let sup = e["supportedPowerTransitions"].as_array().unwrap();
        for op in [
            "On",
            "Off",
            "Soft-Off",
            "Force-Off",
            "Soft-Restart",
            "Hard-Restart",
            "Init",
        ] {
            assert!(sup.contains(&json!(op)), "{op} missing in {e}");
        }
    }
    // On again: already there.
    let id = transition(&s, json!({"operation": "On", "location": [loc[0].clone()]})).await;
    let t = finished(&s, &id, Duration::from_secs(10)).await;
    assert_eq!(
        task(&t, nodes[0])["taskStatusDescription"],
        "Component already in desired state"
    );

    let id = transition(&s, json!({"operation": "soft-off", "location": loc})).await;
    let t = finished(&s, &id, Duration::from_secs(20)).await;
    assert_eq!(t["taskCounts"]["succeeded"], 2, "{t}");
    assert_eq!(
        task(&t, nodes[1])["taskStatusDescription"],
        "Transition confirmed, gracefulshutdown"
    );
    assert_eq!(bmc.power_state(1), "Off");
    let (_, v) = s
        .get(&format!(
            "{PCS}/power-status?xname={}&powerStateFilter=off",
            nodes[0]
        ))
        .await;
    assert_eq!(v["status"].as_array().unwrap().len(), 1, "{v}");

    // The transitions list shows both with counts.
    let (_, all) = s.get(&format!("{PCS}/transitions")).await;
    assert_eq!(all["transitions"].as_array().unwrap().len(), 3, "{all}");
    assert!(all["transitions"][0].get("tasks").is_none());
    s.stop().await;
}

#[tokio::test]
async fn graceful_off_escalates_to_force_off_but_soft_off_times_out() {
    let (s, _d) = start_fast().await;
    let bmc = ready_bmc(
        &s,
        SimConfig {
            initial_power: "On".into(),
            ..Default::default()
        },
    )
    .await;
    bmc.set_ignore_graceful(true);
    let loc = json!([{"xname": "x1000c0s0b0n0"}]);
    let id = transition(
        &s,
        json!({"operation": "soft-off", "location": loc, "taskDeadlineSeconds": 1}),
    )
    .await;
    let t = finished(&s, &id, Duration::from_secs(15)).await;
    let k = task(&t, "x1000c0s0b0n0");
    assert_eq!(k["taskStatus"], "failed", "{t}");
    // The error names the BMC, the system, what was sent and the PowerState last read.
    assert_eq!(
        k["error"],
        "x1000c0s0b0 /redfish/v1/Systems/Node0: GracefulShutdown accepted but PowerState still On after 1 s",
        "{t}"
    );
    assert_eq!(bmc.power_state(0), "On");

    let id = transition(
        &s,
        json!({"operation": "off", "location": loc, "taskDeadlineSeconds": 1}),
    )
    .await;
    let t = finished(&s, &id, Duration::from_secs(15)).await;
    let k = task(&t, "x1000c0s0b0n0");
    assert_eq!(k["taskStatus"], "succeeded", "{t}");
    assert_eq!(k["taskStatusDescription"], "Transition confirmed, forceoff");
    assert_eq!(bmc.power_state(0), "Off");
    s.stop().await;
}

#[tokio::test]
async fn restarts_and_init() {
    let (s, _d) = start_fast().await;
    let bmc = ready_bmc(
        &s,
        SimConfig {
            systems: 2,
            ..Default::default()
        },
    )
    .await;
    bmc.set_power_state(0, "On");
    let loc = json!([{"xname": "x1000c0s0b0n0"}, {"xname": "x1000c0s0b0n1"}]);
    // Soft-Restart needs On: node 1 is off and fails with PCS's message.
    let id = transition(&s, json!({"operation": "Soft-Restart", "location": loc})).await;
    let t = finished(&s, &id, Duration::from_secs(15)).await;
    assert_eq!(task(&t, "x1000c0s0b0n0")["taskStatus"], "succeeded", "{t}");
    assert_eq!(
        task(&t, "x1000c0s0b0n1")["error"],
        "x1000c0s0b0 /redfish/v1/Systems/Node1: Component must be in the On state for Soft-Restart; nothing sent, PowerState Off"
    );
    // Init: on → off → on; off → on.
    let before = bmc.counters().resets;
    let id = transition(&s, json!({"operation": "init", "location": loc})).await;
    let t = finished(&s, &id, Duration::from_secs(15)).await;
    assert_eq!(t["taskCounts"]["succeeded"], 2, "{t}");
    assert_eq!(bmc.counters().resets - before, 3);
    assert_eq!(bmc.power_state(0), "On");
    assert_eq!(bmc.power_state(1), "On");
    s.stop().await;
}

#[tokio::test]
async fn faults_are_task_errors_naming_the_bmc() {
    let (s, _d) = start_fast().await;
    // Basic auth, so a password change on the BMC bites at once (sessions outlive it).
    let bmc = ready_bmc(
        &s,
        SimConfig {
            sessions: false,
            ..Default::default()
        },
    )
    .await;
    let label = bmc.addr().to_string();
    let loc = json!([{"xname": "x1000c0s0b0n0"}]);

    // Busy answers are retried: two 503s, then it works.
    bmc.fail_next(2, 503);
    let id = transition(&s, json!({"operation": "on", "location": loc})).await;
    let t = finished(&s, &id, Duration::from_secs(15)).await;
    assert_eq!(task(&t, "x1000c0s0b0n0")["taskStatus"], "succeeded", "{t}");

    // A BMC error on the reset fails the task with the BMC's message (PCS ignores these).
    bmc.set_power_state(0, "Off");
    bmc.fail_next(10, 500);
    let id = transition(&s, json!({"operation": "on", "location": loc})).await;
    let t = finished(&s, &id, Duration::from_secs(15)).await;
    let k = task(&t, "x1000c0s0b0n0");
    assert_eq!(k["taskStatus"], "failed", "{t}");
    let err = k["error"].as_str().unwrap();
    assert!(err.contains(&label) && err.contains("HTTP 500"), "{err}");
    bmc.fail_next(0, 500);

    // Unresponsive: fails within the timeout, naming the BMC.
    bmc.set_unresponsive(true);
    let start = Instant::now();
    let id = transition(&s, json!({"operation": "on", "location": loc})).await;
    let t = finished(&s, &id, Duration::from_secs(20)).await;
    let err = task(&t, "x1000c0s0b0n0")["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        err.contains(&label) && err.contains("did not answer"),
        "{err}"
    );
    assert!(start.elapsed() < Duration::from_secs(15));
    bmc.set_unresponsive(false);

    // A BMC that accepts a boot override but does not keep it.
    bmc.set_drop_boot_override(true);
    let id = transition(
        &s,
        json!({"operation": "on", "location": loc, "bootTarget": "Pxe"}),
    )
    .await;
    let t = finished(&s, &id, Duration::from_secs(15)).await;
    let err = task(&t, "x1000c0s0b0n0")["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{t}"))
        .to_string();
    assert!(
        err.contains("did not keep it") && err.contains("Pxe"),
        "{err}"
    );
    assert_eq!(
        bmc.power_state(0),
        "Off",
        "no power-on without the override"
    );

    // The password changed on the BMC: authentication failed, by name.
    bmc.set_drop_boot_override(false);
    bmc.set_password("rotated");
    let id = transition(&s, json!({"operation": "on", "location": loc})).await;
    let t = finished(&s, &id, Duration::from_secs(15)).await;
    let err = task(&t, "x1000c0s0b0n0")["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        err,
        format!(
            "x1000c0s0b0 /redfish/v1/Systems/Node0: reading PowerState failed: authentication failed for {label}; nothing sent"
        )
    );
    s.stop().await;
}

#[tokio::test]
async fn discovery_failures_are_recorded_with_the_cause() {
    let (s, _d) = start_fast().await;
    // Nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    register(
        &s,
        "x1000c0s1b0",
        &format!("http://127.0.0.1:{port}"),
        json!({}),
    )
    .await;
    let ep = discovered(&s, "x1000c0s1b0").await;
    assert_eq!(ep["DiscoveryInfo"]["LastDiscoveryStatus"], "HTTPsGetFailed");
    let err = ep["DiscoveryInfo"]["LastDiscoveryError"].as_str().unwrap();
    assert!(
        err.contains(&format!("cannot reach BMC 127.0.0.1:{port}"))
            && err.to_lowercase().contains("refused"),
        "{err}"
    );

    // Wrong password.
    let bmc = sim(SimConfig::default()).await;
    register(&s, "x1000c0s2b0", &bmc.url(), json!({"Password": "wrong"})).await;
    let ep = discovered(&s, "x1000c0s2b0").await;
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryError"],
        format!("authentication failed for {}", bmc.addr())
    );
    // Fixing the password rediscovers.
    let (st, v) = s
        .send(
            Method::PATCH,
            &format!("{EP}/x1000c0s2b0"),
            json!({"Password": "password"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let ep = discovered(&s, "x1000c0s2b0").await;
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
        "{ep}"
    );

    // Certificate trust (bmc_tls, pins, re-trusting) is tested in `bmc_tls.rs`.
    s.stop().await;
}

#[tokio::test]
async fn sessions_are_reused_and_logged_out_and_action_info_is_followed() {
    let (s, _d) = start_fast().await;
    let bmc = sim(SimConfig {
        systems: 4,
        sessions: true,
        action_info: true,
        reset_types: vec!["On".into(), "ForceOff".into()],
        ..Default::default()
    })
    .await;
    bmc.set_session_limit(1);
    register(&s, "x1000c0s0b0", &bmc.url(), json!({})).await;
    let ep = discovered(&s, "x1000c0s0b0").await;
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
        "{ep}"
    );
    let (_, ce) = s
        .get("/apis/smd/hsm/v2/Inventory/ComponentEndpoints/x1000c0s0b0n3")
        .await;
    assert_eq!(
        ce["RedfishSystemInfo"]["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"],
        json!(["On", "ForceOff"])
    );
    let loc: Vec<Value> = (0..4)
        .map(|i| json!({"xname": format!("x1000c0s0b0n{i}")}))
        .collect();
    let id = transition(&s, json!({"operation": "on", "location": loc})).await;
    let t = finished(&s, &id, Duration::from_secs(15)).await;
    assert_eq!(t["taskCounts"]["succeeded"], 4, "{t}");

    // Soft-Off needs GracefulShutdown, which this BMC does not allow: refused up front,
    // naming what it allows.
    let (st, h, v) = s
        .call(
            Method::POST,
            &format!("{PCS}/transitions"),
            Some(json!({"operation": "soft-off", "location": loc})),
        )
        .await;
    assert_problem(
        st,
        &h,
        &v,
        StatusCode::BAD_REQUEST,
        "allows reset types On, ForceOff",
    );
    // Force-Off is allowed.
    let id = transition(&s, json!({"operation": "force-off", "location": loc})).await;
    let t = finished(&s, &id, Duration::from_secs(15)).await;
    assert_eq!(t["taskCounts"]["succeeded"], 4, "{t}");

    let c = bmc.counters();
    assert_eq!(c.sessions_created, 1, "one session, reused: {c:?}");
    s.stop().await;
    assert_eq!(bmc.counters().sessions_deleted, 1, "logged out at shutdown");
}

#[tokio::test]
async fn unknown_nodes_and_bad_input() {
    let (s, _d) = start_fast().await;
    let _bmc = ready_bmc(&s, SimConfig::default()).await;
    let id = transition(
        &s,
        json!({"operation": "on", "location": [{"xname": "x9999c7s9b9n9"}, {"xname": "FAKE"}, {"xname": "x1000c0s0b0"}]}),
    )
    .await;
    let t = finished(&s, &id, Duration::from_secs(10)).await;
    assert_eq!(t["transitionStatus"], "completed");
    assert_eq!(task(&t, "x9999c7s9b9n9")["error"], "Xname not found in HSM");
    assert_eq!(task(&t, "FAKE")["error"], "Invalid xname");
    assert_eq!(
        task(&t, "x1000c0s0b0")["error"],
        "No power control for component type NodeBMC"
    );
    assert_eq!(t["taskCounts"]["failed"], 3);

    let post = |b: Value| {
        let s = &s;
        async move {
            s.call(Method::POST, &format!("{PCS}/transitions"), Some(b))
                .await
        }
    };
    let (st, h, v) = post(json!({"operation": "reboot", "location": []})).await;
    assert_problem(
        st,
        &h,
        &v,
        StatusCode::BAD_REQUEST,
        "invalid operation 'reboot'",
    );
    let (st, h, v) = post(json!({"location": []})).await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "operation");
    let (st, h, v) = post(json!({"operation": "off", "location": [], "bootTarget": "Pxe"})).await;
    assert_problem(
        st,
        &h,
        &v,
        StatusCode::BAD_REQUEST,
        "only applies to operations that power nodes on",
    );
    let (st, h, v) = post(json!({"operation": "on", "location": [], "bootTarget": "Floppy"})).await;
    assert_problem(
        st,
        &h,
        &v,
        StatusCode::BAD_REQUEST,
        "unknown boot target 'Floppy'",
    );
    let (st, h, v) = s.raw(Method::POST, &format!("{PCS}/transitions"), "").await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "empty");
    let (st, h, v) = s
        .call(Method::GET, &format!("{PCS}/transitions/not-a-uuid"), None)
        .await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "not a UUID");
    let (st, h, v) = s
        .call(
            Method::GET,
            &format!("{PCS}/transitions/{}", uuid::Uuid::new_v4()),
            None,
        )
        .await;
    assert_problem(st, &h, &v, StatusCode::NOT_FOUND, "no such transition");
    // An empty location is a completed transition with no tasks.
    let id = transition(&s, json!({"operation": "on", "location": []})).await;
    let t = finished(&s, &id, Duration::from_secs(10)).await;
    assert_eq!(t["taskCounts"]["total"], 0);
    // Deleting a finished transition is a 400.
    let (st, h, v) = s
        .call(Method::DELETE, &format!("{PCS}/transitions/{id}"), None)
        .await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "cannot be aborted");

    // Power status: malformed xnames are a 400, unknown ones an entry with PCS's error.
    let (st, h, v) = s
        .call(Method::GET, &format!("{PCS}/power-status?xname=FAKE"), None)
        .await;
    assert_problem(
        st,
        &h,
        &v,
        StatusCode::BAD_REQUEST,
        "invalid xnames detected:FAKE",
    );
    let (st, v) = s
        .get(&format!("{PCS}/power-status?xname=x9999c7s9b9n9"))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        v["status"][0]["error"],
        "Component not found in component map."
    );
    let (st, h, v) = s
        .call(
            Method::GET,
            &format!("{PCS}/power-status?powerStateFilter=sideways"),
            None,
        )
        .await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "powerStateFilter");

    // Endpoint trust fields are validated.
    let (st, h, v) = s
        .call(
            Method::PATCH,
            &format!("{EP}/x1000c0s0b0"),
            Some(json!({"CertSHA256": "xyz"})),
        )
        .await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "CertSHA256");
    let (st, h, v) = s
        .call(
            Method::PATCH,
            &format!("{EP}/x1000c0s0b0"),
            Some(json!({"Insecure": true, "CertSHA256": "ab".repeat(32)})),
        )
        .await;
    assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "at most one");
    s.stop().await;
}

#[tokio::test]
async fn abort_stops_a_running_transition() {
    let (s, _d) = start_fast().await;
    let bmc = ready_bmc(
        &s,
        SimConfig {
            initial_power: "On".into(),
            ..Default::default()
        },
    )
    .await;
    bmc.set_ignore_graceful(true);
    let id = transition(
        &s,
        json!({"operation": "soft-off", "location": [{"xname": "x1000c0s0b0n0"}], "taskDeadlineMinutes": -1}),
    )
    .await;
    confirming(&s, &id, "x1000c0s0b0n0").await;
    let (st, _, v) = s
        .call(Method::DELETE, &format!("{PCS}/transitions/{id}"), None)
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["abortStatus"], "Accepted - abort initiated");
    let t = finished(&s, &id, Duration::from_secs(10)).await;
    assert_eq!(t["transitionStatus"], "aborted", "{t}");
    assert_eq!(
        task(&t, "x1000c0s0b0n0")["taskStatusDescription"],
        "Transition aborted"
    );
    s.stop().await;
}

#[tokio::test]
async fn operators_report_their_activity() {
    let (s, _d) = start_fast().await;
    let _bmc = ready_bmc(&s, SimConfig::default()).await;
    wait_until(
        "the power monitor's first sample",
        Duration::from_secs(10),
        async || {
            let (_, v) = s.get("/apis/rackboot/v1/operators").await;
            let ops = v["operators"].as_array().unwrap();
            let monitor = ops.iter().find(|o| o["name"] == "power-monitor");
            let sampled = monitor.is_some_and(|m| m["last_report"]["sampled"] == 1);
            if sampled { Ok(()) } else { Err(v) }
        },
    )
    .await;
    let (st, v) = s.get("/apis/rackboot/v1/operators").await;
    assert_eq!(st, StatusCode::OK);
    let ops = v["operators"].as_array().unwrap();
    let names: Vec<&str> = ops
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .filter(|n| !n.starts_with("bos-"))
        .collect();
    assert_eq!(names, ["discovery", "power-monitor", "power-transitions"]);
    let monitor = ops.iter().find(|o| o["name"] == "power-monitor").unwrap();
    assert!(monitor["activations"].as_u64().unwrap() >= 1, "{monitor}");
    assert_eq!(monitor["last_report"]["sampled"], 1, "{monitor}");
    s.stop().await;
}

#[tokio::test]
async fn a_node_powering_on_reports_transition() {
    let (s, _d) = start_fast().await;
    let _bmc = ready_bmc(
        &s,
        SimConfig {
            power_delay: Duration::from_secs(3),
            ..Default::default()
        },
    )
    .await;
    let id = transition(
        &s,
        json!({"operation": "on", "location": [{"xname": "x1000c0s0b0n0"}]}),
    )
    .await;
    wait_until("the transition state", Duration::from_secs(3), async || {
        let (_, v) = s
            .get(&format!("{PCS}/power-status?xname=x1000c0s0b0n0"))
            .await;
        if v["status"][0]["powerState"] == "transition" {
            Ok(())
        } else {
            Err(v)
        }
    })
    .await;
    let t = finished(&s, &id, Duration::from_secs(15)).await;
    assert_eq!(task(&t, "x1000c0s0b0n0")["taskStatus"], "succeeded", "{t}");
    let (_, v) = s
        .get(&format!("{PCS}/power-status?xname=x1000c0s0b0n0"))
        .await;
    assert_eq!(v["status"][0]["powerState"], "on", "{v}");
    s.stop().await;
}
