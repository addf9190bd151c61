//! Boot Script Service: `/boot/v1/…` and `/apis/bss/boot/v1/…`
//! (contract: specs/bss-cray-hpe-swagger.yaml; behaviour: docs/bss.md).
//!
//! This is also the boot plane: `bootscript` is what iPXE on every node asks for, so it
//! is answered from the in-memory boot index without touching the store, and counted in
//! `/metrics` by the kind of answer it got.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::extract::{Body, Pairs, parse_json};
use super::problem::{ApiResult, Problem};
use crate::app::App;
use crate::app::bss::{BootParamsEntry, BootParamsRequest, BootscriptQuery, HostView};

type S = State<Arc<App>>;

/// What the boot plane serves of BSS: the boot script only.
pub fn boot_routes() -> Router<Arc<App>> {
    Router::new().route("/bootscript", get(bootscript))
}

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/bootparameters",
            get(get_params)
                .post(post_params)
                .put(put_params)
                .patch(patch_params)
                .delete(delete_params),
        )
        .route("/bootscript", get(bootscript))
        .route("/hosts", get(hosts).post(refresh_hosts))
        .route("/dumpstate", get(dumpstate))
        .route("/endpoint-history", get(endpoint_history))
        .route("/service/status", get(status))
        .route("/service/version", get(version))
        .route("/service/hsm", get(hsm_status))
        .route("/service/storage", get(storage_status))
        .route("/service/storage/status", get(storage_status))
        .route("/service/status/all", get(status_all))
}

#[derive(Deserialize, Default)]
struct BootParamsIn {
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    macs: Vec<String>,
    #[serde(default)]
    nids: Vec<i64>,
    #[serde(default)]
    params: String,
    #[serde(default)]
    kernel: String,
    #[serde(default)]
    initrd: String,
    /// Kept as given (no cloud-init datasource here), but an object, as BSS's CloudInit is.
    #[serde(rename = "cloud-init")]
    cloud_init: Option<serde_json::Map<String, serde_json::Value>>,
}

impl From<BootParamsIn> for BootParamsRequest {
    fn from(b: BootParamsIn) -> Self {
        BootParamsRequest {
            hosts: b.hosts,
            macs: b.macs,
            nids: b.nids,
            params: b.params,
            kernel: b.kernel,
            initrd: b.initrd,
            cloud_init: b.cloud_init.map(serde_json::Value::Object),
        }
    }
}

#[derive(Serialize)]
struct BootParamsOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    hosts: Option<Vec<String>>,
    params: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    kernel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    initrd: Option<String>,
    #[serde(rename = "cloud-init", skip_serializing_if = "Option::is_none")]
    cloud_init: Option<serde_json::Value>,
}

fn entry_out(e: BootParamsEntry, with_cloud_init: bool) -> BootParamsOut {
    match e {
        BootParamsEntry::Host(k, bp) => BootParamsOut {
            hosts: Some(vec![k.key()]),
            params: bp.params,
            kernel: Some(bp.kernel),
            initrd: Some(bp.initrd),
            cloud_init: if with_cloud_init {
                Some(bp.cloud_init.unwrap_or_else(|| serde_json::json!({})))
            } else {
                None
            },
        },
        BootParamsEntry::Image(i) => {
            let (kernel, initrd) = match i.kind {
                crate::model::ImageKind::Kernel => (Some(i.path), None),
                crate::model::ImageKind::Initrd => (None, Some(i.path)),
            };
            BootParamsOut {
                hosts: None,
                params: i.params,
                kernel,
                initrd,
                cloud_init: None,
            }
        }
    }
}

fn parse_nid(s: &str) -> ApiResult<i64> {
    s.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| Problem::bad_request(format!("Bad Request - Invalid nid '{s}'")))
}

async fn get_params(State(app): S, q: Pairs, body: Bytes) -> ApiResult<Json<Vec<BootParamsOut>>> {
    // The body names the nodes when the query names none; a body that is not BootParams JSON
    // is a 400 either way, never ignored.
    let by_query = ["name", "mac", "nid"].iter().any(|k| q.first(k).is_some());
    let from_body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(parse_json::<BootParamsIn>(&body)?)
    };
    let (names, macs, nids) = if let Some(b) = from_body.filter(|_| !by_query) {
        (b.hosts, b.macs, b.nids)
    } else {
        let nids = q
            .all("nid")
            .iter()
            .map(|s| parse_nid(s))
            .collect::<ApiResult<Vec<_>>>()?;
        (q.all("name"), q.all("mac"), nids)
    };
    let entries = app.get_boot_params(&names, &macs, &nids).await?;
    Ok(Json(
        entries.into_iter().map(|e| entry_out(e, true)).collect(),
    ))
}

/// An answer with no body, typed `application/json` as BSS types every answer (its handlers
/// set the header first, whatever follows).
fn empty(status: StatusCode) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
    )
        .into_response()
}

fn with_token(status: StatusCode, token: Option<String>) -> Response {
    let mut r = empty(status);
    if let Some(t) = token {
        r.headers_mut().insert(
            "BSS-Referral-Token",
            HeaderValue::from_str(&t).expect("a UUID is a valid header value"),
        );
    }
    r
}

async fn post_params(State(app): S, Body(b): Body<BootParamsIn>) -> ApiResult<Response> {
    let token = app.write_boot_params(b.into(), true).await?;
    Ok(with_token(StatusCode::CREATED, token))
}

async fn put_params(State(app): S, Body(b): Body<BootParamsIn>) -> ApiResult<Response> {
    let token = app.write_boot_params(b.into(), false).await?;
    Ok(with_token(StatusCode::OK, token))
}

async fn patch_params(State(app): S, Body(b): Body<BootParamsIn>) -> ApiResult<Response> {
    app.patch_boot_params(b.into()).await?;
    Ok(empty(StatusCode::OK))
}

async fn delete_params(State(app): S, Body(b): Body<BootParamsIn>) -> ApiResult<Response> {
    app.delete_boot_params(b.into()).await?;
    Ok(empty(StatusCode::OK))
}

/// Integers as Go's `strconv.ParseInt(s, 0, …)` reads them: decimal, `0x`, `0o`, `0b`.
fn go_int(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, s) = s.strip_prefix('-').map(|r| (true, r)).unwrap_or((false, s));
    let v = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = s.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = s.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else {
        s.parse().ok()
    }?;
    Some(if neg { -v } else { v })
}

async fn bootscript(
    State(app): S,
    connect: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    q: Pairs,
) -> Response {
    let nid = q.first("nid").and_then(|s| go_int(&s)).filter(|n| *n >= 0);
    let retry = match q.first("retry").map(|s| go_int(&s)) {
        None => 0,
        Some(Some(r)) if r >= 0 => r as u64,
        Some(_) => {
            return Problem::bad_request(format!(
                "invalid retry '{}': expected a non-negative integer",
                q.first("retry").unwrap_or_default()
            ))
            .into_response();
        }
    };
    let query = BootscriptQuery {
        mac: q.first("mac").filter(|s| !s.is_empty()),
        name: q.first("name").filter(|s| !s.is_empty()),
        nid,
        arch: q.all("arch").concat(),
        retry,
        ts: q.first("ts").and_then(|s| go_int(&s)),
        client: connect.map(|c| c.0.0.ip().to_string()),
    };
    match app.bootscript(&query).await {
        Ok((script, kind)) => {
            metrics::counter!("rackboot_bootscripts_served_total", "kind" => kind.as_str())
                .increment(1);
            let mut r = script.into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=UTF-8"),
            );
            r
        }
        Err(e) => {
            metrics::counter!("rackboot_bootscripts_served_total", "kind" => "error").increment(1);
            e.into_response()
        }
    }
}

#[derive(Serialize)]
struct HostOut {
    #[serde(flatten)]
    component: super::hsm::ComponentOut,
    #[serde(rename = "FQDN")]
    fqdn: String,
    #[serde(rename = "MAC")]
    mac: Vec<String>,
    #[serde(rename = "EndpointEnabled")]
    endpoint_enabled: bool,
}

impl From<HostView> for HostOut {
    fn from(h: HostView) -> Self {
        HostOut {
            fqdn: String::new(),
            mac: h.macs.iter().map(|m| m.to_string()).collect(),
            endpoint_enabled: true,
            component: h.component.into(),
        }
    }
}

async fn hosts(State(app): S, q: Pairs) -> ApiResult<Json<Vec<HostOut>>> {
    // An empty value is no filter: BSS reads these with Go's Query().Get, where absent and
    // empty are the same.
    let given = |k: &str| q.first(k).filter(|v| !v.is_empty());
    let nid = given("nid").map(|s| parse_nid(&s)).transpose()?;
    let name = given("name");
    let mac = given("mac");
    let hs = app.hosts(name.as_deref(), mac.as_deref(), nid).await?;
    Ok(Json(hs.into_iter().map(HostOut::from).collect()))
}

async fn refresh_hosts(State(app): S) -> Response {
    app.refresh_hosts();
    empty(StatusCode::NO_CONTENT)
}

async fn dumpstate(State(app): S) -> ApiResult<Json<serde_json::Value>> {
    let hosts: Vec<HostOut> = app
        .hosts(None, None, None)
        .await?
        .into_iter()
        .map(HostOut::from)
        .collect();
    let params: Vec<BootParamsOut> = app
        .get_boot_params(&[], &[], &[])
        .await?
        .into_iter()
        .map(|e| entry_out(e, false))
        .collect();
    Ok(Json(
        serde_json::json!({ "Components": hosts, "Params": params }),
    ))
}

async fn endpoint_history(State(app): S, q: Pairs) -> ApiResult<Json<serde_json::Value>> {
    // Each filter alone or both, an empty one none (as BSS reads them).
    let name = q.first("name").filter(|v| !v.is_empty());
    let endpoint = q.first("endpoint").filter(|v| !v.is_empty());
    let v = app
        .endpoint_history(name.as_deref(), endpoint.as_deref())
        .await?;
    Ok(Json(serde_json::json!(
        v.into_iter().map(|e| serde_json::json!({"name": e.name, "endpoint": e.endpoint, "last_epoch": e.last_epoch})).collect::<Vec<_>>()
    )))
}

async fn status() -> Json<serde_json::Value> {
    Json(serde_json::json!({"bss-status": "running"}))
}

async fn version() -> Json<serde_json::Value> {
    Json(serde_json::json!({"bss-version": env!("CARGO_PKG_VERSION")}))
}

/// Probe the store once: the word BSS reports and the status code to answer with.
async fn store_health(app: &App) -> (&'static str, StatusCode) {
    match app.ready().await {
        Ok(()) => ("connected", StatusCode::OK),
        Err(_) => ("error", StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// Inventory is built in, so "HSM" is reachable exactly when the store is.
async fn hsm_status(State(app): S) -> Response {
    let (word, code) = store_health(&app).await;
    (code, Json(serde_json::json!({"bss-status-hsm": word}))).into_response()
}

async fn storage_status(State(app): S) -> Response {
    let (word, code) = store_health(&app).await;
    (
        code,
        Json(serde_json::json!({"bss-storage-backend": {"name": "sqlite", "status": word}})),
    )
        .into_response()
}

async fn status_all(State(app): S) -> Response {
    let (word, code) = store_health(&app).await;
    let v = serde_json::json!({
        "bss-status": "running",
        "bss-version": env!("CARGO_PKG_VERSION"),
        "bss-status-hsm": word,
        "bss-status-storage": word,
    });
    (code, Json(v)).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn go_ints() {
        assert_eq!(super::go_int("7"), Some(7));
        assert_eq!(super::go_int("0x10"), Some(16));
        assert_eq!(super::go_int("abc"), None);
    }
}
