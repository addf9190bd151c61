//! The seed's BOS v1 workflows on four simulated nodes, through the requests `cray bos v1`
//! sends: Boot and configure, Reconfigure (configure), Power off (shutdown), and Reboot; and
//! boot sets run in `boot_ordinal` order. Each checks the v1 status tree at checkpoints the
//! test holds still (a power delay, a BMC ignoring graceful shutdown, nodes whose own
//! configuration agent is off so the test reports their layers), and at the end, against the
//! v2 view of the same components.

use std::time::Duration;

use rackboot::sim::ConfigAgent;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{
    apply_layers, cfs_configuration, checkpoint, cli_session, cli_template, components, create,
    nodes_in, v1, wait_complete,
};
use crate::bos::{Lab, bos, put_image};
use crate::common::wait_until;

const A: &str = "0123456789abcdef0123456789abcdef01234567";
const B: &str = "89abcdef0123456789abcdef0123456789abcdef";

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

fn agents(lab: &Lab, a: ConfigAgent) {
    for n in lab.nodes.nodes() {
        n.set_config_agent(a);
    }
}

/// The image, configuration `T` and template `T-v1` of the capture, over all the lab's nodes.
async fn template(lab: &Lab) {
    let path = put_image(&lab.s, "demo-image");
    assert_eq!(path, "s3://boot-images/demo-image/manifest.json");
    cfs_configuration(&lab.s, "T", A).await;
    let body = cli_template("T-v1", "T", &path, &lab.xnames);
    let (st, v) = v1(&lab.s, Method::POST, "/sessiontemplate", Some(body)).await;
    assert_eq!((st, v), (StatusCode::CREATED, json!("T-v1")));
}

/// Boot the lab with a v1 Boot session, nodes configuring themselves; wait for the end.
async fn booted(lab: &Lab) {
    template(lab).await;
    let id = create(lab, cli_session("Boot", "T-v1")).await;
    let d = wait_complete(lab, &id).await;
    assert_eq!(d["error_count"], 0, "{d:#}");
    // The nodes' own agents may trail BOS by a poll: let them finish, so that nothing but the
    // test configures a node from here on.
    for n in lab.nodes.nodes() {
        tokio::time::timeout(
            Duration::from_secs(30),
            n.wait_for(|s| s.configuration_status.as_deref() == Some("configured")),
        )
        .await
        .expect("the node's agent saw its configuration done");
    }
}

/// At the end every node succeeded in every phase, as the v2 view says.
async fn all_succeeded(lab: &Lab, id: &str, phases: &[&str]) {
    let (status, sets) = checkpoint(lab, id, "every node done", |st, _| {
        st["metadata"]["complete"] == true
    })
    .await;
    assert_eq!(status["metadata"]["error_count"], 0, "{status:#}");
    let doc = &sets["compute"];
    let names: Vec<&str> = doc["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, phases);
    for p in phases {
        assert_eq!(
            nodes_in(&sets, "compute", p, "succeeded"),
            sorted(&lab.xnames),
            "{p}"
        );
        let ph = doc["phases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == *p)
            .unwrap();
        assert_eq!(ph["metadata"]["complete"], true);
        assert!(ph["metadata"]["stop_time"].is_string(), "{ph:#}");
        assert_eq!(ph["errors"], json!({}));
    }
    assert_eq!(doc["metadata"]["complete"], true);
    let (_, st) = bos(&lab.s, Method::GET, &format!("/sessions/{id}/status"), None).await;
    assert_eq!(st["percent_successful"], 100.0, "{st:#}");
    assert_eq!(st["managed_components_count"], lab.xnames.len());
}

#[tokio::test]
async fn bos_v1_boot_and_configure() {
    let lab = Lab::start(4).await;
    agents(&lab, ConfigAgent::Off);
    for b in lab.fleet.bmcs() {
        b.set_power_delay(Duration::from_secs(3));
    }
    template(&lab).await;
    // Stored in the one template store: v1 and v2 read the same v2 document.
    let (st, t2) = bos(&lab.s, Method::GET, "/sessiontemplates/T-v1", None).await;
    assert_eq!(st, StatusCode::OK, "{t2}");
    assert_eq!(t2["boot_sets"]["compute"]["arch"], "X86");
    assert_eq!(t2["cfs"]["configuration"], "T");
    assert_eq!(t2["tenant"], Value::Null);
    let (_, t1) = v1(&lab.s, Method::GET, "/sessiontemplate/T-v1", None).await;
    assert_eq!(t1, t2);
    let (_, all) = v1(&lab.s, Method::GET, "/sessiontemplate", None).await;
    assert!(
        all.as_array().unwrap().iter().any(|t| t["name"] == "T-v1"),
        "{all}"
    );

    let id = create(&lab, cli_session("Boot", "T-v1")).await;
    let (_, ids) = v1(&lab.s, Method::GET, "/session", None).await;
    assert_eq!(ids, json!([id]));
    let xs = sorted(&lab.xnames);
    // Powering on (the BMCs take 3 s): boot under way, configure not started.
    let (status, sets) = checkpoint(&lab, &id, "boot under way", |_, sets| {
        nodes_in(sets, "compute", "boot", "in_progress") == xs
    })
    .await;
    assert_eq!(nodes_in(&sets, "compute", "configure", "not_started"), xs);
    assert_eq!(status["metadata"]["in_progress"], true);
    assert_eq!(status["boot_sets"], json!(["compute"]));
    // Booted, waiting for configuration (the nodes' agents are off).
    let (_, sets) = checkpoint(&lab, &id, "configure under way", |_, sets| {
        nodes_in(sets, "compute", "configure", "in_progress") == xs
    })
    .await;
    assert_eq!(nodes_in(&sets, "compute", "boot", "succeeded"), xs);
    let boot = &sets["compute"]["phases"][0];
    assert_eq!(boot["name"], "boot");
    assert_eq!(boot["metadata"]["complete"], true);
    for x in &lab.xnames {
        apply_layers(&lab.s, x).await;
    }
    let d = wait_complete(&lab, &id).await;
    assert_eq!(
        (&d["operation"], &d["templateName"], &d["error_count"]),
        (&json!("boot"), &json!("T-v1"), &json!(0))
    );
    all_succeeded(&lab, &id, &["boot", "configure"]).await;
    for i in 0..lab.xnames.len() {
        assert_eq!(lab.power(i), "On");
    }
    let comps = components(&lab.s).await;
    for x in &lab.xnames {
        assert_eq!(comps[x]["desired_state"]["configuration"], "T");
    }
}

#[tokio::test]
async fn bos_v1_reconfigure_changes_only_the_configuration() {
    let lab = Lab::start(4).await;
    booted(&lab).await;
    let resets: Vec<u64> = (0..lab.xnames.len()).map(|i| lab.resets(i)).collect();
    let before = components(&lab.s).await;
    // The configuration moves on; nodes are reconfigured in place.
    cfs_configuration(&lab.s, "T", B).await;
    let id = create(&lab, cli_session("Configure", "T-v1")).await;
    let xs = sorted(&lab.xnames);
    let (_, sets) = checkpoint(&lab, &id, "configure under way", |_, sets| {
        nodes_in(sets, "compute", "configure", "in_progress") == xs
    })
    .await;
    assert_eq!(
        sets["compute"]["phases"].as_array().unwrap().len(),
        1,
        "configure has one phase"
    );
    // Just set up (on hold) or configuring: both are the configure phase under way; wait
    // for the engine to have looked at every node.
    let during = wait_until(
        "every node configuring",
        Duration::from_secs(30),
        async || {
            let c = components(&lab.s).await;
            if lab
                .xnames
                .iter()
                .all(|x| c[x]["status"]["phase"] == "configuring")
            {
                Ok(c)
            } else {
                Err(format!("{c:#?}"))
            }
        },
    )
    .await;
    for x in &lab.xnames {
        let c = &during[x];
        assert_eq!(c["status"]["phase"], "configuring", "{c:#}");
        assert_eq!(
            c["desired_state"]["boot_artifacts"],
            before[x]["actual_state"]["boot_artifacts"]
        );
        assert_ne!(c["desired_state"]["boot_artifacts"]["kernel"], "");
        apply_layers(&lab.s, x).await;
    }
    wait_complete(&lab, &id).await;
    all_succeeded(&lab, &id, &["configure"]).await;
    // No power action: no BMC was reset, every node is still up on its first boot.
    for (i, r) in resets.iter().enumerate() {
        assert_eq!(lab.resets(i), *r, "{}", lab.xnames[i]);
        assert_eq!(lab.power(i), "On");
        assert_eq!(lab.nodes.nodes()[i].status().boots_completed, 1);
    }
    // The v2 view of the same session: a boot of the artifacts the nodes run.
    let (_, s2) = bos(&lab.s, Method::GET, &format!("/sessions/{id}"), None).await;
    assert_eq!(s2["operation"], "boot");
}

#[tokio::test]
async fn bos_v1_power_off() {
    let lab = Lab::start(4).await;
    booted(&lab).await;
    lab.options(json!({"max_power_off_wait_time": 3})).await;
    for b in lab.fleet.bmcs() {
        b.set_ignore_graceful(true);
    }
    let id = create(&lab, cli_session("Shutdown", "T-v1")).await;
    let xs = sorted(&lab.xnames);
    // The OS ignores the graceful shutdown: under way until the forceful one, 3 s later.
    checkpoint(&lab, &id, "shutdown under way", |_, sets| {
        nodes_in(sets, "compute", "shutdown", "in_progress") == xs
    })
    .await;
    wait_complete(&lab, &id).await;
    all_succeeded(&lab, &id, &["shutdown"]).await;
    let comps = components(&lab.s).await;
    for (i, x) in lab.xnames.iter().enumerate() {
        assert_eq!(lab.power(i), "Off");
        assert_eq!(comps[x]["desired_state"]["boot_artifacts"]["kernel"], "");
        assert_eq!(comps[x]["last_action"]["action"], "powering_off_forcefully");
    }
}

#[tokio::test]
async fn bos_v1_reboot() {
    let lab = Lab::start(4).await;
    booted(&lab).await;
    lab.options(json!({"max_power_off_wait_time": 3})).await;
    for b in lab.fleet.bmcs() {
        b.set_ignore_graceful(true);
    }
    agents(&lab, ConfigAgent::Off);
    let id = create(&lab, cli_session("Reboot", "T-v1")).await;
    let xs = sorted(&lab.xnames);
    let (_, sets) = checkpoint(&lab, &id, "shutdown under way", |_, sets| {
        nodes_in(sets, "compute", "shutdown", "in_progress") == xs
    })
    .await;
    assert_eq!(nodes_in(&sets, "compute", "boot", "not_started"), xs);
    let (_, sets) = checkpoint(&lab, &id, "configure under way", |_, sets| {
        nodes_in(sets, "compute", "configure", "in_progress") == xs
    })
    .await;
    assert_eq!(nodes_in(&sets, "compute", "shutdown", "succeeded"), xs);
    assert_eq!(nodes_in(&sets, "compute", "boot", "succeeded"), xs);
    for x in &lab.xnames {
        apply_layers(&lab.s, x).await;
    }
    wait_complete(&lab, &id).await;
    all_succeeded(&lab, &id, &["shutdown", "boot", "configure"]).await;
    for i in 0..lab.xnames.len() {
        assert_eq!(lab.power(i), "On");
        assert_eq!(lab.nodes.nodes()[i].status().boots_completed, 2);
    }
}

#[tokio::test]
async fn bos_v1_boot_sets_run_in_boot_ordinal_order() {
    let lab = Lab::start(4).await;
    agents(&lab, ConfigAgent::Off);
    let path = put_image(&lab.s, "demo-image");
    cfs_configuration(&lab.s, "T", A).await;
    let (early, late) = (sorted(&lab.xnames[2..]), sorted(&lab.xnames[..2]));
    let mut body = cli_template("ordered", "T", &path, &lab.xnames);
    let bs = body["boot_sets"]["compute"].clone();
    let mut a = bs.clone();
    a["node_list"] = json!(late);
    a["boot_ordinal"] = json!(2);
    a["network"] = json!("nmn");
    let mut b = bs;
    b["node_list"] = json!(early);
    b["boot_ordinal"] = json!(1);
    body["boot_sets"] = json!({"late": a, "early": b});
    let (st, v) = v1(&lab.s, Method::POST, "/sessiontemplate", Some(body)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    // The ordinals are not part of the v2 document (the v2 spec would refuse them).
    let (_, t2) = bos(&lab.s, Method::GET, "/sessiontemplates/ordered", None).await;
    assert!(
        t2["boot_sets"]["late"].get("boot_ordinal").is_none(),
        "{t2:#}"
    );
    assert!(t2["boot_sets"]["late"].get("network").is_none(), "{t2:#}");

    let id = create(
        &lab,
        json!({"operation": "boot", "templateName": "ordered"}),
    )
    .await;
    let (_, sets) = checkpoint(&lab, &id, "the early boot set configuring", |_, sets| {
        nodes_in(sets, "early", "configure", "in_progress") == early
    })
    .await;
    // The late boot set has not started: its nodes are untouched.
    assert_eq!(
        nodes_in(&sets, "late", "boot", "not_started"),
        Vec::<String>::new(),
        "nodes unknown until set up"
    );
    assert_eq!(sets["late"]["metadata"]["in_progress"], false);
    assert!(
        sets["late"]["metadata"].get("start_time").is_none(),
        "{:#}",
        sets["late"]
    );
    for (i, x) in lab.xnames.iter().enumerate() {
        if late.contains(x) {
            assert_eq!(lab.power(i), "Off", "{x}");
            assert_eq!(lab.resets(i), 0, "{x}");
        }
    }
    for x in &early {
        apply_layers(&lab.s, x).await;
    }
    let (_, sets) = checkpoint(&lab, &id, "the late boot set configuring", |_, sets| {
        nodes_in(sets, "late", "configure", "in_progress") == late
    })
    .await;
    assert_eq!(nodes_in(&sets, "early", "configure", "succeeded"), early);
    let early_stop = sets["early"]["metadata"]["stop_time"]
        .as_str()
        .unwrap()
        .to_string();
    let late_start = sets["late"]["metadata"]["start_time"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(early_stop <= late_start, "{early_stop} then {late_start}");
    for x in &late {
        apply_layers(&lab.s, x).await;
    }
    let d = wait_complete(&lab, &id).await;
    assert_eq!(d["error_count"], 0, "{d:#}");
    let (_, s2) = bos(&lab.s, Method::GET, &format!("/sessions/{id}"), None).await;
    let mut comps: Vec<&str> = s2["components"].as_str().unwrap().split(',').collect();
    comps.sort();
    assert_eq!(comps, sorted(&lab.xnames), "both stages' nodes");
}
