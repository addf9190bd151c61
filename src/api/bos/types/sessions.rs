//! Sessions: the session document, its creation and internal PATCH, the extended status.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::wire::{nullable, present};
use crate::model::session::{ExtendedStatus as DomStatus, SessionPatch, SessionStatePatch};
use crate::model::{Operation, SessionStatus};

#[derive(Debug, Serialize)]
pub struct SessionState {
    pub status: SessionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Session {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub operation: Operation,
    pub template_name: String,
    pub limit: String,
    pub stage: bool,
    pub components: String,
    pub include_disabled: bool,
    pub status: SessionState,
}

impl From<&crate::model::Session> for Session {
    fn from(s: &crate::model::Session) -> Self {
        Session {
            name: s.name.clone(),
            tenant: s.tenant.clone(),
            operation: s.operation,
            template_name: s.template_name.clone(),
            limit: s.limit.clone(),
            stage: s.stage,
            components: s.components.clone(),
            include_disabled: s.include_disabled,
            status: SessionState {
                status: s.status.status,
                start_time: s.status.start_time.clone(),
                end_time: s.status.end_time.clone(),
                error: s.status.error.clone(),
            },
        }
    }
}

/// `POST /v2/sessions` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionCreate {
    #[serde(default)]
    pub name: Option<String>,
    pub operation: String,
    pub template_name: String,
    #[serde(default)]
    pub limit: Option<String>,
    #[serde(default)]
    pub stage: bool,
    #[serde(default)]
    pub include_disabled: bool,
}

impl TryFrom<SessionCreate> for crate::model::NewSession {
    type Error = String;

    fn try_from(s: SessionCreate) -> Result<Self, String> {
        let operation = Operation::parse_any_case(&s.operation)
            .ok_or_else(|| Operation::refusal(&s.operation))?;
        Ok(crate::model::NewSession {
            name: s.name,
            operation,
            template_name: s.template_name,
            limit: s.limit,
            stage: s.stage,
            include_disabled: s.include_disabled,
            v1: None,
        })
    }
}

/// The `status` of the internal session PATCH (merged field by field; other keys are
/// ignored, as they always were).
#[derive(Debug, Default, Deserialize)]
#[serde(rename = "SessionState")]
pub struct SessionStateIn {
    #[serde(default, deserialize_with = "present")]
    pub status: Option<SessionStatus>,
    #[serde(default, deserialize_with = "nullable")]
    pub start_time: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub end_time: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub error: Option<Option<String>>,
}

/// Decode the internal session PATCH: `components` (a string) and `status` (merged).
pub fn session_patch(v: serde_json::Value) -> Result<SessionPatch, String> {
    let serde_json::Value::Object(o) = v else {
        return Err("the session patch must be a JSON object".into());
    };
    let mut p = SessionPatch::default();
    for (k, v) in o {
        match k.as_str() {
            "components" => {
                p.components = Some(
                    v.as_str()
                        .ok_or_else(|| "components must be a string".to_string())?
                        .to_string(),
                )
            }
            "status" => {
                let s: SessionStateIn = crate::api::wire::decode(v, "status")?;
                p.status = Some(SessionStatePatch {
                    status: s.status,
                    start_time: s.start_time,
                    end_time: s.end_time,
                    error: s.error,
                });
            }
            other => return Err(format!("'{other}' cannot be patched")),
        }
    }
    Ok(p)
}

#[derive(Debug, Serialize)]
pub struct Phases {
    pub percent_complete: f64,
    pub percent_powering_on: f64,
    pub percent_powering_off: f64,
    pub percent_configuring: f64,
}

#[derive(Debug, Serialize)]
pub struct ErrorEntry {
    pub count: u64,
    pub list: String,
}

#[derive(Debug, Serialize)]
pub struct Timing {
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub duration: String,
}

/// `GET /v2/sessions/{id}/status`.
#[derive(Debug, Serialize)]
pub struct ExtendedStatus {
    pub status: SessionStatus,
    pub managed_components_count: u64,
    pub phases: Phases,
    pub percent_successful: f64,
    pub percent_failed: f64,
    pub percent_staged: f64,
    pub error_summary: BTreeMap<String, ErrorEntry>,
    pub timing: Timing,
}

impl From<&DomStatus> for ExtendedStatus {
    fn from(s: &DomStatus) -> Self {
        ExtendedStatus {
            status: s.status,
            managed_components_count: s.managed_components_count,
            phases: Phases {
                percent_complete: s.phases.percent_complete,
                percent_powering_on: s.phases.percent_powering_on,
                percent_powering_off: s.phases.percent_powering_off,
                percent_configuring: s.phases.percent_configuring,
            },
            percent_successful: s.percent_successful,
            percent_failed: s.percent_failed,
            percent_staged: s.percent_staged,
            error_summary: s
                .error_summary
                .iter()
                .map(|(k, e)| {
                    (
                        k.clone(),
                        ErrorEntry {
                            count: e.count,
                            list: e.list.clone(),
                        },
                    )
                })
                .collect(),
            timing: Timing {
                start_time: s.timing.start_time.clone(),
                end_time: s.timing.end_time.clone(),
                duration: s.timing.duration.clone(),
            },
        }
    }
}
