//! BOS bad input: every refusal in the contract's shape, and nothing half-written.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::*;
use crate::common::wait_until;

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
