//! `/ipxe/<file>`: the iPXE binaries over HTTP, for UEFI HTTP Boot clients (the DHCP answer
//! for them is this URL, `dhcp::boot`) and for anyone who prefers HTTP to TFTP. The same
//! directory and the same name rules as the TFTP server (`tftp::resolve`): nothing outside
//! the directory is reachable.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::problem::Problem;
use crate::app::App;
use crate::tftp;

pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/{*file}", get(file))
}

async fn file(State(app): State<Arc<App>>, Path(name): Path<String>) -> Result<Response, Problem> {
    let dir = &app.settings().ipxe_dir;
    let path = tftp::resolve(dir, &name).map_err(|(code, why)| {
        if code == tftp::packet::ERR_ACCESS {
            Problem::bad_request(format!(
                "{why}: only files of the iPXE directory are served"
            ))
        } else {
            Problem::not_found(format!("no iPXE binary '{name}' in {}", dir.display()))
        }
    })?;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| Problem::not_found(format!("cannot read iPXE binary '{name}': {e}")))?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}
