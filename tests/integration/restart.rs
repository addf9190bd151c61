//! Restarting the appliance keeps every record.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::Server;

#[tokio::test]
async fn a_restart_keeps_every_record() {
    let s = Server::start().await;
    s.add_node("x1c0s0b0n0", 1, "Compute", "aa:bb:cc:00:00:01")
        .await;
    s.send(
        Method::POST,
        "/apis/smd/hsm/v2/groups",
        json!({"label": "g1", "members": {"ids": ["x1c0s0b0n0"]}}),
    )
    .await;
    s.send(
        Method::POST,
        "/apis/smd/hsm/v2/partitions",
        json!({"name": "p1", "members": {"ids": ["x1c0s0b0n0"]}}),
    )
    .await;
    s.send(
        Method::POST,
        "/apis/smd/hsm/v2/Inventory/RedfishEndpoints",
        json!({"ID": "x1c0s0b0", "FQDN": "bmc", "Password": "pw", "Enabled": false}),
    )
    .await;
    let (_, h, _) = s
        .call(
            Method::PUT,
            "/boot/v1/bootparameters",
            Some(json!({"hosts": ["x1c0s0b0n0"], "kernel": "http://k", "params": "p"})),
        )
        .await;
    let token = h["bss-referral-token"].to_str().unwrap().to_string();
    s.send(
        Method::PUT,
        "/boot/v1/bootparameters",
        json!({"kernel": "http://k", "params": "img"}),
    )
    .await;
    let (_, before_script) = s.get("/boot/v1/bootscript?nid=1").await;

    let paths = [
        "/apis/smd/hsm/v2/State/Components",
        "/apis/smd/hsm/v2/Inventory/EthernetInterfaces",
        "/apis/smd/hsm/v2/groups",
        "/apis/smd/hsm/v2/partitions",
        "/apis/smd/hsm/v2/Inventory/RedfishEndpoints",
        "/boot/v1/bootparameters",
    ];
    let mut before = vec![];
    for p in paths {
        before.push(s.get(p).await.1);
    }
    let dir = s.data_dir.clone();
    let keep = s.stop().await;

    let s2 = Server::start_in(&dir, Default::default()).await;
    for (p, b) in paths.iter().zip(before) {
        let (st, after) = s2.get(p).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(after, b, "{p} changed across a restart");
    }
    let (_, after_script) = s2.get("/boot/v1/bootscript?nid=1").await;
    assert_eq!(after_script, before_script);
    assert!(
        after_script
            .as_str()
            .unwrap()
            .contains(&format!("bss_referral_token={token}"))
    );
    // The bootscript fetch before the restart was flushed to the endpoint history.
    let (_, hist) = s2.get("/boot/v1/endpoint-history?name=x1c0s0b0n0").await;
    assert!(hist[0]["last_epoch"].as_i64().unwrap() > 0, "{hist}");
    s2.stop().await;
    drop(keep);
}

/// A transition interrupted by a restart resumes where it was recorded and completes.
#[tokio::test]
async fn a_transition_in_progress_resumes_after_a_restart() {
    use std::time::Duration;

    use redfish::sim::{SimBmc, SimConfig};

    use crate::power::{confirming, discovered, fast, finished, register, task, transition};

    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(dir.path(), fast()).await;
    let bmc = SimBmc::start(SimConfig {
        initial_power: "On".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    register(&s, "x1000c0s0b0", &bmc.url(), json!({})).await;
    assert_eq!(
        discovered(&s, "x1000c0s0b0").await["DiscoveryInfo"]["LastDiscoveryStatus"],
        "DiscoverOK"
    );
    // The node ignores the graceful shutdown, so the task waits (deadline: forever).
    bmc.set_ignore_graceful(true);
    let id = transition(
        &s,
        json!({"operation": "soft-off", "location": [{"xname": "x1000c0s0b0n0"}], "taskDeadlineMinutes": -1}),
    )
    .await;
    confirming(&s, &id, "x1000c0s0b0n0").await;
    s.stop().await;

    // While rackboot is down the node's OS finally finishes the shutdown it was sent.
    let resets = bmc.counters().resets;
    assert_eq!(resets, 1);
    bmc.set_power_state(0, "Off");
    let s = Server::start_in(dir.path(), fast()).await;
    let t = finished(&s, &id, Duration::from_secs(15)).await;
    assert_eq!(t["transitionStatus"], "completed", "{t}");
    assert_eq!(task(&t, "x1000c0s0b0n0")["taskStatus"], "succeeded", "{t}");
    assert_eq!(bmc.power_state(0), "Off");
    // The resumed task confirmed the shutdown it had sent; it sent nothing again.
    assert_eq!(bmc.counters().resets, resets);
    s.stop().await;
}

/// Artifact tokens survive a restart (their key is kept, private, in the data directory).
#[tokio::test]
async fn artifact_tokens_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(dir.path(), Default::default()).await;
    s.add_node("x1c0s0b0n0", 1, "Compute", "aa:bb:cc:00:00:01")
        .await;
    s.send(
        Method::PUT,
        "/boot/v1/bootparameters",
        json!({"hosts": ["x1c0s0b0n0"], "kernel": "s3://boot-images/i/kernel"}),
    )
    .await;
    let (_, before) = s.get("/boot/v1/bootscript?mac=aa:bb:cc:00:00:01").await;
    s.stop().await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("artifact-token.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let s = Server::start_in(dir.path(), Default::default()).await;
    let (_, after) = s.get("/boot/v1/bootscript?mac=aa:bb:cc:00:00:01").await;
    let kernel_line = |v: &serde_json::Value| {
        v.as_str()
            .unwrap()
            .lines()
            .find(|l| l.starts_with("kernel "))
            .unwrap()
            .split_whitespace()
            .nth(3)
            .unwrap()
            .to_string()
    };
    assert_eq!(kernel_line(&before), kernel_line(&after));
    s.stop().await;
}
