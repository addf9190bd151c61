//! `/apis/smd/hsm/v2`: the HSM subset (contract: specs/hsm-smd-cray-hpe-swagger_v2.yaml).
//!
//! The handlers decode a request into its wire type ([`types`]), convert it to the domain
//! at that edge, call one `App` use case and convert the answer back; errors from the app
//! become problem+json through `From<AppError> for Problem`, so a handler's own problems
//! are only the HSM-specific ones (a body that contradicts its path, an empty ID list).
//! Handlers never touch the store. One file per resource family: `State/Components`,
//! `locks`, `Inventory/EthernetInterfaces`, `Inventory/RedfishEndpoints` (with
//! `ComponentEndpoints` and `Discover`), and groups and partitions, which are one generic
//! implementation over [`groups::Collection`] because HSM gives them the same API with
//! different names and one rule apart. Every answer is typed: one without a body (a 204)
//! carries `Content-Type: application/json`, the media type the contract gives all of them.

mod components;
mod endpoints;
mod groups;
mod interfaces;
mod locks;
pub mod types;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};

use super::problem::{ApiResult, Problem};
use crate::app::App;
use crate::model::component::{ARCHES, CLASSES, FLAGS, NET_TYPES, ROLES, STATES, SUBROLES, TYPES};
pub use types::{ComponentOut, xname};
use types::{Message, ResourceUri};

type S = State<Arc<App>>;

pub fn routes() -> Router<Arc<App>> {
    use components::bulk_route;
    Router::new()
        .route("/service/ready", get(ready))
        .route("/service/liveness", get(liveness))
        .route("/service/values", get(values_all))
        .route("/service/values/{kind}", get(values_one))
        .route(
            "/State/Components",
            get(components::list)
                .post(components::post)
                .delete(components::delete_all),
        )
        .route("/State/Components/Query", post(components::query))
        .route("/State/Components/ByNID/{nid}", get(components::get_by_nid))
        .route("/State/Components/BulkNID", patch(components::bulk_nid))
        .route("/State/Components/BulkStateData", bulk_route("StateData"))
        .route("/State/Components/BulkFlagOnly", bulk_route("FlagOnly"))
        .route("/State/Components/BulkEnabled", bulk_route("Enabled"))
        .route(
            "/State/Components/BulkSoftwareStatus",
            bulk_route("SoftwareStatus"),
        )
        .route("/State/Components/BulkRole", bulk_route("Role"))
        .route(
            "/State/Components/{xname}",
            get(components::get_one)
                .put(components::put)
                .delete(components::delete),
        )
        .route(
            "/State/Components/{xname}/{field}",
            patch(components::patch_one),
        )
        .route(
            "/Inventory/EthernetInterfaces",
            get(interfaces::list)
                .post(interfaces::create)
                .delete(interfaces::delete_all),
        )
        .route(
            "/Inventory/EthernetInterfaces/{id}",
            get(interfaces::get_one)
                .patch(interfaces::patch)
                .delete(interfaces::delete),
        )
        .route(
            "/Inventory/RedfishEndpoints",
            get(endpoints::list)
                .post(endpoints::create)
                .delete(endpoints::delete_all),
        )
        .route(
            "/Inventory/ComponentEndpoints",
            get(endpoints::list_component_endpoints),
        )
        .route(
            "/Inventory/ComponentEndpoints/{xname}",
            get(endpoints::get_component_endpoint),
        )
        .route("/Inventory/Discover", post(endpoints::discover))
        .route(
            "/Inventory/RedfishEndpoints/{xname}",
            get(endpoints::get_one)
                .put(endpoints::put)
                .patch(endpoints::patch)
                .delete(endpoints::delete),
        )
        // /groups, /groups/labels, /groups/{label}, /groups/{label}/members[/{xname}];
        // /partitions, /partitions/names, /partitions/{name}, …/members[/{xname}].
        .merge(groups::routes::<groups::Groups>())
        .merge(groups::routes::<groups::Partitions>())
        .route("/memberships", get(groups::list_memberships))
        .route("/memberships/{xname}", get(groups::get_membership))
        .route("/locks/status", get(locks::status).post(locks::status_of))
        .layer(axum::middleware::map_response(typed))
}

/// An answer with no Content-Type (a bodiless 204 or 200) gets `application/json`.
async fn typed(mut r: Response) -> Response {
    r.headers_mut()
        .entry(axum::http::header::CONTENT_TYPE)
        .or_insert(axum::http::HeaderValue::from_static("application/json"));
    r
}

// ---------------------------------------------------------------- answers

fn deleted(n: u64) -> Response {
    let message = if n == 1 {
        "deleted 1 entry".to_string()
    } else {
        format!("deleted {n} entries")
    };
    Json(Message { code: 0, message }).into_response()
}

fn created(uris: Vec<String>) -> Response {
    (StatusCode::CREATED, Json(uri_list(uris))).into_response()
}

/// 201 with one `{"URI"}` object, where HSM answers one (POST /Inventory/EthernetInterfaces).
fn created_one(uri: String) -> Response {
    (StatusCode::CREATED, Json(ResourceUri { uri })).into_response()
}

fn uri_list(uris: Vec<String>) -> Vec<ResourceUri> {
    uris.into_iter().map(|uri| ResourceUri { uri }).collect()
}

// ---------------------------------------------------------------- service

async fn ready(State(app): S) -> ApiResult<Json<Message>> {
    app.ready().await?;
    Ok(Json(Message {
        code: 0,
        message: "HSM is healthy".into(),
    }))
}

async fn liveness() -> StatusCode {
    StatusCode::NO_CONTENT
}

fn values_of(kind: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match kind.to_ascii_lowercase().as_str() {
        "arch" => ("Arch", ARCHES),
        "class" => ("Class", CLASSES),
        "flag" => ("Flag", FLAGS),
        "nettype" => ("NetType", NET_TYPES),
        "role" => ("Role", ROLES),
        "subrole" => ("SubRole", SUBROLES),
        "state" => ("State", STATES),
        "type" => ("Type", TYPES),
        _ => return None,
    })
}

async fn values_all() -> Json<serde_json::Value> {
    let mut m = serde_json::Map::new();
    for k in [
        "arch", "class", "flag", "nettype", "role", "subrole", "state", "type",
    ] {
        let (name, vals) = values_of(k).expect("known kind");
        m.insert(name.into(), serde_json::json!(vals));
    }
    Json(serde_json::Value::Object(m))
}

async fn values_one(Path(kind): Path<String>) -> ApiResult<Json<serde_json::Value>> {
    let (name, vals) = values_of(&kind).ok_or_else(|| {
        Problem::not_found(format!("no such value list '{kind}': expected arch, class, flag, nettype, role, subrole, state or type"))
    })?;
    Ok(Json(serde_json::json!({ name: vals })))
}
