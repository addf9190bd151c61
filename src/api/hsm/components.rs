//! `State/Components`: list, query, create, replace, patch and delete components.
//!
//! Filters arrive as repeated query parameters (OR within a field, AND across fields) and
//! are canonicalised here, so the app compares HSM spellings only. The single-field PATCH
//! routes (one component or `Bulk…`) share one body type and one handler each; which field
//! a route changes is the route's, not the body's.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{MethodRouter, patch};

use super::types::Vocabulary::{Closed, Open};
use super::types::component::{
    BulkNidBody, ComponentArray, ComponentOut, PatchBody, PostArray, Projection, PutOne,
};
use super::types::{body_nid, canon_all, lookup_xname, nid, xname, xnames};
use super::{S, deleted};
use crate::api::extract::{Body, Pairs, parse_bool};
use crate::api::problem::{ApiResult, Problem};
use crate::app::App;
use crate::app::inventory::ComponentFilter;
use crate::model::Component;
use crate::model::component::{ARCHES, CLASSES, FLAGS, ROLES, STATES, SUBROLES, TYPES};

pub(super) fn filter_from(q: &Pairs) -> ApiResult<ComponentFilter> {
    Ok(ComponentFilter {
        ids: xnames(&q.all("id"))?,
        types: canon_all("type", q.all("type"), TYPES, Closed)?,
        states: canon_all("state", q.all("state"), STATES, Closed)?,
        flags: canon_all("flag", q.all("flag"), FLAGS, Closed)?,
        roles: canon_all("role", q.all("role"), ROLES, Open)?,
        subroles: canon_all("subrole", q.all("subrole"), SUBROLES, Open)?,
        enabled: q
            .all("enabled")
            .iter()
            .map(|v| parse_bool("enabled", v))
            .collect::<ApiResult<_>>()?,
        software_status: q.all("softwarestatus"),
        subtypes: q.all("subtype"),
        arches: canon_all("arch", q.all("arch"), ARCHES, Closed)?,
        classes: canon_all("class", q.all("class"), CLASSES, Closed)?,
        nids: q
            .all("nid")
            .iter()
            .map(|s| nid(s))
            .collect::<ApiResult<_>>()?,
        nid_start: q.first("nid_start").map(|s| nid(&s)).transpose()?,
        nid_end: q.first("nid_end").map(|s| nid(&s)).transpose()?,
        groups: q.all("group"),
        partitions: q.all("partition"),
    })
}

pub(super) async fn list(State(app): S, q: Pairs) -> ApiResult<Json<ComponentArray>> {
    let f = filter_from(&q)?;
    let proj = if q.bool("stateonly")?.unwrap_or(false) {
        Projection::State
    } else if q.bool("flagonly")?.unwrap_or(false) {
        Projection::Flag
    } else if q.bool("roleonly")?.unwrap_or(false) {
        Projection::Role
    } else if q.bool("nidonly")?.unwrap_or(false) {
        Projection::Nid
    } else {
        Projection::Full
    };
    let cs = app.list_components(&f).await?;
    Ok(Json(ComponentArray {
        components: cs
            .into_iter()
            .map(|c| ComponentOut::from(c).project(proj))
            .collect(),
    }))
}

pub(super) async fn post(State(app): S, Body(body): Body<PostArray>) -> ApiResult<StatusCode> {
    if body.components.is_empty() {
        return Err(Problem::bad_request(
            "Components must list at least one component",
        ));
    }
    let cs = body
        .components
        .into_iter()
        .map(Component::try_from)
        .collect::<ApiResult<Vec<_>>>()?;
    app.upsert_components(cs, body.force).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn delete_all(State(app): S) -> ApiResult<Response> {
    Ok(deleted(app.delete_all_components().await?))
}

pub(super) async fn get_one(State(app): S, Path(x): Path<String>) -> ApiResult<Json<ComponentOut>> {
    Ok(Json(app.get_component(&lookup_xname(&x)?).await?.into()))
}

pub(super) async fn get_by_nid(
    State(app): S,
    Path(n): Path<String>,
) -> ApiResult<Json<ComponentOut>> {
    Ok(Json(app.get_component_by_nid(nid(&n)?).await?.into()))
}

pub(super) async fn put(
    State(app): S,
    Path(x): Path<String>,
    Body(body): Body<PutOne>,
) -> ApiResult<StatusCode> {
    let id = xname(&x)?;
    let c = Component::try_from(body.component)?;
    if c.id != id {
        return Err(Problem::bad_request(format!(
            "the path names {id} but the body's Component.ID is {}",
            c.id
        )));
    }
    app.upsert_components(vec![c], body.force).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn delete(State(app): S, Path(x): Path<String>) -> ApiResult<Response> {
    app.delete_component(&lookup_xname(&x)?).await?;
    Ok(deleted(1))
}

/// `PATCH /State/Components/{xname}/{field}`.
pub(super) async fn patch_one(
    State(app): S,
    Path((x, field)): Path<(String, String)>,
    Body(b): Body<PatchBody>,
) -> ApiResult<StatusCode> {
    let id = xname(&x)?;
    app.patch_components(&[id], &b.patch(&field)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PATCH /State/Components/Bulk<field>`: the same change to every `ComponentIDs` entry.
pub(super) fn bulk_route(field: &'static str) -> MethodRouter<Arc<App>> {
    patch(move |app: S, body: Body<PatchBody>| bulk_patch(app, field, body))
}

async fn bulk_patch(
    State(app): S,
    field: &'static str,
    Body(b): Body<PatchBody>,
) -> ApiResult<StatusCode> {
    let ids = xnames(&b.ids)?;
    app.patch_components(&ids, &b.patch(field)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn bulk_nid(State(app): S, Body(b): Body<BulkNidBody>) -> ApiResult<StatusCode> {
    let mut cs = Vec::new();
    for item in b.components {
        let mut c = app.get_component(&xname(&item.id)?).await?;
        c.nid = Some(body_nid(item.nid)?);
        cs.push(c);
    }
    app.upsert_components(cs, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /State/Components/Query`: ComponentIDs plus any filter as string arrays.
pub(super) async fn query(
    State(app): S,
    Body(b): Body<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Json<ComponentArray>> {
    let mut pairs = Vec::new();
    for (k, v) in b {
        let key = if k == "ComponentIDs" {
            "id".to_string()
        } else {
            k.to_ascii_lowercase()
        };
        let vals: Vec<String> = match v {
            serde_json::Value::Array(a) => a
                .into_iter()
                .map(|x| match x {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect(),
            serde_json::Value::String(s) => vec![s],
            serde_json::Value::Bool(b) => vec![b.to_string()],
            other => {
                return Err(Problem::bad_request(format!(
                    "{k}: expected an array of strings, got {other}"
                )));
            }
        };
        pairs.extend(vals.into_iter().map(|v| (key.clone(), v)));
    }
    let f = filter_from(&Pairs(pairs))?;
    let cs = app.query_components(&f).await?;
    Ok(Json(ComponentArray {
        components: cs.into_iter().map(ComponentOut::from).collect(),
    }))
}
