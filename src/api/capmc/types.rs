//! CAPMC wire types (`specs/capmc-swagger.yaml`): request bodies, the `e`/`err_msg` answers,
//! and the `get_xname_status` filter grammar.
//!
//! Unknown request fields are ignored, as CAPMC's Go decoder ignores them (the `cray` CLI and
//! old BOS send what their CAPMC version knew). Every answer, errors included, is the CAPMC
//! shape `{"e": …, "err_msg": …}` with `application/json`, never problem+json: CAPMC clients
//! (BOA, scripts) read `e` and `err_msg`. The filter grammar is CAPMC's: pipe-separated,
//! case-insensitive, an unknown word is a 400 `invalid filter string: <word>`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// `xname_on`, `xname_off`, `xname_reinit` body.
#[derive(Debug, Deserialize)]
pub struct XnameControl {
    /// `None` when the field is missing (a 400 of its own in CAPMC).
    pub xnames: Option<Vec<String>>,
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub recursive: bool,
    #[serde(default)]
    pub prereq: bool,
    #[serde(default, rename = "continue")]
    pub continue_: bool,
}

/// `get_xname_status` body.
#[derive(Debug, Deserialize)]
pub struct XnameStatusRequest {
    #[serde(default)]
    pub filter: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub xnames: Vec<String>,
}

/// One xname's error in a control answer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct XnameError {
    pub xname: String,
    pub e: i32,
    pub err_msg: String,
}

/// The answer to `xname_on|off|reinit` (also the 400 for bad xnames, as CAPMC sends it).
#[derive(Debug, Serialize)]
pub struct ControlResponse {
    pub e: i32,
    pub err_msg: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub xnames: Vec<XnameError>,
}

/// The answer to `get_xname_status`: node lists by state, empty lists left out.
#[derive(Debug, Default, Serialize)]
pub struct StatusResponse {
    pub e: i32,
    pub err_msg: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub on: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub off: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub halt: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub standby: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ready: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub populated: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undefined: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub disabled: Vec<String>,
}

/// A CAPMC answer with its HTTP status (`e` is the HTTP status for request errors).
pub struct Answer {
    pub status: StatusCode,
    pub body: serde_json::Value,
}

impl Answer {
    pub fn ok(body: impl Serialize) -> Answer {
        Answer::with(StatusCode::OK, body)
    }

    pub fn with(status: StatusCode, body: impl Serialize) -> Answer {
        Answer {
            status,
            body: serde_json::to_value(body).expect("CAPMC answers serialise"),
        }
    }

    /// CAPMC's `sendJsonError`: `{"e": <HTTP status>, "err_msg": msg}`.
    pub fn error(status: StatusCode, msg: impl Into<String>) -> Answer {
        Answer::with(
            status,
            serde_json::json!({"e": status.as_u16(), "err_msg": msg.into()}),
        )
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body)).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    }
}

/// A parsed `filter`: which lists `get_xname_status` fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Filter {
    pub on: bool,
    pub off: bool,
    pub halt: bool,
    pub standby: bool,
    pub ready: bool,
    pub populated: bool,
    pub unknown: bool,
    pub undefined: bool,
    pub disabled: bool,
    /// Only flag filters (`show_alert`, `show_resvd`, `show_warn`, …) or `show_diag`: no
    /// state list is asked for.
    pub flags_only: bool,
    /// No filter given (or `show_all`).
    pub all: bool,
}

impl Filter {
    const ALL: Filter = Filter {
        on: true,
        off: true,
        halt: true,
        standby: true,
        ready: true,
        populated: true,
        unknown: true,
        undefined: true,
        disabled: true,
        flags_only: false,
        all: true,
    };

    /// CAPMC's grammar; `None` or empty is `show_all`.
    pub fn parse(raw: Option<&str>) -> Result<Filter, String> {
        let raw = raw.unwrap_or("");
        if raw.is_empty() {
            return Ok(Filter::ALL);
        }
        let mut f = Filter::default();
        let mut any_state = false;
        for token in raw.to_ascii_lowercase().split('|') {
            let token = token.trim();
            let state = match token {
                "show_all" => return Ok(Filter::ALL),
                "show_on" => &mut f.on,
                "show_off" => &mut f.off,
                "show_halt" => &mut f.halt,
                "show_standby" => &mut f.standby,
                "show_ready" => &mut f.ready,
                "show_populated" => &mut f.populated,
                "show_unknown" => &mut f.unknown,
                "show_undefined" => &mut f.undefined,
                "show_disabled" => &mut f.disabled,
                // Flags (rackboot keeps no HSM flags) and the deprecated diag state: valid,
                // and they never list anything.
                "show_alert" | "show_resvd" | "show_reserved" | "show_locked" | "show_warn"
                | "show_warning" | "show_diag" | "show_empty" => continue,
                other => return Err(format!("invalid filter string: {other}")),
            };
            *state = true;
            any_state = true;
        }
        f.flags_only = !any_state;
        Ok(f)
    }
}

/// Where `get_xname_status` reads state from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The BMC's PowerState (CAPMC's default): on, off, or undefined.
    Redfish,
    /// HSM's component state (Ready, Standby, On, Off, Halt, …).
    Hsm,
}

impl Source {
    pub fn parse(raw: Option<&str>) -> Result<Source, String> {
        match raw.map(str::to_ascii_lowercase).as_deref() {
            None | Some("") | Some("redfish") | Some("hardware") => Ok(Source::Redfish),
            Some("hsm" | "hms" | "sm" | "smd" | "software") => Ok(Source::Hsm),
            Some(_) => Err(format!(
                "unknown status source '{}'",
                raw.unwrap_or_default()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_follow_capmcs_grammar() {
        assert_eq!(Filter::parse(None), Ok(Filter::ALL));
        assert_eq!(Filter::parse(Some("show_all|show_off")), Ok(Filter::ALL));
        let f = Filter::parse(Some("Show_Ready | show_standby")).unwrap();
        assert!(f.ready && f.standby && !f.on && !f.off && !f.flags_only);
        assert!(Filter::parse(Some("show_alert")).unwrap().flags_only);
        assert_eq!(
            Filter::parse(Some("show_on|show_fake")),
            Err("invalid filter string: show_fake".into())
        );
        assert_eq!(
            Filter::parse(Some("show_on|")),
            Err("invalid filter string: ".into())
        );
    }

    #[test]
    fn sources_and_their_aliases() {
        for s in ["HSM", "hms", "sm", "SMD", "Software"] {
            assert_eq!(Source::parse(Some(s)), Ok(Source::Hsm), "{s}");
        }
        for s in ["redfish", "Hardware", ""] {
            assert_eq!(Source::parse(Some(s)), Ok(Source::Redfish), "{s}");
        }
        assert_eq!(Source::parse(None), Ok(Source::Redfish));
        assert_eq!(
            Source::parse(Some("vault")),
            Err("unknown status source 'vault'".into())
        );
    }
}
