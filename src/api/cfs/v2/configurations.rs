//! CFS v2 configuration handlers: list (`in_use`; one page at most), get, PUT, PATCH
//! (branches resolved again), delete. Problems name fields as v2 spells them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;

use super::super::{R, S, cfs};
use super::bad;
use super::types::{self, V2Configuration, v2_words};
use crate::api::extract::{Body, Pairs};
use crate::api::problem::Problem;
use crate::app::cfs::Page;
use crate::model::cfs::DEFAULT_PAGE_SIZE;

/// A problem from the app in v2's words.
fn v2(p: impl Into<Problem>) -> Problem {
    let mut p = p.into();
    p.detail = v2_words(&p.detail);
    p
}

pub async fn list(State(app): S, q: Pairs) -> R<Json<Vec<V2Configuration>>> {
    let c = cfs(&app)?;
    let page = Page {
        limit: Some(DEFAULT_PAGE_SIZE),
        after_id: None,
    };
    let l = c.list_configurations(q.bool("in_use")?, &page).await?;
    if l.next_after.is_some() {
        return Err(too_large());
    }
    Ok(Json(l.items.iter().map(V2Configuration::from).collect()))
}

/// CFS v2's answer to a list longer than a page.
pub fn too_large() -> Problem {
    Problem::bad_request(format!(
        "the response size exceeds the default_page_size ({DEFAULT_PAGE_SIZE}); use the v3 API to page through the results"
    ))
}

pub async fn get(State(app): S, Path(name): Path<String>) -> R<Json<V2Configuration>> {
    Ok(Json((&cfs(&app)?.get_configuration(&name).await?).into()))
}

pub async fn put(
    State(app): S,
    Path(name): Path<String>,
    Body(body): Body<Value>,
) -> R<Json<V2Configuration>> {
    let c = cfs(&app)?;
    let conf: V2Configuration = types::decode(body, "configuration").map_err(bad)?;
    let conf = conf.into_domain(&c.options().default_playbook);
    let stored = c.put_configuration(&name, conf, false).await.map_err(v2)?;
    Ok(Json((&stored).into()))
}

pub async fn patch(State(app): S, Path(name): Path<String>) -> R<Json<V2Configuration>> {
    let c = cfs(&app)?;
    Ok(Json(
        (&c.patch_configuration(&name).await.map_err(v2)?).into(),
    ))
}

pub async fn delete(State(app): S, Path(name): Path<String>) -> R<StatusCode> {
    cfs(&app)?.delete_configuration(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}
