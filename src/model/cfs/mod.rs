//! Configuration Framework Service records (docs/cfs.md): components
//! with the layers applied to them, and configurations (ordered layers of playbooks at a
//! commit), in the CFS v3 wire shape, plus the rules CFS applies to them.
//!
//! The rules are pure so they can be tested without a server: [`configuration_status`] is
//! CFS's `_get_status` (per-layer state, retry policy, error count), [`apply_patch`] is its
//! PATCH (tags merged and emptied ones dropped, `state_append` replacing the layer with the
//! same repository and playbook, `error_count` reset when the desired state changes), and
//! [`check_configuration`] names every field of a configuration that is wrong.

mod checks;
mod options;
mod patch;
mod status;
#[cfg(test)]
mod tests;

pub use checks::check_configuration;
pub use options::CfsOptions;
pub use patch::{ComponentFilter, ComponentPatch, StateAppend, apply_patch, from_put, parse_tags};
pub use status::{DesiredLayer, configuration_status};

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};

use super::names::{OrOther, named_enum};

/// CFS's `default_batcher_retry_policy`: failed attempts before a component is `failed`.
pub const DEFAULT_RETRY_POLICY: i64 = 3;
/// CFS's `default_page_size`.
pub const DEFAULT_PAGE_SIZE: usize = 1000;
/// Longest `desired_config` CFS accepts.
pub const MAX_DESIRED_CONFIG: usize = 60;

named_enum! {
    /// A component's (or one layer's) configuration status, as CFS reports it. Ordered
    /// from worst to best: a component is as configured as its least configured layer.
    pub enum ConfigurationStatus("status", "unconfigured, failed, pending, configured") {
        Unconfigured = "unconfigured",
        Failed = "failed",
        Pending = "pending",
        Configured = "configured",
    }
}

named_enum! {
    /// How applying one layer on a node ended (`incomplete` counts as still pending).
    pub enum LayerStatus("status", "applied, failed, skipped") {
        Applied = "applied",
        Failed = "failed",
        Skipped = "skipped",
        Incomplete = "incomplete",
    }
}

/// A configuration status another service reported: known, or its own words.
pub type ReportedStatus = OrOther<ConfigurationStatus>;

/// What another CFS reported, read as one of ours where it is one.
pub fn reported(text: String) -> ReportedStatus {
    match ConfigurationStatus::parse(&text) {
        Some(s) => OrOther::Known(s),
        None => OrOther::Other(text),
    }
}

pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One layer applied (or attempted) on a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateLayer {
    pub clone_url: String,
    pub playbook: String,
    pub commit: String,
    pub status: LayerStatus,
    pub last_updated: String,
    pub session_name: String,
}

/// A CFS component: one node's desired configuration and what has been applied to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfsComponent {
    pub id: String,
    pub desired_config: String,
    pub state: Vec<StateLayer>,
    pub error_count: i64,
    pub retry_policy: Option<i64>,
    pub enabled: bool,
    pub tags: BTreeMap<String, String>,
}

impl CfsComponent {
    pub fn new(id: &str) -> CfsComponent {
        CfsComponent {
            id: id.to_string(),
            desired_config: String::new(),
            state: Vec::new(),
            error_count: 0,
            retry_policy: None,
            enabled: true,
            tags: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpecialParameters {
    pub ims_require_dkms: Option<bool>,
}

/// One layer of a configuration: a playbook from a repository at a commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigLayer {
    pub name: Option<String>,
    pub clone_url: Option<String>,
    pub source: Option<String>,
    pub playbook: Option<String>,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub special_parameters: Option<SpecialParameters>,
}

/// The inventory repository a configuration adds to every layer's run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryLayer {
    pub name: Option<String>,
    pub clone_url: Option<String>,
    pub source: Option<String>,
    pub commit: Option<String>,
    pub branch: Option<String>,
}

/// A named configuration (the body of `PUT /v3/configurations/{name}`, as stored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CfsConfiguration {
    /// Set from the path; read-only on the wire.
    pub name: String,
    pub description: Option<String>,
    pub tenant_name: Option<String>,
    /// Read-only on the wire.
    pub last_updated: String,
    pub layers: Vec<ConfigLayer>,
    pub additional_inventory: Option<InventoryLayer>,
}

/// CFS paging: the query that asks for the page a list's `next` describes: its parameters,
/// strings as they are and anything else (the `limit`) as JSON text.
pub fn next_query(next: &serde_json::Map<String, serde_json::Value>) -> Vec<(String, String)> {
    next.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect()
}
