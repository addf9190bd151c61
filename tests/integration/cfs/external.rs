//! The external CFS mode: the handoff driving a second rackboot's built-in CFS over HTTP, and
//! a CFS that is unreachable until it comes up.

use rackboot::config::{CfsKind, Settings};
use redfish::sim::SimConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::bos::{Lab, bos, quick};
use crate::common::{Server, wait_until};

use super::{A, MINUTE, cfs, configuration, layers, template};

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
