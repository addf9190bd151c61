//! BOS rows: components, sessions, their saved extended status, session templates and the
//! boot artifacts a referral token stands for.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::boot_component::{
    ActualState, BootArtifacts, BootComponent, ComponentStatus, DesiredState, EventStats,
    LastAction, StagedState,
};
use crate::model::bos_state::{Action, Phase, override_text, parse_override};
use crate::model::session::{ErrorEntry, ExtendedStatus, Phases, SessionState, Timing};
use crate::model::template::{BootSet, Cfs, SessionTemplate};
use crate::model::{Operation, Session, SessionStatus};

fn yes() -> bool {
    true
}

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

#[derive(Debug, Serialize, Deserialize)]
struct SessionStateRecord {
    status: SessionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start_time: Option<String>,
    #[serde(default)]
    end_time: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// A BOS session row.
#[derive(Debug, Serialize, Deserialize)]
pub struct SessionRecord {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tenant: Option<String>,
    operation: Operation,
    template_name: String,
    #[serde(default)]
    limit: String,
    #[serde(default)]
    stage: bool,
    #[serde(default)]
    components: String,
    #[serde(default)]
    include_disabled: bool,
    status: SessionStateRecord,
}

impl From<&Session> for SessionRecord {
    fn from(s: &Session) -> Self {
        SessionRecord {
            name: s.name.clone(),
            tenant: s.tenant.clone(),
            operation: s.operation,
            template_name: s.template_name.clone(),
            limit: s.limit.clone(),
            stage: s.stage,
            components: s.components.clone(),
            include_disabled: s.include_disabled,
            status: SessionStateRecord {
                status: s.status.status,
                start_time: s.status.start_time.clone(),
                end_time: s.status.end_time.clone(),
                error: s.status.error.clone(),
            },
        }
    }
}

impl From<SessionRecord> for Session {
    fn from(r: SessionRecord) -> Self {
        Session {
            name: r.name,
            tenant: r.tenant,
            operation: r.operation,
            template_name: r.template_name,
            limit: r.limit,
            stage: r.stage,
            components: r.components,
            include_disabled: r.include_disabled,
            status: SessionState {
                status: r.status.status,
                start_time: r.status.start_time,
                end_time: r.status.end_time,
                error: r.status.error,
            },
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct PhasesRecord {
    #[serde(default)]
    percent_complete: f64,
    #[serde(default)]
    percent_powering_on: f64,
    #[serde(default)]
    percent_powering_off: f64,
    #[serde(default)]
    percent_configuring: f64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ErrorEntryRecord {
    #[serde(default)]
    count: u64,
    #[serde(default)]
    list: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TimingRecord {
    #[serde(default)]
    start_time: Option<String>,
    #[serde(default)]
    end_time: Option<String>,
    #[serde(default)]
    duration: String,
}

/// The extended status saved when a session completes.
#[derive(Debug, Serialize, Deserialize)]
pub struct ExtendedStatusRecord {
    status: SessionStatus,
    #[serde(default)]
    managed_components_count: u64,
    #[serde(default)]
    phases: PhasesRecord,
    #[serde(default)]
    percent_successful: f64,
    #[serde(default)]
    percent_failed: f64,
    #[serde(default)]
    percent_staged: f64,
    #[serde(default)]
    error_summary: BTreeMap<String, ErrorEntryRecord>,
    #[serde(default)]
    timing: TimingRecord,
}

impl From<&ExtendedStatus> for ExtendedStatusRecord {
    fn from(s: &ExtendedStatus) -> Self {
        ExtendedStatusRecord {
            status: s.status,
            managed_components_count: s.managed_components_count,
            phases: PhasesRecord {
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
                        ErrorEntryRecord {
                            count: e.count,
                            list: e.list.clone(),
                        },
                    )
                })
                .collect(),
            timing: TimingRecord {
                start_time: s.timing.start_time.clone(),
                end_time: s.timing.end_time.clone(),
                duration: s.timing.duration.clone(),
            },
        }
    }
}

impl From<ExtendedStatusRecord> for ExtendedStatus {
    fn from(r: ExtendedStatusRecord) -> Self {
        ExtendedStatus {
            status: r.status,
            managed_components_count: r.managed_components_count,
            phases: Phases {
                percent_complete: r.phases.percent_complete,
                percent_powering_on: r.phases.percent_powering_on,
                percent_powering_off: r.phases.percent_powering_off,
                percent_configuring: r.phases.percent_configuring,
            },
            percent_successful: r.percent_successful,
            percent_failed: r.percent_failed,
            percent_staged: r.percent_staged,
            error_summary: r
                .error_summary
                .into_iter()
                .map(|(k, e)| {
                    (
                        k,
                        ErrorEntry {
                            count: e.count,
                            list: e.list,
                        },
                    )
                })
                .collect(),
            timing: Timing {
                start_time: r.timing.start_time,
                end_time: r.timing.end_time,
                duration: r.timing.duration,
            },
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CfsRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    configuration: Option<String>,
}

impl From<&Cfs> for CfsRecord {
    fn from(c: &Cfs) -> Self {
        CfsRecord {
            configuration: c.configuration.clone(),
        }
    }
}

impl From<CfsRecord> for Cfs {
    fn from(r: CfsRecord) -> Self {
        Cfs {
            configuration: r.configuration,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct BootSetRecord {
    #[serde(default)]
    path: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kernel_parameters: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    node_list: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    node_groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    node_roles_groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rootfs_provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rootfs_provider_passthrough: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cfs: Option<CfsRecord>,
}

/// A session-template row.
#[derive(Debug, Serialize, Deserialize)]
pub struct SessionTemplateRecord {
    #[serde(default)]
    name: String,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default = "yes")]
    enable_cfs: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cfs: Option<CfsRecord>,
    #[serde(default)]
    boot_sets: BTreeMap<String, BootSetRecord>,
}

impl From<&SessionTemplate> for SessionTemplateRecord {
    fn from(t: &SessionTemplate) -> Self {
        SessionTemplateRecord {
            name: t.name.clone(),
            tenant: t.tenant.clone(),
            description: t.description.clone(),
            enable_cfs: t.enable_cfs,
            cfs: t.cfs.as_ref().map(Into::into),
            boot_sets: t
                .boot_sets
                .iter()
                .map(|(k, b)| {
                    (
                        k.clone(),
                        BootSetRecord {
                            path: b.path.clone(),
                            kind: b.kind.clone(),
                            etag: b.etag.clone(),
                            kernel_parameters: b.kernel_parameters.clone(),
                            node_list: b.node_list.clone(),
                            node_groups: b.node_groups.clone(),
                            node_roles_groups: b.node_roles_groups.clone(),
                            arch: b.arch.clone(),
                            rootfs_provider: b.rootfs_provider.clone(),
                            rootfs_provider_passthrough: b.rootfs_provider_passthrough.clone(),
                            cfs: b.cfs.as_ref().map(Into::into),
                        },
                    )
                })
                .collect(),
        }
    }
}

impl From<SessionTemplateRecord> for SessionTemplate {
    fn from(r: SessionTemplateRecord) -> Self {
        SessionTemplate {
            name: r.name,
            tenant: r.tenant,
            description: r.description,
            enable_cfs: r.enable_cfs,
            cfs: r.cfs.map(Into::into),
            boot_sets: r
                .boot_sets
                .into_iter()
                .map(|(k, b)| {
                    (
                        k,
                        BootSet {
                            name: None,
                            path: b.path,
                            kind: b.kind,
                            etag: b.etag,
                            kernel_parameters: b.kernel_parameters,
                            node_list: b.node_list,
                            node_groups: b.node_groups,
                            node_roles_groups: b.node_roles_groups,
                            arch: b.arch,
                            rootfs_provider: b.rootfs_provider,
                            rootfs_provider_passthrough: b.rootfs_provider_passthrough,
                            cfs: b.cfs.map(Into::into),
                        },
                    )
                })
                .collect(),
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
