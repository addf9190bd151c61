//! BOS session rows with their saved extended status, and session-template rows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::bos_v1::{Ordinals, StageTimes, V1BootSet, V1Operation, V1Phase, V1Run};
use crate::model::session::{ErrorEntry, ExtendedStatus, Phases, SessionState, Timing};
use crate::model::template::{BootSet, Cfs, SessionTemplate};
use crate::model::{Operation, Session, SessionStatus};

fn yes() -> bool {
    true
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
    /// A BOS v1 session's plan; absent for v2 sessions (and rows written before v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    v1: Option<V1RunRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
struct V1BootSetRecord {
    stage: usize,
    phases: Vec<V1Phase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nodes: Option<Vec<String>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StageTimesRecord {
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct V1RunRecord {
    operation: V1Operation,
    boot_sets: BTreeMap<String, V1BootSetRecord>,
    stages: Vec<StageTimesRecord>,
    #[serde(default)]
    stage: usize,
}

impl From<&V1Run> for V1RunRecord {
    fn from(r: &V1Run) -> Self {
        V1RunRecord {
            operation: r.operation,
            boot_sets: r
                .boot_sets
                .iter()
                .map(|(k, b)| {
                    (
                        k.clone(),
                        V1BootSetRecord {
                            stage: b.stage,
                            phases: b.phases.clone(),
                            nodes: b.nodes.clone(),
                        },
                    )
                })
                .collect(),
            stages: r
                .stages
                .iter()
                .map(|t| StageTimesRecord {
                    start: t.start.clone(),
                    end: t.end.clone(),
                })
                .collect(),
            stage: r.stage,
        }
    }
}

impl From<V1RunRecord> for V1Run {
    fn from(r: V1RunRecord) -> Self {
        V1Run {
            operation: r.operation,
            boot_sets: r
                .boot_sets
                .into_iter()
                .map(|(k, b)| {
                    (
                        k,
                        V1BootSet {
                            stage: b.stage,
                            phases: b.phases,
                            nodes: b.nodes,
                        },
                    )
                })
                .collect(),
            stages: r
                .stages
                .into_iter()
                .map(|t| StageTimes {
                    start: t.start,
                    end: t.end,
                })
                .collect(),
            stage: r.stage,
        }
    }
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
            v1: s.v1.as_ref().map(Into::into),
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
            v1: r.v1.map(Into::into),
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
    /// Kept from a v1 template (docs/bos.md, "BOS v1").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    boot_ordinal: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shutdown_ordinal: Option<u32>,
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
                            boot_ordinal: b.ordinals.boot,
                            shutdown_ordinal: b.ordinals.shutdown,
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
                            ordinals: Ordinals {
                                boot: b.boot_ordinal,
                                shutdown: b.shutdown_ordinal,
                            },
                        },
                    )
                })
                .collect(),
        }
    }
}
