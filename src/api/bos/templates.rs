//! Session-template handlers: list, get, PUT (create or replace), PATCH (BOS's merge),
//! delete, validate, and the example skeleton.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;

use super::types::{self, SessionTemplate};
use super::{BosError, R, S, Tenant, no_content};
use crate::api::extract::Body;

fn shown(t: &crate::model::SessionTemplate) -> SessionTemplate {
    t.into()
}

pub async fn list(State(app): S, Tenant(s): Tenant) -> R<Json<Vec<SessionTemplate>>> {
    let all = app.list_session_templates(&s).await?;
    Ok(Json(all.iter().map(shown).collect()))
}

pub async fn get(
    State(app): S,
    Tenant(s): Tenant,
    Path(id): Path<String>,
) -> R<Json<SessionTemplate>> {
    Ok(Json(shown(&app.get_session_template(&s, &id).await?)))
}

pub async fn put(
    State(app): S,
    Tenant(s): Tenant,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Json<SessionTemplate>> {
    let t = types::template_in(body, "created").map_err(BosError::bad)?;
    Ok(Json(shown(&app.put_session_template(&s, &id, t).await?)))
}

pub async fn patch(
    State(app): S,
    Tenant(s): Tenant,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> R<Json<SessionTemplate>> {
    let p = types::template_patch(body).map_err(BosError::bad)?;
    Ok(Json(shown(&app.patch_session_template(&s, &id, p).await?)))
}

pub async fn delete(State(app): S, Tenant(s): Tenant, Path(id): Path<String>) -> R<Response> {
    app.delete_session_template(&s, &id).await?;
    Ok(no_content())
}

pub async fn validate(State(app): S, Tenant(s): Tenant, Path(id): Path<String>) -> R<Json<String>> {
    Ok(Json(app.validate_session_template(&s, &id).await?))
}

pub async fn skeleton() -> Json<Value> {
    Json(session_template_skeleton())
}

/// `GET /v2/sessiontemplatetemplate`: an example to start from.
pub fn session_template_skeleton() -> Value {
    serde_json::json!({
        "description": "An example session template: replace the node list and the image path",
        "enable_cfs": true,
        "cfs": {"configuration": "desired-cfs-config"},
        "boot_sets": {
            "name_your_boot_set": {
                "type": "s3",
                "etag": "your_boot_image_etag",
                "kernel_parameters": "console=ttyS0,115200 bad_page=panic crashkernel=340M hugepagelist=2m-2g intel_iommu=off intel_pstate=disable iommu=pt ip=dhcp numa_interleave_omit=headless numa_zonelist_order=node oops=panic pageblock_order=14 rd.neednet=1 rd.retry=10 rd.shell split_lock_detect=off systemd.unified_cgroup_hierarchy=1 ${SPIRE_JOIN_TOKEN}",
                "cfs": {"configuration": "desired-cfs-config"},
                "node_list": ["xname1", "xname2", "xname3"],
                "path": "s3://boot-images/boot-image-ims-id/manifest.json",
                "rootfs_provider": "sbps",
                "rootfs_provider_passthrough": "sbps:v1:iqn.2023-06.csm.iscsi:_sbps-hsn._tcp.my-system.my-site-domain:300"
            }
        }
    })
}
