//! The console's login and logout: a form that asks the same identity service as
//! `cray auth login` and keeps the access token it answers in the console cookie.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;

use super::auth::{self, Csrf};
use super::layout::{Nav, Viewer, page};
use crate::api::server::Transport;
use crate::app::{App, AppError};

#[derive(Debug, serde::Deserialize)]
pub struct Next {
    next: Option<String>,
}

fn login_form(next: &str, error: Option<&str>) -> Response {
    let body = html! {
        section.login {
            h1 { "Log in to rackboot" }
            @if let Some(e) = error {
                p.error role="alert" { (e) }
            }
            form method="post" action="/console/login" {
                input type="hidden" name="next" value=(next);
                label for="username" { "User" }
                input #username name="username" autocomplete="username" required autofocus;
                label for="password" { "Password" }
                input #password type="password" name="password" autocomplete="current-password" required;
                button type="submit" { "Log in" }
            }
            p.hint { "The same users as " code { "cray auth login" } " (" code { "rackboot users add" } ")." }
        }
    };
    page("Log in", None, Nav::None, body)
}

pub async fn show(State(app): State<Arc<App>>, Query(q): Query<Next>) -> Response {
    let next = auth::safe_next(q.next.as_deref());
    if app.identity().no_auth {
        return redirect(&next);
    }
    login_form(&next, None)
}

#[derive(Debug, serde::Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn submit(
    State(app): State<Arc<App>>,
    transport: Option<axum::Extension<Transport>>,
    form: Result<Form<Credentials>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(c)) = form else {
        let mut r = login_form("/", Some("The login form needs a user and a password."));
        *r.status_mut() = StatusCode::BAD_REQUEST;
        return r;
    };
    let next = auth::safe_next(c.next.as_deref());
    match app.identity().login(c.username.trim(), &c.password).await {
        Ok(t) => {
            let secure = transport.is_some_and(|t| t.0 == Transport::Tls);
            let mut r = redirect(&next);
            r.headers_mut().insert(
                header::SET_COOKIE,
                auth::set_cookie(&t.access_token, t.expires_in, secure),
            );
            r
        }
        Err(AppError::Unauthorized(why)) => {
            let mut r = login_form(&next, Some(&why));
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            r
        }
        Err(e) => super::layout::app_error(e),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct Token {
    csrf: Option<String>,
}

pub async fn logout(
    viewer: Viewer,
    axum::Extension(csrf): axum::Extension<Csrf>,
    Form(t): Form<Token>,
) -> Response {
    if let Err(r) = csrf.check(t.csrf.as_deref()) {
        return r.into_response();
    }
    tracing::info!(user = %viewer.name, "console logout");
    let mut r = redirect("/console/login");
    r.headers_mut()
        .insert(header::SET_COOKIE, auth::clear_cookie());
    r
}

/// A 303 to `to` (a path on this appliance).
pub fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = header::HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}
