//! RFC 7807 problem+json: the one error shape every API here answers with.
//!
//! Titles are the HTTP status texts, as hms-bss and hms-smd produce them; the detail says
//! what was wrong with the request in words a user can act on. Store failures are logged
//! with their cause chain and answered with a generic 500, so internals do not leak.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::AppError;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    pub detail: String,
    pub status: u16,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            detail: detail.into(),
            status: status.as_u16(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).expect("problem serialises");
        let mut r = (status, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        r
    }
}

pub use crate::errors::chain;

impl From<AppError> for Problem {
    fn from(e: AppError) -> Problem {
        match e {
            AppError::BadRequest(d) => Problem::bad_request(d),
            AppError::NotFound(d) => Problem::not_found(d),
            AppError::Conflict(d) => Problem::new(StatusCode::CONFLICT, d),
            AppError::Unauthorized(d) => Problem::new(StatusCode::UNAUTHORIZED, d),
            AppError::Forbidden(d) => Problem::new(StatusCode::FORBIDDEN, d),
            AppError::Upstream(d) => Problem::new(StatusCode::BAD_GATEWAY, d),
            AppError::Store(e) => {
                tracing::error!(error = %chain(&e), "store failure");
                match e.condition() {
                    // Something the admin can fix: say what, and that nothing was written.
                    Some(c) => Problem::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!(
                            "the store could not be written ({}): {}",
                            e.op().unwrap_or("write"),
                            c.explain()
                        ),
                    ),
                    None => Problem::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "the appliance could not read or write its store; see its log",
                    ),
                }
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        Problem::from(self).into_response()
    }
}

pub type ApiResult<T> = Result<T, Problem>;
