//! Bad input through v2: a 400 naming the field as v2 spells it, and nothing written.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::Server;

use super::{A, call};

const BASE: &str = "https://vcs.example/base.git";

/// PUT `body` as configuration `name`: a 400 whose detail names every `needles`, and no
/// configuration of that name through either version afterwards.
async fn refused(s: &Server, name: &str, body: Value, needles: &[&str]) {
    let (st, v) = call(
        s,
        Method::PUT,
        &format!("v2/configurations/{name}"),
        Some(body.clone()),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
    let d = v["detail"].as_str().unwrap();
    for n in needles {
        assert!(d.contains(n), "{body}: '{d}' does not name {n}");
    }
    for version in ["v2", "v3"] {
        let (st, v) = call(
            s,
            Method::GET,
            &format!("{version}/configurations/{name}"),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{version} after {body}: {v}");
    }
}

#[tokio::test]
async fn cfs_v2_bad_configurations_name_the_field_and_write_nothing() {
    let s = Server::start().await;
    // Both commit and branch: refused before any branch is resolved, as upstream and v3.
    refused(
        &s,
        "both",
        json!({"layers": [{"cloneUrl": BASE, "playbook": "site.yml", "commit": A, "branch": "main"}]}),
        &["layers[0].commit", "branch"],
    )
    .await;
    let (st, v3) = call(
        &s,
        Method::PUT,
        "v3/configurations/both",
        Some(json!({"layers": [{"clone_url": BASE, "playbook": "site.yml", "commit": A, "branch": "main"}]})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "v3 refuses it too: {v3}");
    assert!(v3["detail"].as_str().unwrap().contains("layers[0].commit"));
    // v3's spelling sent to v2 is named, not dropped.
    refused(
        &s,
        "snake",
        json!({"layers": [{"clone_url": BASE, "playbook": "site.yml", "commit": A}]}),
        &["layers[0]", "clone_url"],
    )
    .await;
    // v2's schemas allow no other fields.
    refused(
        &s,
        "extra",
        json!({"layers": [], "tenant_name": "t"}),
        &["tenant_name"],
    )
    .await;
    refused(
        &s,
        "source",
        json!({"layers": [{"cloneUrl": BASE, "source": "s", "commit": A}]}),
        &["layers[0]", "source"],
    )
    .await;
    // cloneUrl is required in v2.
    refused(
        &s,
        "nourl",
        json!({"layers": [{"playbook": "site.yml", "commit": A}]}),
        &["layers[0]", "cloneUrl"],
    )
    .await;
    // The app's checks, in v2's words.
    refused(
        &s,
        "badurl",
        json!({"layers": [{"cloneUrl": "has space", "commit": A}]}),
        &["layers[0].cloneUrl"],
    )
    .await;
    refused(
        &s,
        "badcommit",
        json!({"layers": [{"cloneUrl": BASE, "commit": "abc"}]}),
        &["layers[0].commit", "abc"],
    )
    .await;
    refused(
        &s,
        "twice",
        json!({"layers": [{"cloneUrl": BASE, "commit": A}, {"cloneUrl": BASE, "commit": A}]}),
        &["layers[1].playbook"],
    )
    .await;
    refused(
        &s,
        "dkms",
        json!({"layers": [{"cloneUrl": BASE, "commit": A, "specialParameters": {"ims_require_dkms": true}}]}),
        &["specialParameters", "ims_require_dkms"],
    )
    .await;
    let (st, v) = call(&s, Method::GET, "v2/configurations", None).await;
    assert_eq!((st, v), (StatusCode::OK, json!([])));
}

#[tokio::test]
async fn cfs_v2_bad_components_name_the_field_and_write_nothing() {
    let s = Server::start().await;
    // v3's spelling through v2.
    let (st, v) = call(
        &s,
        Method::PUT,
        "v2/components/x1000c0s0b0n0",
        Some(json!({"desired_config": "site"})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("desired_config"),
        "{v}"
    );
    let (st, _) = call(&s, Method::GET, "v3/components/x1000c0s0b0n0", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "nothing written");
    let (st, v) = call(
        &s,
        Method::PUT,
        "v2/components/x1000c0s0b0n0",
        Some(
            json!({"desiredConfig": "site", "state": [{"cloneUrl": BASE, "playbook": "site.yml",
            "commit": A, "sessionName": "s", "lastUpdated": "2026-01-01T00:00:00Z"}]}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // A status suffix v2 does not have, a too-long desired configuration, a bad retry
    // policy: each named; the component is as it was.
    for (body, field) in [
        (
            json!({"stateAppend": {"cloneUrl": BASE, "playbook": "site.yml", "commit": format!("{A}_maybe")}}),
            "stateAppend.commit",
        ),
        (
            json!({"state": [{"cloneUrl": BASE, "playbook": "site.yml", "commit": format!("{A}_later"), "sessionName": "s"}]}),
            "state[0].commit",
        ),
        (
            json!({"state": [{"cloneUrl": BASE, "playbook": "site.yml", "commit": A}]}),
            "sessionName",
        ),
        (json!({"desiredConfig": "x".repeat(61)}), "desired_config"),
        (json!({"retryPolicy": -5}), "retry_policy"),
        (
            json!({"stateAppend": {"cloneUrl": BASE, "playbook": "p", "commit": A, "status": "failed"}}),
            "status",
        ),
        (json!([]), "component"),
        (json!({"tags": null}), "tags"),
        (
            json!({"stateAppend": {"cloneUrl": BASE, "playbook": "p", "commit": A, "sessionName": null}}),
            "sessionName",
        ),
        (json!({"tags": []}), "tags"),
    ] {
        let (st, v) = call(
            &s,
            Method::PATCH,
            "v2/components/x1000c0s0b0n0",
            Some(body.clone()),
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(
            v["detail"].as_str().unwrap().contains(field),
            "{body}: {v} does not name {field}"
        );
    }
    // v3 holds tags to an object of strings too, and refuses a null field.
    for field in ["tags", "enabled", "desired_config", "retry_policy"] {
        let mut body = json!({});
        body[field] = Value::Null;
        let path = "v3/components/x1000c0s0b0n0";
        let (st, v) = call(&s, Method::PATCH, path, Some(body)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{field}: {v}");
        assert!(v["detail"].as_str().unwrap().contains(field), "{v}");
    }
    // A v3 Cray-Tenant-Name is at most 127 characters.
    let resp = (s.http)
        .get(s.url("/apis/cfs/v3/configurations"))
        .header("Cray-Tenant-Name", "t".repeat(128))
        .send()
        .await
        .unwrap();
    let (st, h) = (resp.status(), resp.headers().clone());
    let v: Value = resp.json().await.unwrap();
    crate::common::assert_problem(st, &h, &v, StatusCode::BAD_REQUEST, "Cray-Tenant-Name");
    // A v3 configuration_id is at most 60 characters, on every method.
    for m in [Method::GET, Method::PUT, Method::PATCH, Method::DELETE] {
        let path = format!("v3/configurations/{}", "c".repeat(61));
        let (st, v) = call(&s, m.clone(), &path, Some(json!({"layers": []}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{m}: {v}");
        assert!(
            v["detail"].as_str().unwrap().contains("configuration_id"),
            "{v}"
        );
    }
    let (_, c) = call(&s, Method::GET, "v2/components/x1000c0s0b0n0", None).await;
    assert_eq!(c["desiredConfig"], "site");
    assert_eq!(c["state"].as_array().unwrap().len(), 1, "{c}");
    assert_eq!(c["state"][0]["commit"], A);
    let (st, v) = call(&s, Method::GET, "v2/components?configDetails=maybe", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    // A bulk PUT item without an id: nothing written.
    let (st, v) = call(
        &s,
        Method::PUT,
        "v2/components",
        Some(json!([{"id": "x1000c0s0b0n1", "enabled": true}, {"enabled": false}])),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("component 1"), "{v}");
    let (st, _) = call(&s, Method::GET, "v3/components/x1000c0s0b0n1", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "nothing written");
}
