//! BOS component rows, and the boot artifacts a referral token stands for (sessions and
//! templates are in `sessions`).

use serde::{Deserialize, Serialize};

use crate::model::boot_component::{
    ActualState, BootArtifacts, BootComponent, ComponentStatus, DesiredState, EventStats,
    LastAction, StagedState,
};
use crate::model::bos_state::{Action, Phase, override_text, parse_override};

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ArtifactsRecord {
    #[serde(default)]
    kernel: String,
    #[serde(default)]
    kernel_parameters: String,
    #[serde(default)]
    initrd: String,
}

impl From<&BootArtifacts> for ArtifactsRecord {
    fn from(a: &BootArtifacts) -> Self {
        ArtifactsRecord {
            kernel: a.kernel.clone(),
            kernel_parameters: a.kernel_parameters.clone(),
            initrd: a.initrd.clone(),
        }
    }
}

impl From<ArtifactsRecord> for BootArtifacts {
    fn from(r: ArtifactsRecord) -> Self {
        BootArtifacts {
            kernel: r.kernel,
            kernel_parameters: r.kernel_parameters,
            initrd: r.initrd,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ActualRecord {
    #[serde(default)]
    boot_artifacts: ArtifactsRecord,
    #[serde(default)]
    bss_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_updated: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct DesiredRecord {
    #[serde(default)]
    boot_artifacts: ArtifactsRecord,
    #[serde(default)]
    configuration: String,
    #[serde(default)]
    bss_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_updated: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StagedRecord {
    #[serde(default)]
    boot_artifacts: ArtifactsRecord,
    #[serde(default)]
    configuration: String,
    #[serde(default)]
    session: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_updated: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct LastActionRecord {
    #[serde(default, with = "super::empty_is_none")]
    action: Option<Action>,
    #[serde(default)]
    failed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_updated: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    unsent: bool,
}

impl LastActionRecord {
    fn is_unset(&self) -> bool {
        self.action.is_none() && !self.failed && self.last_updated.is_none()
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct EventStatsRecord {
    #[serde(default)]
    power_on_attempts: u32,
    #[serde(default)]
    power_off_graceful_attempts: u32,
    #[serde(default)]
    power_off_forceful_attempts: u32,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StatusRecord {
    #[serde(default)]
    phase: Phase,
    /// Derived on read; kept empty in rows (older rows may hold anything).
    #[serde(default)]
    status: String,
    #[serde(default)]
    status_override: String,
}

/// A BOS component row.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct BootComponentRecord {
    id: String,
    #[serde(default)]
    actual_state: ActualRecord,
    #[serde(default)]
    desired_state: DesiredRecord,
    #[serde(default)]
    staged_state: StagedRecord,
    #[serde(default, skip_serializing_if = "LastActionRecord::is_unset")]
    last_action: LastActionRecord,
    #[serde(default)]
    event_stats: EventStatsRecord,
    #[serde(default)]
    status: StatusRecord,
    #[serde(default)]
    enabled: bool,
    #[serde(default)]
    error: String,
    #[serde(default)]
    session: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_policy: Option<u32>,
}

impl BootComponentRecord {
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl From<&BootComponent> for BootComponentRecord {
    fn from(c: &BootComponent) -> Self {
        BootComponentRecord {
            id: c.id.clone(),
            actual_state: ActualRecord {
                boot_artifacts: (&c.actual_state.boot_artifacts).into(),
                bss_token: c.actual_state.bss_token.clone(),
                last_updated: c.actual_state.last_updated.clone(),
            },
            desired_state: DesiredRecord {
                boot_artifacts: (&c.desired_state.boot_artifacts).into(),
                configuration: c.desired_state.configuration.clone(),
                bss_token: c.desired_state.bss_token.clone(),
                last_updated: c.desired_state.last_updated.clone(),
            },
            staged_state: StagedRecord {
                boot_artifacts: (&c.staged_state.boot_artifacts).into(),
                configuration: c.staged_state.configuration.clone(),
                session: c.staged_state.session.clone(),
                last_updated: c.staged_state.last_updated.clone(),
            },
            last_action: LastActionRecord {
                action: c.last_action.action,
                failed: c.last_action.failed,
                last_updated: c.last_action.last_updated.clone(),
                unsent: c.last_action.unsent,
            },
            event_stats: EventStatsRecord {
                power_on_attempts: c.event_stats.power_on_attempts,
                power_off_graceful_attempts: c.event_stats.power_off_graceful_attempts,
                power_off_forceful_attempts: c.event_stats.power_off_forceful_attempts,
            },
            status: StatusRecord {
                phase: c.status.phase,
                status: String::new(),
                status_override: override_text(&c.status.status_override).to_string(),
            },
            enabled: c.enabled,
            error: c.error.clone(),
            session: c.session.clone(),
            retry_policy: c.retry_policy,
        }
    }
}

impl From<BootComponentRecord> for BootComponent {
    fn from(r: BootComponentRecord) -> Self {
        BootComponent {
            id: r.id,
            actual_state: ActualState {
                boot_artifacts: r.actual_state.boot_artifacts.into(),
                bss_token: r.actual_state.bss_token,
                last_updated: r.actual_state.last_updated,
            },
            desired_state: DesiredState {
                boot_artifacts: r.desired_state.boot_artifacts.into(),
                configuration: r.desired_state.configuration,
                bss_token: r.desired_state.bss_token,
                last_updated: r.desired_state.last_updated,
            },
            staged_state: StagedState {
                boot_artifacts: r.staged_state.boot_artifacts.into(),
                configuration: r.staged_state.configuration,
                session: r.staged_state.session,
                last_updated: r.staged_state.last_updated,
            },
            last_action: LastAction {
                action: r.last_action.action,
                failed: r.last_action.failed,
                last_updated: r.last_action.last_updated,
                unsent: r.last_action.unsent,
            },
            event_stats: EventStats {
                power_on_attempts: r.event_stats.power_on_attempts,
                power_off_graceful_attempts: r.event_stats.power_off_graceful_attempts,
                power_off_forceful_attempts: r.event_stats.power_off_forceful_attempts,
            },
            status: ComponentStatus {
                phase: r.status.phase,
                status_override: parse_override(&r.status.status_override),
            },
            enabled: r.enabled,
            error: r.error,
            session: r.session,
            retry_policy: r.retry_policy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows as earlier versions wrote them read back, and unknown fields do not stop them.
    #[test]
    fn old_and_newer_rows_decode() {
        let row = r#"{"id":"x1","actual_state":{"boot_artifacts":{"kernel":"","kernel_parameters":"","initrd":""},"bss_token":""},
            "desired_state":{"boot_artifacts":{"kernel":"k","kernel_parameters":"p","initrd":"i"},"configuration":"c","bss_token":"t","last_updated":"2025-01-01T00:00:00"},
            "staged_state":{"boot_artifacts":{"kernel":"","kernel_parameters":"","initrd":""},"configuration":"","session":""},
            "last_action":{"action":"powering_on","failed":false,"last_updated":"2025-01-01T00:00:01"},
            "event_stats":{"power_on_attempts":1,"power_off_graceful_attempts":0,"power_off_forceful_attempts":0},
            "status":{"phase":"powering_on","status":"","status_override":""},"enabled":true,"error":"","session":"s",
            "added_by_a_newer_version":1}"#;
        let c: BootComponent = serde_json::from_str::<BootComponentRecord>(row)
            .unwrap()
            .into();
        assert_eq!(c.status.phase, Phase::PoweringOn);
        assert!(c.last_action.is(Action::PoweringOn));
        assert_eq!(c.desired_state.boot_artifacts.kernel, "k");
        let back = serde_json::to_value(BootComponentRecord::from(&c)).unwrap();
        assert_eq!(back["status"]["phase"], "powering_on");
        assert_eq!(back["last_action"]["action"], "powering_on");
        assert!(back.get("added_by_a_newer_version").is_none());
        let fresh = BootComponent {
            id: "x2".into(),
            ..Default::default()
        };
        let v = serde_json::to_value(BootComponentRecord::from(&fresh)).unwrap();
        assert!(
            v.get("last_action").is_none(),
            "an unset last action is left out"
        );
    }
}
