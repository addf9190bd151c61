//! `Inventory/RedfishEndpoints`, `Inventory/ComponentEndpoints` and `Inventory/Discover`.
//!
//! Registering or changing a BMC records intent only: the app queues the endpoint for
//! discovery and pokes the discovery operator, which is the one thing that talks to the
//! BMC and fills the ComponentEndpoints (and components) these routes then show. A PUT may
//! leave out the password it never saw, and the trust it never named (a pin taken on first
//! contact); the app keeps the stored ones. `Inventory/Discover` with `"Renumber": true`
//! (a rackboot extension) asks for the names HSM would give, moving nodes if need be.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::types::Vocabulary::Closed;
use super::types::endpoint::{
    ComponentEndpointList, ComponentEndpointOut, DiscoverIn, EndpointIn, EndpointList, EndpointOut,
    EndpointsPost,
};
use super::types::{canon_all, from_value, lookup_xname, xname, xnames};
use super::{S, created, deleted, uri_list};
use crate::api::extract::{Body, Pairs};
use crate::api::problem::{ApiResult, Problem};
use crate::model::component::TYPES;
use crate::model::{RedfishEndpoint, Xname};

fn endpoint_uri(id: &Xname) -> String {
    format!("/hsm/v2/Inventory/RedfishEndpoints/{id}")
}

pub(super) async fn list(State(app): S, q: Pairs) -> ApiResult<Json<EndpointList>> {
    let ids = xnames(&q.all("id"))?;
    let fqdns = q.all("fqdn");
    let types = canon_all("type", q.all("type"), TYPES, Closed)?;
    let statuses = q.all("laststatus");
    let endpoints = app
        .list_redfish_endpoints()
        .await?
        .into_iter()
        .filter(|e| ids.is_empty() || ids.contains(&e.id))
        .filter(|e| fqdns.is_empty() || fqdns.contains(&e.fqdn))
        .filter(|e| types.is_empty() || types.contains(&e.kind))
        .filter(|e| statuses.is_empty() || statuses.contains(&e.discovery_info.last_status))
        .map(EndpointOut::from)
        .collect();
    Ok(Json(EndpointList { endpoints }))
}

pub(super) async fn create(State(app): S, Body(b): Body<EndpointsPost>) -> ApiResult<Response> {
    let eps = b
        .into_vec()
        .into_iter()
        .map(|v| RedfishEndpoint::try_from(from_value::<EndpointIn>(v)?))
        .collect::<ApiResult<Vec<_>>>()?;
    let eps = app.create_redfish_endpoints(eps).await?;
    Ok(created(eps.iter().map(|e| endpoint_uri(&e.id)).collect()))
}

pub(super) async fn get_one(State(app): S, Path(x): Path<String>) -> ApiResult<Json<EndpointOut>> {
    Ok(Json(
        app.get_redfish_endpoint(&lookup_xname(&x)?).await?.into(),
    ))
}

pub(super) async fn put(
    State(app): S,
    Path(x): Path<String>,
    Body(b): Body<EndpointIn>,
) -> ApiResult<Json<EndpointOut>> {
    let keep_trust = !b.names_trust();
    let ep = b.into_replacement(&xname(&x)?)?;
    Ok(Json(
        app.replace_redfish_endpoint(ep, keep_trust).await?.into(),
    ))
}

pub(super) async fn patch(
    State(app): S,
    Path(x): Path<String>,
    Body(b): Body<EndpointIn>,
) -> ApiResult<Json<EndpointOut>> {
    let id = xname(&x)?;
    let mut err = None;
    let ep = app
        .update_redfish_endpoint_with(&id, |ep| {
            if let Err(e) = b.apply(ep) {
                err = Some(e);
            }
        })
        .await;
    if let Some(e) = err {
        return Err(e);
    }
    Ok(Json(ep?.into()))
}

pub(super) async fn delete(State(app): S, Path(x): Path<String>) -> ApiResult<Response> {
    app.delete_redfish_endpoint(&lookup_xname(&x)?).await?;
    Ok(deleted(1))
}

pub(super) async fn delete_all(State(app): S) -> ApiResult<Response> {
    Ok(deleted(app.delete_all_redfish_endpoints().await?))
}

pub(super) async fn list_component_endpoints(
    State(app): S,
    q: Pairs,
) -> ApiResult<Json<ComponentEndpointList>> {
    let ids = xnames(&q.all("id"))?;
    let eps = xnames(&q.all("redfish_ep_id"))?;
    let types = canon_all("type", q.all("type"), TYPES, Closed)?;
    let fqdns: std::collections::HashMap<Xname, String> = app
        .list_redfish_endpoints()
        .await?
        .into_iter()
        .map(|e| (e.id.clone(), e.fqdn))
        .collect();
    let endpoints = app
        .list_component_endpoints()
        .await?
        .into_iter()
        .filter(|c| ids.is_empty() || ids.contains(&c.id))
        .filter(|c| eps.is_empty() || eps.contains(&c.redfish_endpoint_id))
        .filter(|c| types.is_empty() || types.iter().any(|t| t == c.id.kind().hms_type()))
        .map(|c| {
            let f = fqdns.get(&c.redfish_endpoint_id).cloned();
            ComponentEndpointOut::new(c, f.as_deref())
        })
        .collect();
    Ok(Json(ComponentEndpointList { endpoints }))
}

pub(super) async fn get_component_endpoint(
    State(app): S,
    Path(x): Path<String>,
) -> ApiResult<Json<ComponentEndpointOut>> {
    let ce = app.get_component_endpoint(&lookup_xname(&x)?).await?;
    let ep = app.get_redfish_endpoint(&ce.redfish_endpoint_id).await.ok();
    Ok(Json(ComponentEndpointOut::new(
        ce,
        ep.as_ref().map(|e| e.fqdn.as_str()),
    )))
}

/// `POST /Inventory/Discover`: queue rediscovery of the named BMCs (all when empty).
pub(super) async fn discover(State(app): S, Body(b): Body<DiscoverIn>) -> ApiResult<Response> {
    let mut ids = Vec::new();
    for raw in &b.xnames {
        let x = xname(raw)?;
        if ids.contains(&x) {
            return Err(Problem::bad_request(format!(
                "{x} appears more than once in xnames"
            )));
        }
        ids.push(x);
    }
    let queued = if b.renumber {
        app.request_renumbering(&ids).await?
    } else {
        app.request_discovery(&ids).await?
    };
    Ok(Json(uri_list(queued.iter().map(endpoint_uri).collect())).into_response())
}
