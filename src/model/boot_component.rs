//! BOS v2 components: each node's actual, desired and staged boot state, its last action,
//! retry counters and phase (reference bos.md §3.4, §4.4).
//!
//! A component is what the BOS operators reconcile: a session writes `desired_state`,
//! the node's boot (reported or inferred) fills `actual_state`, and the status operator
//! moves `status.phase` until the two match. The derived `status.status` is computed on
//! every read from the phase, the override and the last action, never trusted from storage.
//! The JSON shape is the upstream wire shape, so stored records and API bodies are the
//! same document; `merge` is BOS's PATCH rule and `auto_fields` its "auto fields" step.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootArtifacts {
    #[serde(default)]
    pub kernel: String,
    #[serde(default)]
    pub kernel_parameters: String,
    #[serde(default)]
    pub initrd: String,
}

impl BootArtifacts {
    pub fn is_empty(&self) -> bool {
        self.kernel.is_empty() && self.kernel_parameters.is_empty() && self.initrd.is_empty()
    }

    /// BOS's comparison: kernel and initrd equal, parameters equal (empty counts as none).
    pub fn matches(&self, other: &BootArtifacts) -> bool {
        self.kernel == other.kernel
            && self.initrd == other.initrd
            && self.kernel_parameters.trim() == other.kernel_parameters.trim()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActualState {
    #[serde(default)]
    pub boot_artifacts: BootArtifacts,
    #[serde(default)]
    pub bss_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesiredState {
    #[serde(default)]
    pub boot_artifacts: BootArtifacts,
    #[serde(default)]
    pub configuration: String,
    #[serde(default)]
    pub bss_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StagedState {
    #[serde(default)]
    pub boot_artifacts: BootArtifacts,
    #[serde(default)]
    pub configuration: String,
    #[serde(default)]
    pub session: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
}

pub const ACTIONS: &[&str] = &[
    "actual_state_cleanup",
    "apply_staged",
    "newly_discovered",
    "powering_off_forcefully",
    "powering_off_gracefully",
    "powering_on",
    "session_setup",
];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LastAction {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub failed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
}

impl LastAction {
    pub fn is_unset(&self) -> bool {
        self.action.is_empty() && !self.failed && self.last_updated.is_none()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventStats {
    #[serde(default)]
    pub power_on_attempts: u32,
    #[serde(default)]
    pub power_off_graceful_attempts: u32,
    #[serde(default)]
    pub power_off_forceful_attempts: u32,
}

pub const PHASES: &[&str] = &["configuring", "powering_off", "powering_on", ""];
pub const STATUSES: &[&str] = &[
    "power_on_pending",
    "power_on_called",
    "power_off_pending",
    "power_off_gracefully_called",
    "power_off_forcefully_called",
    "configuring",
    "stable",
    "failed",
    "on_hold",
];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentStatus {
    #[serde(default)]
    pub phase: String,
    /// Derived on read (see [`BootComponent::derived_status`]); what a client sends is ignored.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub status_override: String,
}

/// One BOS component (a node).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootComponent {
    pub id: String,
    #[serde(default)]
    pub actual_state: ActualState,
    #[serde(default)]
    pub desired_state: DesiredState,
    #[serde(default)]
    pub staged_state: StagedState,
    /// Absent until something acts (an empty action is not in the contract's enum).
    #[serde(default, skip_serializing_if = "LastAction::is_unset")]
    pub last_action: LastAction,
    #[serde(default)]
    pub event_stats: EventStats,
    #[serde(default)]
    pub status: ComponentStatus,
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub session: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<u32>,
}

/// BOS timestamps: naive ISO-8601, seconds precision, no zone (UTC here).
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Parse a BOS timestamp (naive or with a zone; a zone is dropped, naive means UTC).
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let s = s.trim_end_matches('Z');
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
    .map(|n| n.and_utc())
}

impl BootComponent {
    /// A component as discovery creates it: disabled, empty states.
    pub fn discovered(id: &str, now: DateTime<Utc>) -> BootComponent {
        BootComponent {
            id: id.to_string(),
            last_action: LastAction {
                action: "newly_discovered".into(),
                failed: false,
                last_updated: Some(timestamp(now)),
            },
            ..Default::default()
        }
    }

    /// `status.status` as BOS derives it (bos.md §3.4).
    pub fn derived_status(&self) -> &'static str {
        if !self.status.status_override.is_empty() {
            return STATUSES
                .iter()
                .find(|s| **s == self.status.status_override)
                .copied()
                .unwrap_or("on_hold");
        }
        match self.status.phase.as_str() {
            "powering_on" => {
                if self.last_action.action == "powering_on" && !self.last_action.failed {
                    "power_on_called"
                } else {
                    "power_on_pending"
                }
            }
            "powering_off" => match self.last_action.action.as_str() {
                "powering_off_gracefully" => "power_off_gracefully_called",
                "powering_off_forcefully" => "power_off_forcefully_called",
                _ => "power_off_pending",
            },
            "configuring" => "configuring",
            _ => "stable",
        }
    }

    /// The record as the API shows it: derived status filled in.
    pub fn with_derived_status(mut self) -> BootComponent {
        self.status.status = self.derived_status().to_string();
        self
    }

    pub fn desired_off(&self) -> bool {
        self.desired_state.boot_artifacts.kernel.is_empty()
    }

    pub fn last_action_time(&self) -> Option<DateTime<Utc>> {
        self.last_action
            .last_updated
            .as_deref()
            .and_then(parse_timestamp)
    }

    /// Record an action now.
    pub fn act(&mut self, action: &str, now: DateTime<Utc>) {
        self.last_action = LastAction {
            action: action.to_string(),
            failed: false,
            last_updated: Some(timestamp(now)),
        };
    }

    pub fn retry_limit(&self, default: u32) -> u32 {
        self.retry_policy.unwrap_or(default)
    }
}

/// Why a component document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ComponentDocError(pub String);

/// Check the limits of the schema that serde does not (lengths, enums).
pub fn check(c: &BootComponent) -> Result<(), ComponentDocError> {
    let err = |m: String| Err(ComponentDocError(m));
    if c.id.is_empty() || c.id.chars().count() > 127 {
        return err("id must be 1-127 characters".into());
    }
    if !PHASES.contains(&c.status.phase.as_str()) {
        return err(format!(
            "status.phase '{}' is not one of configuring, powering_off, powering_on or empty",
            c.status.phase
        ));
    }
    if !c.last_action.action.is_empty() && !ACTIONS.contains(&c.last_action.action.as_str()) {
        return err(format!(
            "last_action.action '{}' is not one of {}",
            c.last_action.action,
            ACTIONS.join(", ")
        ));
    }
    if c.error.chars().count() > 65536 || c.status.status_override.chars().count() > 65536 {
        return err("error and status_override are limited to 65536 characters".into());
    }
    if c.retry_policy.is_some_and(|r| r > 1_048_576) {
        return err("retry_policy must be between 0 and 1048576".into());
    }
    Ok(())
}

/// BOS's "auto fields" (bos.md §4.4), applied to a PUT/PATCH payload before it is merged.
/// `token_artifacts` resolves a BSS referral token to the artifacts it was minted for.
pub fn auto_fields(
    payload: &mut serde_json::Map<String, Value>,
    now: DateTime<Utc>,
    token_artifacts: impl Fn(&str) -> Option<BootArtifacts>,
) {
    let ts = Value::String(timestamp(now));
    if let Some(Value::Object(actual)) = payload.get_mut("actual_state") {
        if let Some(tok) = actual.get("bss_token").and_then(Value::as_str)
            && !tok.is_empty()
        {
            match token_artifacts(tok) {
                Some(a) => {
                    actual.insert(
                        "boot_artifacts".into(),
                        serde_json::to_value(a).expect("artifacts serialise"),
                    );
                }
                None => tracing::warn!(token = tok, "unknown BSS referral token reported"),
            }
        }
        actual.insert("last_updated".into(), ts.clone());
    }
    if let Some(Value::Object(desired)) = payload.get_mut("desired_state")
        && !(desired.len() == 1 && desired.contains_key("bss_token"))
    {
        desired.insert("last_updated".into(), ts.clone());
    }
    for key in ["staged_state", "last_action"] {
        if let Some(Value::Object(o)) = payload.get_mut(key) {
            o.insert("last_updated".into(), ts.clone());
        }
    }
    if payload.get("enabled") == Some(&Value::Bool(true)) {
        let status = payload
            .entry("status")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(s) = status {
            s.insert("status_override".into(), "on_hold".into());
        }
    }
    let desired = payload.get("desired_state");
    let desired_nonempty = desired.is_some_and(|d| d.as_object().is_some_and(|o| !o.is_empty()));
    let session_empty = payload
        .get("session")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty);
    let resets_stats = desired
        .is_some_and(|d| d.get("boot_artifacts").is_some() || d.get("configuration").is_some());
    if desired_nonempty && session_empty {
        payload.insert("session".into(), "".into());
    }
    if resets_stats {
        payload.insert(
            "event_stats".into(),
            serde_json::json!({"power_on_attempts":0,"power_off_graceful_attempts":0,"power_off_forceful_attempts":0}),
        );
    }
}

/// BOS's component merge: the three states and their `boot_artifacts`, `last_action`,
/// `event_stats` and `status` are dict-merged; everything else is replaced; `id` is kept.
pub fn merge(base: &mut serde_json::Map<String, Value>, patch: serde_json::Map<String, Value>) {
    for (k, v) in patch {
        if k == "id" {
            continue;
        }
        let deep = matches!(
            k.as_str(),
            "actual_state"
                | "desired_state"
                | "staged_state"
                | "last_action"
                | "event_stats"
                | "status"
        );
        match (deep, base.get_mut(&k), v) {
            (true, Some(Value::Object(b)), Value::Object(p)) => {
                for (pk, pv) in p {
                    match (pk.as_str(), b.get_mut(&pk), pv) {
                        ("boot_artifacts", Some(Value::Object(bb)), Value::Object(pp)) => {
                            bb.extend(pp);
                        }
                        (_, _, pv) => {
                            b.insert(pk, pv);
                        }
                    }
                }
            }
            (_, _, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn derived_status_follows_bos() {
        let mut c = BootComponent::discovered("x1", Utc::now());
        assert_eq!(c.derived_status(), "stable");
        c.status.phase = "powering_on".into();
        assert_eq!(c.derived_status(), "power_on_pending");
        c.act("powering_on", Utc::now());
        assert_eq!(c.derived_status(), "power_on_called");
        c.last_action.failed = true;
        assert_eq!(c.derived_status(), "power_on_pending");
        c.status.phase = "powering_off".into();
        c.act("powering_off_gracefully", Utc::now());
        assert_eq!(c.derived_status(), "power_off_gracefully_called");
        c.act("powering_off_forcefully", Utc::now());
        assert_eq!(c.derived_status(), "power_off_forcefully_called");
        c.act("session_setup", Utc::now());
        assert_eq!(c.derived_status(), "power_off_pending");
        c.status.status_override = "failed".into();
        assert_eq!(c.derived_status(), "failed");
    }

    #[test]
    fn auto_fields_apply_in_order() {
        let now = Utc::now();
        let arts = BootArtifacts {
            kernel: "k".into(),
            kernel_parameters: "p".into(),
            initrd: "i".into(),
        };
        let mut p = obj(json!({"actual_state": {"bss_token": "t1"}, "enabled": true,
            "desired_state": {"configuration": "c"}}));
        auto_fields(&mut p, now, |t| (t == "t1").then(|| arts.clone()));
        assert_eq!(p["actual_state"]["boot_artifacts"]["kernel"], "k");
        assert!(p["actual_state"]["last_updated"].is_string());
        assert_eq!(p["status"]["status_override"], "on_hold");
        assert_eq!(p["session"], "");
        assert_eq!(p["event_stats"]["power_on_attempts"], 0);
        // A desired_state holding only the token gets no timestamp.
        let mut p = obj(json!({"desired_state": {"bss_token": "t"}, "session": "s"}));
        auto_fields(&mut p, now, |_| None);
        assert!(p["desired_state"].get("last_updated").is_none());
        assert_eq!(p["session"], "s");
        assert!(p.get("event_stats").is_none());
    }

    #[test]
    fn merge_is_deep_where_bos_is() {
        let mut base = obj(
            json!({"id": "x1", "desired_state": {"boot_artifacts": {"kernel": "k", "initrd": "i"}, "configuration": "c"}, "error": "e", "event_stats": {"power_on_attempts": 2}}),
        );
        merge(
            &mut base,
            obj(
                json!({"id": "other", "desired_state": {"boot_artifacts": {"kernel": "k2"}}, "error": "", "event_stats": {"power_off_graceful_attempts": 1}}),
            ),
        );
        assert_eq!(base["id"], "x1");
        assert_eq!(base["desired_state"]["boot_artifacts"]["kernel"], "k2");
        assert_eq!(base["desired_state"]["boot_artifacts"]["initrd"], "i");
        assert_eq!(base["desired_state"]["configuration"], "c");
        assert_eq!(base["error"], "");
        assert_eq!(base["event_stats"]["power_on_attempts"], 2);
        assert_eq!(base["event_stats"]["power_off_graceful_attempts"], 1);
    }

    #[test]
    fn timestamps_round_trip() {
        let t = parse_timestamp("2025-06-01T12:34:56").unwrap();
        assert_eq!(timestamp(t), "2025-06-01T12:34:56");
        assert!(parse_timestamp("2025-06-01T12:34:56+02:00").is_some());
        assert!(parse_timestamp("yesterday").is_none());
    }
}
