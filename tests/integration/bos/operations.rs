//! BOS v2 operations end to end: boot (with and without reporters, from local and S3
//! images), reboot, shutdown, and nodes that never boot.

use std::time::Duration;

use rackboot::sim::Behaviour;
use redfish::sim::SimConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::*;
use crate::common::Server;

#[tokio::test]
async fn bos_boot_of_powered_off_nodes_reaches_stable_with_reports() {
    let lab = Lab::start(3).await;
    let path = put_image(&lab.s, "img-a");
    lab.template("compute", &path, &lab.xnames).await;
    let (st, v) = bos(&lab.s, Method::GET, "/sessiontemplatesvalid/compute", None).await;
    assert_eq!((st, v.as_str()), (StatusCode::OK, Some("Valid")));
    let done = lab.run("compute", "boot", None).await;
    assert_all_stable(&done);
    assert_eq!(done["status"]["managed_components_count"], 3);
    for (i, x) in lab.xnames.iter().enumerate() {
        let c = lab.component(x).await;
        assert_eq!(c["status"]["status"], "stable", "{c:#}");
        assert_eq!(c["enabled"], false);
        assert_eq!(
            c["actual_state"]["boot_artifacts"], c["desired_state"]["boot_artifacts"],
            "{c:#}"
        );
        assert_eq!(
            c["desired_state"]["boot_artifacts"]["kernel"],
            "s3://boot-images/img-a/kernel"
        );
        let params = c["desired_state"]["boot_artifacts"]["kernel_parameters"]
            .as_str()
            .unwrap();
        assert!(
            params.contains("console=ttyS0,115200") && params.ends_with("bos_update_frequency=4h"),
            "{params}"
        );
        assert_eq!(
            c["actual_state"]["bss_token"],
            c["desired_state"]["bss_token"]
        );
        assert_eq!(lab.power(i), "On");
        let node = &lab.nodes.nodes()[i];
        assert_eq!(
            node.status().last_reported_token.as_deref(),
            c["desired_state"]["bss_token"].as_str()
        );
        // The boot shows on the node's timeline: power call, script, kernel, initrd, report.
        let (_, tl) = lab
            .s
            .get(&format!("/apis/rackboot/v1/nodes/{x}/timeline"))
            .await;
        let what: Vec<&str> = tl["events"]
            .as_array()
            .or(tl.as_array())
            .unwrap()
            .iter()
            .map(|e| e["what"].as_str().unwrap())
            .collect();
        for step in ["power-on", "bootscript", "kernel", "initrd", "reported"] {
            assert!(what.contains(&step), "{x}: {step} missing from {what:?}");
        }
    }
    // Sessions list and get answer in the contract's shape.
    let (st, list) = bos(&lab.s, Method::GET, "/sessions?status=complete", None).await;
    assert_eq!((st, list.as_array().unwrap().len()), (StatusCode::OK, 1));
}

#[tokio::test]
async fn bos_boot_without_a_reporter_is_inferred_from_boot_evidence() {
    let lab = Lab::start(2).await;
    lab.nodes.set_report(false);
    lab.options(json!({"boot_evidence_wait": 0})).await;
    let path = put_image(&lab.s, "img-a");
    lab.template("compute", &path, &lab.xnames).await;
    let done = lab.run("compute", "boot", None).await;
    assert_all_stable(&done);
    for (i, x) in lab.xnames.iter().enumerate() {
        let c = lab.component(x).await;
        assert_eq!(
            c["actual_state"]["bss_token"], c["desired_state"]["bss_token"],
            "{c:#}"
        );
        assert_eq!(lab.nodes.nodes()[i].status().reports_sent, 0);
        let (_, tl) = lab
            .s
            .get(&format!("/apis/rackboot/v1/nodes/{x}/timeline"))
            .await;
        assert!(
            tl.to_string().contains("inferred from boot evidence"),
            "{tl:#}"
        );
    }
}

#[tokio::test]
async fn bos_boot_evidence_can_be_turned_off_and_then_nodes_wait_for_a_report() {
    let lab = Lab::start(1).await;
    lab.nodes.set_report(false);
    lab.options(json!({"boot_evidence": false, "max_boot_wait_time": 600}))
        .await;
    let path = put_image(&lab.s, "img-a");
    lab.template("compute", &path, &lab.xnames).await;
    let name = lab.create("compute", "boot", None).await;
    // The node boots (fetches its initrd) but nothing may conclude that it did.
    let node = &lab.nodes.nodes()[0];
    tokio::time::timeout(Duration::from_secs(20), node.wait_booted(1))
        .await
        .expect("the node never booted");
    passes(&lab.s, &["bos-boot-evidence", "bos-status"], 2).await;
    let c = lab.component(&lab.xnames[0]).await;
    assert_eq!(c["status"]["status"], "power_on_called", "{c:#}");
    assert_eq!(c["actual_state"]["bss_token"], "", "{c:#}");
    // Turning it back on lets the evidence count.
    lab.options(json!({"boot_evidence": true, "boot_evidence_wait": 0}))
        .await;
    let done = lab.wait_complete(&name).await;
    assert_all_stable(&done);
}

#[tokio::test]
async fn bos_boot_of_nodes_already_on_reboots_only_those_with_other_artifacts() {
    let lab = Lab::start(2).await;
    let a = put_image(&lab.s, "img-a");
    let b = put_image(&lab.s, "img-b");
    lab.template("a", &a, &lab.xnames).await;
    lab.template("b", &b, &lab.xnames[..1]).await;
    assert_all_stable(&lab.run("a", "boot", None).await);
    let resets: Vec<u64> = (0..2).map(|i| lab.resets(i)).collect();
    let tokens: Vec<Value> = {
        let mut t = Vec::new();
        for x in &lab.xnames {
            t.push(lab.component(x).await["actual_state"]["bss_token"].clone());
        }
        t
    };
    // The right artifacts already: a Boot does nothing to the power.
    assert_all_stable(&lab.run("a", "boot", None).await);
    assert_eq!(lab.resets(0), resets[0]);
    assert_eq!(lab.resets(1), resets[1]);
    // Other artifacts: node 0 is powered off and on again into image b.
    assert_all_stable(&lab.run("b", "boot", None).await);
    assert!(
        lab.resets(0) >= resets[0] + 2,
        "node 0 was not power-cycled"
    );
    assert_eq!(lab.resets(1), resets[1], "node 1 is not in template b");
    let c0 = lab.component(&lab.xnames[0]).await;
    assert_eq!(
        c0["actual_state"]["boot_artifacts"]["kernel"],
        "s3://boot-images/img-b/kernel"
    );
    assert_ne!(c0["actual_state"]["bss_token"], tokens[0]);
    assert_eq!(lab.nodes.nodes()[0].status().boots_completed, 2);
}

#[tokio::test]
async fn bos_reboot_power_cycles_and_the_actual_state_moves_to_the_new_token() {
    let lab = Lab::start(2).await;
    let a = put_image(&lab.s, "img-a");
    lab.template("a", &a, &lab.xnames).await;
    assert_all_stable(&lab.run("a", "boot", None).await);
    let before = lab.component(&lab.xnames[0]).await;
    let done = lab.run("a", "reboot", None).await;
    assert_all_stable(&done);
    for (i, x) in lab.xnames.iter().enumerate() {
        let c = lab.component(x).await;
        assert_ne!(
            c["actual_state"]["bss_token"],
            before["actual_state"]["bss_token"]
        );
        assert_eq!(
            c["actual_state"]["bss_token"],
            c["desired_state"]["bss_token"]
        );
        assert_eq!(lab.nodes.nodes()[i].status().boots_completed, 2, "{x}");
        assert_eq!(c["last_action"]["action"], "powering_on");
    }
}

#[tokio::test]
async fn bos_shutdown_is_graceful_and_forceful_after_the_wait_when_ignored() {
    let lab = Lab::start(2).await;
    lab.options(json!({"max_power_off_wait_time": 1})).await;
    let a = put_image(&lab.s, "img-a");
    lab.template("a", &a, &lab.xnames).await;
    assert_all_stable(&lab.run("a", "boot", None).await);
    // Node 1 ignores graceful shutdown.
    lab.fleet.bmcs()[1].set_ignore_graceful(true);
    let done = lab.run("a", "shutdown", None).await;
    assert_all_stable(&done);
    assert_eq!(lab.power(0), "Off");
    assert_eq!(lab.power(1), "Off");
    let c0 = lab.component(&lab.xnames[0]).await;
    let c1 = lab.component(&lab.xnames[1]).await;
    assert_eq!(
        c0["last_action"]["action"], "powering_off_gracefully",
        "{c0:#}"
    );
    assert_eq!(
        c1["last_action"]["action"], "powering_off_forcefully",
        "{c1:#}"
    );
    assert_eq!(c1["desired_state"]["boot_artifacts"]["kernel"], "");
    assert_eq!(c1["actual_state"]["boot_artifacts"]["kernel"], "", "{c1:#}");
}

#[tokio::test]
async fn bos_a_node_that_never_boots_fails_when_its_retries_are_spent() {
    let lab = Lab::start(3).await;
    lab.options(
        json!({"max_boot_wait_time": 1, "max_power_off_wait_time": 1, "default_retry_policy": 2}),
    )
    .await;
    // Node 1 never boots; node 2 boots something else and reports a token nobody minted.
    lab.nodes.nodes()[1].set_behaviour(Behaviour::NeverBoots);
    lab.nodes.nodes()[2].set_behaviour(Behaviour::WrongArtifacts);
    let a = put_image(&lab.s, "img-a");
    lab.template("a", &a, &lab.xnames).await;
    let done = lab.run("a", "boot", None).await;
    let st = &done["status"];
    assert_eq!(st["percent_successful"], 33.33, "{done:#}");
    assert_eq!(st["percent_failed"], 66.67, "{done:#}");
    let summary = st["error_summary"].as_object().unwrap();
    assert_eq!(summary.len(), 1, "{done:#}");
    let (err, entry) = summary.iter().next().unwrap();
    assert!(err.contains("retry limit"), "{err}");
    assert_eq!(entry["count"], 2);
    assert_eq!(
        entry["list"],
        format!("{},{}", lab.xnames[1], lab.xnames[2])
    );
    for x in &lab.xnames[1..] {
        let c = lab.component(x).await;
        assert_eq!(c["status"]["status"], "failed", "{c:#}");
        assert_eq!(c["event_stats"]["power_on_attempts"], 2, "{c:#}");
        assert_eq!(c["enabled"], false);
    }
    // The wrong boot was reported, and never taken for the desired artifacts.
    assert!(lab.nodes.nodes()[2].status().reports_ok >= 1);
    let (_, tl) = lab
        .s
        .get(&format!(
            "/apis/rackboot/v1/nodes/{}/timeline",
            lab.xnames[2]
        ))
        .await;
    assert!(tl.to_string().contains("unknown token"), "{tl:#}");
}

#[tokio::test]
#[ignore = "tier peers: needs s3s-fs in .peers/bin; scripts/test.sh installs and runs it"]
async fn bos_boot_from_an_image_in_s3_with_boot_parameters_and_an_sbps_rootfs() {
    let s3 = crate::s3_peer::S3::start(&["boot-images"]).await;
    let src = s3.source();
    let put = |key: &str, data: Vec<u8>| {
        let src = src.clone();
        let obj = rackboot::artifacts::ObjectRef::new("boot-images", key).unwrap();
        async move { src.put(&obj, bytes::Bytes::from(data)).await.unwrap() }
    };
    put("s3img/kernel", vec![1u8; 200_000]).await;
    put("s3img/initrd", vec![2u8; 500_000]).await;
    let rootfs = put("s3img/rootfs", vec![3u8; 1000]).await;
    put("s3img/boot_parameters", b"quiet  rd.shell\n".to_vec()).await;
    let manifest = json!({"version": "1.0", "created": "2026-11-25", "artifacts": [
        {"link": {"path": "s3://boot-images/s3img/kernel", "etag": "k", "type": "s3"}, "type": "application/vnd.cray.image.kernel"},
        {"link": {"path": "s3://boot-images/s3img/initrd", "etag": "i", "type": "s3"}, "type": "application/vnd.cray.image.initrd"},
        {"link": {"path": "s3://boot-images/s3img/rootfs", "etag": "r00t", "type": "s3"}, "type": "application/vnd.cray.image.rootfs.squashfs"},
        {"link": {"path": "s3://boot-images/s3img/boot_parameters", "etag": "p", "type": "s3"}, "type": "application/vnd.cray.image.parameters.boot"}]});
    put("s3img/manifest.json", manifest.to_string().into_bytes()).await;
    let _ = rootfs;
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(dir.path(), quick().or(s3.settings(crate::s3_peer::SECRET))).await;
    let lab = Lab::around(s, dir, 2, SimConfig::default()).await;
    let (st, v) = bos(
        &lab.s,
        Method::PUT,
        "/sessiontemplates/s3",
        Some(json!({"enable_cfs": false, "boot_sets": {"compute": {
            "type": "s3", "path": "s3://boot-images/s3img/manifest.json", "node_list": lab.xnames,
            "kernel_parameters": "console=ttyS0", "rootfs_provider": "sbps",
            "rootfs_provider_passthrough": "sbps:v1:iqn.x:300"}}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let done = lab.run("s3", "boot", None).await;
    assert_all_stable(&done);
    let c = lab.component(&lab.xnames[0]).await;
    assert_eq!(
        c["desired_state"]["boot_artifacts"]["kernel_parameters"],
        "quiet rd.shell console=ttyS0 root=sbps-s3:s3://boot-images/s3img/rootfs:r00t:sbps:v1:iqn.x:300 nmd_data=url=s3://boot-images/s3img/rootfs,etag=r00t bos_update_frequency=4h",
        "{c:#}"
    );
    // The nodes fetched 200 kB kernels and 500 kB initrds from S3 through the appliance.
    for n in lab.nodes.nodes() {
        assert!(n.status().bytes_fetched >= 700_000, "{:?}", n.status());
    }
}
