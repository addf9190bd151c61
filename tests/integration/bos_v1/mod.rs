//! BOS v1 on the v2 engine (docs/bos.md, "BOS v1"): the seed's v1 workflows end to end on
//! simulated nodes through exactly the requests `cray bos v1` sends, the v1 status tree at
//! each phase and at the end against the v2 view of the same components, and bad input.
//!
//! Every v1 answer is checked against the last upstream BOS spec with v1
//! (`tests/fixtures/specs/bos-openapi-with-v1.yaml`); every v2 answer against the v2 spec.
//! The request bodies are those `../shared/clients/cray-cli-requests.json` recorded from
//! craycli v0.82.19 (the last with `cray bos v1`), with the capture's names substituted.

mod bad_input;
mod cli;
mod workflows;

use std::collections::HashMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::bos::{Lab, bos};
use crate::common::{Server, wait_until};
use crate::openapi::{Spec, assert_bos_v1_valid, assert_cfs_valid};

pub const V1: &str = "/apis/bos/v1";

/// A BOS v1 call whose answer must match the v1 contract.
pub async fn v1(
    s: &Server,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    v1_as(s, None, method, path, body).await
}

pub async fn v1_as(
    s: &Server,
    tenant: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = s
        .http
        .request(method.clone(), s.url(&format!("{V1}{path}")));
    if let Some(t) = tenant {
        req = req.header("Cray-Tenant-Name", t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let st = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = resp.text().await.unwrap();
    let v: Value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    if !st.is_success() {
        assert_eq!(ct, "application/problem+json", "{method} {path}: {v}");
    }
    let session_details = method == Method::GET
        && st == StatusCode::OK
        && path.starts_with("/session/")
        && path.matches('/').count() == 2;
    if session_details {
        // The spec's answer is `oneOf` V1SessionDetails and V1SessionDetailsByTemplateUuid,
        // two identical open schemas: every body matches both, so none matches exactly one.
        // Checked against the first instead.
        let r = Spec::bos_v1().check_schema("V1SessionDetails", &v);
        assert!(r.is_ok(), "GET {path}: {r:?}\n{v:#}");
    } else {
        assert_bos_v1_valid(method.as_str(), &format!("{V1}{path}"), st.as_u16(), &v);
    }
    (st, v)
}

/// `cray bos v1 sessiontemplate create --name T-v1 --file template.json`, as recorded.
pub fn cli_template(name: &str, configuration: &str, path: &str, nodes: &[String]) -> Value {
    json!({
        "description": "cray CLI check",
        "enable_cfs": true,
        "cfs": {"configuration": configuration},
        "boot_sets": {"compute": {
            "type": "s3",
            "path": path,
            "kernel_parameters": "console=ttyS0,115200",
            "node_list": nodes,
            "arch": "X86"
        }},
        "name": name
    })
}

/// `cray bos v1 session create --template-uuid T --operation <Op>`, as recorded.
pub fn cli_session(operation: &str, template: &str) -> Value {
    json!({"operation": operation, "templateUuid": template})
}

/// POST a v1 session; returns its id (from the `session` link, as the CLI reads it).
pub async fn create(lab: &Lab, body: Value) -> String {
    let (st, v) = v1(&lab.s, Method::POST, "/session", Some(body)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let href = v["links"][0]["href"].as_str().unwrap();
    assert!(href.starts_with("/v1/session/"), "{v}");
    let id = href.rsplit('/').next().unwrap().to_string();
    assert_eq!(v["links"][1]["href"], format!("/v1/session/{id}/status"));
    assert_eq!(v["links"][0]["jobId"], v["job"], "{v}");
    id
}

/// A CFS v3 configuration with one layer at `commit`.
pub async fn cfs_configuration(s: &Server, name: &str, commit: &str) {
    let path = format!("/apis/cfs/v3/configurations/{name}");
    let body = json!({"layers": [{"name": "site", "clone_url": "https://vcs.example/site.git",
        "playbook": "site.yml", "commit": commit}]});
    let (st, _, v) = s.call(Method::PUT, &path, Some(body)).await;
    assert_cfs_valid("PUT", &path, st.as_u16(), &v);
    assert_eq!(st, StatusCode::OK, "{v}");
}

/// Stand in for the configuration agent: report every pending layer of `x` applied.
pub async fn apply_layers(s: &Server, x: &str) {
    let path = format!("/apis/cfs/v3/components/{x}");
    let (st, _, c) = s
        .call(Method::GET, &format!("{path}?config_details=true"), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    for l in c["desired_state"].as_array().into_iter().flatten() {
        if l["status"] != "pending" {
            continue;
        }
        let body = json!({"state_append": {"clone_url": l["clone_url"], "playbook": l["playbook"],
            "commit": l["commit"], "session_name": "test-agent", "status": "applied"}});
        let (st, _, v) = s.call(Method::PATCH, &path, Some(body)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
}

/// The whole v1 tree: the session status, and each boot set's status by name.
pub async fn tree(s: &Server, id: &str) -> (Value, HashMap<String, Value>) {
    let (st, status) = v1(s, Method::GET, &format!("/session/{id}/status"), None).await;
    assert_eq!(st, StatusCode::OK, "{status}");
    assert_eq!(status["id"], id);
    let mut sets = HashMap::new();
    for b in status["boot_sets"].as_array().unwrap() {
        let name = b.as_str().unwrap();
        let (st, doc) = v1(
            s,
            Method::GET,
            &format!("/session/{id}/status/{name}"),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{doc}");
        sets.insert(name.to_string(), doc);
    }
    (status, sets)
}

/// Each phase and category endpoint agrees with its boot set's document (read while the
/// tree holds still).
async fn endpoints_agree(s: &Server, id: &str, sets: &HashMap<String, Value>) {
    for (name, doc) in sets {
        for p in doc["phases"].as_array().unwrap() {
            let ph = p["name"].as_str().unwrap();
            // Phase names are accepted in any case, as the contract's pattern allows.
            let upper = ph.to_ascii_uppercase();
            let path = format!("/session/{id}/status/{name}/{upper}");
            let (st, one) = v1(s, Method::GET, &path, None).await;
            assert_eq!((st, &one), (StatusCode::OK, p));
            for c in p["categories"].as_array().unwrap() {
                let cat = c["name"].as_str().unwrap();
                let path = format!("/session/{id}/status/{name}/{ph}/{cat}");
                let (st, one) = v1(s, Method::GET, &path, None).await;
                assert_eq!((st, &one), (StatusCode::OK, c));
            }
        }
    }
}

/// The nodes of `phase` of boot set `bs` in `category`.
pub fn nodes_in(
    sets: &HashMap<String, Value>,
    bs: &str,
    phase: &str,
    category: &str,
) -> Vec<String> {
    let p = sets[bs]["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == phase)
        .unwrap_or_else(|| panic!("no phase {phase} in {bs}: {:#}", sets[bs]));
    let c = p["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == category)
        .unwrap();
    let mut n: Vec<String> = c["node_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    n.sort();
    n
}

/// Every component, by id (v2 view).
pub async fn components(s: &Server) -> HashMap<String, Value> {
    let (st, v) = bos(s, Method::GET, "/components", None).await;
    assert_eq!(st, StatusCode::OK);
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c.clone()))
        .collect()
}

/// The v1 tree and the v2 components agree: a node under way in a phase is an enabled
/// component of this session in the matching v2 phase; a node that succeeded everywhere is
/// a disabled, stable one; a failed node is failed or disabled; an excluded one belongs to
/// no session of ours.
pub fn agree(id: &str, sets: &HashMap<String, Value>, comps: &HashMap<String, Value>) {
    for (bs, doc) in sets {
        let phases: Vec<&Value> = doc["phases"].as_array().unwrap().iter().collect();
        let mut per_node: HashMap<String, Vec<String>> = HashMap::new();
        for p in &phases {
            for c in p["categories"].as_array().unwrap() {
                for n in c["node_list"].as_array().unwrap() {
                    per_node
                        .entry(n.as_str().unwrap().to_string())
                        .or_default()
                        .push(format!(
                            "{}:{}",
                            p["name"].as_str().unwrap(),
                            c["name"].as_str().unwrap()
                        ));
                }
            }
        }
        for (node, places) in per_node {
            let c = &comps[&node];
            let ctx = format!("boot set {bs}, node {node}: {places:?} vs component {c:#}");
            assert_eq!(places.len(), phases.len(), "{ctx}");
            let phase = c["status"]["phase"].as_str().unwrap();
            for place in &places {
                let (ph, cat) = place.split_once(':').unwrap();
                match cat {
                    "in_progress" => {
                        assert_eq!(c["session"], id, "{ctx}");
                        assert_eq!(c["enabled"], true, "{ctx}");
                        let ok: &[&str] = match ph {
                            "shutdown" => &["powering_off", ""],
                            "boot" => &["powering_on", "powering_off", ""],
                            _ => &["configuring", "powering_on", ""],
                        };
                        assert!(ok.contains(&phase), "{ctx}");
                    }
                    "failed" => assert!(
                        c["status"]["status"] == "failed" || c["enabled"] == false,
                        "{ctx}"
                    ),
                    "excluded" if places.iter().all(|p| p.ends_with(":excluded")) => {
                        assert_ne!(c["session"], id, "{ctx}")
                    }
                    _ => {}
                }
            }
            if places.iter().all(|p| p.ends_with(":succeeded")) {
                assert_eq!(c["session"], id, "{ctx}");
                assert_eq!(
                    (&c["enabled"], &c["status"]["status"]),
                    (&json!(false), &json!("stable")),
                    "{ctx}"
                );
            }
        }
    }
}

/// Wait until the tree satisfies `ok`, then check it against the components read right
/// after (the checkpoints chosen hold still, so both reads see the same state).
pub async fn checkpoint(
    lab: &Lab,
    id: &str,
    what: &str,
    ok: impl Fn(&Value, &HashMap<String, Value>) -> bool,
) -> (Value, HashMap<String, Value>) {
    let (status, sets) = wait_until(what, Duration::from_secs(60), async || {
        let (status, sets) = tree(&lab.s, id).await;
        if ok(&status, &sets) {
            Ok((status, sets))
        } else {
            Err(format!("{status:#}\n{sets:#?}"))
        }
    })
    .await;
    let comps = components(&lab.s).await;
    agree(id, &sets, &comps);
    endpoints_agree(&lab.s, id, &sets).await;
    // Unchanged between the reads.
    let (again, sets_again) = tree(&lab.s, id).await;
    assert_eq!(
        again["metadata"], status["metadata"],
        "the checkpoint moved"
    );
    for (k, v) in &sets {
        assert_eq!(sets_again[k]["phases"], v["phases"], "the checkpoint moved");
    }
    (status, sets)
}

/// Wait for a v1 session to complete; returns its details, checked against its v2 record.
pub async fn wait_complete(lab: &Lab, id: &str) -> Value {
    let details = wait_until(
        "the v1 session to complete",
        Duration::from_secs(90),
        async || {
            let (st, v) = v1(&lab.s, Method::GET, &format!("/session/{id}"), None).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            if v["complete"] == true { Ok(v) } else { Err(v) }
        },
    )
    .await;
    let (st, v2) = bos(&lab.s, Method::GET, &format!("/sessions/{id}"), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v2["status"]["status"], "complete", "{v2:#}");
    assert_eq!(details["in_progress"], false);
    assert_eq!(details["stop_time"], v2["status"]["end_time"]);
    assert_eq!(details["start_time"], v2["status"]["start_time"]);
    details
}
