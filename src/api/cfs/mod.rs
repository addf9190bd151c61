//! The built-in CFS (`/apis/cfs/v3`, contract `specs/cfs-openapi.yaml`): components and
//! configurations, the subset BOS and node-side reporters use (docs/architecture.md, "API map").
//!
//! Also served: CFS v2 (`v2`), which the `cray` CLI's unversioned `cray cfs …` commands
//! and cfs-state-reporter in CSM images call, over the same records; and, for both
//! versions, `sessions`, which answer that the built-in CFS runs none.
//!
//! Served only when the built-in CFS is the configuration handoff (`cfs = builtin`); with
//! `none` or `external` every path answers 404 saying where configuration goes instead, so
//! nobody writes configurations that nothing reads. Handlers decode queries and bodies
//! (`types`) and call `app::cfs`; nodes are never touched from here.

mod components;
mod configurations;
mod sessions;
pub mod types;
pub mod v2;

use std::sync::Arc;

use axum::extract::State;
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::extract::Pairs;
use super::problem::Problem;
use crate::app::App;
use crate::app::cfs::{Cfs, Page};
use types::Details;

type S = State<Arc<App>>;
type R<T> = Result<T, Problem>;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(versions))
        .route("/v3", get(version))
        .route(
            "/v3/components",
            get(components::list)
                .put(components::put_many)
                .patch(components::patch_many),
        )
        .route(
            "/v3/components/{id}",
            get(components::get)
                .put(components::put)
                .patch(components::patch)
                .delete(components::delete),
        )
        .route("/v3/configurations", get(configurations::list))
        .route(
            "/v3/configurations/{name}",
            get(configurations::get)
                .put(configurations::put)
                .patch(configurations::patch)
                .delete(configurations::delete),
        )
        .route_layer(axum::middleware::from_fn(tenant_bound))
        .route("/v2/sessions", any(sessions::none))
        .route("/v2/sessions/{name}", any(sessions::none))
        .route("/v3/sessions", any(sessions::none))
        .route("/v3/sessions/{name}", any(sessions::none))
        .merge(v2::routes())
}

/// A v3 `Cray-Tenant-Name` over 127 characters is a 400 (the spec's TenantName bound, which
/// CFS validates); the built-in CFS keeps no tenants, so a shorter name changes nothing.
async fn tenant_bound(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let long = req
        .headers()
        .get("cray-tenant-name")
        .is_some_and(|h| String::from_utf8_lossy(h.as_bytes()).chars().count() > 127);
    if long {
        return Problem::bad_request("Cray-Tenant-Name is longer than 127 characters")
            .into_response();
    }
    next.run(req).await
}

/// The built-in CFS, or a 404 saying where configuration goes instead.
fn cfs(app: &App) -> R<&Arc<Cfs>> {
    app.builtin_cfs().ok_or_else(|| {
        Problem::not_found(format!(
            "the built-in CFS is off: this appliance hands nodes to {} (setting cfs)",
            app.handoff().describe()
        ))
    })
}

async fn versions(State(app): S) -> R<Json<Value>> {
    cfs(&app)?;
    Ok(Json(json!([{"major": "3", "minor": "0", "patch": "0"}])))
}

async fn version(State(app): S) -> R<Json<Value>> {
    cfs(&app)?;
    Ok(Json(json!({"major": "3", "minor": "0", "patch": "0"})))
}

fn page(q: &Pairs) -> R<Page> {
    let limit = match q.first("limit") {
        None => None,
        // A limit beyond what a page can hold is "all of them", as in CFS (Python ints).
        Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
            Some(v.parse::<usize>().unwrap_or(usize::MAX))
        }
        Some(v) => {
            return Err(Problem::bad_request(format!(
                "limit: '{v}' is not a positive integer"
            )));
        }
    };
    Ok(Page {
        limit,
        after_id: q.first("after_id").filter(|a| !a.is_empty()),
    })
}

/// The query as given, for the `next` link (paging keys are set from the page).
fn echo(q: &Pairs) -> Map<String, Value> {
    q.0.iter()
        .filter(|(k, _)| k != "limit" && k != "after_id")
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect()
}

fn details(q: &Pairs) -> R<Details> {
    Ok(Details {
        state: q.bool("state_details")?.unwrap_or(false),
        config: q.bool("config_details")?.unwrap_or(false),
    })
}
