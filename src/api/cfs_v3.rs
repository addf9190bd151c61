//! The built-in CFS (`/apis/cfs/v3`, contract `specs/cfs-openapi.yaml`): components and
//! configurations, the subset BOS and node-side reporters use (DESIGN §2).
//!
//! Also served: the v2 single-component GET and PATCH (camelCase, layer status folded into
//! the commit as `_failed`/`_skipped`), because cfs-state-reporter in CSM images PATCHes
//! `/apis/cfs/v2/components/{xname}` with `{"state": [], "enabled": true}` when a node boots;
//! the bodies are converted to v3 at this edge.
//!
//! Served only when the built-in CFS is the configuration handoff (`cfs = builtin`); with
//! `none` or `external` every path answers 404 saying where configuration goes instead, so
//! nobody writes configurations that nothing reads. Handlers decode queries and call
//! `app::cfs`; nodes are never touched from here.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::extract::{Body, Pairs};
use super::problem::Problem;
use crate::app::cfs::{Cfs, Details, Page, filter_from};
use crate::app::{App, AppError};

type S = State<Arc<App>>;
type R<T> = Result<T, Problem>;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(versions))
        .route("/v3", get(version))
        .route(
            "/v3/components",
            get(list_components)
                .put(put_components)
                .patch(patch_components),
        )
        .route(
            "/v3/components/{id}",
            get(get_component)
                .put(put_component)
                .patch(patch_component)
                .delete(delete_component),
        )
        .route(
            "/v2/components/{id}",
            get(get_component_v2).patch(patch_component_v2),
        )
        .route("/v3/configurations", get(list_configurations))
        .route(
            "/v3/configurations/{name}",
            get(get_configuration)
                .put(put_configuration)
                .patch(patch_configuration)
                .delete(delete_configuration),
        )
}

fn problem(e: AppError) -> Problem {
    Problem::from(e)
}

fn cfs(app: &App) -> R<&Arc<Cfs>> {
    app.builtin_cfs().ok_or_else(|| {
        Problem::not_found(format!(
            "the built-in CFS is off: this appliance hands nodes to {} (setting cfs)",
            app.handoff().describe()
        ))
    })
}

fn ok<T: serde::Serialize>(v: T) -> Response {
    Json(v).into_response()
}

async fn versions(State(app): S) -> R<Response> {
    cfs(&app)?;
    Ok(ok(json!([{"major": "3", "minor": "0", "patch": "0"}])))
}

async fn version(State(app): S) -> R<Response> {
    cfs(&app)?;
    Ok(ok(json!({"major": "3", "minor": "0", "patch": "0"})))
}

fn page(q: &Pairs) -> R<Page> {
    let limit = match q.first("limit") {
        None => None,
        Some(v) => Some(v.parse::<usize>().map_err(|_| {
            Problem::bad_request(format!("limit: '{v}' is not a positive integer"))
        })?),
    };
    Ok(Page {
        limit,
        after_id: q.first("after_id").filter(|a| !a.is_empty()),
    })
}

/// The query as given, for the `next` link (paging keys are set by the app).
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

// --- components

async fn list_components(State(app): S, q: Pairs) -> R<Response> {
    let c = cfs(&app)?;
    let f = filter_from(
        q.first("ids").as_deref(),
        q.first("status").as_deref(),
        q.bool("enabled")?,
        q.first("config_name").as_deref(),
        q.first("tags").as_deref(),
    )
    .map_err(problem)?;
    Ok(ok(c
        .list_components(&f, &page(&q)?, details(&q)?, echo(&q))
        .await
        .map_err(problem)?))
}

async fn put_components(State(app): S, Body(body): Body<Value>) -> R<Response> {
    Ok(ok(cfs(&app)?
        .put_components(body)
        .await
        .map_err(problem)?))
}

async fn patch_components(State(app): S, Body(body): Body<Value>) -> R<Response> {
    Ok(ok(cfs(&app)?
        .patch_components(body)
        .await
        .map_err(problem)?))
}

async fn get_component(State(app): S, Path(id): Path<String>, q: Pairs) -> R<Response> {
    Ok(ok(cfs(&app)?
        .get_component(&id, details(&q)?)
        .await
        .map_err(problem)?))
}

async fn put_component(
    State(app): S,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Response> {
    Ok(ok(cfs(&app)?
        .put_component(&id, body)
        .await
        .map_err(problem)?))
}

async fn patch_component(
    State(app): S,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Response> {
    Ok(ok(cfs(&app)?
        .patch_component(&id, body)
        .await
        .map_err(problem)?))
}

async fn delete_component(State(app): S, Path(id): Path<String>) -> R<Response> {
    cfs(&app)?.delete_component(&id).await.map_err(problem)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// --- v2 single component (cfs-state-reporter)

const V2_KEYS: &[(&str, &str)] = &[
    ("id", "id"),
    ("desiredConfig", "desired_config"),
    ("errorCount", "error_count"),
    ("retryPolicy", "retry_policy"),
    ("enabled", "enabled"),
    ("tags", "tags"),
    ("state", "state"),
    ("stateAppend", "state_append"),
    ("configurationStatus", "configuration_status"),
    ("desiredState", "desired_state"),
];

const V2_LAYER_KEYS: &[(&str, &str)] = &[
    ("cloneUrl", "clone_url"),
    ("playbook", "playbook"),
    ("commit", "commit"),
    ("lastUpdated", "last_updated"),
    ("sessionName", "session_name"),
];

/// A v2 layer to v3: keys renamed, a `_failed`/`_skipped`/`_applied` commit suffix moved
/// into `status`. Unknown keys are kept, so the v3 check names them.
fn layer_from_v2(v: Value) -> Value {
    let Value::Object(o) = v else { return v };
    let mut out = Map::new();
    for (k, v) in o {
        let key = V2_LAYER_KEYS
            .iter()
            .find(|(v2, _)| *v2 == k)
            .map_or(k.clone(), |(_, v3)| (*v3).to_string());
        out.insert(key, v);
    }
    if let Some(Value::String(c)) = out.get("commit").cloned()
        && let Some((commit, status)) = c.split_once('_')
    {
        out.insert("commit".into(), json!(commit));
        out.insert("status".into(), json!(status));
    }
    Value::Object(out)
}

fn layer_to_v2(v: &Value) -> Value {
    let mut out = Map::new();
    for (v2, v3) in V2_LAYER_KEYS {
        if let Some(x) = v.get(*v3) {
            out.insert((*v2).to_string(), x.clone());
        }
    }
    if let (Some(c), Some(st)) = (v["commit"].as_str(), v["status"].as_str())
        && st != "applied"
    {
        out.insert("commit".into(), json!(format!("{c}_{st}")));
    }
    Value::Object(out)
}

fn component_from_v2(v: Value) -> R<Value> {
    let Value::Object(o) = v else {
        return Err(Problem::bad_request("component: expected a JSON object"));
    };
    let mut out = Map::new();
    for (k, v) in o {
        let key = V2_KEYS
            .iter()
            .find(|(v2, _)| *v2 == k)
            .map_or(k.clone(), |(_, v3)| (*v3).to_string());
        let v = match key.as_str() {
            "state" => match v {
                Value::Array(items) => Value::Array(items.into_iter().map(layer_from_v2).collect()),
                other => other,
            },
            "state_append" => layer_from_v2(v),
            _ => v,
        };
        out.insert(key, v);
    }
    Ok(Value::Object(out))
}

fn component_to_v2(v: &Value) -> Value {
    let mut out = Map::new();
    for (v2, v3) in V2_KEYS {
        match (*v3, v.get(*v3)) {
            ("state", Some(Value::Array(l))) => {
                out.insert(
                    "state".into(),
                    Value::Array(l.iter().map(layer_to_v2).collect()),
                );
            }
            ("desired_state", _) => {}
            (_, Some(x)) => {
                out.insert((*v2).to_string(), x.clone());
            }
            _ => {}
        }
    }
    Value::Object(out)
}

async fn get_component_v2(State(app): S, Path(id): Path<String>) -> R<Response> {
    let d = Details {
        state: true,
        config: false,
    };
    let c = cfs(&app)?.get_component(&id, d).await.map_err(problem)?;
    Ok(ok(component_to_v2(&c)))
}

async fn patch_component_v2(
    State(app): S,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Response> {
    let c = cfs(&app)?
        .patch_component(&id, component_from_v2(body)?)
        .await
        .map_err(problem)?;
    Ok(ok(component_to_v2(&c)))
}

// --- configurations

async fn list_configurations(State(app): S, q: Pairs) -> R<Response> {
    let c = cfs(&app)?;
    Ok(ok(c
        .list_configurations(q.bool("in_use")?, &page(&q)?, echo(&q))
        .await
        .map_err(problem)?))
}

async fn get_configuration(State(app): S, Path(name): Path<String>) -> R<Response> {
    Ok(ok(cfs(&app)?
        .get_configuration(&name)
        .await
        .map_err(problem)?))
}

async fn put_configuration(
    State(app): S,
    Path(name): Path<String>,
    q: Pairs,
    Body(body): Body<Value>,
) -> R<Response> {
    let drop_branches = q.bool("drop_branches")?.unwrap_or(false);
    Ok(ok(cfs(&app)?
        .put_configuration(&name, body, drop_branches)
        .await
        .map_err(problem)?))
}

async fn patch_configuration(State(app): S, Path(name): Path<String>) -> R<Response> {
    Ok(ok(cfs(&app)?
        .patch_configuration(&name)
        .await
        .map_err(problem)?))
}

async fn delete_configuration(State(app): S, Path(name): Path<String>) -> R<Response> {
    cfs(&app)?
        .delete_configuration(&name)
        .await
        .map_err(problem)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
