//! CFS configuration handlers: list (`in_use`, paging), get, PUT (`drop_branches`),
//! PATCH (resolve branches again), delete.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::types::{self, CfsConfiguration, next_page};
use super::{R, S, cfs, echo, page};
use crate::api::extract::{Body, Pairs};
use crate::api::problem::Problem;

pub async fn list(State(app): S, q: Pairs) -> R<Json<Value>> {
    let c = cfs(&app)?;
    let l = c.list_configurations(q.bool("in_use")?, &page(&q)?).await?;
    let out: Vec<CfsConfiguration> = l.items.iter().map(CfsConfiguration::from).collect();
    Ok(Json(
        json!({"configurations": out, "next": next_page(echo(&q), &l)}),
    ))
}

/// A v3 configuration_id is 1 to 60 characters (CFS validates the path against its spec), the
/// bound a component's desired_config has.
fn named(name: String) -> Result<String, Problem> {
    let n = name.chars().count();
    if n == 0 || n > crate::model::cfs::MAX_DESIRED_CONFIG {
        return Err(Problem::bad_request(format!(
            "configuration_id is {n} characters; 1 to {} are allowed",
            crate::model::cfs::MAX_DESIRED_CONFIG
        )));
    }
    Ok(name)
}

pub async fn get(State(app): S, Path(name): Path<String>) -> R<Json<CfsConfiguration>> {
    let name = named(name)?;
    Ok(Json((&cfs(&app)?.get_configuration(&name).await?).into()))
}

pub async fn put(
    State(app): S,
    Path(name): Path<String>,
    q: Pairs,
    Body(body): Body<Value>,
) -> R<Json<CfsConfiguration>> {
    let name = named(name)?;
    let drop_branches = q.bool("drop_branches")?.unwrap_or(false);
    let c = cfs(&app)?;
    let conf = types::configuration(body).map_err(Problem::bad_request)?;
    Ok(Json(
        (&c.put_configuration(&name, conf, drop_branches).await?).into(),
    ))
}

pub async fn patch(State(app): S, Path(name): Path<String>) -> R<Json<CfsConfiguration>> {
    let name = named(name)?;
    Ok(Json((&cfs(&app)?.patch_configuration(&name).await?).into()))
}

pub async fn delete(State(app): S, Path(name): Path<String>) -> R<StatusCode> {
    let name = named(name)?;
    cfs(&app)?.delete_configuration(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}
