//! What the contract run (tests/contract) found in CFS v2 and v3, each held here so that a
//! change that undoes it fails without the run: `state` layers need every field the schema
//! requires, a `stateAppend` commit has the form a state layer's has (so that it reads
//! back), filters and options refuse `null`, an empty body `id` is refused, a limit beyond a
//! page is every component, and `status=` is no filter.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::Server;

use super::{A, call};

const BASE: &str = "https://vcs.example/base.git";
const NODE: &str = "x1000c0s0b0n0";

async fn refused(s: &Server, method: Method, path: &str, body: Value, needle: &str) {
    let (st, v) = call(s, method, path, Some(body.clone())).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{path} {body}: {v}");
    let d = v["detail"].as_str().unwrap();
    assert!(
        d.contains(needle),
        "{path} {body}: '{d}' does not name {needle}"
    );
}

#[tokio::test]
async fn cfs_state_layers_need_their_status_and_session_name() {
    let s = Server::start().await;
    let v3 = format!("v3/components/{NODE}");
    let v2 = format!("v2/components/{NODE}");
    let layer = json!({"clone_url": BASE, "playbook": "site.yml", "commit": A});
    for (missing, body) in [
        ("status", json!({"state": [{"session_name": "s"}]})),
        ("session_name", json!({"state": [{"status": "applied"}]})),
    ] {
        let mut b = body.clone();
        for (k, v) in layer.as_object().unwrap() {
            b["state"][0][k] = v.clone();
        }
        refused(&s, Method::PUT, &v3, b.clone(), missing).await;
        refused(
            &s,
            Method::PATCH,
            "v3/components",
            json!([{"id": NODE, "state": b["state"]}]),
            missing,
        )
        .await;
    }
    let v2_layer = json!({"cloneUrl": BASE, "playbook": "site.yml", "commit": A});
    refused(
        &s,
        Method::PUT,
        &v2,
        json!({"state": [v2_layer]}),
        "sessionName",
    )
    .await;
    let (st, _) = call(&s, Method::GET, &v3, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "nothing written");

    // With every field, both versions write it; last_updated is stamped when not given.
    let mut full = layer.clone();
    full["status"] = json!("failed");
    full["session_name"] = json!("s1");
    let (st, v) = call(&s, Method::PUT, &v3, Some(json!({"state": [full]}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["state"][0]["status"], "failed", "{v}");
    assert!(
        !v["state"][0]["last_updated"].as_str().unwrap().is_empty(),
        "{v}"
    );
    let mut v2_full = v2_layer.clone();
    v2_full["sessionName"] = json!("s2");
    let (st, v) = call(&s, Method::PUT, &v2, Some(json!({"state": [v2_full]}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["state"][0]["sessionName"], "s2", "{v}");
}

#[tokio::test]
async fn cfs_v2_state_append_commits_take_the_state_commit_form() {
    let s = Server::start().await;
    let v2 = format!("v2/components/{NODE}");
    let (st, v) = call(&s, Method::PUT, &v2, Some(json!({"enabled": true}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // The suffix is the layer's status, stored apart from the commit.
    let body = json!({"stateAppend": {"cloneUrl": BASE, "playbook": "p.yml", "commit": format!("{A}_skipped")}});
    let (st, v) = call(&s, Method::PATCH, &v2, Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, c) = call(
        &s,
        Method::GET,
        &format!("v3/components/{NODE}?state_details=true"),
        None,
    )
    .await;
    assert_eq!(
        (&c["state"][0]["commit"], &c["state"][0]["status"]),
        (&json!(A), &json!("skipped")),
        "{c}"
    );
    // What v2 could not show back in a state layer's form is refused, naming the field; so
    // is a stateAppend without its repository, playbook or commit.
    for (body, field) in [
        (
            json!({"stateAppend": {"cloneUrl": BASE, "playbook": "q.yml", "commit": "__main__"}}),
            "stateAppend.commit",
        ),
        (
            json!({"stateAppend": {"cloneUrl": BASE, "playbook": "q.yml", "commit": "a_b_failed"}}),
            "stateAppend.commit",
        ),
        (
            json!({"stateAppend": {"cloneUrl": BASE, "commit": A}}),
            "playbook",
        ),
        (
            json!({"stateAppend": {"playbook": "q.yml", "commit": A}}),
            "cloneUrl",
        ),
    ] {
        refused(&s, Method::PATCH, &v2, body, field).await;
    }
    let (_, c) = call(&s, Method::GET, &v2, None).await;
    assert_eq!(
        c["state"].as_array().unwrap().len(),
        1,
        "nothing else written: {c}"
    );
}

#[tokio::test]
async fn cfs_filters_options_and_configurations_refuse_null() {
    let s = Server::start().await;
    for (path, filters, field) in [
        ("v3/components", json!({"tags": null}), "filters.tags"),
        ("v3/components", json!({"enabled": null}), "filters.enabled"),
        ("v2/components", json!({"ids": null}), "filters.ids"),
    ] {
        let body = json!({"patch": {"enabled": false}, "filters": filters});
        refused(&s, Method::PATCH, path, body, field).await;
    }
    refused(
        &s,
        Method::PATCH,
        "v3/components",
        json!({"patch": {}, "filters": {}, "none": 1}),
        "none",
    )
    .await;
    refused(
        &s,
        Method::PATCH,
        "v2/options",
        json!({"loggingLevel": null}),
        "loggingLevel",
    )
    .await;
    let body = json!({"layers": [{"cloneUrl": BASE, "commit": A}],
        "additional_inventory": {"cloneUrl": BASE, "branch": null}});
    refused(&s, Method::PUT, "v2/configurations/c1", body, "branch").await;
    let body =
        json!({"layers": [{"clone_url": BASE, "playbook": "site.yml", "commit": A, "name": null}]});
    refused(&s, Method::PUT, "v3/configurations/c1", body, "name").await;
    let (st, v) = call(&s, Method::GET, "v2/options", None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["loggingLevel"], "INFO", "options unchanged: {v}");
}

#[tokio::test]
async fn cfs_component_ids_limits_and_empty_status_filters() {
    let s = Server::start().await;
    // An id in a single write's body may not be empty (the path names the component).
    refused(
        &s,
        Method::PUT,
        &format!("v3/components/{NODE}"),
        json!({"id": ""}),
        "id",
    )
    .await;
    refused(
        &s,
        Method::PATCH,
        &format!("v2/components/{NODE}"),
        json!({"id": ""}),
        "id",
    )
    .await;
    let (st, v) = call(
        &s,
        Method::PUT,
        "v3/components",
        Some(json!([{"id": NODE}, {"id": "x1000c0s0b0n1"}])),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // A limit beyond what any page holds is every component; 0 and words are refused.
    let (st, v) = call(
        &s,
        Method::GET,
        "v3/components?limit=6304919625116414902272",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["components"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["next"], Value::Null, "{v}");
    for bad in ["0", "-1", "ten"] {
        let (st, v) = call(&s, Method::GET, &format!("v3/components?limit={bad}"), None).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }
    // `status=` is no filter in both versions; an unknown status is a 400 naming it.
    let (st, v) = call(&s, Method::GET, "v2/components?status=", None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v.as_array().unwrap().len(), 2, "{v}");
    let (st, v) = call(&s, Method::GET, "v2/components?status=done", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("done"), "{v}");
    // Tags are key=value pairs.
    let (st, v) = call(&s, Method::GET, "v3/components?tags=novalue", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("novalue"), "{v}");
}
