//! Power semantics on SimBmc configured like real vendors (issue 16): reset types chosen from
//! each system's AllowableValues / ActionInfo, restarts confirmed only by an observed
//! transition, netboot intent answered clearly, and every power error naming the BMC, the
//! system, what was sent and the PowerState read. Through rackboot's PCS API and its CLI.

use std::time::Duration;

use redfish::sim::{Mockup, SimBmc, SimConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::cli::rackboot;
use crate::common::Server;
use crate::power::{PCS, discovered, finished, register, start_fast, task, transition};

const BMC: &str = "x1000c0s0b0";

/// The recorded HPE Cray EX425 blade (tests/fixtures/redfish-mockups/EX425), replayed: two
/// nodes, On; reset types through ActionInfo (On, Off, ForceOff: `Off` is the graceful one);
/// no Boot override properties.
fn ex425() -> SimConfig {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/redfish-mockups/EX425");
    SimConfig {
        mockup: Some(Mockup::load(dir).unwrap()),
        ..Default::default()
    }
}

/// A discovered SimBmc under `BMC`.
async fn ready(s: &Server, cfg: SimConfig) -> SimBmc {
    let bmc = SimBmc::start(cfg).await.unwrap();
    register(s, BMC, &bmc.url(), json!({})).await;
    let ep = discovered(s, BMC).await;
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
        "{ep}"
    );
    bmc
}

fn node(i: usize) -> String {
    format!("{BMC}n{i}")
}

async fn run(s: &Server, body: Value) -> Value {
    let id = transition(s, body).await;
    finished(s, &id, Duration::from_secs(20)).await
}

/// Run `operation` on node `i` alone (`extra` adds fields); returns the finished transition.
async fn on_node(s: &Server, operation: &str, i: usize, extra: Value) -> Value {
    let mut body = json!({"operation": operation, "location": [{"xname": node(i)}]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    run(s, body).await
}

/// The task description of node `i`.
fn described(t: &Value, i: usize) -> &str {
    task(t, &node(i))["taskStatusDescription"]
        .as_str()
        .unwrap_or_default()
}

/// A discovered default SimBmc whose one node is on.
async fn running(s: &Server) -> SimBmc {
    ready(
        s,
        SimConfig {
            initial_power: "On".into(),
            ..Default::default()
        },
    )
    .await
}

/// The error of a failed task, checked to name the BMC, the system and the PowerState.
fn error_naming_target(t: &Value, i: usize) -> String {
    let k = task(t, &node(i));
    let err = k["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {k}"));
    let target = format!("{BMC} /redfish/v1/Systems/Node{i}: ");
    assert!(err.starts_with(&target), "{err}");
    assert!(err.contains("PowerState"), "{err}");
    err.to_string()
}

#[tokio::test]
async fn ex_like_nodes_shut_down_gracefully_through_off() {
    let (s, _d) = start_fast().await;
    let bmc = ready(&s, ex425()).await;
    // Every PCS transition is supported (Soft-Restart as a graceful off, then On).
    let (_, v) = s
        .get(&format!("{PCS}/power-status?xname={}", node(0)))
        .await;
    assert_eq!(
        v["status"][0]["supportedPowerTransitions"]
            .as_array()
            .unwrap()
            .len(),
        7,
        "{v}"
    );

    let t = on_node(&s, "soft-off", 0, json!({})).await;
    assert_eq!(described(&t, 0), "Transition confirmed, off", "{t}");
    let t = on_node(&s, "off", 1, json!({})).await;
    assert_eq!(
        described(&t, 1),
        "Transition confirmed, off",
        "graceful, no ForceOff: {t}"
    );
    assert_eq!(bmc.counters().resets, 2, "one Off each, nothing forced");
    assert_eq!(
        (bmc.power_state(0), bmc.power_state(1)),
        ("Off".into(), "Off".into())
    );

    // Graceful ignored: Off escalates to ForceOff; the forced wait is capped, and the error
    // of a soft-off names what was sent and seen.
    bmc.set_power_state(0, "On");
    bmc.set_ignore_graceful(true);
    let t = on_node(&s, "soft-off", 0, json!({"taskDeadlineSeconds": 1})).await;
    let err = error_naming_target(&t, 0);
    assert!(
        err.ends_with("Off accepted but PowerState still On after 1 s"),
        "{err}"
    );
    let t = on_node(&s, "off", 0, json!({"taskDeadlineSeconds": 1})).await;
    assert_eq!(described(&t, 0), "Transition confirmed, forceoff", "{t}");
    s.stop().await;
}

#[tokio::test]
async fn netboot_on_a_system_without_override_support_is_refused_before_anything_is_sent() {
    let (s, _d) = start_fast().await;
    let bmc = ready(&s, ex425()).await;
    bmc.set_power_state(1, "Off");
    let before = bmc.counters();
    // Init on a running node would power it off first: refused before that, too.
    let loc = json!([{"xname": node(0)}, {"xname": node(1)}]);
    for op in ["init", "on"] {
        let t = run(
            &s,
            json!({"operation": op, "location": loc, "bootTarget": "Pxe"}),
        )
        .await;
        for i in 0..2 {
            let k = task(&t, &node(i));
            if op == "on" && i == 0 {
                // Already on: the missing override support is said first.
                assert_eq!(k["taskStatus"], "unsupported", "{t}");
            }
            let err = error_naming_target(&t, i);
            assert!(
                err.contains("has no Boot override properties")
                    && err.contains("one-time boot override to Pxe")
                    && err.contains("nothing sent"),
                "{err}"
            );
        }
    }
    let after = bmc.counters();
    assert_eq!(
        (after.resets, after.patches),
        (before.resets, before.patches),
        "nothing sent"
    );
    assert_eq!(
        (bmc.power_state(0), bmc.power_state(1)),
        ("On".into(), "Off".into())
    );
    // Without a boot target the same node powers on.
    let t = on_node(&s, "on", 1, json!({})).await;
    assert_eq!(task(&t, &node(1))["taskStatus"], "succeeded", "{t}");
    s.stop().await;
}

#[tokio::test]
async fn a_system_allowing_no_graceful_off_is_forced_only_where_the_operation_allows() {
    let (s, _d) = start_fast().await;
    let bmc = ready(
        &s,
        SimConfig {
            reset_types: ["On", "ForceOff"].map(String::from).to_vec(),
            initial_power: "On".into(),
            ..Default::default()
        },
    )
    .await;
    // Soft-Off is never forced: refused up front, naming what the BMC allows.
    let (st, v) = s
        .send(
            Method::POST,
            &format!("{PCS}/transitions"),
            json!({"operation": "soft-off", "location": [{"xname": node(0)}]}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("allows reset types On, ForceOff"),
        "{v}"
    );
    // Off allows force: ForceOff at once, no graceful wait first.
    let t = on_node(&s, "off", 0, json!({})).await;
    assert_eq!(described(&t, 0), "Transition confirmed, forceoff", "{t}");
    assert_eq!(bmc.counters().resets, 1);
    s.stop().await;
}

#[tokio::test]
async fn a_restart_that_did_not_happen_is_not_confirmed() {
    let (s, _d) = start_fast().await;
    let bmc = running(&s).await;
    // The OS ignores the restart: PowerState stays On, LastResetTime does not move.
    bmc.set_ignore_graceful(true);
    let t = on_node(&s, "soft-restart", 0, json!({"taskDeadlineSeconds": 1})).await;
    assert_eq!(task(&t, &node(0))["taskStatus"], "failed", "{t}");
    let err = error_naming_target(&t, 0);
    assert!(
        err.contains(
            "GracefulRestart accepted but no restart observed after 1 s: PowerState stayed On"
        ),
        "{err}"
    );
    // A restart that happens, even one that never shows Off, is confirmed by LastResetTime.
    bmc.set_ignore_graceful(false);
    let power_ons = bmc.power_events(0).borrow().power_ons;
    let t = on_node(&s, "soft-restart", 0, json!({})).await;
    assert_eq!(
        described(&t, 0),
        "Transition confirmed, gracefulrestart",
        "{t}"
    );
    assert_eq!(bmc.power_events(0).borrow().power_ons, power_ons + 1);
    s.stop().await;
}

#[tokio::test]
async fn netboot_on_a_node_that_is_on_is_refused_and_a_restart_honours_it() {
    let (s, _d) = start_fast().await;
    let bmc = running(&s).await;
    // Without a boot target, On on an On node is PCS's "already there".
    let t = on_node(&s, "on", 0, json!({})).await;
    assert_eq!(described(&t, 0), "Component already in desired state");
    // With one it is refused, saying how to do it, and nothing is sent.
    let t = on_node(&s, "on", 0, json!({"bootTarget": "Pxe"})).await;
    assert_eq!(task(&t, &node(0))["taskStatus"], "failed", "{t}");
    let err = error_naming_target(&t, 0);
    assert!(
        err.contains("already On")
            && err.contains("restart it with the override")
            && err.ends_with("nothing sent, PowerState On"),
        "{err}"
    );
    assert_eq!((bmc.counters().resets, bmc.counters().patches), (0, 0));
    assert_eq!(bmc.boot_override(0).0, "Disabled");

    // The CLI says the same and exits non-zero, naming the node and the reason.
    let (ok, out, err) = rackboot(&s.base, &["power", "on", &node(0), "--netboot"]).await;
    assert!(!ok, "{out}");
    assert!(
        err.contains("1 of 1 nodes did not reach the requested state")
            && err.contains(&format!("{}: {BMC} /redfish/v1/Systems/Node0: ", node(0)))
            && err.contains("already On"),
        "{err}"
    );

    // A restart with the override honours the intent: override set, then restarted into it.
    let power_ons = bmc.power_events(0).borrow().power_ons;
    let (ok, out, err) = rackboot(&s.base, &["power", "restart", &node(0), "--netboot"]).await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("Transition confirmed, gracefulrestart"),
        "{out}"
    );
    assert_eq!(bmc.power_events(0).borrow().power_ons, power_ons + 1);
    let c = bmc.counters();
    assert_eq!((c.resets, c.patches), (1, 1));
    // The one-shot override was consumed by that restart.
    let (enabled, target, _) = bmc.boot_override(0);
    assert_eq!((enabled.as_str(), target.as_str()), ("Disabled", "Pxe"));
    s.stop().await;
}

/// A BOS Boot → Reboot → Shutdown on Cray EX-like nodes: powered on by their boot order (no
/// boot override to set), and shut down gracefully through `Off`, never forced.
#[tokio::test]
async fn a_bos_session_boots_reboots_and_shuts_down_ex_like_nodes_gracefully() {
    use crate::bos::{Lab, put_image, quick};
    let lab = Lab::start_with(2, quick(), ex425()).await;
    let img = put_image(&lab.s, "img-ex");
    lab.template("ex", &img, &lab.xnames).await;
    for op in ["boot", "reboot", "shutdown"] {
        let done = lab.run("ex", op, None).await;
        assert_eq!(
            done["status"]["percent_successful"], 100.0,
            "{op}: {done:#}"
        );
        assert_eq!(done["status"]["error_summary"], json!({}), "{op}: {done:#}");
    }
    for (i, x) in lab.xnames.iter().enumerate() {
        assert_eq!(lab.power(i), "Off", "{x}");
        let c = lab.component(x).await;
        assert_eq!(
            c["last_action"]["action"], "powering_off_gracefully",
            "{c:#}"
        );
        assert_eq!(c["event_stats"]["power_off_forceful_attempts"], 0, "{c:#}");
        // Recorded On, so the boot is Off, On; the reboot Off, On; the shutdown Off: nothing
        // forced, and no PATCH that could not stick.
        let counters = lab.fleet.bmcs()[i].counters();
        assert_eq!((counters.resets, counters.patches), (5, 0), "{x}");
    }
}
