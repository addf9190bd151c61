//! CFS v2 component handlers: list (filters `ids`, `status`, `enabled`, `configName`,
//! `tags`, `configDetails`; one page at most), get, PUT and PATCH one or many, delete.
//! Writes answer the components written, as v2 does (v3 answers their ids).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;

use super::super::components::{bulk_filter, filter_from};
use super::super::{R, S, cfs};
use super::bad;
use super::configurations::too_large;
use super::types::{self, V2Component};
use crate::api::extract::{Body, Pairs};
use crate::app::cfs::{BulkPatch, Cfs, Page};
use crate::model::cfs::{ComponentFilter, DEFAULT_PAGE_SIZE};

/// `configName`, or the v3 spelling some clients send to v2 too.
fn config_name(q: &Pairs) -> Option<String> {
    q.first("configName").or_else(|| q.first("config_name"))
}

fn config_details(q: &Pairs) -> R<bool> {
    Ok(match q.bool("configDetails")? {
        Some(b) => b,
        None => q.bool("config_details")?.unwrap_or(false),
    })
}

/// The components with these ids, as v2 shows them after a write.
async fn written(c: &Cfs, ids: Vec<String>) -> R<Json<Vec<V2Component>>> {
    if ids.is_empty() {
        return Ok(Json(Vec::new()));
    }
    let page = Page {
        limit: Some(ids.len()),
        after_id: None,
    };
    let f = ComponentFilter {
        ids: Some(ids),
        ..Default::default()
    };
    let l = c.list_components(&f, &page).await?;
    Ok(Json(
        l.items.iter().map(|v| V2Component::new(v, false)).collect(),
    ))
}

pub async fn list(State(app): S, q: Pairs) -> R<Json<Vec<V2Component>>> {
    let c = cfs(&app)?;
    let f = filter_from(
        q.first("ids").as_deref(),
        q.first("status").as_deref(),
        q.bool("enabled")?,
        config_name(&q).as_deref(),
        q.first("tags").as_deref(),
    )?;
    let details = config_details(&q)?;
    let page = Page {
        limit: Some(DEFAULT_PAGE_SIZE),
        after_id: None,
    };
    let l = c.list_components(&f, &page).await?;
    if l.next_after.is_some() {
        return Err(too_large());
    }
    Ok(Json(
        l.items
            .iter()
            .map(|v| V2Component::new(v, details))
            .collect(),
    ))
}

pub async fn get(State(app): S, Path(id): Path<String>, q: Pairs) -> R<Json<V2Component>> {
    let c = cfs(&app)?;
    let details = config_details(&q)?;
    Ok(Json(V2Component::new(
        &c.get_component(&id).await?,
        details,
    )))
}

pub async fn put(
    State(app): S,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Json<V2Component>> {
    let c = cfs(&app)?;
    let p = types::component_patch(body, "component").map_err(bad)?;
    Ok(Json(V2Component::new(
        &c.put_component(&id, p).await?,
        false,
    )))
}

pub async fn patch(
    State(app): S,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Json<V2Component>> {
    let c = cfs(&app)?;
    let p = types::component_patch(body, "component").map_err(bad)?;
    Ok(Json(V2Component::new(
        &c.patch_component(&id, p).await?,
        false,
    )))
}

pub async fn delete(State(app): S, Path(id): Path<String>) -> R<StatusCode> {
    cfs(&app)?.delete_component(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn patches(items: Vec<Value>) -> R<Vec<crate::model::cfs::ComponentPatch>> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| types::component_patch(item, &format!("component {i}")).map_err(bad))
        .collect()
}

/// `PUT /v2/components`: create or replace each; every item needs an id.
pub async fn put_many(State(app): S, Body(body): Body<Value>) -> R<Json<Vec<V2Component>>> {
    let c = cfs(&app)?;
    let Value::Array(items) = body else {
        return Err(bad("expected a JSON array of components".into()));
    };
    let ids = c.put_components(patches(items)?).await?;
    written(c, ids).await
}

/// `PATCH /v2/components`: a list of per-id patches, or `{patch, filters}` (filters
/// `ids`, `status`, `enabled`, `configName`, `tags`).
pub async fn patch_many(State(app): S, Body(body): Body<Value>) -> R<Json<Vec<V2Component>>> {
    let c = cfs(&app)?;
    let bulk = match body {
        Value::Array(items) => BulkPatch::List(patches(items)?),
        Value::Object(o) => {
            let (patch, f) = bulk_filter(o, &["configName", "config_name"])?;
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
    written(c, ids).await
}
