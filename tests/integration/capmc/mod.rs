//! CAPMC (`/apis/capmc/capmc/v1`) through exactly the requests `cray capmc …` sends
//! (`/work/shared/clients/cray-cli-requests.json`: a POST with `{"xnames": [...]}`), against
//! SimBmc and a recorded Cray EX tree: every call moves the simulated BMC's real power and
//! `get_xname_status` reports it; each call is a PCS transition on the one power operator;
//! bad input gets CAPMC's error shapes with nothing sent to any BMC.

use std::time::Duration;

use redfish::sim::{SimBmc, SimConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::Server;
use crate::power::{PCS, discovered, register, start_fast, task};

mod bad_input;
mod calls;
mod recorded;

pub const CAPMC: &str = "/apis/capmc/capmc/v1";

/// `cray capmc <call> create --xnames a,b`: the one request the CLI sends.
pub async fn capmc(s: &Server, call: &str, body: Value) -> (StatusCode, Value) {
    let (st, headers, v) = s
        .call(Method::POST, &format!("{CAPMC}/{call}"), Some(body))
        .await;
    assert_eq!(
        headers.get("content-type").map(|h| h.to_str().unwrap()),
        Some("application/json"),
        "{call}: CAPMC answers are plain JSON, never problem+json: {v}"
    );
    (st, v)
}

/// The call answered 200 with `e: 0` and no per-xname errors.
pub async fn capmc_ok(s: &Server, call: &str, xnames: &[&str]) {
    let (st, v) = capmc(s, call, json!({ "xnames": xnames })).await;
    assert_eq!(st, StatusCode::OK, "{call}: {v}");
    assert_eq!(v, json!({"e": 0, "err_msg": ""}), "{call}");
}

/// `cray capmc get_xname_status create --xnames …` → the answer.
pub async fn status(s: &Server, xnames: &[&str]) -> Value {
    let (st, v) = capmc(s, "get_xname_status", json!({ "xnames": xnames })).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

/// A discovered plain-HTTP SimBmc as x1000c0s0b0 with `systems` nodes.
pub async fn lab(systems: usize, cfg: SimConfig) -> (Server, tempfile::TempDir, SimBmc) {
    let (s, dir) = start_fast().await;
    let bmc = SimBmc::start(SimConfig { systems, ..cfg }).await.unwrap();
    register(&s, "x1000c0s0b0", &bmc.url(), json!({})).await;
    let ep = discovered(&s, "x1000c0s0b0").await;
    assert_eq!(
        ep["DiscoveryInfo"]["LastDiscoveryStatus"], "DiscoverOK",
        "{ep}"
    );
    (s, dir, bmc)
}

/// The PCS transitions recorded so far (each CAPMC power call is one), newest last.
pub async fn transitions(s: &Server) -> Vec<Value> {
    let (st, v) = s.get(&format!("{PCS}/transitions")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let mut all = v["transitions"].as_array().unwrap().clone();
    all.sort_by_key(|t| t["createTime"].as_str().unwrap().to_string());
    all
}

/// The newest transition with its tasks: its operation and `x`'s task description.
pub async fn last_transition(s: &Server, x: &str) -> (String, String) {
    let all = transitions(s).await;
    let newest = all.last().expect("a transition was recorded");
    let id = newest["transitionID"].as_str().unwrap();
    let (_, t) = s.get(&format!("{PCS}/transitions/{id}")).await;
    assert_eq!(t["transitionStatus"], "completed", "{t}");
    (
        t["operation"].as_str().unwrap().to_string(),
        task(&t, x)["taskStatusDescription"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

/// Wait long enough for the power monitor to have sampled (status is served from samples).
pub async fn sampled(s: &Server, x: &str) {
    crate::common::wait_until(
        &format!("{x} to be sampled"),
        Duration::from_secs(10),
        async || {
            let v = status(s, &[x]).await;
            if v["e"] == 0 { Ok(()) } else { Err(v) }
        },
    )
    .await;
}
