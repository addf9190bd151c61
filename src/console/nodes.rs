//! A node's page: its inventory (BMC, MACs, addresses, groups), power and the transitions
//! its BMC supports, BOS and CFS state, its boot parameters and the iPXE script it would be
//! given now, and its boot timeline drawn as one; operators get its power buttons (on, off,
//! restart, and netboot: a one-time PXE boot, then a restart).

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::layout::{Nav, Viewer, app_error, error_page, page};
use super::login::redirect;
use crate::app::App;
use crate::app::bss::BootParamsEntry;
use crate::app::inventory::EthernetFilter;
use crate::app::power::TransitionRequest;
use crate::model::Xname;
use crate::model::power::PowerOperation;
use crate::model::rack::TileState;

/// The console's power buttons: (form value, label, operation, one-time boot target).
const ACTIONS: &[(&str, &str, PowerOperation, Option<&str>)] = &[
    ("on", "Power on", PowerOperation::On, None),
    ("off", "Power off", PowerOperation::Off, None),
    ("restart", "Restart", PowerOperation::HardRestart, None),
    ("netboot", "Netboot", PowerOperation::Init, Some("Pxe")),
];

#[derive(Debug, Default, serde::Deserialize)]
pub struct Flash {
    transition: Option<String>,
}

pub async fn show(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path(xname): Path<String>,
    Query(flash): Query<Flash>,
) -> Response {
    let Ok(x) = Xname::parse(&xname) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            &format!("{xname:?} is not an xname"),
        );
    };
    let c = match app.get_component(&x).await {
        Ok(c) => c,
        Err(e) => return app_error(e),
    };
    let scope = match app.scope(None).await {
        Ok(s) => s,
        Err(e) => return app_error(e),
    };
    let tile = app
        .rack()
        .await
        .ok()
        .and_then(|s| s.tiles.iter().find(|t| t.xname == x.as_str()).cloned());
    let state = tile.as_ref().map_or(TileState::Unknown, |t| t.state);
    let bmc = x.parent();
    let endpoint = match &bmc {
        Some(b) => app.get_redfish_endpoint(b).await.ok(),
        None => None,
    };
    let breaker = bmc
        .as_ref()
        .and_then(|b| app.bmc_health().into_iter().find(|h| h.bmc == b.as_str()));
    let power = app.power_cache().get(&x);
    let nics = app
        .list_ethernet_interfaces(&EthernetFilter {
            component_ids: vec![x.clone()],
            ..Default::default()
        })
        .await
        .unwrap_or_default();
    let bos = app.get_boot_component(&scope, x.as_str()).await.ok();
    let cfs = match app.builtin_cfs() {
        Some(cfs) => cfs.get_component(x.as_str()).await.ok(),
        None => None,
    };
    let params = app
        .get_boot_params(&[x.to_string()], &[], &[])
        .await
        .unwrap_or_default();
    let script = app.preview_bootscript(&x).await.unwrap_or(None);
    let events = app.timeline(&x).await.unwrap_or_default();
    let configured_at = cfs
        .as_ref()
        .filter(|v| v.status.as_str() == "configured")
        .and_then(|v| {
            v.component
                .state
                .iter()
                .map(|l| l.last_updated.clone())
                .max()
        })
        .and_then(|t| crate::model::boot_component::parse_timestamp(&t));
    let body = html! {
        h1 { "Node " (x) }
        p.state { span #node-badge .t.(format!("s-{}", state.as_str())) aria-hidden="true" {} " " strong #node-state data-node=(x) { (state.label()) } }
        @if let Some(id) = &flash.transition {
            p.notice role="status" { "Power transition " code { (id) } " requested." }
        }
        div.cards {
            section.card aria-labelledby="inv-h" {
                h2 #inv-h { "Inventory" }
                dl.facts {
                    dt { "HSM state" } dd { (c.state) " / " (c.flag) @if !c.enabled { " (disabled)" } }
                    dt { "Role" } dd { (c.role.as_deref().unwrap_or("—")) @if let Some(s) = &c.subrole { " / " (s) } }
                    dt { "NID" } dd { (c.nid.map(|n| n.to_string()).unwrap_or_else(|| "—".into())) }
                    dt { "Arch" } dd { (c.arch.as_deref().unwrap_or("—")) }
                    dt { "Groups" } dd { @match &tile { Some(t) if !t.groups.is_empty() => (t.groups.join(", ")), _ => "—" } }
                    dt { "BMC" } dd {
                        @match (&bmc, &endpoint) {
                            (Some(b), Some(ep)) => { (b) " at " code { (ep.base_url()) } }
                            (Some(b), None) => { (b) " (not registered)" }
                            _ => "—",
                        }
                    }
                }
                @if nics.is_empty() {
                    p { "No network interfaces known." }
                } @else {
                    table { thead { tr { th { "MAC" } th { "Addresses" } th { "Description" } } }
                        tbody { @for n in &nics { tr {
                            td.path { (n.mac.to_string()) }
                            td { (n.ip_addresses.iter().map(|i| i.ip_address.clone()).collect::<Vec<_>>().join(", ")) }
                            td { (n.description) }
                        } } }
                    }
                }
            }
            section.card aria-labelledby="pow-h" {
                h2 #pow-h { "Power" }
                @match &power {
                    None => p { "Not read yet." },
                    Some(p) => dl.facts {
                        dt { "Power" } dd { (p.state.as_str()) }
                        dt { "Read" } dd { (p.updated.format("%H:%M:%S UTC")) }
                        @if let Some(e) = &p.error { dt { "Error" } dd.error { (e) } }
                        dt { "Supports" } dd { (p.supported.iter().map(|o| o.as_str()).collect::<Vec<_>>().join(", ")) }
                    },
                }
                @if let Some(h) = &breaker {
                    p.error { "BMC circuit " (h.state) " after " (h.consecutive_failures) " failures: " (h.last_error) }
                }
                @if viewer.can_operate() {
                    div.actions {
                        @for (value, label, _, _) in ACTIONS {
                            form method="post" action=(format!("/console/nodes/{x}/power")) {
                                input type="hidden" name="csrf" value=(viewer.csrf.value());
                                input type="hidden" name="action" value=(value);
                                button type="submit" data-action=(value) { (label) }
                            }
                        }
                    }
                }
            }
            section.card aria-labelledby="bos-h" {
                h2 #bos-h { "BOS" }
                @match &bos {
                    None => p { "Not a BOS component yet." },
                    Some(b) => dl.facts {
                        dt { "Status" } dd { (b.derived_status().as_str()) @if !b.status.phase.as_str().is_empty() { " (phase " (b.status.phase.as_str()) ")" } }
                        dt { "Session" } dd { @if b.session.is_empty() { "—" } @else { a href=(format!("/console/sessions/{}", b.session)) { (b.session) } } }
                        dt { "Enabled" } dd { (b.enabled) }
                        dt { "Desired" } dd.path { (b.desired_state.boot_artifacts.kernel) }
                        dt { "Running" } dd.path { (b.actual_state.boot_artifacts.kernel) }
                        dt { "Last action" } dd { (b.last_action.action.map(|a| a.as_str()).unwrap_or("—")) @if b.last_action.failed { " (failed)" } }
                        @if !b.error.is_empty() { dt { "Error" } dd.error { (b.error) } }
                    },
                }
            }
            section.card aria-labelledby="cfs-h" {
                h2 #cfs-h { "CFS" }
                @match (&cfs, app.builtin_cfs().is_some()) {
                    (_, false) => p { "Configured by an external CFS." },
                    (None, true) => p { "Not a CFS component yet." },
                    (Some(v), true) => dl.facts {
                        dt { "Status" } dd { (v.status.as_str()) }
                        dt { "Desired" } dd { @if v.component.desired_config.is_empty() { "—" } @else { (v.component.desired_config) } }
                        dt { "Errors" } dd { (v.component.error_count) }
                        dt { "Layers" } dd { (v.component.state.len()) " applied" }
                    },
                }
            }
        }
        h2 { "Boot timeline" }
        (super::timeline::draw(&events, configured_at))
        h2 { "Boot parameters" }
        @for p in &params {
            @if let BootParamsEntry::Host(key, bp) = p {
                dl.facts {
                    dt { "Record" } dd { (key.key()) }
                    dt { "Kernel" } dd.path { (bp.kernel) }
                    dt { "Initrd" } dd.path { (bp.initrd) }
                    dt { "Params" } dd.path { (bp.params) }
                }
            }
        }
        @if params.is_empty() { p { "None for this node (it gets its role's or the default's, if any)." } }
        h2 { "iPXE script it would get now" }
        @match &script {
            Some(s) => pre.script { (s) },
            None => p { "None: the node is not configured for booting." },
        }
    };
    page(&format!("Node {x}"), Some(&viewer), Nav::Rack, body)
}

#[derive(Debug, serde::Deserialize)]
pub struct PowerForm {
    action: Option<String>,
    csrf: Option<String>,
}

pub async fn power(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path(xname): Path<String>,
    Form(f): Form<PowerForm>,
) -> Response {
    if let Err(r) = viewer.csrf.check(f.csrf.as_deref()) {
        return r.into_response();
    }
    let Ok(x) = Xname::parse(&xname) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            &format!("{xname:?} is not an xname"),
        );
    };
    let asked = f.action.unwrap_or_default();
    let Some((_, _, op, target)) = ACTIONS.iter().find(|(v, ..)| *v == asked) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            &format!("power action {asked:?} is not one of on, off, restart, netboot"),
        );
    };
    if let Err(e) = app.get_component(&x).await {
        return app_error(e);
    }
    let req = TransitionRequest {
        operation: *op,
        deadline_minutes: 5,
        deadline_seconds: None,
        xnames: vec![x.to_string()],
        boot_target: target.map(str::to_string),
    };
    match app.request_transition(req).await {
        Ok(t) => {
            tracing::info!(user = %viewer.name, node = %x, action = %asked, transition = %t.id, "power action from the console");
            redirect(&format!("/console/nodes/{x}?transition={}", t.id))
        }
        Err(e) => app_error(e),
    }
}
