//! BOS v2 (`/apis/bos/v2`, contract `specs/bos-openapi.yaml`): session templates, sessions
//! and their extended status, components, applystaged, options, version and health.
//!
//! Handlers decode the wire form, resolve the `Cray-Tenant-Name` header to a scope and call
//! `app::bos`; they never act on nodes. Errors carry the contract's titles ("The resource
//! was not found", …) so clients that match on them keep working.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::extract::{Body, Pairs};
use super::problem::Problem;
use crate::app::bos::Scope;
use crate::app::bos::components::{BulkPatch, ComponentFilter};
use crate::app::bos::sessions::SessionFilter;
use crate::app::{App, AppError};

type S = State<Arc<App>>;
type R<T> = Result<T, Problem>;

/// The BOS API version rackboot follows.
pub const BOS_VERSION: (&str, &str, &str) = ("2", "50", "0");

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(versions))
        .route("/v2", get(version))
        .route("/v2/", get(version))
        .route("/v2/version", get(version))
        .route("/v2/healthz", get(healthz))
        .route("/v2/sessiontemplates", get(list_templates))
        .route(
            "/v2/sessiontemplates/{id}",
            get(get_template)
                .put(put_template)
                .patch(patch_template)
                .delete(delete_template),
        )
        .route("/v2/sessiontemplatesvalid/{id}", get(validate_template))
        .route("/v2/sessiontemplatetemplate", get(template_skeleton))
        .route(
            "/v2/sessions",
            get(list_sessions)
                .post(create_session)
                .delete(delete_sessions),
        )
        .route(
            "/v2/sessions/{id}",
            get(get_session).patch(patch_session).delete(delete_session),
        )
        .route(
            "/v2/sessions/{id}/status",
            get(session_status).post(save_session_status),
        )
        .route(
            "/v2/components",
            get(list_components)
                .put(put_components)
                .patch(patch_components),
        )
        .route(
            "/v2/components/{id}",
            get(get_component)
                .put(put_component)
                .patch(patch_component)
                .delete(delete_component),
        )
        .route("/v2/applystaged", post(apply_staged))
        .route("/v2/options", get(get_options).patch(patch_options))
}

/// AppError → problem+json with the titles the BOS contract fixes for each status. (BOS
/// itself answers an unknown tenant with the title "Invalid tenant" and a component
/// conflict with "Actual state can not be updated."; the spec allows only the titles here,
/// so those words go in the detail instead.)
fn problem(e: AppError) -> Problem {
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
    p
}

async fn scope(app: &App, headers: &HeaderMap) -> R<Scope> {
    let h = match headers.get("cray-tenant-name") {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| {
            problem(AppError::bad(
                "Invalid tenant: the Cray-Tenant-Name header is not text",
            ))
        })?),
    };
    if h.is_some_and(|h| h.len() > 127) {
        return Err(problem(AppError::bad(
            "Invalid tenant: Cray-Tenant-Name is longer than 127 characters",
        )));
    }
    app.scope(h).await.map_err(problem)
}

fn ok<T: serde::Serialize>(v: T) -> Response {
    Json(v).into_response()
}

fn version_doc() -> Value {
    let (major, minor, patch) = BOS_VERSION;
    json!({"major": major, "minor": minor, "patch": patch,
        "links": [{"rel": "self", "href": "/apis/bos/v2"}, {"rel": "versions", "href": "/apis/bos/"}]})
}

async fn versions() -> Response {
    ok(json!([version_doc()]))
}

async fn version() -> Response {
    ok(version_doc())
}

async fn healthz(State(app): S) -> Response {
    let db = if app.ready().await.is_ok() {
        "ok"
    } else {
        "not_available"
    };
    ok(json!({"dbStatus": db, "apiStatus": "ok"}))
}

// --- session templates

async fn list_templates(State(app): S, h: HeaderMap) -> R<Response> {
    let s = scope(&app, &h).await?;
    Ok(ok(app.list_session_templates(&s).await.map_err(problem)?))
}

async fn get_template(State(app): S, h: HeaderMap, Path(id): Path<String>) -> R<Response> {
    let s = scope(&app, &h).await?;
    Ok(ok(app
        .get_session_template(&s, &id)
        .await
        .map_err(problem)?))
}

async fn put_template(
    State(app): S,
    h: HeaderMap,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Response> {
    let s = scope(&app, &h).await?;
    Ok(ok(app
        .put_session_template(&s, &id, body)
        .await
        .map_err(problem)?))
}

async fn patch_template(
    State(app): S,
    h: HeaderMap,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Response> {
    let s = scope(&app, &h).await?;
    Ok(ok(app
        .patch_session_template(&s, &id, body)
        .await
        .map_err(problem)?))
}

async fn delete_template(State(app): S, h: HeaderMap, Path(id): Path<String>) -> R<Response> {
    let s = scope(&app, &h).await?;
    app.delete_session_template(&s, &id)
        .await
        .map_err(problem)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn validate_template(State(app): S, h: HeaderMap, Path(id): Path<String>) -> R<Response> {
    let s = scope(&app, &h).await?;
    Ok(ok(app
        .validate_session_template(&s, &id)
        .await
        .map_err(problem)?))
}

async fn template_skeleton() -> Response {
    ok(App::session_template_skeleton())
}

// --- sessions

fn session_filter(q: &Pairs) -> SessionFilter {
    SessionFilter {
        min_age: q.first("min_age"),
        max_age: q.first("max_age"),
        status: q.first("status"),
    }
}

async fn list_sessions(State(app): S, h: HeaderMap, q: Pairs) -> R<Response> {
    let s = scope(&app, &h).await?;
    Ok(ok(app
        .list_sessions(&s, &session_filter(&q))
        .await
        .map_err(problem)?))
}

async fn create_session(State(app): S, h: HeaderMap, Body(body): Body<Value>) -> R<Response> {
    let s = scope(&app, &h).await?;
    let created = app.create_session(&s, body).await.map_err(problem)?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn delete_sessions(State(app): S, h: HeaderMap, q: Pairs) -> R<Response> {
    let s = scope(&app, &h).await?;
    app.delete_sessions(&s, &session_filter(&q))
        .await
        .map_err(problem)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn get_session(State(app): S, h: HeaderMap, Path(id): Path<String>) -> R<Response> {
    let s = scope(&app, &h).await?;
    Ok(ok(app.get_session(&s, &id).await.map_err(problem)?))
}

async fn patch_session(
    State(app): S,
    h: HeaderMap,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Response> {
    let s = scope(&app, &h).await?;
    Ok(ok(app
        .patch_session(&s, &id, body)
        .await
        .map_err(problem)?))
}

async fn delete_session(State(app): S, h: HeaderMap, Path(id): Path<String>) -> R<Response> {
    let s = scope(&app, &h).await?;
    app.delete_session(&s, &id).await.map_err(problem)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn session_status(State(app): S, h: HeaderMap, Path(id): Path<String>) -> R<Response> {
    let s = scope(&app, &h).await?;
    Ok(ok(app.session_status(&s, &id).await.map_err(problem)?))
}

async fn save_session_status(State(app): S, h: HeaderMap, Path(id): Path<String>) -> R<Response> {
    let s = scope(&app, &h).await?;
    Ok(ok(app
        .save_session_status(&s, &id)
        .await
        .map_err(problem)?))
}

// --- components

fn component_filter(q: &Pairs) -> R<ComponentFilter> {
    let page_size = match q.first("page_size") {
        None => 0,
        Some(v) => v.parse::<usize>().map_err(|_| {
            problem(AppError::bad(format!(
                "page_size '{v}' is not a non-negative integer"
            )))
        })?,
    };
    let list = |k: &str| {
        let v = q.all(k);
        (!v.is_empty() || q.first(k).is_some()).then_some(v)
    };
    Ok(ComponentFilter {
        ids: list("ids"),
        session: q.first("session"),
        staged_session: q.first("staged_session"),
        enabled: q.bool("enabled")?,
        phase: q.first("phase"),
        status: list("status"),
        start_after_id: q.first("start_after_id"),
        page_size,
    })
}

async fn list_components(State(app): S, h: HeaderMap, q: Pairs) -> R<Response> {
    let s = scope(&app, &h).await?;
    let f = component_filter(&q)?;
    Ok(ok(app
        .list_boot_components(&s, &f)
        .await
        .map_err(problem)?))
}

fn objects(v: Value, what: &str) -> R<Vec<serde_json::Map<String, Value>>> {
    let Value::Array(items) = v else {
        return Err(problem(AppError::bad(format!(
            "{what}: expected a JSON array of components"
        ))));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, x)| match x {
            Value::Object(o) => Ok(o),
            _ => Err(problem(AppError::bad(format!(
                "{what}: item {i} is not an object"
            )))),
        })
        .collect()
}

async fn put_components(State(app): S, Body(body): Body<Value>) -> R<Response> {
    let docs = objects(body, "components")?;
    Ok(ok(app.put_boot_components(docs).await.map_err(problem)?))
}

async fn patch_components(
    State(app): S,
    h: HeaderMap,
    q: Pairs,
    Body(body): Body<Value>,
) -> R<Response> {
    let s = scope(&app, &h).await?;
    let skip = q.bool("skip_bad_ids")?.unwrap_or(false);
    let bulk = match body {
        Value::Array(_) => BulkPatch::List(objects(body, "components")?),
        Value::Object(mut o) => {
            let patch = match o.remove("patch") {
                Some(Value::Object(p)) => p,
                _ => {
                    return Err(problem(AppError::bad(
                        "expected an array of components or {\"patch\": {...}, \"filters\": {...}}",
                    )));
                }
            };
            let filters = o.remove("filters").unwrap_or(Value::Null);
            let ids = filters.get("ids").and_then(Value::as_str).map(|s| {
                s.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
            });
            let session = filters
                .get("session")
                .and_then(Value::as_str)
                .map(str::to_string);
            BulkPatch::Filter {
                patch,
                ids,
                session,
            }
        }
        _ => {
            return Err(problem(AppError::bad(
                "the body must be a JSON array or object",
            )));
        }
    };
    Ok(ok(app
        .patch_boot_components(&s, bulk, skip)
        .await
        .map_err(problem)?))
}

async fn get_component(State(app): S, h: HeaderMap, Path(id): Path<String>) -> R<Response> {
    let s = scope(&app, &h).await?;
    Ok(ok(app
        .get_boot_component(&s, &id)
        .await
        .map_err(problem)?))
}

async fn put_component(
    State(app): S,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Response> {
    let Value::Object(mut o) = body else {
        return Err(problem(AppError::bad(
            "the component must be a JSON object",
        )));
    };
    o.insert("id".into(), Value::String(id));
    let mut out = app.put_boot_components(vec![o]).await.map_err(problem)?;
    Ok(ok(out.remove(0)))
}

async fn patch_component(
    State(app): S,
    h: HeaderMap,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Response> {
    let s = scope(&app, &h).await?;
    Ok(ok(app
        .patch_boot_component(&s, &id, body)
        .await
        .map_err(problem)?))
}

async fn delete_component(State(app): S, h: HeaderMap, Path(id): Path<String>) -> R<Response> {
    let s = scope(&app, &h).await?;
    app.delete_boot_component(&s, &id).await.map_err(problem)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplyStagedBody {
    xnames: Vec<String>,
}

async fn apply_staged(
    State(app): S,
    h: HeaderMap,
    Body(body): Body<ApplyStagedBody>,
) -> R<Response> {
    let s = scope(&app, &h).await?;
    Ok(ok(app
        .apply_staged(&s, body.xnames)
        .await
        .map_err(problem)?))
}

async fn get_options(State(app): S) -> R<Response> {
    Ok(ok(app.bos_options().await.map_err(problem)?))
}

async fn patch_options(State(app): S, Body(body): Body<Value>) -> R<Response> {
    Ok(ok(app.patch_bos_options(&body).await.map_err(problem)?))
}
