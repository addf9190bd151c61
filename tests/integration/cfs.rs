//! CFS handoff end to end: the built-in `/apis/cfs/v3` (every answer checked against the
//! upstream CFS contract), BOS sessions whose nodes are configured by simulated nodes acting
//! as their own configuration agents, and the external mode against a second rackboot
//! instance serving the built-in CFS over real HTTP.

use std::time::Duration;

use rackboot::config::{CfsKind, Settings};
use rackboot::sim::ConfigAgent;
use redfish::sim::SimConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::bos::{Lab, bos, put_image, quick};
use crate::common::{Server, wait_until};
use crate::openapi::assert_cfs_valid;

const CFS: &str = "/apis/cfs/v3";
const A: &str = "0123456789abcdef0123456789abcdef01234567";
const B: &str = "89abcdef0123456789abcdef0123456789abcdef";

/// A CFS call whose answer must match the contract (except `config_details`, whose
/// per-layer statuses CFS itself reports outside the spec's enum).
async fn cfs(s: &Server, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let (st, _, v) = s.call(method.clone(), &format!("{CFS}{path}"), body).await;
    let v = if v == Value::String(String::new()) {
        Value::Null
    } else {
        v
    };
    if !path.contains("config_details=true") {
        assert_cfs_valid(method.as_str(), &format!("{CFS}{path}"), st.as_u16(), &v);
    }
    (st, v)
}

fn layers(n: usize) -> Value {
    let all = [
        json!({"name": "base", "clone_url": "https://vcs.example/base.git", "playbook": "site.yml", "commit": A}),
        json!({"name": "gpu", "clone_url": "https://vcs.example/gpu.git", "playbook": "gpu.yml", "commit": B}),
    ];
    Value::Array(all.into_iter().take(n).collect())
}

async fn configuration(s: &Server, name: &str, layers: Value) {
    let (st, v) = cfs(
        s,
        Method::PUT,
        &format!("/configurations/{name}"),
        Some(json!({"description": "test", "layers": layers})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

/// A template whose boot set gets configuration `cfg`.
async fn template(lab: &Lab, name: &str, cfg: &str) {
    let path = put_image(&lab.s, "img-a");
    let (st, v) = bos(
        &lab.s,
        Method::PUT,
        &format!("/sessiontemplates/{name}"),
        Some(json!({"enable_cfs": true, "cfs": {"configuration": cfg},
            "boot_sets": {"compute": {"type": "s3", "path": path, "node_list": lab.xnames,
                "kernel_parameters": "console=ttyS0"}}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

/// How long these tests wait for a node or a component to get somewhere.
const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn cfs_builtin_boot_is_configured_by_the_nodes_and_ends_stable() {
    let lab = Lab::start(2).await;
    configuration(&lab.s, "site", layers(2)).await;
    template(&lab, "compute", "site").await;
    let (st, v) = bos(&lab.s, Method::GET, "/sessiontemplatesvalid/compute", None).await;
    assert_eq!((st, v.as_str()), (StatusCode::OK, Some("Valid")));
    let name = lab.create("compute", "boot", None).await;
    let done = lab.wait_complete(&name).await;
    assert_eq!(done["status"]["percent_successful"], 100.0, "{done:#}");
    assert_eq!(done["status"]["error_summary"], json!({}), "{done:#}");
    for (i, x) in lab.xnames.iter().enumerate() {
        let c = lab.component(x).await;
        assert_eq!(c["status"]["status"], "stable", "{c:#}");
        assert_eq!(c["desired_state"]["configuration"], "site");
        // The agent's own last read may trail BOS by one poll.
        let node = tokio::time::timeout(
            Duration::from_secs(10),
            lab.nodes.nodes()[i]
                .wait_for(|s| s.configuration_status.as_deref() == Some("configured")),
        )
        .await
        .expect("the node's agent saw its configuration done");
        assert_eq!(node.layers_applied, 2, "{node:?}");
        let (st, cc) = cfs(
            &lab.s,
            Method::GET,
            &format!("/components/{x}?state_details=true"),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(cc["configuration_status"], "configured", "{cc:#}");
        assert_eq!(cc["desired_config"], "site");
        assert_eq!(cc["enabled"], true, "the node re-enabled itself after boot");
        assert_eq!(cc["tags"]["bos_session"], name.as_str());
        assert_eq!(cc["state"].as_array().unwrap().len(), 2, "{cc:#}");
        assert_eq!(cc["state"][0]["session_name"], "sim-node-agent");
    }
    // The desired layers, each with its status, on request.
    let (_, d) = cfs(
        &lab.s,
        Method::GET,
        &format!("/components/{}?config_details=true", lab.xnames[0]),
        None,
    )
    .await;
    assert_eq!(d["desired_state"][1]["playbook"], "gpu.yml");
    assert_eq!(d["desired_state"][1]["status"], "configured");
}

#[tokio::test]
async fn cfs_builtin_failed_configuration_fails_the_node_and_says_so() {
    let lab = Lab::start(2).await;
    lab.nodes.nodes()[1].set_config_agent(ConfigAgent::Fail);
    configuration(&lab.s, "site", layers(1)).await;
    template(&lab, "compute", "site").await;
    let done = lab.run("compute", "boot", None).await;
    assert_eq!(done["status"]["percent_successful"], 50.0, "{done:#}");
    assert_eq!(done["status"]["percent_failed"], 50.0, "{done:#}");
    let summary = done["status"]["error_summary"].to_string();
    assert!(summary.contains("cfs configuration failed"), "{summary}");
    let ok = lab.component(&lab.xnames[0]).await;
    assert_eq!(ok["status"]["status"], "stable", "{ok:#}");
    let bad = lab.component(&lab.xnames[1]).await;
    assert_eq!(bad["status"]["status"], "failed", "{bad:#}");
    assert_eq!(bad["error"], "cfs configuration failed");
    // CFS's own view: three failed attempts against a retry policy of three.
    let (_, cc) = cfs(
        &lab.s,
        Method::GET,
        &format!("/components/{}?state_details=true", lab.xnames[1]),
        None,
    )
    .await;
    assert_eq!(cc["configuration_status"], "failed", "{cc:#}");
    assert_eq!(cc["error_count"], 3);
    assert_eq!(cc["state"][0]["status"], "failed");
    assert_eq!(lab.nodes.nodes()[1].status().layers_failed, 3);
}

#[tokio::test]
async fn cfs_configuration_without_layers_is_stable_at_boot() {
    let lab = Lab::start(1).await;
    configuration(&lab.s, "empty", json!([])).await;
    template(&lab, "compute", "empty").await;
    let done = lab.run("compute", "boot", None).await;
    assert_eq!(done["status"]["percent_successful"], 100.0, "{done:#}");
    assert_eq!(lab.nodes.nodes()[0].status().layers_applied, 0);
    let (_, cc) = cfs(
        &lab.s,
        Method::GET,
        &format!("/components/{}", lab.xnames[0]),
        None,
    )
    .await;
    assert_eq!(cc["configuration_status"], "configured", "{cc:#}");
}

#[tokio::test]
async fn cfs_unknown_configuration_is_a_template_warning_and_fails_configuration() {
    let lab = Lab::start(1).await;
    template(&lab, "compute", "no-such-config").await;
    let (st, v) = bos(&lab.s, Method::GET, "/sessiontemplatesvalid/compute", None).await;
    assert_eq!(st, StatusCode::OK);
    let msg = v.as_str().unwrap();
    assert!(
        msg.contains("configuration 'no-such-config' does not exist in the built-in CFS"),
        "{msg}"
    );
    // As in BOS, a warning does not stop a session; the node then fails configuration.
    let done = lab.run("compute", "boot", None).await;
    assert_eq!(done["status"]["percent_failed"], 100.0, "{done:#}");
    let c = lab.component(&lab.xnames[0]).await;
    assert_eq!(
        c["error"],
        "cfs is not reporting a valid configuration status for this component: unconfigured",
        "{c:#}"
    );
}

#[tokio::test]
async fn cfs_external_mode_drives_a_second_rackboot_over_http() {
    // The CFS: another appliance serving only its built-in CFS.
    let cfs_dir = tempfile::tempdir().unwrap();
    let remote = Server::start_in(cfs_dir.path(), Settings::default()).await;
    configuration(&remote, "site", layers(1)).await;
    let settings = Settings {
        cfs: Some(CfsKind::External),
        cfs_url: Some(remote.url("/apis/cfs")),
        cfs_token: Some("secret-token".into()),
        ..quick()
    };
    let lab = Lab::start_with(2, settings, SimConfig::default()).await;
    // The appliance in external mode does not serve a CFS of its own.
    let (st, v) = lab.s.get("/apis/cfs/v3/components").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("CFS at http://127.0.0.1"),
        "{v}"
    );
    // CFS's hardware sync would have made a component per node; here the test does.
    let ids: Vec<Value> = lab.xnames.iter().map(|x| json!({"id": x})).collect();
    let (st, _) = cfs(&remote, Method::PUT, "/components", Some(Value::Array(ids))).await;
    assert_eq!(st, StatusCode::OK);
    template(&lab, "compute", "site").await;
    let (_, valid) = bos(&lab.s, Method::GET, "/sessiontemplatesvalid/compute", None).await;
    assert_eq!(valid, "Valid", "the external CFS knows the configuration");
    let name = lab.create("compute", "boot", None).await;
    // BOS handed the nodes over: disabled in the remote CFS, desired config set, tagged.
    for x in &lab.xnames {
        let (x, r) = (x.clone(), &remote);
        wait_until("the remote CFS component", MINUTE, async || {
            let (st, c) = cfs(r, Method::GET, &format!("/components/{x}"), None).await;
            let there = st == StatusCode::OK && c["desired_config"] == "site";
            if there { Ok(()) } else { Err(c) }
        })
        .await;
    }
    // The nodes boot and wait in `configuring` until somebody configures them.
    for x in &lab.xnames {
        wait_until("configuring", MINUTE, async || {
            let c = lab.component(x).await;
            if c["status"]["status"] == "configuring" {
                Ok(())
            } else {
                Err(c)
            }
        })
        .await;
    }
    let (_, c) = cfs(
        &remote,
        Method::GET,
        &format!("/components/{}", lab.xnames[0]),
        None,
    )
    .await;
    assert_eq!(c["tags"]["bos_session"], name.as_str(), "{c:#}");
    assert_eq!(c["configuration_status"], "pending");
    // An Ansible run on the CFS side reports the layer applied on each node.
    let (st, ids) = cfs(
        &remote,
        Method::PATCH,
        "/components",
        Some(json!({"patch": {"enabled": true, "state_append": {
            "clone_url": "https://vcs.example/base.git", "playbook": "site.yml",
            "commit": A, "status": "applied", "session_name": "ansible-1"}},
            "filters": {"ids": lab.xnames.join(",")}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{ids}");
    assert_eq!(ids["component_ids"].as_array().unwrap().len(), 2);
    let done = lab.wait_complete(&name).await;
    assert_eq!(done["status"]["percent_successful"], 100.0, "{done:#}");
    for x in &lab.xnames {
        assert_eq!(lab.component(x).await["status"]["status"], "stable");
    }
}

#[tokio::test]
async fn cfs_external_unreachable_is_a_component_error_retried_until_it_answers() {
    // A port nothing listens on, until the CFS is started there.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let url = format!("http://{addr}/apis/cfs");
    let settings = Settings {
        cfs: Some(CfsKind::External),
        cfs_url: Some(url.clone()),
        ..quick()
    };
    let lab = Lab::start_with(1, settings, SimConfig::default()).await;
    lab.options(json!({"default_retry_policy": 100, "max_power_on_wait_time": 1}))
        .await;
    template(&lab, "compute", "site").await;
    let (_, valid) = bos(&lab.s, Method::GET, "/sessiontemplatesvalid/compute", None).await;
    assert!(
        valid
            .as_str()
            .unwrap()
            .contains("cannot check configuration 'site'"),
        "{valid}"
    );
    let name = lab.create("compute", "boot", None).await;
    let x = lab.xnames[0].clone();
    wait_until("a retried handoff error", MINUTE, async || {
        let c = lab.component(&x).await;
        let retried = c["event_stats"]["power_on_attempts"].as_u64().unwrap_or(0) >= 2
            && c["error"].as_str().unwrap_or("").contains(&format!(
                "configuration handoff: CFS PATCH {url}/v3/components"
            ));
        if retried { Ok(()) } else { Err(c) }
    })
    .await;
    assert_eq!(lab.power(0), "Off", "no power-on without the handoff");
    // The CFS comes up where it was expected, already knowing the node and the
    // configuration (made on a first run elsewhere, as its hardware sync would have): the
    // next attempt goes through.
    let cfs_dir = tempfile::tempdir().unwrap();
    let first = Server::start_in(cfs_dir.path(), Settings::default()).await;
    configuration(&first, "site", json!([])).await;
    let (st, _) = cfs(
        &first,
        Method::PUT,
        &format!("/components/{x}"),
        Some(json!({})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    first.stop().await;
    let _remote = Server::start_at(cfs_dir.path(), Settings::default(), &addr.to_string()).await;
    let done = lab.wait_complete(&name).await;
    let c = lab.component(&x).await;
    assert_eq!(
        done["status"]["percent_successful"], 100.0,
        "{done:#}\n{c:#}"
    );
    assert_eq!(c["status"]["status"], "stable", "{c:#}");
}

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
            json!({"state": [{"clone_url": "u", "playbook": "p", "commit": A, "status": "done"}]}),
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
