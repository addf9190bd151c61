//! The built-in `/apis/cfs/v3` (and the v2 component calls) on its own: component filters,
//! paging and bulk writes, bad input, branches resolved with git, and CFS turned off.

use rackboot::config::{CfsKind, Settings};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::Server;
use crate::openapi::assert_cfs_valid;

use super::{A, cfs, configuration, layers};

#[tokio::test]
async fn cfs_api_components_filters_paging_and_bulk_writes() {
    let s = Server::start().await;
    configuration(&s, "site", layers(1)).await;
    let comps: Vec<Value> = (0..5)
        .map(|i| {
            json!({"id": format!("x1000c0s0b0n{i}"), "desired_config": if i < 3 {"site"} else {""},
            "tags": {"rack": if i % 2 == 0 {"even"} else {"odd"}}})
        })
        .collect();
    let (st, v) = cfs(&s, Method::PUT, "/components", Some(Value::Array(comps))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["component_ids"].as_array().unwrap().len(), 5);
    // Paging: two at a time, following `next`.
    let mut seen = Vec::new();
    let mut path = "/components?limit=2".to_string();
    loop {
        let (st, page) = cfs(&s, Method::GET, &path, None).await;
        assert_eq!(st, StatusCode::OK, "{page}");
        for c in page["components"].as_array().unwrap() {
            assert!(c.get("state").is_none(), "state only with state_details");
            seen.push(c["id"].as_str().unwrap().to_string());
        }
        if page["next"].is_null() {
            break;
        }
        let next = page["next"].as_object().unwrap();
        path = format!(
            "/components?limit={}&after_id={}",
            next["limit"],
            next["after_id"].as_str().unwrap()
        );
    }
    assert_eq!(seen.len(), 5);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    // Filters: status, config_name, tags, ids, enabled.
    let ids = |v: &Value| -> Vec<String> {
        v["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, v) = cfs(&s, Method::GET, "/components?status=pending", None).await;
    assert_eq!(ids(&v).len(), 3);
    let (_, v) = cfs(&s, Method::GET, "/components?status=unconfigured", None).await;
    assert_eq!(ids(&v).len(), 2);
    let (_, v) = cfs(
        &s,
        Method::GET,
        "/components?config_name=site&tags=rack=even",
        None,
    )
    .await;
    assert_eq!(ids(&v), ["x1000c0s0b0n0", "x1000c0s0b0n2"]);
    let (_, v) = cfs(
        &s,
        Method::GET,
        "/components?ids=x1000c0s0b0n4,x9&enabled=true",
        None,
    )
    .await;
    assert_eq!(ids(&v), ["x1000c0s0b0n4"]);
    // Bulk PATCH, filter form: only existing components, unknown ids ignored.
    let (st, v) = cfs(
        &s,
        Method::PATCH,
        "/components",
        Some(json!({"patch": {"enabled": false}, "filters": {"ids": "x1000c0s0b0n0,x1000c0s0b0n1,x9"}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["component_ids"],
        json!(["x1000c0s0b0n0", "x1000c0s0b0n1"])
    );
    let (_, v) = cfs(&s, Method::GET, "/components?enabled=false", None).await;
    assert_eq!(ids(&v).len(), 2);
    // List form: 404 for a missing id, and nothing written.
    let (st, v) = cfs(
        &s,
        Method::PATCH,
        "/components",
        Some(json!([{"id": "x1000c0s0b0n2", "enabled": false}, {"id": "x9", "enabled": false}])),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("x9"), "{v}");
    let (_, c) = cfs(&s, Method::GET, "/components/x1000c0s0b0n2", None).await;
    assert_eq!(c["enabled"], true, "a failed list PATCH writes nothing");
    // A layer result, reported as a node or Ansible would.
    let (st, c) = cfs(
        &s,
        Method::PATCH,
        "/components/x1000c0s0b0n2",
        Some(
            json!({"state_append": {"clone_url": "https://vcs.example/base.git",
            "playbook": "site.yml", "commit": A, "status": "applied", "session_name": "s"}}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!(c["configuration_status"], "configured", "{c:#}");
    assert!(
        c["state"][0]["last_updated"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    // Tags: an empty value removes a tag.
    let (_, c) = cfs(
        &s,
        Method::PATCH,
        "/components/x1000c0s0b0n2",
        Some(json!({"tags": {"rack": "", "owner": "lab"}})),
    )
    .await;
    assert_eq!(c["tags"], json!({"owner": "lab"}));
    // Delete, then 404s.
    let (st, _) = cfs(&s, Method::DELETE, "/components/x1000c0s0b0n4", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = cfs(&s, Method::DELETE, "/components/x1000c0s0b0n4", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = cfs(
        &s,
        Method::PATCH,
        "/components/x9",
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn cfs_api_rejects_bad_input_naming_the_field() {
    let s = Server::start().await;
    let bad = |layer: Value| json!({"layers": [layer]});
    for (body, field) in [
        (
            bad(json!({"clone_url": "https://g/a.git", "playbook": "a.yml", "commit": "abc123"})),
            "layers[0].commit",
        ),
        (
            bad(
                json!({"clone_url": "https://g/a.git", "playbook": "a.yml", "commit": A.to_uppercase()}),
            ),
            "layers[0].commit",
        ),
        (
            bad(json!({"clone_url": "https://g/a.git", "commit": A})),
            "layers[0].playbook",
        ),
        (
            bad(json!({"playbook": "a.yml", "commit": A})),
            "layers[0].clone_url",
        ),
        (
            bad(
                json!({"clone_url": "https://g/a.git", "playbook": "a.yml", "commit": A, "branch": "main"}),
            ),
            "layers[0].commit",
        ),
        (
            bad(
                json!({"clone_url": "https://g/a.git", "playbook": "a.yml", "commit": A, "colour": "red"}),
            ),
            "colour",
        ),
        (
            bad(json!({"source": "vault", "playbook": "a.yml", "commit": A})),
            "layers[0].source",
        ),
    ] {
        let (st, v) = cfs(&s, Method::PUT, "/configurations/c1", Some(body.clone())).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body} -> {v}");
        assert!(
            v["detail"].as_str().unwrap().contains(field),
            "{body}: {field} not named in {v}"
        );
    }
    let (st, _) = cfs(&s, Method::GET, "/configurations/c1", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "nothing half-written");
    for (path, body, field) in [
        (
            "/components/x1",
            json!({"desired_config": "c".repeat(61)}),
            "desired_config",
        ),
        ("/components/x1", json!({"enabled": "yes"}), "enabled"),
        (
            "/components/x1",
            json!({"state": [{"clone_url": "u", "playbook": "p", "commit": A, "status": "done", "session_name": "s"}]}),
            "state[0].status",
        ),
        ("/components/x1", json!({"nonsense": 1}), "nonsense"),
    ] {
        let (st, v) = cfs(&s, Method::PUT, path, Some(body.clone())).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body} -> {v}");
        assert!(
            v["detail"].as_str().unwrap().contains(field),
            "{field}: {v}"
        );
    }
    let (st, v) = cfs(&s, Method::GET, "/components?status=happy", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["detail"].as_str().unwrap().contains("happy"), "{v}");
    let (st, v) = cfs(&s, Method::GET, "/components?tags=rack", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["detail"].as_str().unwrap().contains("key=value"), "{v}");
    let (st, _) = cfs(&s, Method::GET, "/components?limit=0", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, v) = cfs(&s, Method::PATCH, "/components", Some(json!({"patch": {}}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    // A configuration in use cannot be deleted.
    configuration(&s, "site", layers(1)).await;
    let (st, _) = cfs(
        &s,
        Method::PUT,
        "/components/x1",
        Some(json!({"desired_config": "site"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = cfs(&s, Method::DELETE, "/configurations/site", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["detail"].as_str().unwrap().contains("x1"), "{v}");
    let (_, list) = cfs(&s, Method::GET, "/configurations?in_use=true", None).await;
    assert_eq!(list["configurations"][0]["name"], "site");
}

#[tokio::test]
async fn cfs_branches_resolve_to_commits_with_git() {
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(repo.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    git(&["init", "-q", "-b", "integration"]);
    std::fs::write(repo.path().join("site.yml"), "- hosts: all\n").unwrap();
    git(&["add", "site.yml"]);
    git(&["commit", "-q", "-m", "first"]);
    let head = git(&["rev-parse", "HEAD"]);
    let url = format!("file://{}", repo.path().display());
    let s = Server::start().await;
    let (st, v) = cfs(
        &s,
        Method::PUT,
        "/configurations/from-branch",
        Some(json!({"layers": [{"clone_url": url, "playbook": "site.yml", "branch": "integration"}]})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["layers"][0]["commit"], head.as_str());
    assert_eq!(v["layers"][0]["branch"], "integration");
    // A new commit on the branch: PATCH resolves again.
    std::fs::write(repo.path().join("site.yml"), "- hosts: compute\n").unwrap();
    git(&["commit", "-q", "-am", "second"]);
    let head2 = git(&["rev-parse", "HEAD"]);
    let (st, v) = cfs(&s, Method::PATCH, "/configurations/from-branch", None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["layers"][0]["commit"], head2.as_str());
    // drop_branches keeps only the commit; an unknown branch is a 400 naming it.
    let (_, v) = cfs(
        &s,
        Method::PUT,
        "/configurations/pinned?drop_branches=true",
        Some(json!({"layers": [{"clone_url": url, "playbook": "site.yml", "branch": "integration"}]})),
    )
    .await;
    assert!(v["layers"][0].get("branch").is_none(), "{v}");
    let (st, v) = cfs(
        &s,
        Method::PUT,
        "/configurations/bad",
        Some(json!({"layers": [{"clone_url": url, "playbook": "site.yml", "branch": "nope"}]})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("layers[0].branch: cannot resolve branch 'nope'"),
        "{v}"
    );
}

#[tokio::test]
async fn cfs_is_not_served_when_configuration_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(
        dir.path(),
        Settings {
            cfs: Some(CfsKind::None),
            ..Default::default()
        },
    )
    .await;
    let (st, v) = s.get("/apis/cfs/v3/configurations").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(v["detail"].as_str().unwrap().contains("cfs = none"), "{v}");
}

#[tokio::test]
async fn cfs_v2_component_calls_of_cfs_state_reporter_work() {
    let s = Server::start().await;
    let (st, _) = cfs(
        &s,
        Method::PUT,
        "/components/x1000c0s0b0n0",
        Some(json!({"desired_config": "site", "enabled": false})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let v2 = |method: Method, body: Option<Value>| {
        let s = &s;
        async move {
            let path = "/apis/cfs/v2/components/x1000c0s0b0n0";
            let (st, _, v) = s.call(method.clone(), path, body).await;
            assert_cfs_valid(method.as_str(), path, st.as_u16(), &v);
            (st, v)
        }
    };
    // What the reporter sends when the node boots.
    let (st, v) = v2(Method::PATCH, Some(json!({"state": [], "enabled": true}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (v["enabled"].clone(), v["desiredConfig"].clone()),
        (json!(true), json!("site"))
    );
    // A failed layer, v2 style: the status rides on the commit.
    let (st, v) = v2(
        Method::PATCH,
        Some(
            json!({"stateAppend": {"cloneUrl": "https://vcs.example/base.git",
            "playbook": "site.yml", "commit": format!("{A}_failed"), "sessionName": "s1"}}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["state"][0]["commit"], format!("{A}_failed"));
    let (_, c) = cfs(
        &s,
        Method::GET,
        "/components/x1000c0s0b0n0?state_details=true",
        None,
    )
    .await;
    assert_eq!(c["state"][0]["commit"], A);
    assert_eq!(c["state"][0]["status"], "failed");
    assert_eq!(c["state"][0]["session_name"], "s1");
    let (st, v) = v2(Method::GET, None).await;
    assert_eq!(st, StatusCode::OK);
    // CFS's rule: without a known desired configuration, any state counts as configured.
    assert_eq!(v["configurationStatus"], "configured", "{v}");
    let (st, _, _) = s
        .call(
            Method::PATCH,
            "/apis/cfs/v2/components/x9",
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
