//! CFS v2's single-component GET and PATCH, for cfs-state-reporter: camelCase keys, and a
//! layer's status folded into its commit as `_failed`/`_skipped`. Converted to and from
//! the v3 documents at this edge.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Map, Value, json};

use super::types::{self, Details, component_doc};
use super::{R, S, cfs};
use crate::api::extract::Body;
use crate::api::problem::Problem;
use crate::model::cfs::LayerStatus;

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
        && LayerStatus::parse(st) != Some(LayerStatus::Applied)
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

const FULL: Details = Details {
    state: true,
    config: false,
};

pub async fn get(State(app): S, Path(id): Path<String>) -> R<Json<Value>> {
    let c = cfs(&app)?.get_component(&id).await?;
    Ok(Json(component_to_v2(&component_doc(&c, FULL))))
}

pub async fn patch(
    State(app): S,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Json<Value>> {
    let p = types::component_patch(component_from_v2(body)?, "component")
        .map_err(Problem::bad_request)?;
    let c = cfs(&app)?.patch_component(&id, p).await?;
    Ok(Json(component_to_v2(&component_doc(&c, FULL))))
}
