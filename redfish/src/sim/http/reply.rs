//! How SimBmc answers: JSON bodies and Redfish error bodies (`Base.1.8` MessageIds).
//!
//! Every error a client can get from the simulator is built here, so they all share the
//! shape real BMCs use: a general `error.code` and one `@Message.ExtendedInfo` entry that
//! carries the specific MessageId, message and resolution.

use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, LINK, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub(super) fn json_body(v: &Value) -> Body {
    Body::from(serde_json::to_vec(v).expect("a serde_json::Value always serialises"))
}

pub(super) fn ok(v: Value) -> Response {
    json_response(StatusCode::OK, &v)
}

/// A JSON answer; a Redfish document (one with an `@odata.type`) also gets its
/// `Link: <schema>; rel=describedby` header, naming DMTF's published schema of that version.
pub(super) fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut resp = (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        json_body(v),
    )
        .into_response();
    if let Some(link) = v["@odata.type"].as_str().and_then(schema_link)
        && let Ok(h) = HeaderValue::from_str(&link)
    {
        resp.headers_mut().insert(LINK, h);
    }
    resp
}

/// `#ComputerSystem.v1_20_0.ComputerSystem` -> the describedby link of
/// `ComputerSystem.v1_20_0.json` (an unversioned type links its unversioned schema).
fn schema_link(odata_type: &str) -> Option<String> {
    let t = odata_type.strip_prefix('#')?;
    let mut parts: Vec<&str> = t.split('.').collect();
    if parts.len() < 2 {
        return None;
    }
    parts.pop();
    let file = parts.join(".");
    Some(format!(
        "<https://redfish.dmtf.org/schemas/v1/{file}.json>; rel=describedby"
    ))
}

pub(super) fn xml_response(text: String) -> Response {
    (
        StatusCode::OK,
        [(CONTENT_TYPE, HeaderValue::from_static("application/xml"))],
        text,
    )
        .into_response()
}

/// A Redfish error body with one `@Message.ExtendedInfo` entry for `Base.1.8.<id>`.
pub(super) fn error(status: StatusCode, id: &str, message: &str, resolution: &str) -> Response {
    json_response(
        status,
        &json!({
            "error": {
                "code": "Base.1.8.GeneralError",
                "message": "A general error has occurred. See ExtendedInfo for more information.",
                "@Message.ExtendedInfo": [{
                    "@odata.type": "#Message.v1_1_1.Message",
                    "MessageId": format!("Base.1.8.{id}"),
                    "Message": message,
                    "MessageArgs": [],
                    "Severity": "Warning",
                    "Resolution": resolution,
                }],
            }
        }),
    )
}

pub(super) fn malformed_json() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "MalformedJSON",
        "The request body submitted was malformed JSON and could not be parsed by the receiving service.",
        "Ensure that the request body is valid JSON and resubmit the request.",
    )
}

pub(super) fn property_unknown(prop: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "PropertyUnknown",
        &format!("The property {prop} is not in the list of valid properties for the resource."),
        "Remove the unknown property from the request body and resubmit the request if the operation failed.",
    )
}

pub(super) fn property_type_error(prop: &str, value: &Value) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "PropertyValueTypeError",
        &format!(
            "The value {value} for the property {prop} is of a different type than the property can accept."
        ),
        "Correct the value for the property in the request body and resubmit the request if the operation failed.",
    )
}

pub(super) fn injected_fault(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let id = match code.as_u16() {
        401 => "NoValidSession",
        403 => "InsufficientPrivilege",
        404 => "ResourceMissingAtURI",
        409 => "ResourceInUse",
        429 | 503 => "ServiceTemporarilyUnavailable",
        500 => "InternalError",
        _ => "GeneralError",
    };
    let mut resp = error(
        code,
        id,
        &format!("Injected fault: the service answered {code}."),
        "Retry the request; SimBmc was told to fail it (fail_next).",
    );
    if code == StatusCode::SERVICE_UNAVAILABLE {
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if code == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"SimBmc\""),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn schema_links_follow_the_odata_type() {
        assert_eq!(
            super::schema_link("#ComputerSystem.v1_20_0.ComputerSystem").unwrap(),
            "<https://redfish.dmtf.org/schemas/v1/ComputerSystem.v1_20_0.json>; rel=describedby"
        );
        assert_eq!(
            super::schema_link("#SessionCollection.SessionCollection").unwrap(),
            "<https://redfish.dmtf.org/schemas/v1/SessionCollection.json>; rel=describedby"
        );
        assert!(super::schema_link("Bogus").is_none());
    }
}
