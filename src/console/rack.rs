//! The rack view (`GET /`): every node as a tile, cabinet → chassis → slot, coloured and
//! marked by its state, with the legend, the counts and the filters. The filters are a plain
//! GET form, so the view works without JavaScript; with it, `console.js` keeps the tiles and
//! counts live from `/console/events`. At 10,000 nodes the page is ~1.5 MB of tiles and the
//! browser skips laying out cabinets off screen (`content-visibility`).

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{Markup, html};

use super::layout::{Nav, Viewer, legend, page, tile};
use crate::app::App;
use crate::app::rack::NodeTile;
use crate::model::rack::{TileState, location};

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct RackFilter {
    pub group: Option<String>,
    pub role: Option<String>,
    pub session: Option<String>,
    pub state: Option<String>,
    pub q: Option<String>,
}

fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl RackFilter {
    pub fn matches(&self, t: &NodeTile) -> bool {
        set(&self.group).is_none_or(|g| t.groups.iter().any(|m| m == g))
            && set(&self.role).is_none_or(|r| t.role.eq_ignore_ascii_case(r))
            && set(&self.session).is_none_or(|s| t.session == s)
            && set(&self.state).is_none_or(|s| t.state.as_str() == s)
            && set(&self.q).is_none_or(|q| t.xname.contains(&q.to_ascii_lowercase()))
    }

    fn any(&self) -> bool {
        [&self.group, &self.role, &self.session, &self.state, &self.q]
            .iter()
            .any(|v| set(v).is_some())
    }
}

/// The tiles, grouped cabinet → chassis → slot (they come in natural xname order).
pub fn cabinets<'a>(tiles: impl Iterator<Item = &'a NodeTile>) -> Markup {
    let mut tiles = tiles.peekable();
    html! {
        @while let Some(first) = tiles.peek() {
            @let (cab, _, _) = location(&first.xname);
            @let cab = cab.to_string();
            section.cab aria-label=(format!("Cabinet {cab}")) {
                h2 { (cab) }
                @while let Some(first) = tiles.peek().filter(|t| location(&t.xname).0 == cab) {
                    @let chassis = location(&first.xname).1.to_string();
                    div.chassis {
                        h3 { (chassis.strip_prefix(cab.as_str()).unwrap_or(&chassis)) }
                        div.slots {
                            @while let Some(first) = tiles.peek().filter(|t| location(&t.xname).1 == chassis) {
                                @let slot = location(&first.xname).2.to_string();
                                div.slot title=(slot) {
                                    @while let Some(t) = tiles.next_if(|t| location(&t.xname).2 == slot) {
                                        (tile(&t.xname, t.state))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn select(name: &str, label: &str, options: &BTreeSet<String>, chosen: Option<&str>) -> Markup {
    html! {
        label {
            (label) " "
            select name=(name) {
                option value="" { "any" }
                @for o in options {
                    option value=(o) selected[chosen == Some(o.as_str())] { (o) }
                }
            }
        }
    }
}

pub async fn show(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Query(f): Query<RackFilter>,
) -> Response {
    let snap = match app.rack().await {
        Ok(s) => s,
        Err(e) => return super::layout::app_error(e),
    };
    let mut groups = BTreeSet::new();
    let mut roles = BTreeSet::new();
    let mut sessions = BTreeSet::new();
    for t in &snap.tiles {
        groups.extend(t.groups.iter().cloned());
        if !t.role.is_empty() {
            roles.insert(t.role.clone());
        }
        if !t.session.is_empty() {
            sessions.insert(t.session.clone());
        }
    }
    let states: BTreeSet<String> = TileState::ALL
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    let shown: Vec<&NodeTile> = snap.tiles.iter().filter(|t| f.matches(t)).collect();
    let body = html! {
        div.rackhead {
            h1 { "Rack" }
            p.muted {
                (snap.tiles.len()) " nodes"
                @if f.any() { ", " (shown.len()) " shown" }
                " · updated " time #updated datetime=(snap.taken.to_rfc3339()) { (snap.taken.format("%H:%M:%S UTC")) }
                span #live.live hidden { " · live" }
            }
        }
        (legend(&snap.counts()))
        form.filters method="get" action="/" role="search" {
            (select("group", "Group", &groups, set(&f.group)))
            (select("role", "Role", &roles, set(&f.role)))
            (select("session", "Session", &sessions, set(&f.session)))
            (select("state", "State", &states, set(&f.state)))
            label { "Node " input type="search" name="q" value=[set(&f.q)] placeholder="x1000c0s0"; }
            button type="submit" { "Filter" }
            @if f.any() { a href="/" { "Clear" } }
        }
        @if snap.tiles.is_empty() {
            p { "No nodes yet: add BMCs (" code { "rackboot bmc add" } ") or load an inventory." }
        } @else if shown.is_empty() {
            p { "No node matches these filters." }
        }
        div.rack #rack data-live="tiles" { (cabinets(shown.into_iter())) }
    };
    page("Rack", Some(&viewer), Nav::Rack, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(x: &str, state: TileState) -> NodeTile {
        NodeTile {
            xname: x.into(),
            state,
            role: "Compute".into(),
            session: String::new(),
            groups: vec!["blue".into()],
        }
    }

    #[test]
    fn tiles_nest_by_cabinet_chassis_and_slot() {
        let tiles = [
            t("x1000c0s0b0n0", TileState::Stable),
            t("x1000c0s0b0n1", TileState::Off),
            t("x1000c0s1b0n0", TileState::Failed),
            t("x1000c1s0b0n0", TileState::Booting),
            t("x3000c0s0b0n0", TileState::Unreachable),
        ];
        let html = cabinets(tiles.iter()).into_string();
        assert_eq!(html.matches("<section").count(), 2, "{html}");
        assert_eq!(html.matches("class=\"chassis\"").count(), 3, "{html}");
        assert_eq!(html.matches("class=\"slot\"").count(), 4, "{html}");
        assert_eq!(html.matches("class=\"t s-").count(), 5, "{html}");
        assert!(html.contains("title=\"x1000c0s1b0n0: failed\""), "{html}");
        assert!(
            html.contains("href=\"/console/nodes/x3000c0s0b0n0\""),
            "{html}"
        );
    }

    #[test]
    fn filters_combine() {
        let mut a = t("x1000c0s0b0n0", TileState::Stable);
        a.session = "s1".into();
        let b = t("x1000c0s0b0n1", TileState::Off);
        let f = RackFilter {
            state: Some("stable".into()),
            ..Default::default()
        };
        assert!(f.matches(&a) && !f.matches(&b));
        let f = RackFilter {
            group: Some("blue".into()),
            q: Some("B0N1".into()),
            ..Default::default()
        };
        assert!(!f.matches(&a) && f.matches(&b));
        let f = RackFilter {
            session: Some("s1".into()),
            role: Some("compute".into()),
            state: Some(" ".into()),
            ..Default::default()
        };
        assert!(f.matches(&a) && !f.matches(&b));
    }
}
