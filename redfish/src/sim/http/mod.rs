//! SimBmc's HTTP layer: the request pipeline in front of the Redfish resources.
//!
//! One axum fallback handler does its own routing ([`route`]): Redfish wants its own error
//! bodies for 404/405/401, and the fault knobs must apply before routing, so hand dispatch
//! over path segments is simpler than bending axum's router and extractor rejections into
//! shape.
//!
//! Pipeline per request: count it, hold it while the unresponsive knob is on, sleep the
//! latency knob, fail it if `fail_next` has faults left (never the service root GET),
//! authenticate (except the service root GET and session creation), route, handle.
//!
//! Layout: `route` (paths and methods), `documents` (the JSON resources), `handlers`
//! (PATCH, Reset, sessions), `reply` (bodies and Redfish errors). The submodules depend on
//! each other and on `state` only, never on this one.

mod documents;
mod handlers;
mod reply;
mod route;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{ALLOW, AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use tokio::sync::watch;

use self::reply::{error, injected_fault, malformed_json, ok};
use self::route::Route;
use super::state::{AtomicCounters, SimState};

/// Largest request body read (the biggest legitimate one is a few hundred bytes).
const BODY_LIMIT: usize = 64 * 1024;

/// Basic credentials as clients send them: the standard alphabet, padding optional, and
/// no check of the unused trailing bits.
const BASIC_CREDENTIALS: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

pub(crate) fn router(state: Arc<SimState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

async fn handle(State(st): State<Arc<SimState>>, req: Request) -> Response {
    AtomicCounters::bump(&st.counters.requests);
    wait_while_unresponsive(&st).await;
    let latency = st.knobs().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut resp = respond(&st, req).await;
    resp.headers_mut()
        .insert("OData-Version", HeaderValue::from_static("4.0"));
    resp
}

/// Returns once the unresponsive knob is off; never returns if the BMC stops meanwhile (the
/// connection is then dropped under us).
async fn wait_while_unresponsive(st: &SimState) {
    let mut unresponsive = st.unresponsive.subscribe();
    if !*unresponsive.borrow_and_update() {
        return;
    }
    tokio::select! {
        () = wait_until(&mut unresponsive, false) => {}
        () = st.stop.cancelled() => std::future::pending::<()>().await,
    }
}

/// Resolves once the watched flag equals `value`, or its sender is gone. (Wrapping
/// `wait_for` keeps its non-`Send` borrow guard out of the caller's future.)
async fn wait_until(rx: &mut watch::Receiver<bool>, value: bool) {
    let _ = rx.wait_for(|v| *v == value).await;
}

async fn respond(st: &SimState, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let method = parts.method;
    let route = Route::parse(st, parts.uri.path());
    let root_get = route == Some(Route::Root) && method == Method::GET;

    if !root_get && let Some(status) = st.take_fault() {
        return injected_fault(status);
    }
    let login = route == Some(Route::Sessions) && method == Method::POST;
    if !root_get && !login && !authenticated(st, &parts.headers) {
        AtomicCounters::bump(&st.counters.auth_failures);
        let mut resp = error(
            StatusCode::UNAUTHORIZED,
            "NoValidSession",
            "There is no valid session established with the implementation.",
            "Establish a session before attempting any operations, or send valid Basic credentials.",
        );
        resp.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"SimBmc\""),
        );
        return resp;
    }
    let Some(route) = route else {
        return error(
            StatusCode::NOT_FOUND,
            "ResourceMissingAtURI",
            &format!(
                "The resource at the URI {} was not found.",
                parts.uri.path()
            ),
            "Place a valid resource at the URI or correct the URI and resubmit the request.",
        );
    };
    if !route.methods().contains(&method) {
        let allow = route
            .methods()
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let mut resp = error(
            StatusCode::METHOD_NOT_ALLOWED,
            "GeneralError",
            &format!(
                "The method {method} is not allowed on {}.",
                parts.uri.path()
            ),
            &format!("Use one of: {allow}."),
        );
        if let Ok(v) = HeaderValue::from_str(&allow) {
            resp.headers_mut().insert(ALLOW, v);
        }
        return resp;
    }
    let body = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => return malformed_json(),
    };

    match route {
        Route::Root => ok(documents::service_root(st)),
        Route::Systems => ok(documents::systems(st)),
        Route::System(i) if method == Method::GET => handlers::get_system(st, i),
        Route::System(i) => handlers::patch_system(st, i, &parts.headers, &body),
        Route::ResetActionInfo(i) => ok(documents::reset_action_info(st, i)),
        Route::Reset(i) => handlers::reset(st, i, &body),
        Route::Nics(i) => ok(documents::nics(st, i)),
        Route::Nic(i, n) => ok(documents::nic(st, i, n)),
        Route::Managers => ok(documents::managers()),
        Route::Manager => ok(documents::manager(st)),
        Route::SessionService => ok(documents::session_service()),
        Route::Sessions if method == Method::GET => handlers::list_sessions(st),
        Route::Sessions => handlers::create_session(st, &body),
        Route::Session(id) => handlers::session(st, &method, &id),
    }
}

/// Basic credentials, or the token of a live session.
fn authenticated(st: &SimState, headers: &HeaderMap) -> bool {
    if let Some(token) = headers.get("X-Auth-Token").and_then(|v| v.to_str().ok())
        && st.token_valid(token)
    {
        return true;
    }
    let Some(auth) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some((scheme, b64)) = auth.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("Basic") {
        return false;
    }
    let Some(decoded) = base64_decode(b64.trim()).and_then(|b| String::from_utf8(b).ok()) else {
        return false;
    };
    decoded
        .split_once(':')
        .is_some_and(|(user, password)| st.check_password(user, password))
}

/// Standard base64 (padding optional); `None` on anything else.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    BASIC_CREDENTIALS.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_what_clients_send() {
        assert_eq!(
            base64_decode("YWRtaW46cGFzc3dvcmQ=").unwrap(),
            b"admin:password"
        );
        assert_eq!(base64_decode("YTpi").unwrap(), b"a:b");
        assert_eq!(base64_decode("YTpiYw").unwrap(), b"a:bc");
        assert_eq!(base64_decode("").unwrap(), b"");
        assert!(base64_decode("Y").is_none());
        assert!(base64_decode("YT!i").is_none());
    }
}
