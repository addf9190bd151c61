//! The appliance's own API (`/apis/rackboot/v1`): what has no upstream contract.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use futures::TryStreamExt;

use super::extract::Body;
use super::problem::ApiResult;
use crate::app::App;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/operators", get(operators))
        .route("/bmcs/health", get(bmc_health))
        .route("/cluster", get(cluster))
        .route("/tenants", get(list_tenants))
        .route("/dhcp/leases", get(dhcp_leases))
        .route(
            "/tenants/{name}",
            get(get_tenant).put(put_tenant).delete(delete_tenant),
        )
        .route("/nodes/{xname}/timeline", get(super::artifacts::timeline))
        .route("/manifest", get(read_manifest))
        .route("/images", get(list_images))
        .route(
            "/images/{name}",
            get(get_image).post(finish_image).delete(delete_image),
        )
        .route(
            "/images/{name}/{artifact}",
            // Artifacts are streamed to the source: no body limit.
            put(upload_artifact).layer(DefaultBodyLimit::disable()), // limited in the handler,
        )
}

/// The DHCP server's leases (`full` mode), by address.
async fn dhcp_leases(
    State(app): State<Arc<App>>,
) -> ApiResult<Json<Vec<crate::app::dhcp::LeaseView>>> {
    Ok(Json(app.dhcp_leases().await?))
}

async fn list_tenants(State(app): State<Arc<App>>) -> ApiResult<Json<Vec<crate::model::Tenant>>> {
    Ok(Json(app.list_tenants().await?))
}

async fn get_tenant(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> ApiResult<Json<crate::model::Tenant>> {
    Ok(Json(app.get_tenant(&name).await?))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantBody {
    #[serde(default)]
    xnames: Vec<String>,
}

/// Create or replace a tenant and the nodes it owns: `{"xnames": [...]}`.
async fn put_tenant(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Body(body): Body<TenantBody>,
) -> ApiResult<Json<crate::model::Tenant>> {
    let t = crate::model::Tenant {
        name: name.clone(),
        xnames: body.xnames,
    };
    Ok(Json(app.put_tenant(&name, t).await?))
}

async fn delete_tenant(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> ApiResult<axum::http::StatusCode> {
    app.delete_tenant(&name).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Each operator's period, activation count, timing and last report.
async fn operators(State(app): State<Arc<App>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "operators": app.operator_reports() }))
}

/// Every BMC whose calls have been failing, with its circuit (`power::breaker`); a BMC that
/// is not listed answers well.
async fn bmc_health(State(app): State<Arc<App>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "bmcs": app.bmc_health() }))
}

/// The replicas on this store, which one leads the operators, and their heartbeats
/// (`cluster::status`).
async fn cluster(
    State(app): State<Arc<App>>,
) -> ApiResult<Json<crate::cluster::status::ClusterView>> {
    Ok(Json(app.cluster_status().await?))
}

async fn list_images(State(app): State<Arc<App>>) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        serde_json::json!({ "images": app.list_images().await? }),
    ))
}

async fn get_image(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> ApiResult<Json<crate::app::images::ImageSummary>> {
    Ok(Json(app.get_image(&name).await?))
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FinishIn {
    #[serde(default)]
    params: Option<String>,
}

/// Write the manifest of an image whose artifacts have been uploaded.
async fn finish_image(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Body(b): Body<FinishIn>,
) -> ApiResult<(StatusCode, Json<crate::app::images::ImageSummary>)> {
    Ok((
        StatusCode::CREATED,
        Json(app.finish_image(&name, b.params.as_deref()).await?),
    ))
}

async fn delete_image(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let n = app.delete_image(&name).await?;
    Ok(Json(serde_json::json!({ "deleted": n })))
}

/// Stream one artifact (kernel, initrd or rootfs) of an image into the artifact source.
async fn upload_artifact(
    State(app): State<Arc<App>>,
    Path((name, artifact)): Path<(String, String)>,
    req: Request,
) -> ApiResult<(StatusCode, Json<crate::app::images::ImageArtifact>)> {
    // The body streams to the artifact store, so DefaultBodyLimit does not apply: the
    // limit is checked here, on the declared length first and on the bytes as they come.
    let max = app.settings.max_upload_bytes;
    let too_big = || {
        super::problem::Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the upload is larger than the configured limit of {max} bytes (max_upload_bytes)"
            ),
        )
    };
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_big());
    }
    let mut seen = 0u64;
    let over = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = over.clone();
    let stream = req
        .into_body()
        .into_data_stream()
        .map_err(|e| format!("the upload was interrupted: {e}"))
        .and_then(move |chunk| {
            seen += chunk.len() as u64;
            let r = if seen > max {
                flag.store(true, std::sync::atomic::Ordering::Relaxed);
                Err(format!("the upload is larger than the configured limit of {max} bytes (max_upload_bytes)"))
            } else {
                Ok(chunk)
            };
            std::future::ready(r)
        });
    // Over the limit, the upload is aborted: nothing of it is kept.
    let a = match app
        .upload_image_artifact(&name, &artifact, Box::pin(stream))
        .await
    {
        Err(_) if over.load(std::sync::atomic::Ordering::Relaxed) => return Err(too_big()),
        r => r?,
    };
    Ok((StatusCode::CREATED, Json(a)))
}

/// Validate and show the manifest at `?path=s3://…/manifest.json` (what a boot set names).
async fn read_manifest(
    State(app): State<Arc<App>>,
    q: super::extract::Pairs,
) -> ApiResult<Json<serde_json::Value>> {
    let path = q
        .first("path")
        .ok_or_else(|| super::problem::Problem::bad_request("missing query parameter 'path'"))?;
    let m = app.read_manifest(&path).await?;
    let art = |a: Option<&crate::artifacts::manifest::Artifact>| {
        a.map(|a| serde_json::json!({"path": a.path.to_string(), "etag": a.etag}))
    };
    Ok(Json(serde_json::json!({
        "path": path,
        "kernel": art(Some(&m.kernel)),
        "initrd": art(m.initrd.as_ref()),
        "rootfs": art(m.rootfs.as_ref()),
        "boot_parameters": art(m.boot_parameters.as_ref()),
    })))
}
