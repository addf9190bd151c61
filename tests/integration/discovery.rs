//! Discovery rules that need no recorded tree, on SimBmc: chassis and switch controllers
//! are registered and discovered with no nodes (as HSM does), and a MAC two BMCs report is
//! kept by the BMC discovered first, with the conflict reported on the second.

use redfish::sim::{SimBmc, SimConfig};
use reqwest::Method;
use serde_json::json;

use crate::cli::rackboot;
use crate::power::{EP, discovered, register, start_fast};

#[tokio::test]
async fn chassis_and_switch_controllers_are_discovered_with_no_nodes() {
    let (s, _d) = start_fast().await;
    let cmm = SimBmc::start(SimConfig {
        systems: 2,
        ..Default::default()
    })
    .await
    .unwrap();
    // From the CLI, as a chassis controller (CMM) xname.
    let (ok, out, err) = rackboot(
        &s.base,
        &[
            "bmc",
            "add",
            &cmm.url(),
            "-u",
            "admin",
            "-p",
            "password",
            "--xname",
            "x1000c0b0",
        ],
    )
    .await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("BMC x1000c0b0: DiscoverOK"), "{out}");
    let (_, ep) = s.get(&format!("{EP}/x1000c0b0")).await;
    assert_eq!(ep["Type"], "ChassisBMC");
    let problems = ep["DiscoveryInfo"]["Problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{ep:#}");
    assert_eq!(problems[0]["Kind"], "Ignored");
    assert!(
        problems[0]["Message"]
            .as_str()
            .unwrap()
            .contains("x1000c0b0 is a ChassisBMC and lists 2 systems"),
        "{ep:#}"
    );
    // Through the HSM API, as a switch controller (RouterBMC) xname.
    let router = SimBmc::start(SimConfig::default()).await.unwrap();
    register(&s, "x1000c0r3b0", &router.url(), json!({})).await;
    let ep = discovered(&s, "x1000c0r3b0").await;
    assert_eq!(
        (&ep["Type"], &ep["DiscoveryInfo"]["LastDiscoveryStatus"]),
        (&json!("RouterBMC"), &json!("DiscoverOK")),
        "{ep:#}"
    );
    let (_, ces) = s.get("/apis/smd/hsm/v2/Inventory/ComponentEndpoints").await;
    assert_eq!(ces["ComponentEndpoints"], json!([]), "no nodes");
    let (_, comps) = s.get("/apis/smd/hsm/v2/State/Components").await;
    assert_eq!(comps["Components"], json!([]));
    s.stop().await;
}

#[tokio::test]
async fn a_mac_two_bmcs_report_stays_with_the_first_and_the_second_reports_it() {
    let (s, _d) = start_fast().await;
    // Two BMCs whose systems report the same MAC (same seed): miswired or cloned.
    let first = SimBmc::start(SimConfig::default()).await.unwrap();
    let second = SimBmc::start(SimConfig::default()).await.unwrap();
    let mac = first.macs(0)[0].clone();
    assert_eq!(second.macs(0)[0], mac);
    register(&s, "x3000c0s1b0", &first.url(), json!({})).await;
    discovered(&s, "x3000c0s1b0").await;
    register(&s, "x3000c0s2b0", &second.url(), json!({})).await;
    let ep = discovered(&s, "x3000c0s2b0").await;
    assert_eq!(ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK");
    let p = &ep["DiscoveryInfo"]["Problems"][0];
    assert_eq!(
        (&p["Kind"], &p["Resource"]),
        (&json!("MACConflict"), &json!(mac))
    );
    let m = p["Message"].as_str().unwrap();
    assert!(
        m.contains("x3000c0s1b0n0")
            && m.contains("behind BMC x3000c0s1b0")
            && m.contains("on BMC x3000c0s2b0"),
        "{m}"
    );
    let id: String = mac.chars().filter(|c| *c != ':').collect();
    let (_, iface) = s
        .get(&format!(
            "/apis/smd/hsm/v2/Inventory/EthernetInterfaces/{id}"
        ))
        .await;
    assert_eq!(iface["ComponentID"], "x3000c0s1b0n0", "not moved");
    // `rackboot bmc list` shows the conflict on the second BMC.
    let (ok, out, err) = rackboot(&s.base, &["bmc", "list"]).await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(&format!("x3000c0s2b0 MACConflict {mac}: MAC {mac}")),
        "{out}"
    );
    // Discovering both again in one pass still leaves it with the first.
    let (_, _) = s
        .send(
            Method::POST,
            "/apis/smd/hsm/v2/Inventory/Discover",
            json!({"xnames": []}),
        )
        .await;
    discovered(&s, "x3000c0s1b0").await;
    discovered(&s, "x3000c0s2b0").await;
    let (_, iface) = s
        .get(&format!(
            "/apis/smd/hsm/v2/Inventory/EthernetInterfaces/{id}"
        ))
        .await;
    assert_eq!(iface["ComponentID"], "x3000c0s1b0n0");

    // Two new BMCs with one MAC, registered in one request and so discovered in one pass,
    // concurrently: exactly one takes it, the other reports it.
    let third = SimBmc::start(SimConfig {
        mac_seed: 100,
        ..Default::default()
    })
    .await
    .unwrap();
    let fourth = SimBmc::start(SimConfig {
        mac_seed: 100,
        ..Default::default()
    })
    .await
    .unwrap();
    let body = json!({"RedfishEndpoints": [
        {"ID": "x3000c0s3b0", "FQDN": third.addr().to_string(), "Scheme": "http", "User": "admin", "Password": "password"},
        {"ID": "x3000c0s4b0", "FQDN": fourth.addr().to_string(), "Scheme": "http", "User": "admin", "Password": "password"},
    ]});
    let (st, v) = s.send(Method::POST, EP, body).await;
    assert_eq!(st, reqwest::StatusCode::CREATED, "{v}");
    let a = discovered(&s, "x3000c0s3b0").await;
    let b = discovered(&s, "x3000c0s4b0").await;
    let mac = third.macs(0)[0].clone();
    let id: String = mac.chars().filter(|c| *c != ':').collect();
    let (_, iface) = s
        .get(&format!(
            "/apis/smd/hsm/v2/Inventory/EthernetInterfaces/{id}"
        ))
        .await;
    let owner = iface["ComponentID"].as_str().unwrap();
    let conflicts = |ep: &serde_json::Value| {
        ep["DiscoveryInfo"]["Problems"]
            .as_array()
            .map(|p| p.iter().filter(|p| p["Kind"] == "MACConflict").count())
            .unwrap_or(0)
    };
    match owner {
        "x3000c0s3b0n0" => assert_eq!((conflicts(&a), conflicts(&b)), (0, 1), "{a:#}{b:#}"),
        "x3000c0s4b0n0" => assert_eq!((conflicts(&a), conflicts(&b)), (1, 0), "{a:#}{b:#}"),
        other => panic!("{mac} went to {other}"),
    }
    s.stop().await;
}
