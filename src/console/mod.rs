//! The web console, served at `/` on the control plane by the appliance itself: the rack at
//! a glance, sessions with live progress and a dry run before each start, a node's page with
//! its boot timeline drawn, the BMCs and the images. Server-rendered HTML that reads without
//! JavaScript; a small script of our own (`assets/console.js`, ~150 lines, no framework:
//! what it does is swap tile classes and progress widths from one event stream, which htmx's
//! fragment swaps would do at 10,000 nodes with far more DOM work) keeps it live over
//! Server-Sent Events. Everything is embedded in the binary: nothing is fetched from
//! anywhere, so it works on an isolated management network, and `cargo build` needs no
//! Node toolchain.
//!
//! Access is the API's (`api::access`): every route is in its table, a login puts the
//! appliance's access token in a cookie ([`auth`]), read-only users see every page and no
//! action, and an action is the role its API twin needs (sessions and power: operator).

pub mod auth;
mod events;
mod inventory;
mod layout;
mod login;
mod nodes;
mod rack;
mod sessions;
mod timeline;

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::app::App;

/// The console's routes (mounted at the root of the control plane).
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(rack::show))
        .route("/console/login", get(login::show).post(login::submit))
        .route("/console/logout", post(login::logout))
        .route("/console/assets/{file}", get(assets))
        .route("/console/events", get(events::stream))
        .route(
            "/console/sessions",
            get(sessions::list).post(sessions::start),
        )
        .route("/console/sessions/new", get(sessions::preview))
        .route("/console/sessions/{name}", get(sessions::show))
        .route("/console/sessions/{name}/stop", post(sessions::stop))
        .route("/console/sessions/{name}/delete", post(sessions::delete))
        .route("/console/nodes/{xname}", get(nodes::show))
        .route("/console/nodes/{xname}/power", post(nodes::power))
        .route("/console/bmcs", get(inventory::bmcs))
        .route("/console/images", get(inventory::images))
        .layer(axum::middleware::map_response(page_headers))
}

/// What every console answer tells the browser: run only our own script and styles, never
/// in another site's frame, do not guess types, keep our URLs (which hold xnames) to us.
async fn page_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        header::HeaderValue::from_static("DENY"),
    );
    r
}

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// A digest of the embedded assets: their URLs carry it, so a new build's assets are never
/// taken from a browser's cache (the package version does not change between builds).
pub fn asset_version() -> &'static str {
    static V: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        use sha2::{Digest, Sha256};
        let d = Sha256::new()
            .chain_update(CSS.as_bytes())
            .chain_update(JS.as_bytes())
            .finalize();
        d.iter().take(6).map(|b| format!("{b:02x}")).collect()
    });
    &V
}

/// The embedded assets; their URLs carry the version, so they may be cached for good.
async fn assets(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        _ => {
            return crate::api::problem::Problem::not_found(format!(
                "no console asset {file:?}: there are console.css and console.js"
            ))
            .into_response();
        }
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        body,
    )
        .into_response()
}
