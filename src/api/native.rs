//! The appliance's own API (`/apis/rackboot/v1`): what has no upstream contract.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::app::App;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/operators", get(operators))
        .route("/nodes/{xname}/timeline", get(super::artifacts::timeline))
}

/// Each operator's period, activation count, timing and last report.
async fn operators(State(app): State<Arc<App>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "operators": app.operator_reports() }))
}
