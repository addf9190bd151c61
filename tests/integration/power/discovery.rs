//! Discovery of SimBmc endpoints through the HSM API: nodes, MACs and capabilities over
//! HTTPS, failures recorded with their cause, and Redfish sessions and ActionInfo.

use std::time::Duration;

use redfish::sim::SimConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::assert_problem;

use super::{EP, PCS, discovered, finished, register, sim, start_fast, transition};

#[tokio::test]
async fn discovery_over_https_with_ca_creates_nodes_macs_and_capabilities() {
    let (s, _d) = start_fast().await;
    let bmc = sim(SimConfig {
        systems: 2,
        tls: true,
        ..Default::default()
    })
    .await;
    register(
        &s,
        "x1000c0s0b0",
        &bmc.url(),
        json!({"CACert": bmc.cert_pem().unwrap()}),
    )
    .await;
    let ep = discovered(&s, "x1000c0s0b0").await;
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
        "{ep}"
    );
    assert_eq!(ep["DiscoveryInfo"]["RedfishVersion"], "1.15.0");
    assert_eq!(ep["TLS"], "ca");
    assert!(ep.get("Password").is_none());

    for (i, node) in ["x1000c0s0b0n0", "x1000c0s0b0n1"].iter().enumerate() {
        let (st, c) = s
            .get(&format!("/apis/smd/hsm/v2/State/Components/{node}"))
            .await;
        assert_eq!(st, StatusCode::OK, "{c}");
        assert_eq!(c["Type"], "Node");
        assert_eq!(c["State"], "Off");
        let mac = bmc.macs(i)[0].clone();
        let id = mac.replace(':', "");
        let (st, iface) = s
            .get(&format!(
                "/apis/smd/hsm/v2/Inventory/EthernetInterfaces/{id}"
            ))
            .await;
        assert_eq!(st, StatusCode::OK, "{iface}");
        assert_eq!(iface["ComponentID"], *node);
        let (st, ce) = s
            .get(&format!(
                "/apis/smd/hsm/v2/Inventory/ComponentEndpoints/{node}"
            ))
            .await;
        assert_eq!(st, StatusCode::OK, "{ce}");
        assert_eq!(ce["OdataID"], bmc.system_paths()[i]);
        let allowed = &ce["RedfishSystemInfo"]["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"];
        assert!(
            allowed
                .as_array()
                .unwrap()
                .contains(&json!("GracefulShutdown")),
            "{ce}"
        );
    }
    // The boot script service now knows a discovered node by its MAC.
    let (st, v) = s
        .send(Method::PUT, "/boot/v1/bootparameters", json!({"hosts": ["x1000c0s0b0n1"], "kernel": "http://k/vmlinuz", "params": "console=ttyS0"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let mac = bmc.macs(1)[0].clone();
    let (st, script) = s
        .get(&format!("/boot/v1/bootscript?mac={mac}&arch=x86_64"))
        .await;
    assert_eq!(st, StatusCode::OK, "{script}");
    assert!(
        script.as_str().unwrap().contains("xname=x1000c0s0b0n1"),
        "{script}"
    );
    s.stop().await;
}

#[tokio::test]
async fn discovery_failures_are_recorded_with_the_cause() {
    let (s, _d) = start_fast().await;
    // Nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    register(
        &s,
        "x1000c0s1b0",
        &format!("http://127.0.0.1:{port}"),
        json!({}),
    )
    .await;
    let ep = discovered(&s, "x1000c0s1b0").await;
    assert_eq!(ep["DiscoveryInfo"]["LastDiscoveryStatus"], "HTTPsGetFailed");
    let err = ep["DiscoveryInfo"]["LastDiscoveryError"].as_str().unwrap();
    assert!(
        err.contains(&format!("cannot reach BMC 127.0.0.1:{port}"))
            && err.to_lowercase().contains("refused"),
        "{err}"
    );

    // Wrong password.
    let bmc = sim(SimConfig::default()).await;
    register(&s, "x1000c0s2b0", &bmc.url(), json!({"Password": "wrong"})).await;
    let ep = discovered(&s, "x1000c0s2b0").await;
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryError"],
        format!("authentication failed for {}", bmc.addr())
    );
    // Fixing the password rediscovers.
    let (st, v) = s
        .send(
            Method::PATCH,
            &format!("{EP}/x1000c0s2b0"),
            json!({"Password": "password"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let ep = discovered(&s, "x1000c0s2b0").await;
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
        "{ep}"
    );

    // Certificate trust (bmc_tls, pins, re-trusting) is tested in `bmc_tls.rs`.
    s.stop().await;
}

#[tokio::test]
async fn sessions_are_reused_and_logged_out_and_action_info_is_followed() {
    let (s, _d) = start_fast().await;
    let bmc = sim(SimConfig {
        systems: 4,
        sessions: true,
        action_info: true,
        reset_types: vec!["On".into(), "ForceOff".into()],
        ..Default::default()
    })
    .await;
    bmc.set_session_limit(1);
    register(&s, "x1000c0s0b0", &bmc.url(), json!({})).await;
    let ep = discovered(&s, "x1000c0s0b0").await;
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
        "{ep}"
    );
    let (_, ce) = s
        .get("/apis/smd/hsm/v2/Inventory/ComponentEndpoints/x1000c0s0b0n3")
        .await;
    assert_eq!(
        ce["RedfishSystemInfo"]["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"],
        json!(["On", "ForceOff"])
    );
    let loc: Vec<Value> = (0..4)
        .map(|i| json!({"xname": format!("x1000c0s0b0n{i}")}))
        .collect();
    let id = transition(&s, json!({"operation": "on", "location": loc})).await;
    let t = finished(&s, &id, Duration::from_secs(15)).await;
    assert_eq!(t["taskCounts"]["succeeded"], 4, "{t}");

    // Soft-Off needs GracefulShutdown, which this BMC does not allow: refused up front,
    // naming what it allows.
    let (st, h, v) = s
        .call(
            Method::POST,
            &format!("{PCS}/transitions"),
            Some(json!({"operation": "soft-off", "location": loc})),
        )
        .await;
    assert_problem(
        st,
        &h,
        &v,
        StatusCode::BAD_REQUEST,
        "allows reset types On, ForceOff",
    );
    // Force-Off is allowed.
    let id = transition(&s, json!({"operation": "force-off", "location": loc})).await;
    let t = finished(&s, &id, Duration::from_secs(15)).await;
    assert_eq!(t["taskCounts"]["succeeded"], 4, "{t}");

    let c = bmc.counters();
    assert_eq!(c.sessions_created, 1, "one session, reused: {c:?}");
    s.stop().await;
    assert_eq!(bmc.counters().sessions_deleted, 1, "logged out at shutdown");
}
