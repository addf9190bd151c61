//! HTTP: two routers (docs/architecture.md, "API map"; docs/security.md). The **control
//! plane** ([`control_router`]) serves every API behind the route table of [`access`]; the
//! **boot plane** ([`boot_router`]) serves only what iPXE and booting nodes need without
//! credentials: boot scripts, iPXE binaries, artifacts under their per-node tokens, and a
//! node's own boot report. The control router carries the boot routes too, so one listener
//! can serve both when asked (`control_listen = "boot"`).
//!
//! Handlers decode wire types, call `app`, and encode the answer; nothing here touches the
//! store. Every error, including axum's own 404/405/413, leaves as problem+json. Every request
//! is counted in `/metrics` under its route template (not its raw path, so label cardinality
//! stays bounded).

pub mod access;
pub mod artifacts;
pub mod bos;
pub mod bss;
pub mod capmc;
pub mod cfs;
pub mod extract;
pub mod hsm;
pub mod identity;
pub mod ipxe;
pub mod login;
pub mod native;
pub mod pcs;
pub mod problem;
pub mod server;
pub mod wire;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::app::App;
use problem::Problem;

/// Limits every router applies.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// JSON and other buffered bodies.
    pub max_body_bytes: usize,
}

/// Every API, behind [`access::authorize`].
pub fn control_router(app: Arc<App>, metrics: PrometheusHandle, limits: BodyLimits) -> Router {
    let bss = bss::routes();
    Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
        )
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get(move || std::future::ready(metrics.render())),
        )
        .merge(login::routes())
        .merge(crate::console::routes())
        .nest("/apis/smd/hsm/v2", hsm::routes())
        .nest("/apis/power-control/v1", pcs::routes())
        .nest("/apis/capmc/capmc/v1", capmc::routes())
        .nest("/apis/bos", bos::routes())
        .nest("/apis/cfs", cfs::routes())
        .nest(
            "/apis/rackboot/v1",
            native::routes().merge(identity::routes()),
        )
        .nest("/artifacts", artifacts::routes())
        .nest("/ipxe", ipxe::routes())
        .nest("/apis/bss/boot/v1", bss.clone())
        .nest("/boot/v1", bss)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            app.clone(),
            access::authorize,
        ))
        .layer(middleware::from_fn(problem_for_bare_errors))
        .layer(middleware::from_fn(observe))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .with_state(app)
}

/// The boot plane alone: nothing that lists, reveals or changes other nodes.
pub fn boot_router(app: Arc<App>, limits: BodyLimits) -> Router {
    let mut boot = Router::new()
        .nest("/artifacts", artifacts::routes())
        .nest("/ipxe", ipxe::routes())
        .nest("/apis/bss/boot/v1", bss::boot_routes())
        .nest("/boot/v1", bss::boot_routes())
        .nest("/apis/bos", bos::boot_routes());
    // No layer at all when the limit is off: every layer costs the boot plane's hot path.
    if app.boot_rate_limited() {
        boot = boot.route_layer(middleware::from_fn_with_state(
            app.clone(),
            access::boot_rate,
        ));
    }
    boot.route(
        "/healthz",
        get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
    )
    .fallback(not_found_boot)
    .layer(middleware::from_fn(problem_for_bare_errors))
    .layer(middleware::from_fn(observe))
    .layer(DefaultBodyLimit::max(limits.max_body_bytes.min(64 << 10)))
    .with_state(app)
}

async fn not_found_boot(req: Request) -> Problem {
    Problem::not_found(format!(
        "no such endpoint on the boot plane: {} {} (the APIs are on the control plane's HTTPS listener)",
        req.method(),
        req.uri().path()
    ))
}

/// Ready when the store answers; says whether this replica runs the operators (`leader`),
/// waits for its turn (`follower`: it still serves the API and the boot plane), or is the
/// one appliance of a SQLite data directory (`single`).
async fn readyz(State(app): State<Arc<App>>) -> Response {
    let role = app.cluster_role();
    match app.ready().await {
        Ok(()) if app.identity().no_auth => axum::Json(serde_json::json!({
            "status": "ready",
            "auth": "off",
            "role": role,
            "warning": "authentication is off (--no-auth): anyone who reaches the control plane can change and power the rack",
        }))
        .into_response(),
        Ok(()) => axum::Json(serde_json::json!({"status": "ready", "auth": "on", "role": role}))
            .into_response(),
        Err(e) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store not ready: {e}"),
        )
        .into_response(),
    }
}

async fn not_found(req: Request) -> Problem {
    Problem::not_found(format!(
        "no such endpoint: {} {}",
        req.method(),
        req.uri().path()
    ))
}

/// axum answers a wrong method with an empty 405 (and an `Allow` header); say it in JSON.
async fn problem_for_bare_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED
        && !resp.headers().contains_key(header::CONTENT_TYPE)
    {
        let allow = resp
            .headers()
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let detail = if allow.is_empty() {
            format!("{method} is not allowed on {path}")
        } else {
            format!("{method} is not allowed on {path}; allow {allow}")
        };
        let mut p = Problem::new(StatusCode::METHOD_NOT_ALLOWED, detail).into_response();
        if let (false, Ok(v)) = (allow.is_empty(), allow.parse()) {
            p.headers_mut().insert(header::ALLOW, v);
        }
        return p;
    }
    resp
}

async fn observe(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    let secs = start.elapsed().as_secs_f64();
    metrics::counter!("rackboot_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("rackboot_http_request_duration_seconds", "method" => method, "route" => route).record(secs);
    resp
}
