//! What the contract run (tests/contract/) found in the BOS v2 handlers, held here so each
//! stays fixed: a panic on a multi-byte age, options BOS validates, component documents and
//! filters held to the contract's bounds, and no empty `last_action.action`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{BOS, bos};
use crate::common::Server;

fn refused(st: StatusCode, v: &Value, needle: &str) {
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let detail = v["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(needle), "{needle}: {v}");
}

#[tokio::test]
async fn an_age_ending_in_a_multi_byte_character_is_a_400_not_a_dropped_connection() {
    let s = Server::start().await;
    let (st, v) = bos(
        &s,
        Method::PATCH,
        "/options",
        Some(json!({"cleanup_completed_session_ttl": "1é"})),
    )
    .await;
    refused(st, &v, "not an age");
    // Raw calls: the spec documents no 400 for these (the contract run's rules add it).
    for q in ["min_age=1%C3%A9", "max_age=%C3%A9", "min_age=1%F0%90%80%80"] {
        for m in [Method::GET, Method::DELETE] {
            let (st, _, v) = s
                .call(m.clone(), &format!("{BOS}/sessions?{q}"), None)
                .await;
            refused(st, &v, "is not an age");
        }
    }
    // The appliance is still there, options unchanged.
    let (st, o) = bos(&s, Method::GET, "/options", None).await;
    assert_eq!(
        (st, o["cleanup_completed_session_ttl"].clone()),
        (StatusCode::OK, json!("7d"))
    );
}

#[tokio::test]
async fn options_take_a_sites_own_keys_but_not_an_empty_patch() {
    let s = Server::start().await;
    let (st, v) = bos(&s, Method::PATCH, "/options", Some(json!({}))).await;
    refused(st, &v, "names no option");
    let (st, v) = bos(
        &s,
        Method::PATCH,
        "/options",
        Some(json!({"site_owner": "ops", "polling_frequency": 20})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, o) = bos(&s, Method::GET, "/options", None).await;
    assert_eq!(
        (o["site_owner"].clone(), o["polling_frequency"].clone()),
        (json!("ops"), json!(20))
    );
    // A known key is still checked.
    let (st, v) = bos(
        &s,
        Method::PATCH,
        "/options",
        Some(json!({"site_owner": 1, "polling_frequency": "x"})),
    )
    .await;
    refused(st, &v, "polling_frequency");
}

#[tokio::test]
async fn component_documents_and_filters_are_held_to_the_contract() {
    let s = Server::start().await;
    let x = "/components/x3000c0s1b0n0";
    let (st, v) = bos(&s, Method::PUT, x, Some(json!({"enabled": true}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    for (body, needle) in [
        (json!({}), "names no field"),
        (json!({"session": "-bad-"}), "not a session name"),
        (
            json!({"staged_state": {"session": "a b"}}),
            "not a session name",
        ),
        (json!({"id": null}), "id"),
        (json!({"retry_policy": 1_048_577}), "retry_policy"),
        (
            json!({"desired_state": {"configuration": "c".repeat(128)}}),
            "desired_state.configuration",
        ),
        (
            json!({"actual_state": {"boot_artifacts": {"initrd": "i".repeat(4096)}}}),
            "initrd",
        ),
    ] {
        let (st, v) = bos(&s, Method::PATCH, x, Some(body.clone())).await;
        refused(st, &v, needle);
    }
    // A failed flag with no action: the action stays absent, never "" (not in the enum).
    let (st, v) = bos(
        &s,
        Method::PATCH,
        x,
        Some(json!({"session": "", "last_action": {"failed": true}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["last_action"]["failed"], true, "{v}");
    assert!(v["last_action"].get("action").is_none(), "{v}");
    crate::openapi::assert_valid("PATCH", &format!("/apis/bos/v2{x}"), 200, &v);
    for q in [
        "phase=AAA",
        "page_size=1048577",
        "start_after_id=",
        "session=-x-",
    ] {
        let (st, v) = bos(&s, Method::GET, &format!("/components?{q}"), None).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{q}: {v}");
    }
    let (st, v) = bos(&s, Method::GET, "/components?phase=", None).await;
    assert_eq!(st, StatusCode::OK, "the empty phase is in the enum: {v}");
    // The filtered PATCH form: only patch and filters, filters only ids and session.
    let (st, v) = bos(
        &s,
        Method::PATCH,
        "/components",
        Some(json!({"patch": {"enabled": false}, "filters": {"ids": "x3000c0s1b0n0"}, "extra": 1})),
    )
    .await;
    refused(st, &v, "unknown field 'extra'");
    let (st, v) = bos(
        &s,
        Method::PATCH,
        "/components",
        Some(json!({"patch": {"enabled": false}, "filters": {"ids": ""}})),
    )
    .await;
    refused(st, &v, "exactly one of ids and session");
    let (st, v) = bos(
        &s,
        Method::PATCH,
        "/components",
        Some(json!({"patch": {"enabled": false}, "filters": {"ids": "a".repeat(65536)}})),
    )
    .await;
    refused(st, &v, "filters.ids is 65536 characters");
    // applystaged: no xnames is none; an empty id is refused.
    let (st, v) = bos(&s, Method::POST, "/applystaged", Some(json!({}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = bos(
        &s,
        Method::POST,
        "/applystaged",
        Some(json!({"xnames": [""]})),
    )
    .await;
    refused(st, &v, "not a component id");
    // A PUT checks its tenant like every other call.
    let (st, v) = super::bos_as(
        &s,
        Some("nobody"),
        Method::PUT,
        x,
        Some(json!({"enabled": true})),
    )
    .await;
    refused(st, &v, "Invalid tenant");
}
