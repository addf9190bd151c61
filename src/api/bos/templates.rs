//! Session-template handlers: list, get, PUT (create or replace), PATCH (BOS's merge),
//! delete, validate, and the example skeleton.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;

use super::types::{self, SessionTemplate};
use super::{BosError, R, S, Tenant, no_content};
use crate::api::extract::Body;
use crate::app::App;

fn shown(t: &crate::model::SessionTemplate) -> SessionTemplate {
    t.into()
}

pub async fn list(State(app): S, Tenant(s): Tenant) -> R<Json<Vec<SessionTemplate>>> {
    let all = app.list_session_templates(&s).await?;
    Ok(Json(all.iter().map(shown).collect()))
}

pub async fn get(
    State(app): S,
    Tenant(s): Tenant,
    Path(id): Path<String>,
) -> R<Json<SessionTemplate>> {
    Ok(Json(shown(&app.get_session_template(&s, &id).await?)))
}

pub async fn put(
    State(app): S,
    Tenant(s): Tenant,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Json<SessionTemplate>> {
    let t = types::template_in(body, "created").map_err(BosError::bad)?;
    Ok(Json(shown(&app.put_session_template(&s, &id, t).await?)))
}

pub async fn patch(
    State(app): S,
    Tenant(s): Tenant,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Json<SessionTemplate>> {
    let p = types::template_patch(body).map_err(BosError::bad)?;
    Ok(Json(shown(&app.patch_session_template(&s, &id, p).await?)))
}

pub async fn delete(State(app): S, Tenant(s): Tenant, Path(id): Path<String>) -> R<Response> {
    app.delete_session_template(&s, &id).await?;
    Ok(no_content())
}

pub async fn validate(State(app): S, Tenant(s): Tenant, Path(id): Path<String>) -> R<Json<String>> {
    Ok(Json(app.validate_session_template(&s, &id).await?))
}

pub async fn skeleton() -> Json<Value> {
    Json(App::session_template_skeleton())
}
