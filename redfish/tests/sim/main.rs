//! SimBmc driven over real HTTP(S) with raw reqwest and `serde_json::Value`: these tests check
//! the simulator itself, so they deliberately avoid the crate's client and its models.
//!
//! One test binary: the request helpers are here, the tests in the topic modules below.

#![cfg(feature = "sim")]

use std::time::{Duration, Instant};

use redfish::sim::{SimBmc, SimConfig};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

mod auth;
mod boot;
mod faults;
mod lifecycle;
mod power;
mod systems;
mod tls;

const USER: &str = "admin";
const PASS: &str = "password";

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn start(cfg: SimConfig) -> SimBmc {
    SimBmc::start(cfg).await.expect("start SimBmc")
}

/// A request with Basic auth; returns status, headers and the JSON body (Null if none).
async fn call(
    c: &Client,
    bmc: &SimBmc,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = c
        .request(method, format!("{}{path}", bmc.url()))
        .basic_auth(USER, Some(PASS));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, headers, body)
}

async fn get(c: &Client, bmc: &SimBmc, path: &str) -> (StatusCode, Value) {
    let (s, _, b) = call(c, bmc, Method::GET, path, None, &[]).await;
    (s, b)
}

fn message_id(body: &Value) -> &str {
    body["error"]["@Message.ExtendedInfo"][0]["MessageId"]
        .as_str()
        .unwrap_or("")
}

async fn reset(c: &Client, bmc: &SimBmc, system: usize, reset_type: &str) -> (StatusCode, Value) {
    let path = format!(
        "{}/Actions/ComputerSystem.Reset",
        bmc.system_paths()[system]
    );
    let (s, _, b) = call(
        c,
        bmc,
        Method::POST,
        &path,
        Some(json!({ "ResetType": reset_type })),
        &[],
    )
    .await;
    (s, b)
}

async fn patch_boot(
    c: &Client,
    bmc: &SimBmc,
    system: usize,
    boot: Value,
    if_match: Option<&str>,
) -> (StatusCode, Value) {
    let path = &bmc.system_paths()[system];
    let headers: Vec<(&str, &str)> = if_match.map(|t| ("If-Match", t)).into_iter().collect();
    let (s, _, b) = call(
        c,
        bmc,
        Method::PATCH,
        path,
        Some(json!({ "Boot": boot })),
        &headers,
    )
    .await;
    (s, b)
}

/// Poll until `f` is true, up to `limit`.
async fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    f()
}
