//! CFS v2 (`/apis/cfs/v2`) as the `cray` CLI's unversioned `cray cfs …` commands call it:
//! the exact requests the CLI sends (`clients/cray-cli-requests.json`), v2 and v3 showing
//! the same configurations and components whichever wrote them, filters and bulk PATCH,
//! options, sessions (which the built-in CFS does not run), and bad input named and not
//! written. Every answer but the ones the spec cannot describe (`configDetails`, the
//! sessions problem) is checked against the upstream CFS contract.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::Server;
use crate::openapi::assert_cfs_valid;

mod api;
mod cli;
mod contract_findings;
mod input;

const A: &str = "0123456789abcdef0123456789abcdef01234567";
const B: &str = "89abcdef0123456789abcdef0123456789abcdef";

/// A call to `/apis/cfs/{path}` (`path` starts with `v2/` or `v3/`), its answer checked
/// against the contract unless `configDetails` asks for the per-layer statuses CFS reports
/// outside the spec's schema.
async fn call(s: &Server, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let full = format!("/apis/cfs/{path}");
    let (st, _, v) = s.call(method.clone(), &full, body).await;
    let v = if v == Value::String(String::new()) {
        Value::Null
    } else {
        v
    };
    let lower = path.to_ascii_lowercase();
    if !lower.contains("configdetails=true") && !lower.contains("config_details=true") {
        assert_cfs_valid(method.as_str(), &full, st.as_u16(), &v);
    }
    (st, v)
}

/// The ids of a v2 component list.
fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}
