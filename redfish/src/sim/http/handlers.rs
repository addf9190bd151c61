//! What SimBmc does with the requests that change something or need more than a
//! document: a system GET with its ETag, the Boot PATCH (validated before anything changes,
//! `If-Match` honoured), the Reset action, and sessions.
//!
//! Handlers get a routed, authenticated request and its body; they validate the way a
//! strict BMC does (unknown properties, wrong types and values outside the allowable lists
//! are 400s with the standard MessageIds) and change [`SimState`] only when all is valid.

use std::borrow::Cow;

use axum::http::header::{CONTENT_TYPE, ETAG, IF_MATCH, LOCATION};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::super::mockup::standard_reset_types;
use super::super::state::{
    AtomicCounters, BOOT_ENABLED, BOOT_MODES, BOOT_TARGETS, SessionError, SimState,
};
use super::documents::{collection, session_doc, system_doc};
use super::reply::{error, json_body, malformed_json, ok, property_type_error, property_unknown};
use super::route::SESSIONS;

pub(super) fn get_system(st: &SimState, i: usize) -> Response {
    let (doc, etag) = match st.fixed.replay {
        Some(_) => super::replay::system_doc(st, i),
        None => system_doc(st, i),
    };
    let mut resp = ok(doc);
    if st.fixed.etag
        && let Ok(v) = HeaderValue::from_str(&etag)
    {
        resp.headers_mut().insert(ETAG, v);
    }
    resp
}

pub(super) fn patch_system(st: &SimState, i: usize, headers: &HeaderMap, body: &[u8]) -> Response {
    let Ok(doc) = serde_json::from_slice::<Value>(body) else {
        return malformed_json();
    };
    let Some(doc) = doc.as_object() else {
        return malformed_json();
    };
    // Validate everything before changing anything.
    let mut wanted: [Option<Cow<'static, str>>; 3] = [None, None, None];
    for (key, value) in doc {
        if key != "Boot" {
            return property_unknown(key);
        }
        let Some(boot) = value.as_object() else {
            return property_type_error("Boot", value);
        };
        for (prop, value) in boot {
            let slot = match prop.as_str() {
                "BootSourceOverrideEnabled" => 0,
                "BootSourceOverrideTarget" => 1,
                "BootSourceOverrideMode" => 2,
                _ => return property_unknown(prop),
            };
            // A replayed system without the property cannot take it.
            let Some(allowed) = boot_allowed(st, i, slot) else {
                return property_unknown(prop);
            };
            let Some(s) = value.as_str() else {
                return property_type_error(prop, value);
            };
            let Some(v) = allowed.iter().find(|a| **a == s) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "PropertyValueNotInList",
                    &format!(
                        "The value {s} for the property {prop} is not in the list of acceptable values."
                    ),
                    &format!(
                        "Choose a value from the enumeration list ({}) and resubmit the request.",
                        allowed.join(", ")
                    ),
                );
            };
            wanted[slot] = Some(v.clone());
        }
    }
    let if_match = headers
        .get(IF_MATCH)
        .map(|v| v.to_str().unwrap_or("").to_string());
    let drop = st.knobs().drop_boot_override;
    let outcome = st.with_system(i, |sys| {
        if st.fixed.etag
            && let Some(want) = &if_match
            && !etag_matches(want, &sys.etag())
        {
            return Err(sys.etag());
        }
        if !drop {
            // Every accepted write is a new version of the resource, changed or not.
            let [enabled, target, mode] = wanted.clone();
            let b = &mut sys.boot;
            if let Some(v) = enabled {
                b.enabled = v;
            }
            if let Some(v) = target {
                b.target = v;
            }
            if let Some(v) = mode {
                b.mode = v;
            }
            sys.touch();
        }
        Ok(())
    });
    match outcome {
        Ok(()) => {
            AtomicCounters::bump(&st.counters.patches);
            if wanted[2].is_some() {
                AtomicCounters::bump(&st.counters.mode_patches);
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Err(current) => error(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            &format!(
                "The ETag supplied did not match the ETag required to change this resource (current {current})."
            ),
            "Try the operation again using the appropriate ETag.",
        ),
    }
}

/// The values a Boot override property (0 Enabled, 1 Target, 2 Mode) takes on system `i`;
/// `None` where a replayed system's document lacks the property.
fn boot_allowed(st: &SimState, i: usize, slot: usize) -> Option<Vec<Cow<'static, str>>> {
    let Some(r) = &st.fixed.replay else {
        let list = [BOOT_ENABLED, BOOT_TARGETS, BOOT_MODES][slot];
        return Some(list.iter().map(|s| Cow::Borrowed(*s)).collect());
    };
    let b = &r.systems()[i].boot;
    let list = [&b.enabled, &b.target, &b.mode][slot].as_ref()?;
    Some(list.iter().map(|s| Cow::Owned(s.clone())).collect())
}

/// `If-Match` against the current weak ETag; tolerates `*`, lists and a missing `W/`.
fn etag_matches(if_match: &str, current: &str) -> bool {
    let bare = current.trim_start_matches("W/");
    if_match
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == current || t == bare)
}

pub(super) fn reset(st: &SimState, i: usize, body: &[u8]) -> Response {
    let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(body) else {
        return malformed_json();
    };
    let Some(value) = doc.get("ResetType") else {
        return error(
            StatusCode::BAD_REQUEST,
            "ActionParameterMissing",
            "The action ComputerSystem.Reset requires the parameter ResetType to be present in the request body.",
            "Supply the action with the required parameter in the request body when the request is resubmitted.",
        );
    };
    let Some(reset_type) = value.as_str() else {
        return error(
            StatusCode::BAD_REQUEST,
            "ActionParameterValueTypeError",
            &format!(
                "The value {value} for the parameter ResetType in the action ComputerSystem.Reset is of a different type than the parameter can accept."
            ),
            "Correct the value for the parameter in the request body and resubmit the request if the operation failed.",
        );
    };
    let allowed = match &st.fixed.replay {
        Some(r) => r.systems()[i]
            .reset_types
            .clone()
            .unwrap_or_else(standard_reset_types),
        None => st.fixed.reset_types.clone(),
    };
    if !allowed.iter().any(|t| t == reset_type) {
        return error(
            StatusCode::BAD_REQUEST,
            "ActionParameterNotSupported",
            &format!(
                "The parameter {reset_type} for the action ComputerSystem.Reset is not supported on the target resource; allowed values: {}.",
                allowed.join(", ")
            ),
            "Remove the parameter supplied and resubmit the request if the operation failed.",
        );
    }
    st.reset(i, reset_type);
    AtomicCounters::bump(&st.counters.resets);
    StatusCode::NO_CONTENT.into_response()
}

pub(super) fn create_session(st: &SimState, body: &[u8]) -> Response {
    let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(body) else {
        return malformed_json();
    };
    let field = |name: &str| doc.get(name).and_then(Value::as_str);
    let (Some(user), Some(password)) = (field("UserName"), field("Password")) else {
        let missing = if field("UserName").is_none() {
            "UserName"
        } else {
            "Password"
        };
        return error(
            StatusCode::BAD_REQUEST,
            "PropertyMissing",
            &format!(
                "The property {missing} is a required property and must be included in the request."
            ),
            "Ensure that the property is in the request body and has a valid value and resubmit the request if the operation failed.",
        );
    };
    match st.create_session(user, password) {
        Ok((id, token)) => {
            let mut resp = (StatusCode::CREATED, json_body(&session_doc(id, user))).into_response();
            let h = resp.headers_mut();
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            if let Ok(v) = HeaderValue::from_str(&token) {
                h.insert("X-Auth-Token", v);
            }
            if let Ok(v) = HeaderValue::from_str(&format!("{SESSIONS}/{id}")) {
                h.insert(LOCATION, v);
            }
            resp
        }
        Err(SessionError::BadCredentials) => {
            AtomicCounters::bump(&st.counters.auth_failures);
            error(
                StatusCode::UNAUTHORIZED,
                "ResourceAtUriUnauthorized",
                &format!(
                    "While accessing the resource at {SESSIONS}, the service received an authorization error: invalid credentials."
                ),
                "Ensure that the appropriate access is provided for the service in order for it to access the URI.",
            )
        }
        Err(SessionError::LimitReached(limit)) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "SessionLimitExceeded",
            &format!(
                "The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation ({limit})."
            ),
            "Reduce the number of other sessions before trying to establish the session or increase the limit of simultaneous sessions (if supported).",
        ),
    }
}

/// GET of the Sessions collection.
pub(super) fn list_sessions(st: &SimState) -> Response {
    let ids: Vec<String> = st
        .sessions()
        .by_id
        .keys()
        .map(|id| format!("{SESSIONS}/{id}"))
        .collect();
    ok(collection(
        SESSIONS,
        "#SessionCollection.SessionCollection",
        "Session Collection",
        ids.into_iter(),
    ))
}

/// GET or DELETE of one session.
pub(super) fn session(st: &SimState, method: &Method, id: &str) -> Response {
    let found = id.parse::<u64>().ok().and_then(|n| {
        let sessions = st.sessions();
        sessions.by_id.get(&n).map(|s| (n, s.user.clone()))
    });
    match found {
        None => error(
            StatusCode::NOT_FOUND,
            "ResourceMissingAtURI",
            &format!("The resource at the URI {SESSIONS}/{id} was not found."),
            "Place a valid resource at the URI or correct the URI and resubmit the request.",
        ),
        Some((n, _)) if method == Method::DELETE => {
            st.delete_session(n);
            StatusCode::NO_CONTENT.into_response()
        }
        Some((n, user)) => ok(session_doc(n, &user)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_accepts_weak_strong_star_and_lists() {
        assert!(etag_matches("W/\"3\"", "W/\"3\""));
        assert!(etag_matches("\"3\"", "W/\"3\""));
        assert!(etag_matches("*", "W/\"3\""));
        assert!(etag_matches("W/\"1\", W/\"3\"", "W/\"3\""));
        assert!(!etag_matches("W/\"2\"", "W/\"3\""));
    }
}
