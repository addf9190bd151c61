//! BOS sessions handing their nodes to the built-in CFS: nodes configured by their own
//! agents, a failed configuration, one without layers, and an unknown one.

use std::time::Duration;

use rackboot::sim::ConfigAgent;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::bos::{Lab, bos};

use super::{cfs, configuration, layers, template};

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
