//! BOS v2 (`/apis/bos/v2`, contract `specs/bos-openapi.yaml`): session templates, sessions
//! and their extended status, components, applystaged, options, version and health; BOS v1
//! (`/apis/bos/v1`) on the same engine in [`v1`].
//!
//! Handlers decode the wire form (`types`), resolve the `Cray-Tenant-Name` header to a
//! [`Tenant`] scope and call `app::bos`; they never act on nodes. Errors carry the
//! contract's titles ("The resource was not found", …) so clients that match on them keep
//! working ([`BosError`]).

mod components;
mod sessions;
mod templates;
pub mod types;
pub mod v1;

use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::extract::Body;
use super::problem::Problem;
use crate::app::bos::Scope;
use crate::app::{App, AppError};

type S = State<Arc<App>>;
type R<T> = Result<T, BosError>;

/// The BOS API version rackboot follows.
pub const BOS_VERSION: (&str, &str, &str) = ("2", "50", "0");

/// What the boot plane serves of BOS: a node's own report (bos-reporter's PATCH).
pub fn boot_routes() -> Router<Arc<App>> {
    Router::new().route(
        "/v2/components/{id}",
        axum::routing::patch(components::boot_report),
    )
}

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(versions))
        .route("/v2", get(version))
        .route("/v2/", get(version))
        .route("/v2/version", get(version))
        .route("/v2/healthz", get(healthz))
        .route("/v2/sessiontemplates", get(templates::list))
        .route(
            "/v2/sessiontemplates/{id}",
            get(templates::get)
                .put(templates::put)
                .patch(templates::patch)
                .delete(templates::delete),
        )
        .route("/v2/sessiontemplatesvalid/{id}", get(templates::validate))
        .route("/v2/sessiontemplatetemplate", get(templates::skeleton))
        .route(
            "/v2/sessions",
            get(sessions::list)
                .post(sessions::create)
                .delete(sessions::delete_many),
        )
        .route(
            "/v2/sessions/{id}",
            get(sessions::get)
                .patch(sessions::patch)
                .delete(sessions::delete),
        )
        .route(
            "/v2/sessions/{id}/status",
            get(sessions::status).post(sessions::save_status),
        )
        .route(
            "/v2/components",
            get(components::list)
                .put(components::put_many)
                .patch(components::patch_many),
        )
        .route(
            "/v2/components/{id}",
            get(components::get)
                .put(components::put)
                .patch(components::patch)
                .delete(components::delete),
        )
        .route("/v2/applystaged", post(components::apply_staged))
        .route("/v2/options", get(get_options).patch(patch_options))
        .merge(v1::routes())
}

/// A BOS error: problem+json with the titles the BOS contract fixes for each status. (BOS
/// itself answers an unknown tenant with the title "Invalid tenant" and a component
/// conflict with "Actual state can not be updated."; the spec allows only the titles here,
/// so those words go in the detail instead.)
#[derive(Debug)]
pub struct BosError(Problem);

impl From<AppError> for BosError {
    fn from(e: AppError) -> BosError {
        let mut p = Problem::from(e);
        p.title = match p.status {
            400 => "Bad Request".into(),
            404 => "The resource was not found".into(),
            409 if p.detail.starts_with("Session ") => {
                "The resource to be created already exists".into()
            }
            409 => "The update was not allowed due to a conflict".into(),
            500 => "An Internal Server Error occurred handling the request".into(),
            503 => "Service Unavailable".into(),
            _ => p.title,
        };
        BosError(p)
    }
}

impl From<Problem> for BosError {
    fn from(p: Problem) -> BosError {
        BosError(p)
    }
}

impl BosError {
    pub fn bad(msg: impl Into<String>) -> BosError {
        AppError::bad(msg).into()
    }
}

impl IntoResponse for BosError {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

/// The tenant a request acts for (`Cray-Tenant-Name`), resolved and checked.
pub struct Tenant(pub Scope);

impl FromRequestParts<Arc<App>> for Tenant {
    type Rejection = BosError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> R<Tenant> {
        let h = match parts.headers.get("cray-tenant-name") {
            None => None,
            Some(v) => Some(v.to_str().map_err(|_| {
                BosError::bad("Invalid tenant: the Cray-Tenant-Name header is not text")
            })?),
        };
        if h.is_some_and(|h| h.len() > 127) {
            return Err(BosError::bad(
                "Invalid tenant: Cray-Tenant-Name is longer than 127 characters",
            ));
        }
        Ok(Tenant(app.scope(h).await?))
    }
}

/// 201 Created with a JSON body.
fn created<T: serde::Serialize>(v: T) -> Response {
    (StatusCode::CREATED, Json(v)).into_response()
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

fn version_doc() -> Value {
    let (major, minor, patch) = BOS_VERSION;
    json!({"major": major, "minor": minor, "patch": patch,
        "links": [{"rel": "self", "href": "/apis/bos/v2"}, {"rel": "versions", "href": "/apis/bos/"}]})
}

async fn versions() -> Json<Value> {
    Json(json!([version_doc()]))
}

async fn version() -> Json<Value> {
    Json(version_doc())
}

async fn healthz(State(app): S) -> Json<Value> {
    let db = if app.ready().await.is_ok() {
        "ok"
    } else {
        "not_available"
    };
    Json(json!({"dbStatus": db, "apiStatus": "ok"}))
}

async fn get_options(State(app): S) -> R<Json<Map<String, Value>>> {
    Ok(Json(app.bos_options().await?))
}

async fn patch_options(State(app): S, Body(body): Body<Value>) -> R<Json<Map<String, Value>>> {
    Ok(Json(app.patch_bos_options(&body).await?))
}
