//! `Inventory/EthernetInterfaces`: the MACs the boot network knows, and their components.
//!
//! These records are what DHCP, TFTP and BSS resolve a booting node by, so the app drops
//! its boot read model on every write here; the handlers only decode, convert and answer.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;

use super::types::Vocabulary::Closed;
use super::types::interface::{IfaceIn, IfaceOut, IfacePatch};
use super::types::{canon_all, mac, xname};
use super::{S, created_one, deleted};
use crate::api::extract::{Body, Pairs};
use crate::api::problem::{ApiResult, Problem};
use crate::app::inventory::{EthernetFilter, EthernetPatch};
use crate::model::EthernetInterface;
use crate::model::component::TYPES;

pub(super) async fn list(State(app): S, q: Pairs) -> ApiResult<Json<Vec<IfaceOut>>> {
    let f = EthernetFilter {
        macs: q
            .all("MACAddress")
            .iter()
            .map(|s| mac(s))
            .collect::<ApiResult<_>>()?,
        ips: q.all("IPAddress"),
        networks: q.all("Network"),
        component_ids: q
            .all("ComponentID")
            .iter()
            .map(|s| {
                xname(s)
                    .map_err(|p| Problem::bad_request(format!("ComponentID filter: {}", p.detail)))
            })
            .collect::<ApiResult<_>>()?,
        types: canon_all("Type", q.all("Type"), TYPES, Closed)?,
    };
    Ok(Json(
        app.list_ethernet_interfaces(&f)
            .await?
            .into_iter()
            .map(IfaceOut::from)
            .collect(),
    ))
}

pub(super) async fn create(State(app): S, Body(b): Body<IfaceIn>) -> ApiResult<Response> {
    let iface = EthernetInterface::try_from(b)?;
    let uri = format!("/hsm/v2/Inventory/EthernetInterfaces/{}", iface.mac.id());
    app.create_ethernet_interfaces(vec![iface]).await?;
    Ok(created_one(uri))
}

pub(super) async fn get_one(State(app): S, Path(id): Path<String>) -> ApiResult<Json<IfaceOut>> {
    Ok(Json(app.get_ethernet_interface(&mac(&id)?).await?.into()))
}

pub(super) async fn patch(
    State(app): S,
    Path(id): Path<String>,
    Body(b): Body<IfacePatch>,
) -> ApiResult<Json<IfaceOut>> {
    let p = EthernetPatch::try_from(b)?;
    Ok(Json(
        app.patch_ethernet_interface(&mac(&id)?, p).await?.into(),
    ))
}

pub(super) async fn delete(State(app): S, Path(id): Path<String>) -> ApiResult<Response> {
    app.delete_ethernet_interface(&mac(&id)?).await?;
    Ok(deleted(1))
}

pub(super) async fn delete_all(State(app): S) -> ApiResult<Response> {
    Ok(deleted(app.delete_all_ethernet_interfaces().await?))
}
