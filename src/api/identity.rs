//! `/apis/rackboot/v1` users, API tokens, the audit trail and `whoami` (roles in
//! `api::access`; tokens are the caller's own unless the caller is an admin).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Extension, Json, Router};

use super::extract::{Body, Pairs};
use super::problem::{ApiResult, Problem};
use crate::app::App;
use crate::app::identity::{TokenView, UserView};
use crate::auth::{Principal, Role};
use crate::model::identity::AuditRecord;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/whoami", get(whoami))
        .route("/users", get(list_users).post(create_user))
        .route(
            "/users/{name}",
            get(get_user).patch(update_user).delete(delete_user),
        )
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", delete(revoke_token))
        .route("/audit", get(audit))
}

async fn whoami(Extension(p): Extension<Principal>) -> Json<Principal> {
    Json(p)
}

fn role(s: &str) -> Result<Role, Problem> {
    Role::parse(s).map_err(|e| Problem::bad_request(format!("role: {e}")))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
    role: String,
    password: String,
}

async fn list_users(State(app): State<Arc<App>>) -> ApiResult<Json<Vec<UserView>>> {
    Ok(Json(app.identity().list_users().await?))
}

async fn create_user(
    State(app): State<Arc<App>>,
    Body(u): Body<NewUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let r = role(&u.role)?;
    Ok((
        StatusCode::CREATED,
        Json(app.identity().create_user(&u.name, r, &u.password).await?),
    ))
}

async fn get_user(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> ApiResult<Json<UserView>> {
    app.identity()
        .list_users()
        .await?
        .into_iter()
        .find(|u| u.name == name)
        .map(Json)
        .ok_or_else(|| Problem::not_found(format!("no such user: {name}")))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPatch {
    role: Option<String>,
    password: Option<String>,
}

async fn update_user(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Body(p): Body<UserPatch>,
) -> ApiResult<Json<UserView>> {
    if p.role.is_none() && p.password.is_none() {
        return Err(Problem::bad_request(
            "nothing to change: give role and/or password",
        ));
    }
    let r = p.role.as_deref().map(role).transpose()?;
    Ok(Json(
        app.identity()
            .update_user(&name, r, p.password.as_deref())
            .await?,
    ))
}

async fn delete_user(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    app.identity().delete_user(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    /// At most the owner's role [default: the owner's role].
    role: Option<String>,
    /// Another user's name (admins only) [default: the caller].
    owner: Option<String>,
    /// Lifetime in days [default: never expires].
    expires_in_days: Option<i64>,
    /// Lifetime in seconds (instead of days).
    expires_in_secs: Option<i64>,
}

#[derive(serde::Serialize)]
struct Created {
    #[serde(flatten)]
    view: TokenView,
    /// The token itself: shown this once, never again.
    token: String,
}

async fn list_tokens(
    State(app): State<Arc<App>>,
    Extension(p): Extension<Principal>,
) -> ApiResult<Json<Vec<TokenView>>> {
    Ok(Json(app.identity().list_tokens(&p).await?))
}

async fn create_token(
    State(app): State<Arc<App>>,
    Extension(p): Extension<Principal>,
    Body(t): Body<NewToken>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let r = t.role.as_deref().map(role).transpose()?;
    let ttl = match (t.expires_in_days, t.expires_in_secs) {
        (Some(_), Some(_)) => {
            return Err(Problem::bad_request(
                "give expires_in_days or expires_in_secs, not both",
            ));
        }
        (Some(d), None) => Some(chrono::Duration::days(d)),
        (None, Some(s)) => Some(chrono::Duration::seconds(s)),
        (None, None) => None,
    };
    let (view, token) = app
        .identity()
        .create_token(&p, t.owner.as_deref(), &t.name, r, ttl)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { view, token })))
}

async fn revoke_token(
    State(app): State<Arc<App>>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    app.identity().revoke_token(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?since=RFC3339` (default: 24 hours ago) and `?limit=N` (default 1000, at most 10000).
async fn audit(State(app): State<Arc<App>>, q: Pairs) -> ApiResult<Json<Vec<AuditRecord>>> {
    let since = match q.first("since") {
        None => chrono::Utc::now() - chrono::Duration::hours(24),
        Some(s) => chrono::DateTime::parse_from_rfc3339(&s)
            .map_err(|e| Problem::bad_request(format!("since={s:?} is not an RFC 3339 time: {e}")))?
            .to_utc(),
    };
    let limit = match q.first("limit") {
        None => 1000,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| {
                Problem::bad_request(format!("limit={l:?} must be a number from 1 to 10000"))
            })?,
    };
    Ok(Json(app.identity().audit(since, limit).await?))
}
