//! BMC certificate trust (`bmc_tls = verify | tofu | insecure`) against an HTTPS SimBmc with
//! a self-signed certificate, registered through the plain HSM API (the `cray` CLI's body:
//! no rackboot field): pinned on first contact under `tofu` and refused once the BMC comes
//! back with another certificate, until re-trusted by `rackboot bmc trust` or a PATCH;
//! refused under `verify` with every way to trust it; per-endpoint CA, pin and insecure
//! still overriding the policy. Last, a recorded tree (an out-of-order EX425 blade)
//! replayed over HTTPS the same way: pinned, and named as HSM would name its nodes.

use std::time::Duration;

use rackboot::config::{BmcTls, Settings};
use redfish::sim::{SimBmc, SimConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::cli::rackboot;
use crate::common::Server;
use crate::power::{EP, discovered, fast, finished, register, transition};

const PASSWORD: &str = "bmc-s3cr3t-pw";

fn tls_sim() -> SimConfig {
    SimConfig {
        tls: true,
        password: PASSWORD.into(),
        ..Default::default()
    }
}

async fn start(policy: Option<BmcTls>) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(
        dir.path(),
        Settings {
            bmc_tls: policy,
            ..fast()
        },
    )
    .await;
    (s, dir)
}

/// Register exactly as `cray hsm inventory redfishEndpoints create` does.
async fn register_plain(s: &Server, id: &str, bmc: &SimBmc) {
    let body = json!({"ID": id, "FQDN": format!("127.0.0.1:{}", bmc.addr().port()), "User": "admin", "Password": PASSWORD});
    let (st, v) = s.send(Method::POST, EP, body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
}

async fn rediscover(s: &Server, id: &str) -> Value {
    let (st, v) = s
        .send(
            Method::POST,
            "/apis/smd/hsm/v2/Inventory/Discover",
            json!({"xnames": [id]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    discovered(s, id).await
}

async fn patch(s: &Server, id: &str, body: Value) -> Value {
    let (st, v) = s.send(Method::PATCH, &format!("{EP}/{id}"), body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    discovered(s, id).await
}

fn status(ep: &Value) -> &str {
    ep["DiscoveryInfo"]["LastDiscoveryStatus"].as_str().unwrap()
}

fn error(ep: &Value) -> String {
    ep["DiscoveryInfo"]["LastDiscoveryError"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The same BMC (same systems, MACs and UUIDs) back on the same port with a new
/// self-signed certificate, as after a BMC reset or a certificate renewal.
async fn restart_with_new_certificate(bmc: SimBmc) -> SimBmc {
    let addr = bmc.addr();
    bmc.shutdown().await;
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    SimBmc::start_on(listener, tls_sim()).await.unwrap()
}

#[tokio::test]
async fn tofu_pins_a_plain_hsm_registration_on_first_contact_and_refuses_a_new_certificate_until_re_trusted()
 {
    let (s, _d) = start(None).await;
    let bmc = SimBmc::start(tls_sim()).await.unwrap();
    let first = bmc.cert_sha256().unwrap();
    register_plain(&s, "x1000c0s0b0", &bmc).await;
    let ep = discovered(&s, "x1000c0s0b0").await;
    assert_eq!(status(&ep), "DiscoverOK", "{ep:#}");
    assert_eq!(ep["TLS"], format!("tofu:{first}"));
    assert_eq!(ep["CertSHA256"], first);
    // The power operators use the pin too.
    let id = transition(
        &s,
        json!({"operation": "on", "location": [{"xname": "x1000c0s0b0n0"}]}),
    )
    .await;
    let t = finished(&s, &id, Duration::from_secs(15)).await;
    assert_eq!(t["taskCounts"]["succeeded"], 1, "{t:#}");
    // `rackboot bmc list` shows the pin.
    let (ok, out, err) = rackboot(&s.base, &["bmc", "list"]).await;
    assert!(ok && out.contains(&format!("tofu:{first}")), "{out}{err}");

    // The certificate changes: refused, naming both fingerprints and how to re-trust.
    let bmc = restart_with_new_certificate(bmc).await;
    let second = bmc.cert_sha256().unwrap();
    assert_ne!(first, second);
    let ep = rediscover(&s, "x1000c0s0b0").await;
    assert_eq!(status(&ep), "HTTPsGetFailed", "{ep:#}");
    let e = error(&ep);
    for needle in [
        "BMC x1000c0s0b0",
        "pinned on first contact",
        &format!("it presents SHA-256 {second}, the pin is {first}"),
        "rackboot bmc trust x1000c0s0b0",
        &format!("{{\"CertSHA256\": \"{second}\"}}"),
    ] {
        assert!(e.contains(needle), "{needle} not in {e}");
    }
    assert_eq!(ep["TLS"], format!("tofu:{first}"), "the pin stays");
    assert_eq!(ep["DiscoveryInfo"]["PresentedCertSHA256"], second);
    let c = bmc.counters();
    assert_eq!(
        (c.auth_failures, c.sessions_created),
        (0, 0),
        "no credentials went to the new certificate"
    );
    assert!(
        !ep.to_string().contains(PASSWORD),
        "the password is never shown"
    );
    // Power is refused too, by the same pin.
    let id = transition(
        &s,
        json!({"operation": "off", "location": [{"xname": "x1000c0s0b0n0"}]}),
    )
    .await;
    let t = finished(&s, &id, Duration::from_secs(15)).await;
    assert_eq!(t["taskCounts"]["succeeded"], 0, "{t:#}");
    assert_eq!(bmc.counters().resets, 0, "nothing was sent");

    // Re-trusted from the CLI: exactly the certificate that was refused.
    let (ok, out, err) = rackboot(&s.base, &["bmc", "trust", "x1000c0s0b0"]).await;
    assert!(ok, "{out}{err}");
    assert!(
        err.contains(&format!(
            "trusting the certificate with SHA-256 {second} (was {first})"
        )),
        "{err}"
    );
    assert!(out.contains("DiscoverOK"), "{out}");
    let (_, ep) = s.get(&format!("{EP}/x1000c0s0b0")).await;
    assert_eq!(ep["TLS"], format!("pin:{second}"));
    assert!(ep["DiscoveryInfo"].get("PresentedCertSHA256").is_none());

    // Clearing the pin with a PATCH hands the BMC back to tofu: pinned again on contact.
    let bmc = restart_with_new_certificate(bmc).await;
    let third = bmc.cert_sha256().unwrap();
    let ep = patch(&s, "x1000c0s0b0", json!({"CertSHA256": ""})).await;
    assert_eq!(status(&ep), "DiscoverOK", "{ep:#}");
    assert_eq!(ep["TLS"], format!("tofu:{third}"));
    // A PUT that names no trust (a client that knows nothing of pins) keeps the pin.
    let body = json!({"ID": "x1000c0s0b0", "FQDN": format!("127.0.0.1:{}", bmc.addr().port()), "User": "admin"});
    let (st, v) = s
        .send(Method::PUT, &format!("{EP}/x1000c0s0b0"), body)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["TLS"], format!("tofu:{third}"));

    // A per-endpoint CA still overrides the policy: nothing pinned.
    let other = SimBmc::start(tls_sim()).await.unwrap();
    register(
        &s,
        "x1000c0s1b0",
        &other.url(),
        json!({"Password": PASSWORD, "CACert": other.cert_pem().unwrap()}),
    )
    .await;
    let ep = discovered(&s, "x1000c0s1b0").await;
    assert_eq!((status(&ep), &ep["TLS"]), ("DiscoverOK", &json!("ca")));
    assert!(ep.get("CertSHA256").is_none());
    s.stop().await;
}

#[tokio::test]
async fn verify_refuses_a_self_signed_bmc_naming_the_ways_to_trust_it() {
    let (s, _d) = start(Some(BmcTls::Verify)).await;
    let bmc = SimBmc::start(tls_sim()).await.unwrap();
    let sha = bmc.cert_sha256().unwrap();
    register_plain(&s, "x1000c0s0b0", &bmc).await;
    let ep = discovered(&s, "x1000c0s0b0").await;
    assert_eq!(status(&ep), "HTTPsGetFailed", "{ep:#}");
    let e = error(&ep);
    for needle in [
        "not trusted",
        "bmc_tls = verify accepts only certificates the system's trust roots vouch for",
        &format!("`rackboot bmc trust x1000c0s0b0` (pins SHA-256 {sha})"),
        "CertSHA256",
        "CACert",
        "set bmc_tls = tofu",
    ] {
        assert!(e.contains(needle), "{needle} not in {e}");
    }
    assert_eq!(ep["TLS"], "default");
    assert_eq!(ep["DiscoveryInfo"]["PresentedCertSHA256"], sha);
    assert_eq!(bmc.counters().auth_failures, 0, "no credentials were sent");

    // Trusted as the message says.
    let (ok, out, err) = rackboot(&s.base, &["bmc", "trust", "x1000c0s0b0"]).await;
    assert!(ok && out.contains("DiscoverOK"), "{out}{err}");
    let (_, ep) = s.get(&format!("{EP}/x1000c0s0b0")).await;
    assert_eq!(ep["TLS"], format!("pin:{sha}"));

    // A pin that is not the BMC's certificate is refused, naming both.
    let wrong = "ab".repeat(32);
    let ep = patch(&s, "x1000c0s0b0", json!({"CertSHA256": wrong})).await;
    assert_eq!(status(&ep), "HTTPsGetFailed");
    let e = error(&ep);
    assert!(
        e.contains("pinned by an admin")
            && e.contains(&format!("it presents SHA-256 {sha}, the pin is {wrong}")),
        "{e}"
    );
    // Insecure, asked for by name, works.
    let ep = patch(&s, "x1000c0s0b0", json!({"Insecure": true})).await;
    assert_eq!(
        (status(&ep), &ep["TLS"]),
        ("DiscoverOK", &json!("insecure"))
    );
    // `bmc trust` with nothing refused on record says what to give.
    let (ok, _, err) = rackboot(&s.base, &["bmc", "trust", "x1000c0s0b0"]).await;
    assert!(!ok && err.contains("--bmc-pin SHA256"), "{err}");
    s.stop().await;
}

#[tokio::test]
async fn insecure_policy_discovers_a_self_signed_bmc_without_pinning() {
    let (s, _d) = start(Some(BmcTls::Insecure)).await;
    let bmc = SimBmc::start(tls_sim()).await.unwrap();
    register_plain(&s, "x1000c0s0b0", &bmc).await;
    let ep = discovered(&s, "x1000c0s0b0").await;
    assert_eq!((status(&ep), &ep["TLS"]), ("DiscoverOK", &json!("default")));
    assert!(ep.get("CertSHA256").is_none());
    // A new certificate is no obstacle under insecure; a per-endpoint pin still is.
    let bmc = restart_with_new_certificate(bmc).await;
    assert_eq!(status(&rediscover(&s, "x1000c0s0b0").await), "DiscoverOK");
    let ep = patch(&s, "x1000c0s0b0", json!({"CertSHA256": "cd".repeat(32)})).await;
    assert_eq!(status(&ep), "HTTPsGetFailed", "{ep:#}");
    drop(bmc);
    s.stop().await;
}

#[tokio::test]
async fn a_replayed_out_of_order_blade_over_https_is_pinned_and_named_as_hsm_would() {
    // The recorded EX425 blade, four nodes listed Node3, Node1, Node2, Node0, served over
    // HTTPS with a self-signed certificate and registered with the cray CLI's body alone.
    let tree = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/redfish-mockups/EX425"
    );
    let mockup = redfish::sim::Mockup::load(tree)
        .unwrap()
        .with_nodes(&["Node3", "Node1", "Node2", "Node0"])
        .unwrap();
    let bmc = SimBmc::start(SimConfig {
        mockup: Some(mockup),
        ..tls_sim()
    })
    .await
    .unwrap();
    let (s, _d) = start(None).await;
    register_plain(&s, "x1000c0s0b0", &bmc).await;
    let ep = discovered(&s, "x1000c0s0b0").await;
    assert_eq!(status(&ep), "DiscoverOK", "{ep:#}");
    assert_eq!(ep["TLS"], format!("tofu:{}", bmc.cert_sha256().unwrap()));
    let paths = bmc.system_paths();
    for n in 0..4 {
        let node = format!("x1000c0s0b0n{n}");
        let (_, ce) = s
            .get(&format!(
                "/apis/smd/hsm/v2/Inventory/ComponentEndpoints/{node}"
            ))
            .await;
        let path = format!("/redfish/v1/Systems/Node{n}");
        assert_eq!(ce["OdataID"], path, "{ce:#}");
        let i = paths.iter().position(|p| *p == path).unwrap();
        let nics: Vec<String> = ce["RedfishSystemInfo"]["EthernetNICInfo"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["MACAddress"].as_str().unwrap().to_string())
            .collect();
        assert!(!nics.is_empty(), "{node}");
        assert_eq!(nics, bmc.macs(i), "{node}");
        assert_eq!(
            ce["RedfishSystemInfo"]["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"],
            json!(["ForceOff", "On", "Off"])
        );
    }
    s.stop().await;
}
