//! The page every console view is drawn in: the header with its navigation and who is
//! logged in, the shared error page, and the bits several pages draw (progress bars, a
//! tile). Server-rendered HTML (maud: checked and escaped at compile time), readable with
//! JavaScript off; `console.js` only makes it live.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::auth::Csrf;
use crate::auth::{Credential, Principal, Role};
use crate::model::ExtendedStatus;
use crate::model::rack::TileState;

/// Who is looking, as the pages need it.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub name: String,
    pub role: Role,
    /// The token every form of this page carries.
    pub csrf: Csrf,
    /// Whether the appliance runs with `--no-auth` (the header says so).
    pub no_auth: bool,
}

impl Viewer {
    /// May this viewer act (start and stop sessions, power nodes)?
    pub fn can_operate(&self) -> bool {
        self.role >= Role::Operator
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Viewer, Response> {
        let p = parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| {
                error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "this page was reached without the access check (api::access)",
                )
            })?;
        // Fail closed: a page without the access check's form token has no forms.
        let csrf = parts.extensions.get::<Csrf>().cloned().ok_or_else(|| {
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "this page was reached without its form token (api::access)",
            )
        })?;
        Ok(Viewer {
            no_auth: matches!(p.credential, Credential::NoAuth),
            name: p.name,
            role: p.role,
            csrf,
        })
    }
}

/// The navigation entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Rack,
    Sessions,
    Bmcs,
    Images,
    None,
}

/// The asset URLs, versioned so a new binary's assets are never taken from a cache.
pub fn asset(file: &str) -> String {
    format!("/console/assets/{file}?v={}", super::asset_version())
}

/// A whole page.
pub fn page(title: &str, viewer: Option<&Viewer>, nav: Nav, body: Markup) -> Response {
    let link = |n: Nav, href: &str, label: &str| {
        html! {
            a href=(href) aria-current=[(nav == n).then_some("page")] { (label) }
        }
    };
    let doc = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · rackboot" }
                link rel="stylesheet" href=(asset("console.css"));
                script src=(asset("console.js")) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { "rackboot" }
                    @if let Some(v) = viewer {
                        nav aria-label="Main" {
                            (link(Nav::Rack, "/", "Rack"))
                            (link(Nav::Sessions, "/console/sessions", "Sessions"))
                            (link(Nav::Bmcs, "/console/bmcs", "BMCs"))
                            (link(Nav::Images, "/console/images", "Images"))
                        }
                        div.who {
                            span { (v.name) " · " (v.role.to_string()) }
                            @if !v.no_auth {
                                form method="post" action="/console/logout" {
                                    input type="hidden" name="csrf" value=(v.csrf.value());
                                    button type="submit" { "Log out" }
                                }
                            }
                        }
                    }
                }
                @if viewer.is_some_and(|v| v.no_auth) {
                    p.banner role="alert" { "Authentication is off (--no-auth): anyone who reaches this console can power and boot the rack." }
                }
                main #main { (body) }
            }
        }
    };
    Html(doc.into_string()).into_response()
}

/// A page that says what went wrong, with the right status.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let body = html! {
        h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("Error")) }
        p.error role="alert" { (message) }
        p { a href="/" { "Back to the rack" } }
    };
    let mut r = page("Error", None, Nav::None, body);
    *r.status_mut() = status;
    r
}

/// An application error as a page.
pub fn app_error(e: crate::app::AppError) -> Response {
    let p = crate::api::problem::Problem::from(e);
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    error_page(status, &p.detail)
}

/// A session's progress: successful and failed shares, then what the rest is doing.
pub fn progress(name: &str, st: &ExtendedStatus) -> Markup {
    let ok = st.percent_successful.clamp(0.0, 100.0);
    let failed = st.percent_failed.clamp(0.0, 100.0 - ok);
    let ph = &st.phases;
    html! {
        div.progress data-session=(name) {
            div.bar role="img" aria-label=(format!("{ok:.0}% successful, {failed:.0}% failed")) {
                span.ok style=(format!("width:{ok}%")) {}
                span.failed style=(format!("width:{failed}%")) {}
            }
            p.phases {
                span.pct-ok { (format!("{ok:.0}")) } "% successful · "
                span.pct-failed { (format!("{failed:.0}")) } "% failed · powering off "
                span.pct-off { (format!("{:.0}", ph.percent_powering_off)) "%" } " · powering on "
                span.pct-on { (format!("{:.0}", ph.percent_powering_on)) "%" } " · configuring "
                span.pct-cfg { (format!("{:.0}", ph.percent_configuring)) "%" }
                " of " (st.managed_components_count) " nodes"
            }
        }
    }
}

/// One node's tile: a link to its page, its state as colour, glyph and words.
pub fn tile(xname: &str, state: TileState) -> Markup {
    html! {
        a.t.(format!("s-{}", state.as_str())) id=(format!("n-{xname}")) href=(format!("/console/nodes/{xname}")) title=(format!("{xname}: {}", state.label())) {}
    }
}

/// The legend: every state's colour, glyph, words and count (a link that filters by it).
pub fn legend(counts: &std::collections::BTreeMap<TileState, usize>) -> Markup {
    html! {
        ul.legend aria-label="States" {
            @for (state, n) in counts {
                li {
                    a href=(format!("/?state={}", state.as_str())) {
                        span.t.(format!("s-{}", state.as_str())) aria-hidden="true" {}
                        " " (state.label()) " "
                        strong id=(format!("count-{}", state.as_str())) { (n) }
                    }
                }
            }
        }
    }
}
