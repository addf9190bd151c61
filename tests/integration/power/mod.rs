//! The power plane against SimBmc (real Redfish over HTTP(S)): discovery, transitions,
//! power status, and every fault knob, through rackboot's HTTP API.
//!
//! The helpers here are shared with the other test modules (`crate::power::register`, …);
//! the tests are in the topic modules below.

use std::time::Duration;

use rackboot::config::Settings;
use redfish::sim::{SimBmc, SimConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Server, wait_until};

mod contract_findings;
mod discovery;
mod errors;
mod transitions;

pub const EP: &str = "/apis/smd/hsm/v2/Inventory/RedfishEndpoints";
pub const PCS: &str = "/apis/power-control/v1";

/// Fast timings for tests: confirm every 100 ms, sample every second, 2 s BMC timeout.
pub fn fast() -> Settings {
    Settings {
        power_confirm_ms: Some(100),
        power_sample_secs: Some(1),
        bmc_timeout_secs: Some(2),
        ..Default::default()
    }
}

pub async fn start_fast() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(dir.path(), fast()).await;
    (s, dir)
}

/// FQDN (host:port) and scheme of a URL.
pub fn split_url(url: &str) -> (String, String) {
    let u = url::Url::parse(url).unwrap();
    (
        format!("{}:{}", u.host_str().unwrap(), u.port().unwrap()),
        u.scheme().to_string(),
    )
}

/// Register a BMC; `extra` adds/overrides fields (CACert, CertSHA256, Insecure, Password…).
pub async fn register(s: &Server, id: &str, url: &str, extra: Value) {
    let (fqdn, scheme) = split_url(url);
    let mut body =
        json!({"ID": id, "FQDN": fqdn, "Scheme": scheme, "User": "admin", "Password": "password"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (st, v) = s.send(Method::POST, EP, body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
}

/// Wait until discovery of `id` has finished; returns the endpoint.
pub async fn discovered(s: &Server, id: &str) -> Value {
    let what = format!("discovery of {id} to finish");
    wait_until(&what, Duration::from_secs(30), async || {
        let (st, ep) = s.get(&format!("{EP}/{id}")).await;
        assert_eq!(st, StatusCode::OK, "{ep}");
        let status = ep["DiscoveryInfo"]["LastDiscoveryStatus"].as_str().unwrap();
        if status != "NotYetQueried" && status != "DiscoveryStarted" {
            Ok(ep)
        } else {
            Err(ep)
        }
    })
    .await
}

/// Start a transition; returns its ID.
pub async fn transition(s: &Server, body: Value) -> String {
    let (st, v) = s
        .send(Method::POST, &format!("{PCS}/transitions"), body)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["transitionID"].as_str().unwrap().to_string()
}

/// Wait until a transition is completed or aborted; returns it with its tasks.
pub async fn finished(s: &Server, id: &str, limit: Duration) -> Value {
    let what = format!("transition {id} to be completed or aborted");
    wait_until(&what, limit, async || {
        let (st, t) = s.get(&format!("{PCS}/transitions/{id}")).await;
        assert_eq!(st, StatusCode::OK, "{t}");
        let done = matches!(
            t["transitionStatus"].as_str(),
            Some("completed" | "aborted")
        );
        if done { Ok(t) } else { Err(t) }
    })
    .await
}

/// Wait until the task of `xname` in transition `id` is confirming its power change (the
/// command was sent and the transition is running).
pub async fn confirming(s: &Server, id: &str, xname: &str) {
    let what = format!("transition {id} to be confirming {xname}");
    wait_until(&what, Duration::from_secs(10), async || {
        let (_, t) = s.get(&format!("{PCS}/transitions/{id}")).await;
        let described = task(&t, xname)["taskStatusDescription"].as_str();
        if described.unwrap().starts_with("Confirming") {
            Ok(())
        } else {
            Err(t)
        }
    })
    .await
}

pub fn task<'a>(t: &'a Value, xname: &str) -> &'a Value {
    t["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["xname"] == xname)
        .unwrap_or_else(|| panic!("no task for {xname} in {t}"))
}

async fn sim(cfg: SimConfig) -> SimBmc {
    SimBmc::start(cfg).await.unwrap()
}

/// A discovered plain-HTTP SimBmc with `systems` nodes under x1000c0s0b0.
async fn ready_bmc(s: &Server, cfg: SimConfig) -> SimBmc {
    let bmc = sim(cfg).await;
    register(s, "x1000c0s0b0", &bmc.url(), json!({})).await;
    let ep = discovered(s, "x1000c0s0b0").await;
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
        "{ep}"
    );
    bmc
}
