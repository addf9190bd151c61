//! Components: the document BOS shows, and the one a PUT or PATCH sends.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::api::wire::{nullable, present};
use crate::model::boot_component as dom;
use crate::model::bos_state::{Action, Phase, Status, override_text, parse_override};
use crate::model::component_patch as patch;
use crate::model::template::valid_name;

// --- components: responses

#[derive(Debug, Clone, Serialize)]
pub struct BootArtifacts {
    pub kernel: String,
    pub kernel_parameters: String,
    pub initrd: String,
}

impl From<&dom::BootArtifacts> for BootArtifacts {
    fn from(a: &dom::BootArtifacts) -> Self {
        BootArtifacts {
            kernel: a.kernel.clone(),
            kernel_parameters: a.kernel_parameters.clone(),
            initrd: a.initrd.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ActualState {
    pub boot_artifacts: BootArtifacts,
    pub bss_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DesiredState {
    pub boot_artifacts: BootArtifacts,
    pub configuration: String,
    pub bss_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StagedState {
    pub boot_artifacts: BootArtifacts,
    pub configuration: String,
    pub session: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LastAction {
    /// Absent until something acts: the contract's enum has no empty action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<&'static str>,
    pub failed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventStats {
    pub power_on_attempts: u32,
    pub power_off_graceful_attempts: u32,
    pub power_off_forceful_attempts: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComponentStatus {
    pub phase: Phase,
    /// Derived on every read.
    pub status: Status,
    pub status_override: String,
}

/// A BOS component as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct BootComponent {
    pub id: String,
    pub actual_state: ActualState,
    pub desired_state: DesiredState,
    pub staged_state: StagedState,
    /// Absent until something acts (an empty action is not in the contract's enum).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_action: Option<LastAction>,
    pub event_stats: EventStats,
    pub status: ComponentStatus,
    pub enabled: bool,
    pub error: String,
    pub session: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<u32>,
}

impl From<&dom::BootComponent> for BootComponent {
    fn from(c: &dom::BootComponent) -> Self {
        BootComponent {
            id: c.id.clone(),
            actual_state: ActualState {
                boot_artifacts: (&c.actual_state.boot_artifacts).into(),
                bss_token: c.actual_state.bss_token.clone(),
                last_updated: c.actual_state.last_updated.clone(),
            },
            desired_state: DesiredState {
                boot_artifacts: (&c.desired_state.boot_artifacts).into(),
                configuration: c.desired_state.configuration.clone(),
                bss_token: c.desired_state.bss_token.clone(),
                last_updated: c.desired_state.last_updated.clone(),
            },
            staged_state: StagedState {
                boot_artifacts: (&c.staged_state.boot_artifacts).into(),
                configuration: c.staged_state.configuration.clone(),
                session: c.staged_state.session.clone(),
                last_updated: c.staged_state.last_updated.clone(),
            },
            last_action: (!c.last_action.is_unset()).then(|| LastAction {
                action: c.last_action.action.map(Action::as_str),
                failed: c.last_action.failed,
                last_updated: c.last_action.last_updated.clone(),
            }),
            event_stats: EventStats {
                power_on_attempts: c.event_stats.power_on_attempts,
                power_off_graceful_attempts: c.event_stats.power_off_graceful_attempts,
                power_off_forceful_attempts: c.event_stats.power_off_forceful_attempts,
            },
            status: ComponentStatus {
                phase: c.status.phase,
                status: c.derived_status(),
                status_override: override_text(&c.status.status_override).to_string(),
            },
            enabled: c.enabled,
            error: c.error.clone(),
            session: c.session.clone(),
            retry_policy: c.retry_policy,
        }
    }
}

// --- components: requests (PUT bodies and PATCHes share one shape; absent is "keep")

/// `boot_artifacts` in a request.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename = "BootArtifacts")]
pub struct BootArtifactsIn {
    #[serde(default, deserialize_with = "present")]
    pub kernel: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub kernel_parameters: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub initrd: Option<String>,
}

impl From<BootArtifactsIn> for patch::ArtifactsPatch {
    fn from(a: BootArtifactsIn) -> Self {
        patch::ArtifactsPatch {
            kernel: a.kernel,
            kernel_parameters: a.kernel_parameters,
            initrd: a.initrd,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename = "ActualState")]
pub struct ActualStateIn {
    #[serde(default, deserialize_with = "present")]
    pub boot_artifacts: Option<BootArtifactsIn>,
    #[serde(default, deserialize_with = "present")]
    pub bss_token: Option<String>,
    /// Set by the server on every write; whatever a client sends is replaced.
    #[serde(default)]
    pub last_updated: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename = "DesiredState")]
pub struct DesiredStateIn {
    #[serde(default, deserialize_with = "present")]
    pub boot_artifacts: Option<BootArtifactsIn>,
    #[serde(default, deserialize_with = "present")]
    pub configuration: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub bss_token: Option<String>,
    #[serde(default)]
    pub last_updated: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename = "StagedState")]
pub struct StagedStateIn {
    #[serde(default, deserialize_with = "present")]
    pub boot_artifacts: Option<BootArtifactsIn>,
    #[serde(default, deserialize_with = "present")]
    pub configuration: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub session: Option<String>,
    #[serde(default)]
    pub last_updated: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename = "LastAction")]
pub struct LastActionIn {
    #[serde(default, deserialize_with = "present")]
    pub action: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub failed: Option<bool>,
    #[serde(default)]
    pub last_updated: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename = "EventStats")]
pub struct EventStatsIn {
    #[serde(default, deserialize_with = "present")]
    pub power_on_attempts: Option<u32>,
    #[serde(default, deserialize_with = "present")]
    pub power_off_graceful_attempts: Option<u32>,
    #[serde(default, deserialize_with = "present")]
    pub power_off_forceful_attempts: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename = "ComponentStatus")]
pub struct ComponentStatusIn {
    #[serde(default, deserialize_with = "present")]
    pub phase: Option<Phase>,
    /// Derived on read: what a client sends is ignored.
    #[serde(default)]
    pub status: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    pub status_override: Option<String>,
}

/// A component document in a PUT or PATCH.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename = "BootComponent")]
pub struct BootComponentIn {
    #[serde(default, deserialize_with = "present")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub actual_state: Option<ActualStateIn>,
    #[serde(default, deserialize_with = "present")]
    pub desired_state: Option<DesiredStateIn>,
    #[serde(default, deserialize_with = "present")]
    pub staged_state: Option<StagedStateIn>,
    #[serde(default, deserialize_with = "present")]
    pub last_action: Option<LastActionIn>,
    #[serde(default, deserialize_with = "present")]
    pub event_stats: Option<EventStatsIn>,
    #[serde(default, deserialize_with = "present")]
    pub status: Option<ComponentStatusIn>,
    #[serde(default, deserialize_with = "present")]
    pub enabled: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub error: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub session: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub retry_policy: Option<Option<u32>>,
}

impl TryFrom<BootComponentIn> for patch::ComponentPatch {
    type Error = String;

    fn try_from(c: BootComponentIn) -> Result<Self, String> {
        check_limits(&c)?;
        let last_action = match c.last_action {
            None => None,
            Some(l) => Some(patch::LastActionPatch {
                action: match l.action.as_deref() {
                    None => None,
                    Some("") => Some(None),
                    Some(a) => Some(Some(a.parse::<Action>()?)),
                },
                failed: l.failed,
            }),
        };
        let staged_session = c.staged_state.as_ref().and_then(|s| s.session.as_deref());
        for (field, name) in [
            ("session", c.session.as_deref()),
            ("staged_state.session", staged_session),
        ] {
            if let Some(n) = name
                && !n.is_empty()
                && !valid_name(n)
            {
                return Err(format!(
                    "{field} '{n}' is not a session name (letters, digits, '.', '-' and '_', beginning and ending with a letter or digit, at most 127) or empty"
                ));
            }
        }
        Ok(patch::ComponentPatch {
            id: c.id,
            actual_state: c.actual_state.map(|a| patch::ActualStatePatch {
                boot_artifacts: a.boot_artifacts.map(Into::into),
                bss_token: a.bss_token,
            }),
            desired_state: c.desired_state.map(|d| patch::DesiredStatePatch {
                boot_artifacts: d.boot_artifacts.map(Into::into),
                configuration: d.configuration,
                bss_token: d.bss_token,
            }),
            staged_state: c.staged_state.map(|s| patch::StagedStatePatch {
                boot_artifacts: s.boot_artifacts.map(Into::into),
                configuration: s.configuration,
                session: s.session,
            }),
            last_action,
            event_stats: c.event_stats.map(|e| patch::EventStatsPatch {
                power_on_attempts: e.power_on_attempts,
                power_off_graceful_attempts: e.power_off_graceful_attempts,
                power_off_forceful_attempts: e.power_off_forceful_attempts,
            }),
            status: c.status.map(|s| patch::StatusPatch {
                phase: s.phase,
                status_override: s.status_override.as_deref().map(parse_override),
            }),
            enabled: c.enabled,
            error: c.error,
            session: c.session,
            retry_policy: c.retry_policy,
        })
    }
}

/// The contract's bounds on a component document (V2Component: at least one field, string
/// lengths, counters at most 1048576), which BOS's request validation enforces.
fn check_limits(c: &BootComponentIn) -> Result<(), String> {
    fn len(field: &str, v: Option<&String>, max: usize) -> Result<(), String> {
        match v {
            Some(v) if v.chars().count() > max => {
                Err(format!("{field} is longer than {max} characters"))
            }
            _ => Ok(()),
        }
    }
    fn count(field: &str, v: Option<u32>) -> Result<(), String> {
        match v {
            Some(n) if n > 1_048_576 => Err(format!("{field} {n} is more than 1048576")),
            _ => Ok(()),
        }
    }
    fn artifacts(state: &str, a: Option<&BootArtifactsIn>) -> Result<(), String> {
        let Some(a) = a else { return Ok(()) };
        len(
            &format!("{state}.boot_artifacts.kernel"),
            a.kernel.as_ref(),
            4095,
        )?;
        len(
            &format!("{state}.boot_artifacts.initrd"),
            a.initrd.as_ref(),
            4095,
        )?;
        len(
            &format!("{state}.boot_artifacts.kernel_parameters"),
            a.kernel_parameters.as_ref(),
            4096,
        )
    }
    let empty = c.id.is_none()
        && c.actual_state.is_none()
        && c.desired_state.is_none()
        && c.staged_state.is_none()
        && c.last_action.is_none()
        && c.event_stats.is_none()
        && c.status.is_none()
        && c.enabled.is_none()
        && c.error.is_none()
        && c.session.is_none()
        && c.retry_policy.is_none();
    if empty {
        return Err("the component names no field (at least one is required)".into());
    }
    if let Some(id) = &c.id
        && (id.is_empty() || id.chars().count() > 127)
    {
        return Err(format!(
            "id '{id}' is not a component id (1 to 127 characters)"
        ));
    }
    if let Some(a) = &c.actual_state {
        artifacts("actual_state", a.boot_artifacts.as_ref())?;
        len("actual_state.bss_token", a.bss_token.as_ref(), 65535)?;
    }
    if let Some(d) = &c.desired_state {
        artifacts("desired_state", d.boot_artifacts.as_ref())?;
        len("desired_state.configuration", d.configuration.as_ref(), 127)?;
        len("desired_state.bss_token", d.bss_token.as_ref(), 65535)?;
    }
    if let Some(st) = &c.staged_state {
        artifacts("staged_state", st.boot_artifacts.as_ref())?;
        len("staged_state.configuration", st.configuration.as_ref(), 127)?;
    }
    if let Some(e) = &c.event_stats {
        count("event_stats.power_on_attempts", e.power_on_attempts)?;
        count(
            "event_stats.power_off_graceful_attempts",
            e.power_off_graceful_attempts,
        )?;
        count(
            "event_stats.power_off_forceful_attempts",
            e.power_off_forceful_attempts,
        )?;
    }
    if let Some(st) = &c.status {
        len("status.status_override", st.status_override.as_ref(), 65536)?;
    }
    len("error", c.error.as_ref(), 65536)?;
    count("retry_policy", c.retry_policy.flatten())
}

/// Decode one component document; `what` prefixes the message (`component patch: …`).
pub fn component_in(v: serde_json::Value, what: &str) -> Result<patch::ComponentPatch, String> {
    let doc: BootComponentIn = crate::api::wire::decode(v, what)?;
    patch::ComponentPatch::try_from(doc).map_err(|e| format!("{what}: {e}"))
}

/// `POST /v2/applystaged` body (no `xnames` is none, as BOS reads it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyStagedBody {
    #[serde(default)]
    pub xnames: Vec<String>,
}

impl ApplyStagedBody {
    /// The contract's bounds on each id (V2ComponentId: 1 to 127 characters).
    pub fn check(&self) -> Result<(), String> {
        match self
            .xnames
            .iter()
            .find(|x| x.is_empty() || x.chars().count() > 127)
        {
            Some(x) => Err(format!(
                "xnames: '{x}' is not a component id (1 to 127 characters)"
            )),
            None => Ok(()),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ApplyStagedResult {
    pub succeeded: Vec<String>,
    pub failed: Vec<String>,
    pub ignored: Vec<String>,
}
