//! What goes wrong in the power plane: BMC faults as task errors naming the BMC, unknown
//! nodes and bad transition, power-status and endpoint input as 4xx problems.

use std::time::{Duration, Instant};

use redfish::sim::SimConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::assert_problem;

use super::{EP, PCS, finished, ready_bmc, start_fast, task, transition};

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
