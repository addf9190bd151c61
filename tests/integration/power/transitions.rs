//! PCS transitions that succeed: on with netboot, off, restarts, init, abort, the
//! `transition` power state, and the power operators' activity reports.

use std::time::Duration;

use redfish::sim::SimConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::wait_until;

use super::{PCS, confirming, finished, ready_bmc, start_fast, task, transition};

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
