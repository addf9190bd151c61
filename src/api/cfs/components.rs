//! CFS component handlers: list (filters, paging), get, PUT and PATCH one or many, delete.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::types::{self, Details, component_doc, next_page};
use super::{R, S, cfs, details, echo, page};
use crate::api::extract::{Body, Pairs};
use crate::api::problem::Problem;
use crate::app::cfs::BulkPatch;
use crate::model::cfs::{self as dom, ComponentFilter, ConfigurationStatus};

const FULL: Details = Details {
    state: true,
    config: false,
};

/// The comma-separated id list of a filter or query (`""` means none given).
pub fn split_ids(raw: &str) -> Option<Vec<String>> {
    let ids: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    (!ids.is_empty()).then_some(ids)
}

/// A filter as the list query and the bulk PATCH `filters` give it.
pub fn filter_from(
    ids: Option<&str>,
    status: Option<&str>,
    enabled: Option<bool>,
    config_name: Option<&str>,
    tags: Option<&str>,
) -> Result<ComponentFilter, Problem> {
    let status = match status.and_then(split_ids) {
        None => None,
        Some(list) => Some(
            list.iter()
                .map(|s| {
                    ConfigurationStatus::parse(s).ok_or_else(|| {
                        Problem::bad_request(format!(
                            "status: '{s}' is not one of unconfigured, failed, pending, configured"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    Ok(ComponentFilter {
        ids: ids.and_then(split_ids),
        status,
        enabled,
        config_name: config_name.filter(|c| !c.is_empty()).map(String::from),
        tags: match tags {
            Some(t) => dom::parse_tags(t).map_err(Problem::bad_request)?,
            None => Vec::new(),
        },
    })
}

fn bad(e: String) -> Problem {
    Problem::bad_request(e)
}

pub async fn list(State(app): S, q: Pairs) -> R<Json<Value>> {
    let c = cfs(&app)?;
    let f = filter_from(
        q.first("ids").as_deref(),
        q.first("status").as_deref(),
        q.bool("enabled")?,
        q.first("config_name").as_deref(),
        q.first("tags").as_deref(),
    )?;
    let d = details(&q)?;
    let l = c.list_components(&f, &page(&q)?).await?;
    let comps: Vec<Value> = l.items.iter().map(|v| component_doc(v, d)).collect();
    Ok(Json(
        json!({"components": comps, "next": next_page(echo(&q), &l)}),
    ))
}

pub async fn get(State(app): S, Path(id): Path<String>, q: Pairs) -> R<Json<Value>> {
    let c = cfs(&app)?;
    Ok(Json(component_doc(
        &c.get_component(&id).await?,
        details(&q)?,
    )))
}

pub async fn put(State(app): S, Path(id): Path<String>, Body(body): Body<Value>) -> R<Json<Value>> {
    let c = cfs(&app)?;
    let p = types::component_patch(body, "component").map_err(bad)?;
    Ok(Json(component_doc(&c.put_component(&id, p).await?, FULL)))
}

pub async fn patch(
    State(app): S,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Json<Value>> {
    let c = cfs(&app)?;
    let p = types::component_patch(body, "component").map_err(bad)?;
    Ok(Json(component_doc(&c.patch_component(&id, p).await?, FULL)))
}

pub async fn delete(State(app): S, Path(id): Path<String>) -> R<StatusCode> {
    cfs(&app)?.delete_component(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /v3/components`: create or replace each; every item needs an id.
pub async fn put_many(State(app): S, Body(body): Body<Value>) -> R<Json<Value>> {
    let c = cfs(&app)?;
    let Value::Array(items) = body else {
        return Err(bad("expected a JSON array of components".into()));
    };
    let patches = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| types::component_patch(item, &format!("component {i}")).map_err(bad))
        .collect::<R<Vec<_>>>()?;
    let ids = c.put_components(patches).await?;
    Ok(Json(json!({"component_ids": ids})))
}

/// The two parts of a filtered bulk PATCH, `{"patch", "filters"}`: the patch (still to
/// decode, in the caller's version) and the filter. `config_keys` are the names the
/// configuration filter goes by in the caller's version.
pub fn bulk_filter(
    mut o: serde_json::Map<String, Value>,
    config_keys: &[&str],
) -> R<(Value, ComponentFilter)> {
    let (Some(patch), Some(filters)) = (o.remove("patch"), o.remove("filters")) else {
        return Err(bad(
            "a bulk PATCH object needs both 'patch' and 'filters'".into()
        ));
    };
    if let Some(k) = o.keys().next() {
        return Err(bad(format!("unknown field '{k}'")));
    }
    let Value::Object(fl) = filters else {
        return Err(bad("filters: expected an object".into()));
    };
    let text = |k: &str| -> R<Option<String>> {
        match fl.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(format!("filters.{k}: expected a string"))),
        }
    };
    if let Some(k) = fl.keys().find(|k| {
        !["ids", "status", "enabled", "tags"].contains(&k.as_str())
            && !config_keys.contains(&k.as_str())
    }) {
        return Err(bad(format!(
            "filters: unknown field '{k}' (known: ids, status, enabled, {}, tags)",
            config_keys[0]
        )));
    }
    let enabled = match fl.get("enabled") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(bad("filters.enabled: expected a boolean".into())),
    };
    let mut config_name = None;
    for k in config_keys {
        if config_name.is_none() {
            config_name = text(k)?;
        }
    }
    let f = filter_from(
        text("ids")?.as_deref(),
        text("status")?.as_deref(),
        enabled,
        config_name.as_deref(),
        text("tags")?.as_deref(),
    )?;
    Ok((patch, f))
}

/// `PATCH /v3/components`: a list of per-id patches, or `{patch, filters}`.
pub async fn patch_many(State(app): S, Body(body): Body<Value>) -> R<Json<Value>> {
    let c = cfs(&app)?;
    let bulk = match body {
        Value::Array(items) => BulkPatch::List(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    types::component_patch(item, &format!("component {i}")).map_err(bad)
                })
                .collect::<R<Vec<_>>>()?,
        ),
        Value::Object(o) => {
            let (patch, f) = bulk_filter(o, &["config_name"])?;
            let p = types::component_patch(patch, "patch").map_err(bad)?;
            BulkPatch::Filter(Box::new(p), f)
        }
        _ => {
            return Err(bad(
                "expected a JSON array of component patches or an object with patch and filters"
                    .into(),
            ));
        }
    };
    let ids = c.patch_components(bulk).await?;
    Ok(Json(json!({"component_ids": ids})))
}
