//! The BMCs (discovery state, TLS trust, circuit breaker, errors) and the images (their
//! artifacts and sizes), as tables.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::layout::{Nav, Viewer, app_error, page};
use super::timeline::bytes;
use crate::app::App;

pub async fn bmcs(State(app): State<Arc<App>>, viewer: Viewer) -> Response {
    let mut eps = match app.list_redfish_endpoints().await {
        Ok(e) => e,
        Err(e) => return app_error(e),
    };
    eps.sort_by(|a, b| alphanumeric_sort::compare_str(a.id.as_str(), b.id.as_str()));
    let health: std::collections::HashMap<String, crate::power::breaker::BmcHealth> = app
        .bmc_health()
        .into_iter()
        .map(|h| (h.bmc.clone(), h))
        .collect();
    let open = health.values().filter(|h| h.state != "closed").count();
    let body = html! {
        h1 { "BMCs" }
        p.muted { (eps.len()) " BMCs" @if open > 0 { ", " strong { (open) " with an open or probing circuit" } } }
        @if eps.is_empty() {
            p { "No BMCs yet: " code { "rackboot bmc add" } " or " code { "cray hsm inventory redfishEndpoints create" } "." }
        } @else {
            table.bmcs {
                thead { tr { th { "BMC" } th { "Address" } th { "Discovery" } th { "Last attempt" } th { "TLS trust" } th { "Circuit" } th { "Error" } } }
                tbody {
                    @for ep in &eps {
                        @let h = health.get(ep.id.as_str());
                        @let info = &ep.discovery_info;
                        tr {
                            td { (ep.id) @if !ep.enabled { " (disabled)" } }
                            td.path { (ep.base_url()) }
                            td { (info.last_status) @if let Some(v) = &info.redfish_version { " · Redfish " (v) } }
                            td { (info.last_attempt.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default()) }
                            td.path { (ep.trust.describe()) }
                            td {
                                @match h {
                                    None => "closed",
                                    Some(h) => {
                                        (h.state) " · " (h.consecutive_failures) " failures"
                                        @if let Some(s) = h.retry_in_secs { " · retry in " (s) " s" }
                                    }
                                }
                            }
                            td.error {
                                @if let Some(e) = &info.error { (e) }
                                @if let Some(h) = h.filter(|h| !h.last_error.is_empty()) { " " (h.last_error) }
                            }
                        }
                    }
                }
            }
        }
    };
    page("BMCs", Some(&viewer), Nav::Bmcs, body)
}

pub async fn images(State(app): State<Arc<App>>, viewer: Viewer) -> Response {
    let images = match app.list_images().await {
        Ok(i) => i,
        Err(e) => return app_error(e),
    };
    let body = html! {
        h1 { "Images" }
        @if images.is_empty() {
            p { "No images yet: " code { "rackboot images import" } "." }
        }
        @for img in &images {
            section.card {
                h2 { (img.name) }
                p.path { (img.manifest) }
                table {
                    thead { tr { th { "Artifact" } th { "Path" } th { "Size" } th { "ETag" } } }
                    tbody {
                        @for a in &img.artifacts {
                            tr { td { (a.kind) } td.path { (a.path) } td { (bytes(a.size)) } td.path { (a.etag.as_deref().unwrap_or("")) } }
                        }
                    }
                }
                p.muted { "Total " (bytes(img.artifacts.iter().map(|a| a.size).sum())) }
            }
        }
    };
    page("Images", Some(&viewer), Nav::Images, body)
}
