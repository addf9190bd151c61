//! The CLI's own requests, and v2 and v3 showing the same state whichever wrote it.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::Server;

use super::{A, B, call, ids};

/// The seed's first step, `cray cfs configurations update sample-config --file
/// configuration.json`, and `cray cfs components list`, byte for byte as craycli 0.99.0
/// sends them; then what the v3 commands show of it.
#[tokio::test]
async fn cfs_v2_seed_first_step_and_cray_cfs_components_list() {
    let s = Server::start().await;
    let commit = "01b8083dd89c394675f3a6955914f344b90581e2";
    let clone = "https://api-gw-service-nmn.local/vcs/cray/configmanagement.git";
    let (st, v) = call(
        &s,
        Method::PUT,
        "v2/configurations/sample-config",
        Some(json!({"layers": [{"cloneUrl": clone, "commit": commit, "playbook": "site.yaml"}]})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["name"], "sample-config");
    assert_eq!(
        v["layers"],
        json!([{"cloneUrl": clone, "commit": commit, "playbook": "site.yaml"}])
    );
    assert!(!v["lastUpdated"].as_str().unwrap().is_empty(), "{v}");
    // The same record through v3.
    let (st, v3) = call(&s, Method::GET, "v3/configurations/sample-config", None).await;
    assert_eq!(st, StatusCode::OK, "{v3}");
    assert_eq!(v3["layers"][0]["clone_url"], clone);
    assert_eq!(v3["last_updated"], v["lastUpdated"]);
    // `cray cfs components list`: nothing yet, a bare array as v2 answers.
    let (st, v) = call(&s, Method::GET, "v2/components", None).await;
    assert_eq!((st, v), (StatusCode::OK, json!([])));
    // BOS's handoff (a v3 bulk PATCH) makes a component; v2 lists it.
    let (st, v) = call(
        &s,
        Method::PUT,
        "v3/components/x3000c0s0b0n0",
        Some(
            json!({"desired_config": "sample-config", "state": [{"clone_url": clone,
            "playbook": "site.yaml", "commit": commit, "status": "failed", "session_name": "s1"}]}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = call(&s, Method::GET, "v2/components", None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(ids(&v), ["x3000c0s0b0n0"]);
    let c = &v[0];
    assert_eq!(c["desiredConfig"], "sample-config");
    assert_eq!(c["state"][0]["commit"], format!("{commit}_failed"));
    assert_eq!(c["state"][0]["cloneUrl"], clone);
    assert_eq!(c["state"][0]["sessionName"], "s1");
    // One failure, retry policy 3: still pending.
    assert_eq!(c["configurationStatus"], "pending", "{c}");
    let (st, v) = call(&s, Method::GET, "v2/configurations", None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["name"], "sample-config");
    let (st, v) = call(&s, Method::GET, "v2", None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

/// The fields both versions show of a component, in v3's names.
fn common_v3(c: &Value) -> Value {
    json!([
        c["id"],
        c["desired_config"],
        c["enabled"],
        c["error_count"],
        c["configuration_status"],
        c["tags"]
    ])
}

fn common_v2(c: &Value) -> Value {
    json!([
        c["id"],
        c["desiredConfig"],
        c["enabled"],
        c["errorCount"],
        c["configurationStatus"],
        c["tags"]
    ])
}

#[tokio::test]
async fn cfs_v2_and_v3_show_the_same_configurations_and_components() {
    let s = Server::start().await;
    let base = "https://vcs.example/base.git";
    let gpu = "https://vcs.example/gpu.git";
    // Written through v3, read through v2.
    let (st, v) = call(
        &s,
        Method::PUT,
        "v3/configurations/site",
        Some(json!({"description": "from v3", "layers": [
            {"name": "base", "clone_url": base, "playbook": "site.yml", "commit": A},
            {"name": "gpu", "clone_url": gpu, "playbook": "gpu.yml", "commit": B,
             "special_parameters": {"ims_require_dkms": true}}]})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v2) = call(&s, Method::GET, "v2/configurations/site", None).await;
    assert_eq!(st, StatusCode::OK, "{v2}");
    assert_eq!(v2["description"], "from v3");
    assert_eq!(v2["layers"][1]["cloneUrl"], gpu);
    assert_eq!(v2["layers"][1]["specialParameters"]["imsRequireDkms"], true);
    assert_eq!(v2["lastUpdated"], v["last_updated"]);
    // Written through v2, read through v3.
    let (st, v) = call(
        &s,
        Method::PUT,
        "v2/configurations/site2",
        Some(json!({"layers": [{"name": "base", "cloneUrl": base, "playbook": "site.yml", "commit": A}],
            "additional_inventory": {"cloneUrl": "https://vcs.example/inv.git", "commit": B}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, v3) = call(&s, Method::GET, "v3/configurations/site2", None).await;
    assert_eq!(v3["layers"][0]["clone_url"], base);
    assert_eq!(
        v3["additional_inventory"]["clone_url"],
        "https://vcs.example/inv.git"
    );
    // A component written through v2: a skipped layer rides on its commit.
    let (st, v) = call(
        &s,
        Method::PUT,
        "v2/components/x1000c0s0b0n0",
        Some(
            json!({"desiredConfig": "site", "enabled": false, "tags": {"rack": "r1"},
            "state": [{"cloneUrl": base, "playbook": "site.yml", "commit": format!("{A}_skipped"),
                "sessionName": "manual"}]}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, c3) = call(
        &s,
        Method::GET,
        "v3/components/x1000c0s0b0n0?state_details=true",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{c3}");
    assert_eq!(c3["state"][0]["commit"], A);
    assert_eq!(c3["state"][0]["status"], "skipped");
    assert_eq!(c3["state"][0]["session_name"], "manual");
    assert_eq!(common_v3(&c3), common_v2(&v));
    // The node reports through v3; v2 sees it.
    let (st, _) = call(
        &s,
        Method::PATCH,
        "v3/components/x1000c0s0b0n0",
        Some(
            json!({"state_append": {"clone_url": gpu, "playbook": "gpu.yml", "commit": B,
            "status": "applied", "session_name": "node"}}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (_, c2) = call(&s, Method::GET, "v2/components/x1000c0s0b0n0", None).await;
    let (_, c3) = call(&s, Method::GET, "v3/components/x1000c0s0b0n0", None).await;
    assert_eq!(c2["state"].as_array().unwrap().len(), 2, "{c2}");
    assert_eq!(c2["state"][1]["commit"], B);
    assert_eq!(c2["configurationStatus"], "configured", "{c2}");
    assert_eq!(common_v3(&c3), common_v2(&c2));
    // The desired layers with their statuses, as both versions detail them.
    let (st, d2) = call(
        &s,
        Method::GET,
        "v2/components/x1000c0s0b0n0?configDetails=true",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{d2}");
    let (_, d3) = call(
        &s,
        Method::GET,
        "v3/components/x1000c0s0b0n0?config_details=true",
        None,
    )
    .await;
    assert_eq!(d2["desiredState"][1]["cloneUrl"], gpu);
    assert_eq!(
        d2["desiredState"][1]["status"],
        d3["desired_state"][1]["status"]
    );
    // A configuration in use cannot be deleted through either version.
    let (st, v) = call(&s, Method::DELETE, "v2/configurations/site", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    // PATCH resolves branches again (there are none): the stamp moves on, layers stay.
    let (st, v) = call(&s, Method::PATCH, "v2/configurations/site2", None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["layers"][0]["commit"], A);
    // Deleted through v2: gone from v3.
    let (st, _) = call(&s, Method::DELETE, "v2/configurations/site2", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = call(&s, Method::GET, "v3/configurations/site2", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = call(&s, Method::DELETE, "v2/components/x1000c0s0b0n0", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = call(&s, Method::GET, "v3/components/x1000c0s0b0n0", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
