//! Power, in the PCS shape (`/apis/power-control/v1`, contract `specs/pcs-swagger.yaml`).
//!
//! `POST /transitions` records a transition and returns at once; `operators::power`
//! carries it out and `GET /transitions/{id}` shows per-task progress. Power status is
//! read from the power cache. Deliberate differences from PCS: nodes in transition report
//! `powerState: "transition"` (PCS calls PoweringOn `off`), a BMC's 4xx/5xx answer to a
//! reset fails the task with the BMC's message (PCS ignores it), and two extensions on
//! `POST /transitions`: `taskDeadlineSeconds` and `bootTarget` (a one-time boot override
//! set before the step that boots the node; refused for `On` on a node already on and for a
//! system that cannot take one: docs/pcs.md, "Boot targets and netboot intent").

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::extract::{Body, Pairs};
use super::hsm::xname;
use super::problem::{ApiResult, Problem};
use crate::app::App;
use crate::app::power::{StatusEntry, TransitionRequest};
use crate::model::Xname;
use crate::model::power::{PowerOperation, PowerTask, TaskCounts, Transition};

type S = State<Arc<App>>;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/transitions",
            get(list_transitions).post(create_transition),
        )
        .route(
            "/transitions/{id}",
            get(get_transition).delete(abort_transition),
        )
        .route(
            "/power-status",
            get(get_power_status).post(post_power_status),
        )
        .route(
            "/liveness",
            get(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .route("/readiness", get(readiness))
        .route("/health", get(health))
}

/// `GET /health`: PCS's fields (health_rsp), each saying what stands in for that dependency
/// here; 200 whatever they say, as PCS answers.
async fn health(State(app): S) -> Json<serde_json::Value> {
    let store = match app.ready().await {
        Ok(()) => "connected, responsive".to_string(),
        Err(e) => format!("not responsive: {e}"),
    };
    Json(serde_json::json!({
        "KvStore": store,
        "DistLocking": "local (one appliance process)",
        "StateManager": "built in (the appliance's own inventory)",
        "Vault": "not used (BMC credentials are in the store)",
        "TaskRunner": "local mode",
    }))
}

async fn readiness(State(app): S) -> ApiResult<axum::http::StatusCode> {
    app.ready().await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

// Request bodies take unknown fields as PCS does (Go's decoder ignores them).
#[derive(Deserialize)]
struct Location {
    xname: String,
    /// Reservations are not implemented: a deputy key is accepted and ignored, whatever it is.
    #[serde(rename = "deputyKey", default)]
    #[allow(dead_code)]
    deputy_key: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct TransitionIn {
    operation: Option<String>,
    #[serde(rename = "taskDeadlineMinutes")]
    task_deadline_minutes: Option<i64>,
    #[serde(rename = "taskDeadlineSeconds")]
    task_deadline_seconds: Option<u64>,
    #[serde(default)]
    location: Vec<Location>,
    #[serde(rename = "bootTarget")]
    boot_target: Option<String>,
}

#[derive(Serialize)]
struct Counts {
    total: u64,
    new: u64,
    #[serde(rename = "in-progress")]
    in_progress: u64,
    failed: u64,
    succeeded: u64,
    #[serde(rename = "un-supported")]
    unsupported: u64,
}

impl From<&TaskCounts> for Counts {
    fn from(c: &TaskCounts) -> Self {
        Counts {
            total: c.total,
            new: c.new,
            in_progress: c.in_progress,
            failed: c.failed,
            succeeded: c.succeeded,
            unsupported: c.unsupported,
        }
    }
}

#[derive(Serialize)]
struct TransitionOut {
    #[serde(rename = "transitionID")]
    id: String,
    operation: &'static str,
    #[serde(rename = "createTime")]
    create_time: String,
    #[serde(rename = "automaticExpirationTime")]
    expires: String,
    #[serde(rename = "transitionStatus")]
    status: &'static str,
    #[serde(rename = "taskCounts")]
    counts: Counts,
    #[serde(rename = "taskDeadlineMinutes")]
    deadline_minutes: i64,
    #[serde(rename = "bootTarget", skip_serializing_if = "Option::is_none")]
    boot_target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tasks: Option<Vec<TaskOut>>,
}

#[derive(Serialize)]
struct TaskOut {
    xname: String,
    #[serde(rename = "taskStatus")]
    status: &'static str,
    #[serde(rename = "taskStatusDescription")]
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn transition_out(t: &Transition, tasks: Option<&[PowerTask]>) -> TransitionOut {
    TransitionOut {
        id: t.id.to_string(),
        operation: t.operation.as_str(),
        create_time: t.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        expires: t.expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        status: t.status.as_str(),
        counts: (&t.counts).into(),
        deadline_minutes: t.deadline_minutes,
        boot_target: t.boot_target.clone(),
        tasks: tasks.map(|ts| {
            ts.iter()
                .map(|task| TaskOut {
                    xname: task.xname.clone(),
                    status: task.status.as_str(),
                    description: task.description.clone(),
                    error: task.error.clone(),
                })
                .collect()
        }),
    }
}

async fn create_transition(
    State(app): S,
    Body(b): Body<TransitionIn>,
) -> ApiResult<Json<serde_json::Value>> {
    let raw = b
        .operation
        .ok_or_else(|| Problem::bad_request("missing required field 'operation'"))?;
    let operation = PowerOperation::parse(&raw).ok_or_else(|| {
        Problem::bad_request(format!(
            "invalid operation '{raw}': use one of on, off, soft-off, force-off, soft-restart, hard-restart, init"
        ))
    })?;
    let deadline_minutes = b.task_deadline_minutes.unwrap_or(5);
    if deadline_minutes < -1 {
        return Err(Problem::bad_request(format!(
            "invalid taskDeadlineMinutes {deadline_minutes}: use -1 (wait forever), 0 (do not confirm) or a number of minutes"
        )));
    }
    let t = app
        .request_transition(TransitionRequest {
            operation,
            deadline_minutes,
            deadline_seconds: b.task_deadline_seconds,
            xnames: b.location.into_iter().map(|l| l.xname).collect(),
            boot_target: b.boot_target,
        })
        .await?;
    Ok(Json(serde_json::json!({
        "transitionID": t.id.to_string(),
        "operation": t.operation.as_str(),
    })))
}

async fn list_transitions(State(app): S) -> ApiResult<Json<serde_json::Value>> {
    let all: Vec<TransitionOut> = app
        .list_transitions()
        .await?
        .iter()
        .map(|t| transition_out(t, None))
        .collect();
    Ok(Json(serde_json::json!({ "transitions": all })))
}

async fn get_transition(State(app): S, Path(id): Path<String>) -> ApiResult<Json<TransitionOut>> {
    let (t, tasks) = app.get_transition(&id).await?;
    Ok(Json(transition_out(&t, Some(&tasks))))
}

async fn abort_transition(
    State(app): S,
    Path(id): Path<String>,
) -> ApiResult<(axum::http::StatusCode, Json<serde_json::Value>)> {
    app.abort_transition(&id).await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(serde_json::json!({"abortStatus": "Accepted - abort initiated"})),
    ))
}

#[derive(Deserialize, Default)]
struct StatusQuery {
    #[serde(default)]
    xname: Vec<String>,
    #[serde(rename = "powerStateFilter")]
    power_state_filter: Option<String>,
    #[serde(rename = "managementStateFilter")]
    management_state_filter: Option<String>,
}

async fn get_power_status(State(app): S, q: Pairs) -> ApiResult<Json<serde_json::Value>> {
    for (k, _) in &q.0 {
        if !matches!(
            k.as_str(),
            "xname" | "powerStateFilter" | "managementStateFilter"
        ) {
            return Err(Problem::bad_request(format!(
                "unknown query parameter '{k}': use xname, powerStateFilter or managementStateFilter"
            )));
        }
    }
    power_status(
        &app,
        StatusQuery {
            xname: q.all("xname"),
            power_state_filter: q.first("powerStateFilter"),
            management_state_filter: q.first("managementStateFilter"),
        },
    )
    .await
}

async fn post_power_status(
    State(app): S,
    Body(b): Body<StatusQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    power_status(&app, b).await
}

async fn power_status(app: &App, q: StatusQuery) -> ApiResult<Json<serde_json::Value>> {
    let mut bad = Vec::new();
    let mut xnames: Vec<Xname> = Vec::new();
    for raw in &q.xname {
        match xname(raw) {
            Ok(x) => xnames.push(x),
            Err(_) => bad.push(raw.clone()),
        }
    }
    if !bad.is_empty() {
        return Err(Problem::bad_request(format!(
            "invalid xnames detected:{}",
            bad.join(",")
        )));
    }
    let power_filter = match q.power_state_filter.as_deref().map(str::to_ascii_lowercase) {
        None => None,
        Some(f) if ["on", "off", "undefined", "transition"].contains(&f.as_str()) => Some(f),
        Some(f) => {
            return Err(Problem::bad_request(format!(
                "invalid powerStateFilter '{f}': use on, off, undefined or transition"
            )));
        }
    };
    let mgmt_filter = match q
        .management_state_filter
        .as_deref()
        .map(str::to_ascii_lowercase)
    {
        None => None,
        Some(f) if f == "available" || f == "unavailable" => Some(f),
        Some(f) => {
            return Err(Problem::bad_request(format!(
                "invalid managementStateFilter '{f}': use available or unavailable"
            )));
        }
    };
    let entries = app.power_status(&xnames).await?;
    let out: Vec<serde_json::Value> = entries
        .into_iter()
        .filter_map(|e| {
            let (x, power, mgmt, error, supported, updated) = match e {
                StatusEntry::Known(s) => (
                    s.xname.to_string(),
                    s.state.as_str(),
                    if s.available {
                        "available"
                    } else {
                        "unavailable"
                    },
                    s.error,
                    s.supported.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
                    Some(s.updated.to_rfc3339()),
                ),
                StatusEntry::Missing { xname, error } => {
                    (xname.to_string(), "", "", Some(error), Vec::new(), None)
                }
            };
            if power_filter.as_deref().is_some_and(|f| f != power)
                || mgmt_filter.as_deref().is_some_and(|f| f != mgmt)
            {
                return None;
            }
            Some(serde_json::json!({
                "xname": x,
                "powerState": power,
                "managementState": mgmt,
                "error": error,
                "supportedPowerTransitions": supported,
                "lastUpdated": updated.unwrap_or_default(),
            }))
        })
        .collect();
    Ok(Json(serde_json::json!({ "status": out })))
}
