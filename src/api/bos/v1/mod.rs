//! BOS v1 (`/apis/bos/v1`, contract `specs/bos-openapi-with-v1.yaml`) on the v2 engine:
//! version and health, session templates (stored in the one template store, readable from
//! v2), the example template, sessions and their status tree (docs/bos.md, "BOS v1").
//!
//! Handlers decode the v1 wire form (`types`) and call `app::bos::v1`; a v1 session is a v2
//! session with a v1 plan, so nothing here acts on nodes, and the status tree is derived from
//! the components on every read. v1 has no tenancy: any non-empty `Cray-Tenant-Name` is
//! refused with 400, as upstream. The status tree is read-only here (BOA wrote it upstream;
//! here the engine's components are the record), so its POST, PATCH and DELETE are not served.

pub mod types;

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::types::SessionTemplate;
use super::{BOS_VERSION, BosError, R, S, created, no_content};
use crate::api::extract::Body;
use crate::app::{App, AppError};
use crate::model::bos_v1::{V1Category, V1Phase};
use crate::model::bos_v1_status::SessionTree;
use types::{BootSetOut, CategoryOut, PhaseOut, SessionCreated, SessionDetails, SessionStatusOut};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v1", get(version))
        .route("/v1/", get(version))
        .route("/v1/version", get(version))
        .route("/v1/healthz", get(super::healthz))
        .route(
            "/v1/sessiontemplate",
            get(list_templates).post(create_template),
        )
        .route(
            "/v1/sessiontemplate/{id}",
            get(get_template).delete(delete_template),
        )
        .route("/v1/sessiontemplatetemplate", get(skeleton))
        .route("/v1/session", get(list_sessions).post(create_session))
        .route("/v1/session/{id}", get(get_session).delete(delete_session))
        .route("/v1/session/{id}/status", get(status))
        .route("/v1/session/{id}/status/{bs}", get(boot_set_status))
        .route("/v1/session/{id}/status/{bs}/{phase}", get(phase_status))
        .route(
            "/v1/session/{id}/status/{bs}/{phase}/{category}",
            get(category_status),
        )
}

/// Refuses a non-empty `Cray-Tenant-Name`: BOS v1 has no tenancy.
pub struct NoTenant;

impl<St: Send + Sync> FromRequestParts<St> for NoTenant {
    type Rejection = BosError;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> R<NoTenant> {
        match parts.headers.get("cray-tenant-name") {
            None => Ok(NoTenant),
            Some(v) if v.as_bytes().iter().all(u8::is_ascii_whitespace) => Ok(NoTenant),
            Some(_) => Err(BosError::bad(
                "Multi-tenancy not supported: BOS v1 takes no Cray-Tenant-Name header; use /apis/bos/v2 for a tenant",
            )),
        }
    }
}

async fn version() -> Json<Value> {
    let (major, minor, patch) = BOS_VERSION;
    Json(json!({"major": major, "minor": minor, "patch": patch,
        "links": [{"rel": "self", "href": "/apis/bos/v1"}, {"rel": "versions", "href": "/apis/bos/"}]}))
}

async fn list_templates(State(app): S, _: NoTenant) -> R<Json<Vec<SessionTemplate>>> {
    let all = app
        .list_session_templates(&crate::app::bos::Scope::default())
        .await?;
    Ok(Json(
        all.iter()
            .filter(|t| t.tenant.is_none())
            .map(SessionTemplate::from)
            .collect(),
    ))
}

/// 201 with the template's name as a JSON string, as v1 answered.
async fn create_template(State(app): S, _: NoTenant, Body(body): Body<Value>) -> R<Response> {
    let t = types::template_in(body).map_err(BosError::bad)?;
    let saved = app.create_v1_session_template(t).await?;
    Ok(created(saved.name))
}

async fn get_template(
    State(app): S,
    _: NoTenant,
    Path(id): Path<String>,
) -> R<Json<SessionTemplate>> {
    let t = app
        .get_session_template(&crate::app::bos::Scope::default(), &id)
        .await?;
    Ok(Json(SessionTemplate::from(&t)))
}

async fn delete_template(State(app): S, _: NoTenant, Path(id): Path<String>) -> R<Response> {
    app.delete_session_template(&crate::app::bos::Scope::default(), &id)
        .await?;
    Ok(no_content())
}

/// The v2 example with a `name`, which a v1 template needs: POSTable to v1 as it is.
async fn skeleton() -> Json<Value> {
    let mut v = super::templates::session_template_skeleton();
    v["name"] = "name-your-template".into();
    Json(v)
}

async fn create_session(State(app): S, _: NoTenant, Body(body): Body<Value>) -> R<Response> {
    let req = types::session_in(body).map_err(BosError::bad)?;
    let s = app.create_v1_session(req).await?;
    Ok(created(SessionCreated::new(&s)))
}

async fn list_sessions(State(app): S, _: NoTenant) -> R<Json<Vec<String>>> {
    let all = app.list_v1_sessions().await?;
    Ok(Json(all.into_iter().map(|s| s.name).collect()))
}

async fn get_session(
    State(app): S,
    _: NoTenant,
    Path(id): Path<String>,
) -> R<Json<SessionDetails>> {
    let (s, tree) = app.v1_session_tree(&id).await?;
    Ok(Json(SessionDetails::new(&s, &tree)))
}

async fn delete_session(State(app): S, _: NoTenant, Path(id): Path<String>) -> R<Response> {
    app.delete_v1_session(&id).await?;
    Ok(no_content())
}

async fn status(State(app): S, _: NoTenant, Path(id): Path<String>) -> R<Json<SessionStatusOut>> {
    let (_, tree) = app.v1_session_tree(&id).await?;
    Ok(Json(SessionStatusOut::from(&tree)))
}

fn boot_set<'t>(
    tree: &'t SessionTree,
    bs: &str,
) -> R<&'t crate::model::bos_v1_status::BootSetStatus> {
    tree.boot_set(bs).ok_or_else(|| {
        AppError::not_found(format!(
            "Boot set '{bs}' does not exist in session '{}'",
            tree.id
        ))
        .into()
    })
}

async fn boot_set_status(
    State(app): S,
    _: NoTenant,
    Path((id, bs)): Path<(String, String)>,
) -> R<Json<BootSetOut>> {
    let (_, tree) = app.v1_session_tree(&id).await?;
    Ok(Json(BootSetOut::new(&id, boot_set(&tree, &bs)?)))
}

fn phase<'t>(
    b: &'t crate::model::bos_v1_status::BootSetStatus,
    name: &str,
) -> R<&'t crate::model::bos_v1_status::PhaseStatus> {
    let p = V1Phase::parse(&name.to_ascii_lowercase())
        .ok_or_else(|| BosError::bad(V1Phase::refusal(name)))?;
    b.phases.iter().find(|x| x.name == p).ok_or_else(|| {
        AppError::not_found(format!(
            "Phase '{p}' does not exist in boot set '{}' (its phases: {})",
            b.name,
            b.phases
                .iter()
                .map(|x| x.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into()
    })
}

async fn phase_status(
    State(app): S,
    _: NoTenant,
    Path((id, bs, ph)): Path<(String, String, String)>,
) -> R<Json<PhaseOut>> {
    let (_, tree) = app.v1_session_tree(&id).await?;
    Ok(Json(PhaseOut::from(phase(boot_set(&tree, &bs)?, &ph)?)))
}

async fn category_status(
    State(app): S,
    _: NoTenant,
    Path((id, bs, ph, cat)): Path<(String, String, String, String)>,
) -> R<Json<CategoryOut>> {
    let (_, tree) = app.v1_session_tree(&id).await?;
    let p = phase(boot_set(&tree, &bs)?, &ph)?;
    let c = V1Category::parse(&cat.to_ascii_lowercase())
        .ok_or_else(|| BosError::bad(V1Category::refusal(&cat)))?;
    Ok(Json(CategoryOut {
        name: c,
        node_list: p.category(c).to_vec(),
    }))
}
