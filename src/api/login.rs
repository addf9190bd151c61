//! The Keycloak token endpoint `cray auth login` talks to
//! (`/keycloak/realms/shasta/protocol/openid-connect/token`): the OAuth2 password grant and
//! refresh grant for client `shasta`, answered with this appliance's own JWTs.
//!
//! Errors keep OAuth2's shape (`error`, `error_description`, which OAuth2 clients read)
//! beside the problem+json fields, so both kinds of client can say what went wrong.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};

use crate::app::{App, AppError};

pub const TOKEN_PATH: &str = "/keycloak/realms/shasta/protocol/openid-connect/token";

pub fn routes() -> Router<Arc<App>> {
    Router::new().route(TOKEN_PATH, post(token))
}

#[derive(Debug, serde::Deserialize)]
struct Grant {
    grant_type: Option<String>,
    client_id: Option<String>,
    username: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: impl Into<String>) -> Response {
    let d = description.into();
    let body = serde_json::json!({
        "error": error,
        "error_description": d,
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": d,
    });
    let mut r = (status, Json(body)).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

async fn token(
    State(app): State<Arc<App>>,
    form: Result<Form<Grant>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(g)) = form else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body must be application/x-www-form-urlencoded with grant_type and client_id",
        );
    };
    if g.client_id.as_deref() != Some("shasta") {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            format!(
                "unknown client_id {:?}: this appliance serves client shasta",
                g.client_id.unwrap_or_default()
            ),
        );
    }
    let id = app.identity();
    let answer = match g.grant_type.as_deref() {
        Some("password") => match (g.username, g.password) {
            (Some(u), Some(p)) => id.login(&u, &p).await,
            _ => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "the password grant needs username and password",
                );
            }
        },
        Some("refresh_token") => match g.refresh_token {
            Some(t) => id.refresh(&t).await,
            None => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "the refresh grant needs refresh_token",
                );
            }
        },
        other => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!(
                    "grant_type {:?} is not supported: use password or refresh_token",
                    other.unwrap_or("")
                ),
            );
        }
    };
    match answer {
        Ok(t) => {
            let mut r = Json(t).into_response();
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            r
        }
        Err(AppError::Unauthorized(d)) => oauth_error(StatusCode::UNAUTHORIZED, "invalid_grant", d),
        Err(e) => super::problem::Problem::from(e).into_response(),
    }
}
