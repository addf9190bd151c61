//! CFS v3 wire types (`specs/cfs-openapi.yaml`) and their conversions to the domain.
//!
//! Requests keep the names the schemas had as domain types (serde puts them in messages)
//! and refuse unknown fields; the read-only fields a client may echo back from a GET are
//! accepted and ignored. Component documents are written with their keys in sorted order,
//! as they always were (they were built as JSON maps); a single configuration in field
//! order, a list of them sorted.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::app::cfs::{ComponentView, Listing};
use crate::model::cfs as dom;
use crate::model::cfs::LayerStatus;

/// One layer result in a request's `state`: the contract requires each field but
/// `last_updated` (read-only; the write stamps it).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateLayer {
    pub clone_url: String,
    pub playbook: String,
    pub commit: String,
    pub status: String,
    #[serde(default)]
    pub last_updated: String,
    pub session_name: String,
}

/// A layer result reported with `state_append`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateAppend {
    pub clone_url: String,
    pub playbook: String,
    pub commit: String,
    #[serde(default, deserialize_with = "crate::api::wire::present")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "crate::api::wire::present")]
    pub session_name: Option<String>,
    #[serde(default, deserialize_with = "crate::api::wire::present")]
    pub last_updated: Option<String>,
}

/// A component write (`PUT`/`PATCH` body, or the `patch` of a filtered bulk PATCH).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentPatch {
    #[serde(default, deserialize_with = "crate::api::wire::present")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "crate::api::wire::present")]
    pub state: Option<Vec<StateLayer>>,
    #[serde(default, deserialize_with = "crate::api::wire::present")]
    pub state_append: Option<StateAppend>,
    #[serde(default, deserialize_with = "crate::api::wire::present")]
    pub desired_config: Option<String>,
    #[serde(default, deserialize_with = "crate::api::wire::present")]
    pub error_count: Option<i64>,
    #[serde(default, deserialize_with = "crate::api::wire::present")]
    pub retry_policy: Option<i64>,
    #[serde(default, deserialize_with = "crate::api::wire::present")]
    pub enabled: Option<bool>,
    /// An object of strings when sent (`null` is refused, as the spec has no null here).
    #[serde(default, deserialize_with = "crate::api::wire::present")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Read-only: accepted and ignored.
    #[serde(default)]
    pub desired_state: Option<IgnoredAny>,
    /// Read-only: accepted and ignored.
    #[serde(default)]
    pub configuration_status: Option<IgnoredAny>,
    /// Read-only: accepted and ignored.
    #[serde(default)]
    pub logs: Option<IgnoredAny>,
}

fn layer_status(text: &str, field: &str, problems: &mut Vec<String>) -> LayerStatus {
    LayerStatus::parse(text).unwrap_or_else(|| {
        problems.push(format!(
            "{field}: '{text}' is not one of applied, failed, skipped"
        ));
        LayerStatus::Applied
    })
}

impl ComponentPatch {
    /// The domain patch, or every problem with the statuses it names.
    pub fn into_domain(self) -> Result<dom::ComponentPatch, Vec<String>> {
        let mut problems = Vec::new();
        let state = self.state.map(|layers| {
            layers
                .into_iter()
                .enumerate()
                .map(|(i, l)| dom::StateLayer {
                    status: layer_status(&l.status, &format!("state[{i}].status"), &mut problems),
                    clone_url: l.clone_url,
                    playbook: l.playbook,
                    commit: l.commit,
                    last_updated: l.last_updated,
                    session_name: l.session_name,
                })
                .collect()
        });
        let state_append = self.state_append.map(|a| dom::StateAppend {
            status: a
                .status
                .as_deref()
                .map(|s| layer_status(s, "state_append.status", &mut problems)),
            clone_url: a.clone_url,
            playbook: a.playbook,
            commit: a.commit,
            session_name: a.session_name,
            last_updated: a.last_updated,
        });
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(dom::ComponentPatch {
            id: self.id,
            state,
            state_append,
            desired_config: self.desired_config,
            error_count: self.error_count,
            retry_policy: self.retry_policy,
            enabled: self.enabled,
            tags: self.tags,
        })
    }
}

/// Decode a component write; `what` prefixes the message (`component 2: state[0]…`).
pub fn component_patch(v: Value, what: &str) -> Result<dom::ComponentPatch, String> {
    let p: ComponentPatch = serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        if path.is_empty() || path == "." {
            format!("{what}: {}", e.into_inner())
        } else {
            format!("{what}: {path}: {}", e.into_inner())
        }
    })?;
    p.into_domain()
        .map_err(|problems| format!("{what}: {}", problems.join("; ")))
}

/// Which optional parts of a component a read includes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Details {
    /// `state`: the layers applied.
    pub state: bool,
    /// `desired_state`: the desired configuration's layers, each with its status.
    pub config: bool,
}

/// A component as CFS shows it (keys sorted).
pub fn component_doc(v: &ComponentView, d: Details) -> Value {
    let c = &v.component;
    let mut o = Map::new();
    o.insert("id".into(), json!(c.id));
    o.insert("desired_config".into(), json!(c.desired_config));
    o.insert("error_count".into(), json!(c.error_count));
    if let Some(r) = c.retry_policy {
        o.insert("retry_policy".into(), json!(r));
    }
    o.insert("enabled".into(), json!(c.enabled));
    o.insert("configuration_status".into(), json!(v.status));
    o.insert("tags".into(), json!(c.tags));
    if d.state {
        let layers: Vec<Value> = c
            .state
            .iter()
            .map(|l| {
                json!({"clone_url": l.clone_url, "playbook": l.playbook, "commit": l.commit,
                    "status": l.status, "last_updated": l.last_updated, "session_name": l.session_name})
            })
            .collect();
        o.insert("state".into(), Value::Array(layers));
    }
    if d.config {
        let layers: Vec<Value> = v
            .layers
            .iter()
            .map(|l| {
                let mut m = Map::new();
                if let Some(n) = &l.name {
                    m.insert("name".into(), json!(n));
                }
                m.insert("clone_url".into(), json!(l.clone_url));
                m.insert("playbook".into(), json!(l.playbook));
                m.insert("commit".into(), json!(l.commit));
                m.insert("status".into(), json!(l.status));
                Value::Object(m)
            })
            .collect();
        o.insert("desired_state".into(), Value::Array(layers));
    }
    Value::Object(o)
}

/// CFS's `next`: the query that was asked, with the page size and the last key read, or
/// null on the last page.
pub fn next_page<T>(query: Map<String, Value>, l: &Listing<T>) -> Value {
    match &l.next_after {
        Some(last) => {
            let mut q = query;
            q.insert("limit".into(), json!(l.limit));
            q.insert("after_id".into(), json!(last));
            Value::Object(q)
        }
        None => Value::Null,
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecialParameters {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub ims_require_dkms: Option<bool>,
}

/// One layer of a configuration: a playbook from a repository at a commit.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigLayer {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub name: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub clone_url: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub source: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub playbook: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub commit: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub branch: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub special_parameters: Option<SpecialParameters>,
}

/// The inventory repository a configuration adds to every layer's run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryLayer {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub name: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub clone_url: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub source: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub commit: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub branch: Option<String>,
}

/// A named configuration (`PUT /v3/configurations/{name}`; `name` and `last_updated` are
/// read-only).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CfsConfiguration {
    #[serde(default)]
    pub name: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub description: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub tenant_name: Option<String>,
    #[serde(default)]
    pub last_updated: String,
    #[serde(default)]
    pub layers: Vec<ConfigLayer>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub additional_inventory: Option<InventoryLayer>,
}

impl From<CfsConfiguration> for dom::CfsConfiguration {
    fn from(c: CfsConfiguration) -> Self {
        dom::CfsConfiguration {
            name: c.name,
            description: c.description,
            tenant_name: c.tenant_name,
            last_updated: c.last_updated,
            layers: c
                .layers
                .into_iter()
                .map(|l| dom::ConfigLayer {
                    name: l.name,
                    clone_url: l.clone_url,
                    source: l.source,
                    playbook: l.playbook,
                    commit: l.commit,
                    branch: l.branch,
                    special_parameters: l.special_parameters.map(|s| dom::SpecialParameters {
                        ims_require_dkms: s.ims_require_dkms,
                    }),
                })
                .collect(),
            additional_inventory: c.additional_inventory.map(|i| dom::InventoryLayer {
                name: i.name,
                clone_url: i.clone_url,
                source: i.source,
                commit: i.commit,
                branch: i.branch,
            }),
        }
    }
}

impl From<&dom::CfsConfiguration> for CfsConfiguration {
    fn from(c: &dom::CfsConfiguration) -> Self {
        CfsConfiguration {
            name: c.name.clone(),
            description: c.description.clone(),
            tenant_name: c.tenant_name.clone(),
            last_updated: c.last_updated.clone(),
            layers: c
                .layers
                .iter()
                .map(|l| ConfigLayer {
                    name: l.name.clone(),
                    clone_url: l.clone_url.clone(),
                    source: l.source.clone(),
                    playbook: l.playbook.clone(),
                    commit: l.commit.clone(),
                    branch: l.branch.clone(),
                    special_parameters: l.special_parameters.as_ref().map(|s| SpecialParameters {
                        ims_require_dkms: s.ims_require_dkms,
                    }),
                })
                .collect(),
            additional_inventory: c.additional_inventory.as_ref().map(|i| InventoryLayer {
                name: i.name.clone(),
                clone_url: i.clone_url.clone(),
                source: i.source.clone(),
                commit: i.commit.clone(),
                branch: i.branch.clone(),
            }),
        }
    }
}

/// Decode a configuration body (`configuration: layers[0]: …` on a bad field).
pub fn configuration(v: Value) -> Result<dom::CfsConfiguration, String> {
    let c: CfsConfiguration = serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        format!("configuration: {path}: {}", e.into_inner())
    })?;
    Ok(c.into())
}
