//! CFS v2 (`/apis/cfs/v2`), what the `cray` CLI's unversioned `cray cfs …` commands and
//! cfs-state-reporter in CSM images call: configurations, components and options over the
//! same records as v3, converted at this edge (`types`: camelCase, the layer status folded
//! into the commit, v2's defaults). v2 lists are bare arrays and, as upstream, a list
//! longer than one page (`default_page_size`, 1000) is a 400 that points at v3, which pages.
//!
//! Handlers decode and call `app::cfs`, exactly as the v3 handlers do; nothing here knows
//! anything v3 does not, so v2 and v3 can never show different state.

mod components;
mod configurations;
mod option_types;
pub mod types;

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::{R, S, cfs};
use crate::api::extract::Body;
use crate::api::problem::Problem;
use crate::app::App;
use option_types::{V2Options, option_name};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v2", get(super::version))
        .route("/v2/options", get(options).patch(patch_options))
        .route(
            "/v2/components",
            get(components::list)
                .put(components::put_many)
                .patch(components::patch_many),
        )
        .route(
            "/v2/components/{id}",
            get(components::get)
                .put(components::put)
                .patch(components::patch)
                .delete(components::delete),
        )
        .route("/v2/configurations", get(configurations::list))
        .route(
            "/v2/configurations/{name}",
            get(configurations::get)
                .put(configurations::put)
                .patch(configurations::patch)
                .delete(configurations::delete),
        )
}

/// A 400 from a v2 body.
fn bad(e: String) -> Problem {
    Problem::bad_request(e)
}

async fn options(State(app): S) -> R<Json<V2Options>> {
    Ok(Json(cfs(&app)?.options().into()))
}

async fn patch_options(State(app): S, Body(body): Body<serde_json::Value>) -> R<Json<V2Options>> {
    let c = cfs(&app)?;
    let p: V2Options = types::decode(body, "options").map_err(bad)?;
    Ok(Json(c.patch_options(p.into(), option_name).await?.into()))
}
