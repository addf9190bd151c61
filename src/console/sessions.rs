//! Sessions in the console: the list with live progress, starting one from a template after
//! its dry run (which nodes, which artifacts, which power action), a session's page (its
//! nodes, errors grouped by message, timing), and stopping or deleting one. Starting,
//! stopping and deleting are the operator's, as in the BOS API.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::layout::{Nav, Viewer, app_error, error_page, page, progress, tile};
use super::login::redirect;
use crate::app::App;
use crate::app::bos::sessions::SessionFilter;
use crate::model::{NewSession, Operation, SessionStatus};

/// What the start form sends (and the dry run reads from its query).
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct StartForm {
    pub template: Option<String>,
    pub operation: Option<String>,
    pub limit: Option<String>,
    pub name: Option<String>,
    pub stage: Option<String>,
    pub include_disabled: Option<String>,
    pub csrf: Option<String>,
}

impl StartForm {
    fn session(&self) -> Result<NewSession, String> {
        let template = self
            .template
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or("choose a session template")?;
        let op = self.operation.as_deref().unwrap_or("boot");
        let operation = match Operation::parse(op) {
            Some(o) => o,
            None => return Err(format!("operation {op:?} is not boot, reboot or shutdown")),
        };
        let trimmed = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        Ok(NewSession {
            name: trimmed(&self.name),
            operation,
            template_name: template.to_string(),
            limit: trimmed(&self.limit),
            stage: self.stage.is_some(),
            include_disabled: self.include_disabled.is_some(),
            v1: None,
        })
    }
}

/// The form that asks for a session's dry run (anyone may look); the dry run's page has
/// the button that starts exactly what it showed.
fn start_form(templates: &[String], f: &StartForm) -> Markup {
    let op = f.operation.as_deref().unwrap_or("boot");
    html! {
        form.start method="get" action="/console/sessions/new" {
            label { "Template "
                select name="template" required {
                    @for t in templates {
                        option value=(t) selected[f.template.as_deref() == Some(t.as_str())] { (t) }
                    }
                }
            }
            label { "Operation "
                select name="operation" {
                    @for o in ["boot", "reboot", "shutdown"] {
                        option value=(o) selected[op == o] { (o) }
                    }
                }
            }
            label { "Limit " input name="limit" value=[f.limit.as_deref()] placeholder="x1000c0s0b0n0,compute"; }
            label { "Name " input name="name" value=[f.name.as_deref()] placeholder="(generated)"; }
            label { input type="checkbox" name="stage" checked[f.stage.is_some()]; " stage only" }
            label { input type="checkbox" name="include_disabled" checked[f.include_disabled.is_some()]; " include disabled nodes" }
            button type="submit" { "Preview" }
        }
    }
}

/// The button that starts the session a dry run showed.
fn confirm_form(f: &StartForm, viewer: &Viewer) -> Markup {
    let hidden = |name: &str, v: &Option<String>| {
        html! { @if let Some(v) = v { input type="hidden" name=(name) value=(v); } }
    };
    html! {
        form.confirm method="post" action="/console/sessions" {
            input type="hidden" name="csrf" value=(viewer.csrf.value());
            (hidden("template", &f.template))
            (hidden("operation", &f.operation))
            (hidden("limit", &f.limit))
            (hidden("name", &f.name))
            (hidden("stage", &f.stage))
            (hidden("include_disabled", &f.include_disabled))
            button.primary type="submit" { "Start this session" }
        }
    }
}

async fn template_names(app: &App) -> Vec<String> {
    let Ok(scope) = app.scope(None).await else {
        return vec![];
    };
    app.list_session_templates(&scope)
        .await
        .map(|ts| ts.into_iter().map(|t| t.name).collect())
        .unwrap_or_default()
}

pub async fn list(State(app): State<Arc<App>>, viewer: Viewer) -> Response {
    let scope = match app.scope(None).await {
        Ok(s) => s,
        Err(e) => return app_error(e),
    };
    let mut sessions = match app.list_sessions(&scope, &SessionFilter::default()).await {
        Ok(s) => s,
        Err(e) => return app_error(e),
    };
    sessions.sort_by(|a, b| b.status.start_time.cmp(&a.status.start_time));
    // The progress of the newest 50; older ones are a link.
    let mut rows = Vec::new();
    for (i, s) in sessions.iter().enumerate() {
        let st = if i < 50 {
            app.session_status(&scope, &s.name).await.ok()
        } else {
            None
        };
        rows.push((s, st));
    }
    let templates = template_names(&app).await;
    let body = html! {
        h1 { "Sessions" }
        section aria-labelledby="start-h" {
            h2 #start-h { "Start a session" }
            p.muted { "Every session starts from its dry run: which nodes, which artifacts, which power action." }
            @if templates.is_empty() {
                p { "No session templates yet (" code { "cray bos v2 sessiontemplates create" } ")." }
            } @else {
                (start_form(&templates, &StartForm::default()))
            }
        }
        @if rows.is_empty() {
            p { "No sessions." }
        } @else {
            table.sessions data-live="sessions" {
                thead { tr { th { "Session" } th { "Operation" } th { "Template" } th { "Status" } th { "Started" } th { "Progress" } } }
                tbody {
                    @for (s, st) in &rows {
                        tr {
                            td { a href=(format!("/console/sessions/{}", s.name)) { (s.name) } }
                            td { (s.operation.as_str()) }
                            td { (s.template_name) }
                            td.status data-session=(s.name) { (s.status.status.as_str()) }
                            td { (s.status.start_time.as_deref().unwrap_or("")) }
                            td { @if let Some(st) = st { (progress(&s.name, st)) } }
                        }
                    }
                }
            }
        }
    };
    page("Sessions", Some(&viewer), Nav::Sessions, body)
}

/// The dry run: what starting this session would do now.
pub async fn preview(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Query(f): Query<StartForm>,
) -> Response {
    let req = match f.session() {
        Ok(r) => r,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    let scope = match app.scope(None).await {
        Ok(s) => s,
        Err(e) => return app_error(e),
    };
    let p = match app.preview_session(&scope, req).await {
        Ok(p) => p,
        Err(e) => return app_error(e),
    };
    let templates = template_names(&app).await;
    let body = html! {
        h1 { "Dry run: " (p.operation.as_str()) " with " (p.template) }
        p.muted { "Nothing has been changed. This is what starting the session now would do." }
        @if let Some(e) = &p.error {
            p.error role="alert" #plan-error { "The session would act on no node: " (e) }
        } @else {
            p #plan-summary { (p.nodes.len()) " nodes" }
            @if viewer.can_operate() { (confirm_form(&f, &viewer)) }
            table.plan {
                thead { tr { th { "Node" } th { "Boot set" } th { "Power action" } th { "Kernel" } th { "Initrd" } th { "Configuration" } } }
                tbody {
                    @for n in &p.nodes {
                        tr {
                            td { a href=(format!("/console/nodes/{}", n.xname)) { (n.xname) } }
                            td { (n.boot_sets.join(", ")) }
                            td.power { (n.power.label()) }
                            td.path { (n.artifacts.kernel) }
                            td.path { (n.artifacts.initrd) }
                            td { (n.configuration) }
                        }
                    }
                }
            }
        }
        h2 { "Change it" }
        (start_form(&templates, &f))
    };
    page("Dry run", Some(&viewer), Nav::Sessions, body)
}

pub async fn start(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Form(f): Form<StartForm>,
) -> Response {
    if let Err(r) = viewer.csrf.check(f.csrf.as_deref()) {
        return r.into_response();
    }
    let req = match f.session() {
        Ok(r) => r,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    let scope = match app.scope(None).await {
        Ok(s) => s,
        Err(e) => return app_error(e),
    };
    match app.create_session(&scope, req).await {
        Ok(s) => {
            tracing::info!(user = %viewer.name, session = %s.name, "session started from the console");
            redirect(&format!("/console/sessions/{}", s.name))
        }
        Err(e) => app_error(e),
    }
}

pub async fn show(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path(name): Path<String>,
) -> Response {
    let scope = match app.scope(None).await {
        Ok(s) => s,
        Err(e) => return app_error(e),
    };
    let (s, st) = match (
        app.get_session(&scope, &name).await,
        app.session_status(&scope, &name).await,
    ) {
        (Ok(s), Ok(st)) => (s, st),
        (Err(e), _) | (_, Err(e)) => return app_error(e),
    };
    let snap = app.rack().await.ok();
    let mut members: std::collections::HashSet<String> = s
        .components
        .split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect();
    // Not set up yet: the nodes its plan names (the tiles are there when it starts moving).
    if members.is_empty() && s.is(SessionStatus::Pending) {
        let again = NewSession {
            name: None,
            operation: s.operation,
            template_name: s.template_name.clone(),
            limit: (!s.limit.is_empty()).then(|| s.limit.clone()),
            stage: s.stage,
            include_disabled: s.include_disabled,
            v1: None,
        };
        if let Ok(p) = app.preview_session(&scope, again).await {
            members.extend(p.nodes.into_iter().map(|n| n.xname));
        }
    }
    let body = html! {
        h1 { "Session " (s.name) }
        dl.facts {
            dt { "Operation" } dd { (s.operation.as_str()) @if s.stage { " (staged)" } }
            dt { "Template" } dd { (s.template_name) }
            dt { "Limit" } dd { @if s.limit.is_empty() { "none" } @else { (s.limit) } }
            dt { "Status" } dd.status data-session=(s.name) { (st.status.as_str()) }
            dt { "Started" } dd { (st.timing.start_time.as_deref().unwrap_or("")) }
            dt { "Ended" } dd { (st.timing.end_time.as_deref().unwrap_or("—")) }
            dt { "Duration" } dd { (st.timing.duration) }
            @if let Some(e) = &s.status.error { dt { "Error" } dd.error { (e) } }
        }
        div data-live="sessions" data-watch=(s.name) { (progress(&s.name, &st)) }
        @if viewer.can_operate() {
            div.actions {
                @if !s.is(SessionStatus::Complete) {
                    form method="post" action=(format!("/console/sessions/{}/stop", s.name)) {
                        input type="hidden" name="csrf" value=(viewer.csrf.value());
                        button.danger type="submit" { "Stop" }
                    }
                }
                form method="post" action=(format!("/console/sessions/{}/delete", s.name)) {
                    input type="hidden" name="csrf" value=(viewer.csrf.value());
                    button.danger type="submit" { "Delete" }
                }
            }
        }
        h2 { "Errors" }
        @if st.error_summary.is_empty() {
            p { "None." }
        } @else {
            table { thead { tr { th { "Error" } th { "Nodes" } th { "Which" } } }
                tbody { @for (msg, e) in &st.error_summary { tr { td { (msg) } td { (e.count) } td.path { (e.list) } } } }
            }
        }
        h2 { "Nodes (" (members.len()) ")" }
        div.rack data-live="tiles" {
            @if let Some(snap) = &snap {
                div.slot.wide {
                    @for t in snap.tiles.iter().filter(|t| members.contains(&t.xname)) {
                        (tile(&t.xname, t.state))
                    }
                }
            }
        }
    };
    page(
        &format!("Session {}", s.name),
        Some(&viewer),
        Nav::Sessions,
        body,
    )
}

#[derive(Debug, serde::Deserialize)]
pub struct Token {
    csrf: Option<String>,
}

pub async fn stop(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path(name): Path<String>,
    Form(t): Form<Token>,
) -> Response {
    if let Err(r) = viewer.csrf.check(t.csrf.as_deref()) {
        return r.into_response();
    }
    let scope = match app.scope(None).await {
        Ok(s) => s,
        Err(e) => return app_error(e),
    };
    let who = format!("{} from the console", viewer.name);
    match app.stop_session(&scope, &name, &who).await {
        Ok(_) => redirect(&format!("/console/sessions/{name}")),
        Err(e) => app_error(e),
    }
}

pub async fn delete(
    State(app): State<Arc<App>>,
    viewer: Viewer,
    Path(name): Path<String>,
    Form(t): Form<Token>,
) -> Response {
    if let Err(r) = viewer.csrf.check(t.csrf.as_deref()) {
        return r.into_response();
    }
    let scope = match app.scope(None).await {
        Ok(s) => s,
        Err(e) => return app_error(e),
    };
    match app.delete_session(&scope, &name).await {
        Ok(()) => redirect("/console/sessions"),
        Err(e) => app_error(e),
    }
}
