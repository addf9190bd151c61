//! Session handlers: create (recorded as pending; the session-setup operator does the
//! rest), list and bulk delete with the age and status filters, get, the internal PATCH,
//! delete, and the extended status.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;

use super::types::{self, ExtendedStatus, Session, SessionCreate};
use super::{BosError, R, S, Tenant, created, no_content};
use crate::api::extract::{Body, Pairs};
use crate::app::bos::sessions::SessionFilter;
use crate::model::{NewSession, SessionStatus};

fn filter(q: &Pairs) -> R<SessionFilter> {
    let status = match q.first("status") {
        None => None,
        Some(s) => Some(
            SessionStatus::parse(&s).ok_or_else(|| BosError::bad(SessionStatus::refusal(&s)))?,
        ),
    };
    Ok(SessionFilter {
        min_age: q.first("min_age"),
        max_age: q.first("max_age"),
        status,
    })
}

pub async fn list(State(app): S, Tenant(s): Tenant, q: Pairs) -> R<Json<Vec<Session>>> {
    let all = app.list_sessions(&s, &filter(&q)?).await?;
    Ok(Json(all.iter().map(Session::from).collect()))
}

pub async fn create(State(app): S, Tenant(s): Tenant, Body(body): Body<Value>) -> R<Response> {
    let req: SessionCreate = serde_json::from_value(body)
        .map_err(|e| BosError::bad(format!("The session could not be created: {e}")))?;
    let new = NewSession::try_from(req).map_err(BosError::bad)?;
    Ok(created(Session::from(&app.create_session(&s, new).await?)))
}

pub async fn delete_many(State(app): S, Tenant(s): Tenant, q: Pairs) -> R<Response> {
    app.delete_sessions(&s, &filter(&q)?).await?;
    Ok(no_content())
}

pub async fn get(State(app): S, Tenant(s): Tenant, Path(id): Path<String>) -> R<Json<Session>> {
    Ok(Json(Session::from(&app.get_session(&s, &id).await?)))
}

pub async fn patch(
    State(app): S,
    Tenant(s): Tenant,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Json<Session>> {
    let p = types::session_patch(body).map_err(BosError::bad)?;
    Ok(Json(Session::from(&app.patch_session(&s, &id, p).await?)))
}

pub async fn delete(State(app): S, Tenant(s): Tenant, Path(id): Path<String>) -> R<Response> {
    app.delete_session(&s, &id).await?;
    Ok(no_content())
}

pub async fn status(
    State(app): S,
    Tenant(s): Tenant,
    Path(id): Path<String>,
) -> R<Json<ExtendedStatus>> {
    Ok(Json(ExtendedStatus::from(
        &app.session_status(&s, &id).await?,
    )))
}

pub async fn save_status(
    State(app): S,
    Tenant(s): Tenant,
    Path(id): Path<String>,
) -> R<Json<ExtendedStatus>> {
    Ok(Json(ExtendedStatus::from(
        &app.save_session_status(&s, &id).await?,
    )))
}
