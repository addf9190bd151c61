//! The power plane against a real peer: OpenStack's sushy-tools Redfish emulator (fake
//! driver) over HTTPS with Basic auth and a certificate this test generated.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::power::{EP, PCS, discovered, finished, register, start_fast, task, transition};
use crate::sushy::Sushy;

async fn sushy(n: usize) -> Sushy {
    Sushy::start(n).await
}

/// Read a system straight from the emulator, trusting its certificate.
async fn sushy_system(s: &Sushy, i: usize) -> Value {
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(s.cert_pem.as_bytes()).unwrap()])
        .build()
        .unwrap();
    http.get(s.system_url(i))
        .basic_auth(&s.username, Some(&s.password))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
#[ignore = "tier peers: needs sushy-tools in .peers/venv; scripts/test.sh installs and runs it"]
async fn discover_power_on_with_netboot_and_off_against_sushy_tools() {
    let peer = sushy(2).await;
    let (s, _d) = start_fast().await;
    register(
        &s,
        "x3000c0s5b0",
        &peer.url,
        json!({"User": peer.username, "Password": peer.password, "CACert": peer.cert_pem}),
    )
    .await;
    let ep = discovered(&s, "x3000c0s5b0").await;
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
        "{ep}"
    );

    let nodes = ["x3000c0s5b0n0", "x3000c0s5b0n1"];
    for (i, node) in nodes.iter().enumerate() {
        let (st, ce) = s
            .get(&format!(
                "/apis/smd/hsm/v2/Inventory/ComponentEndpoints/{node}"
            ))
            .await;
        assert_eq!(st, StatusCode::OK, "{ce}");
        assert_eq!(
            ce["OdataID"],
            format!("/redfish/v1/Systems/{}", peer.system_ids[i])
        );
        assert_eq!(
            ce["RedfishSystemInfo"]["EthernetNICInfo"][0]["MACAddress"],
            peer.macs[i]
        );
    }

    // Power on with a one-time network boot. sushy applies power changes after a random
    // 1–11 s, so the step deadline is generous and confirmation polls.
    let loc: Vec<Value> = nodes.iter().map(|x| json!({"xname": x})).collect();
    let id = transition(
        &s,
        json!({"operation": "on", "location": loc, "bootTarget": "Pxe", "taskDeadlineSeconds": 40}),
    )
    .await;
    let t = finished(&s, &id, Duration::from_secs(60)).await;
    assert_eq!(t["taskCounts"]["succeeded"], 2, "{t}");
    for i in 0..2 {
        let sys = sushy_system(&peer, i).await;
        assert_eq!(sys["PowerState"], "On", "{sys}");
        assert_eq!(sys["Boot"]["BootSourceOverrideTarget"], "Pxe", "{sys}");
        // sushy keeps overrides as Continuous whatever is asked; rackboot accepts that.
        assert_eq!(sys["Boot"]["BootSourceOverrideEnabled"], "Continuous");
    }
    let (_, v) = s
        .send(
            Method::POST,
            &format!("{PCS}/power-status"),
            json!({"xname": nodes}),
        )
        .await;
    for e in v["status"].as_array().unwrap() {
        assert_eq!(e["powerState"], "on", "{v}");
    }

    // Graceful off.
    let id = transition(
        &s,
        json!({"operation": "soft-off", "location": loc, "taskDeadlineSeconds": 40}),
    )
    .await;
    let t = finished(&s, &id, Duration::from_secs(60)).await;
    assert_eq!(t["taskCounts"]["succeeded"], 2, "{t}");
    assert_eq!(
        task(&t, nodes[0])["taskStatusDescription"],
        "Transition confirmed, gracefulshutdown"
    );
    assert_eq!(sushy_system(&peer, 1).await["PowerState"], "Off");
    s.stop().await;
}

#[tokio::test]
#[ignore = "tier peers: needs sushy-tools in .peers/venv; scripts/test.sh installs and runs it"]
async fn sushy_tools_wrong_password_and_untrusted_certificate() {
    let peer = sushy(1).await;
    // Under bmc_tls = verify: the default (tofu) would pin the certificate on first contact.
    let dir = tempfile::tempdir().unwrap();
    let s = crate::common::Server::start_in(
        dir.path(),
        rackboot::config::Settings {
            bmc_tls: Some(rackboot::config::BmcTls::Verify),
            ..crate::power::fast()
        },
    )
    .await;
    let label = peer.url.trim_start_matches("https://").to_string();
    register(
        &s,
        "x3000c0s6b0",
        &peer.url,
        json!({"User": peer.username, "Password": "wrong", "CACert": peer.cert_pem}),
    )
    .await;
    let ep = discovered(&s, "x3000c0s6b0").await;
    assert_eq!(ep["DiscoveryInfo"]["LastDiscoveryStatus"], "HTTPsGetFailed");
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryError"],
        format!("authentication failed for {label}")
    );

    register(
        &s,
        "x3000c0s7b0",
        &peer.url,
        json!({"User": peer.username, "Password": peer.password}),
    )
    .await;
    let ep = discovered(&s, "x3000c0s7b0").await;
    let err = ep["DiscoveryInfo"]["LastDiscoveryError"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(err.contains("not trusted") && err.contains(&label), "{err}");
    let pin = err
        .split("--pin ")
        .nth(1)
        .and_then(|r| r.get(..64))
        .unwrap_or_else(|| panic!("no pin in {err}"))
        .to_string();
    // The suggested pin is the right one: pinning it makes discovery work.
    let (st, v) = s
        .send(
            Method::PATCH,
            &format!("{EP}/x3000c0s7b0"),
            json!({"CertSHA256": pin}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let ep = discovered(&s, "x3000c0s7b0").await;
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
        "{ep}"
    );
    s.stop().await;
}
