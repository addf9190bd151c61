//! Component filters and bulk writes through v2, the options, and the sessions the
//! built-in CFS does not run.

use rackboot::config::{CfsKind, Settings};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::Server;

use super::{A, call, ids};

const BASE: &str = "https://vcs.example/base.git";

async fn site(s: &Server) {
    let (st, v) = call(
        s,
        Method::PUT,
        "v2/configurations/site",
        Some(json!({"layers": [{"cloneUrl": BASE, "playbook": "site.yml", "commit": A}]})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn cfs_v2_component_filters_and_patch_many() {
    let s = Server::start().await;
    site(&s).await;
    let comps: Vec<Value> = (0..4)
        .map(|i| {
            json!({"id": format!("x1000c0s0b0n{i}"), "desiredConfig": if i < 2 {"site"} else {""},
                "enabled": i != 3, "tags": {"rack": if i % 2 == 0 {"even"} else {"odd"}}})
        })
        .collect();
    let (st, v) = call(&s, Method::PUT, "v2/components", Some(Value::Array(comps))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(ids(&v).len(), 4, "v2 answers the components written");
    let n = |i: usize| format!("x1000c0s0b0n{i}");
    let list = |q: &'static str| {
        let s = &s;
        async move {
            let (st, v) = call(s, Method::GET, &format!("v2/components{q}"), None).await;
            assert_eq!(st, StatusCode::OK, "{q}: {v}");
            ids(&v)
        }
    };
    assert_eq!(list("?status=pending").await, [n(0), n(1)]);
    assert_eq!(list("?status=unconfigured").await, [n(2), n(3)]);
    assert_eq!(list("?status=pending,unconfigured").await.len(), 4);
    assert_eq!(list("?configName=site").await, [n(0), n(1)]);
    assert_eq!(list("?tags=rack%3Deven").await, [n(0), n(2)]);
    assert_eq!(
        list("?ids=x1000c0s0b0n0%2Cx1000c0s0b0n2").await,
        [n(0), n(2)]
    );
    assert_eq!(list("?enabled=false").await, [n(3)]);
    assert_eq!(list("?configName=site&tags=rack%3Dodd").await, [n(1)]);
    let (st, v) = call(&s, Method::GET, "v2/components?status=bogus", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("status"), "{v}");
    // PATCH many, a list: each item by id; the answer is the components written.
    let (st, v) = call(
        &s,
        Method::PATCH,
        "v2/components",
        Some(json!([{"id": n(0), "enabled": false}, {"id": n(1), "errorCount": 3,
            "stateAppend": {"cloneUrl": BASE, "playbook": "site.yml", "commit": format!("{A}_failed")}}])),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(ids(&v), [n(0), n(1)]);
    assert_eq!(v[0]["enabled"], false);
    assert_eq!(
        v[1]["configurationStatus"], "failed",
        "retries exhausted: {v}"
    );
    // A list naming a component that does not exist: 404, and nothing is written.
    let (st, v) = call(
        &s,
        Method::PATCH,
        "v2/components",
        Some(json!([{"id": n(2), "desiredConfig": "site"}, {"id": "x9", "enabled": true}])),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("x9"), "{v}");
    let (_, c) = call(&s, Method::GET, &format!("v3/components/{}", n(2)), None).await;
    assert_eq!(c["desired_config"], "", "nothing written: {c}");
    // PATCH many, the filtered form with v2's filter names.
    let (st, v) = call(
        &s,
        Method::PATCH,
        "v2/components",
        Some(
            json!({"patch": {"desiredConfig": "", "tags": {"done": "yes"}},
            "filters": {"configName": "site", "enabled": false}}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(ids(&v), [n(0)]);
    let (_, c) = call(&s, Method::GET, &format!("v3/components/{}", n(0)), None).await;
    assert_eq!(
        (c["desired_config"].clone(), c["tags"]["done"].clone()),
        (json!(""), json!("yes"))
    );
    let (_, c) = call(&s, Method::GET, &format!("v3/components/{}", n(1)), None).await;
    assert_eq!(
        c["desired_config"], "site",
        "not selected by the filter: {c}"
    );
    let (st, v) = call(
        &s,
        Method::PATCH,
        "v2/components",
        Some(json!({"patch": {"enabled": true}, "filters": {"bogus": "1"}})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("bogus"), "{v}");
}

#[tokio::test]
async fn cfs_v2_options_are_read_and_set_and_the_effective_ones_act() {
    let s = Server::start().await;
    let (st, o) = call(&s, Method::GET, "v2/options", None).await;
    assert_eq!(st, StatusCode::OK, "{o}");
    assert_eq!(o.as_object().unwrap().len(), 13, "{o}");
    assert_eq!(o["defaultBatcherRetryPolicy"], 3);
    assert_eq!(o["defaultPlaybook"], "site.yml");
    // A component one failure in: pending with the default retry policy of 3...
    site(&s).await;
    let (st, _) = call(
        &s,
        Method::PUT,
        "v2/components/x1000c0s0b0n0",
        Some(json!({"desiredConfig": "site", "errorCount": 1,
            "state": [{"cloneUrl": BASE, "playbook": "site.yml", "commit": format!("{A}_failed"), "sessionName": "s1"}]})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (_, c) = call(&s, Method::GET, "v3/components/x1000c0s0b0n0", None).await;
    assert_eq!(c["configuration_status"], "pending", "{c}");
    // ...failed once the default is 1, through either version.
    let (st, o) = call(
        &s,
        Method::PATCH,
        "v2/options",
        Some(json!({"defaultBatcherRetryPolicy": 1, "defaultPlaybook": "main.yml"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{o}");
    assert_eq!(o["defaultBatcherRetryPolicy"], 1);
    assert_eq!(o["batchSize"], 25, "the rest is kept: {o}");
    let (_, c) = call(&s, Method::GET, "v3/components/x1000c0s0b0n0", None).await;
    assert_eq!(c["configuration_status"], "failed", "{c}");
    let (_, c) = call(&s, Method::GET, "v2/components/x1000c0s0b0n0", None).await;
    assert_eq!(c["configurationStatus"], "failed", "{c}");
    // A v2 layer without a playbook gets the default playbook.
    let (st, v) = call(
        &s,
        Method::PUT,
        "v2/configurations/plain",
        Some(json!({"layers": [{"cloneUrl": BASE, "commit": A}]})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, v3) = call(&s, Method::GET, "v3/configurations/plain", None).await;
    assert_eq!(v3["layers"][0]["playbook"], "main.yml");
    // Bad values are named in v2's spelling; nothing changes.
    for (body, field) in [
        (
            json!({"batchSize": 0, "defaultBatcherRetryPolicy": 5}),
            "batchSize",
        ),
        (json!({"sessionTTL": "1é"}), "sessionTTL"),
        (json!({"loggingLevel": "LOUD"}), "loggingLevel"),
        (json!({"session_ttl": "1d"}), "session_ttl"),
        (json!({"batchSize": "many"}), "batchSize"),
    ] {
        let (st, v) = call(&s, Method::PATCH, "v2/options", Some(body.clone())).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(v["detail"].as_str().unwrap().contains(field), "{body}: {v}");
    }
    let (_, o) = call(&s, Method::GET, "v2/options", None).await;
    assert_eq!(
        (
            o["batchSize"].clone(),
            o["defaultBatcherRetryPolicy"].clone()
        ),
        (json!(25), json!(1))
    );
    // The options are stored: a restart keeps them, and they still act.
    let dir = s.stop().await.unwrap();
    let s = Server::start_in(dir.path(), Settings::default()).await;
    let (_, o) = call(&s, Method::GET, "v2/options", None).await;
    assert_eq!(
        (
            o["defaultBatcherRetryPolicy"].clone(),
            o["defaultPlaybook"].clone()
        ),
        (json!(1), json!("main.yml")),
        "{o}"
    );
    let (_, c) = call(&s, Method::GET, "v3/components/x1000c0s0b0n0", None).await;
    assert_eq!(c["configuration_status"], "failed", "{c}");
    s.stop().await;
}

#[tokio::test]
async fn cfs_sessions_answer_that_the_built_in_cfs_runs_none() {
    let s = Server::start().await;
    for (method, path, body) in [
        (Method::GET, "/apis/cfs/v2/sessions", None),
        (
            Method::POST,
            "/apis/cfs/v2/sessions",
            Some(json!({"name": "s1", "configurationName": "site"})),
        ),
        (Method::GET, "/apis/cfs/v3/sessions", None),
        (
            Method::POST,
            "/apis/cfs/v3/sessions",
            Some(json!({"name": "s1", "configuration_name": "site"})),
        ),
        (Method::GET, "/apis/cfs/v3/sessions/s1", None),
        (Method::DELETE, "/apis/cfs/v2/sessions/s1", None),
    ] {
        let (st, h, v) = s.call(method.clone(), path, body).await;
        assert_eq!(st, StatusCode::NOT_IMPLEMENTED, "{method} {path}: {v}");
        assert_eq!(h["content-type"], "application/problem+json");
        let d = v["detail"].as_str().unwrap();
        for needle in [
            "runs no Ansible sessions",
            "state_append",
            "cfs = external",
            "cfs_url",
        ] {
            assert!(d.contains(needle), "{method} {path}: {d}");
        }
    }
    // With the built-in CFS off, the usual 404 saying where configuration goes.
    let dir = tempfile::tempdir().unwrap();
    let off = Server::start_in(
        dir.path(),
        Settings {
            cfs: Some(CfsKind::None),
            ..Default::default()
        },
    )
    .await;
    let (st, v) = off.get("/apis/cfs/v2/sessions").await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let (st, _) = off.get("/apis/cfs/v2/components").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
