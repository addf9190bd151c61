//! CFS v2 wire types (`specs/cfs-openapi.yaml`, the `V2…` schemas) and their conversions to
//! the domain: the same records as v3, spelled in camelCase, with a layer's status folded
//! into its commit (`<commit>_failed`, `<commit>_skipped`) and a configuration layer's
//! playbook defaulted from the option `default_playbook`.
//!
//! Requests refuse the fields v2 does not have (its schemas say `additionalProperties:
//! false`), so a v3 spelling sent to v2 (`clone_url`) is named, not dropped; the read-only
//! fields a client may echo back from a GET are accepted and ignored. v2 has no sources and
//! no tenants: a configuration read through v2 shows neither.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::app::cfs::ComponentView;
use crate::model::cfs::{self as dom, LayerStatus};

/// Decode the JSON object `v` as `T`, naming the field that is wrong (`what: layers[0]:
/// unknown field …`). Anything but an object is refused first: serde would read an array
/// as a struct's fields in order (and `[]` as an empty write).
pub fn decode<T: serde::de::DeserializeOwned>(
    v: serde_json::Value,
    what: &str,
) -> Result<T, String> {
    if !v.is_object() {
        return Err(format!("{what}: expected a JSON object"));
    }
    nested_objects(&v, what)?;
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        if path.is_empty() || path == "." {
            format!("{what}: {}", e.into_inner())
        } else {
            format!("{what}: {path}: {}", e.into_inner())
        }
    })
}

/// The v2 fields whose values (or whose array items) are objects; serde would read an array
/// there as the struct's fields in order.
const OBJECT_FIELDS: &[(&str, bool)] = &[
    ("layers", true),
    ("state", true),
    ("stateAppend", false),
    ("additional_inventory", false),
];

fn nested_objects(v: &serde_json::Value, what: &str) -> Result<(), String> {
    use serde_json::Value;
    let not_object = |at: String| Err(format!("{what}: {at}: expected a JSON object"));
    for (key, many) in OBJECT_FIELDS {
        match (v.get(*key), many) {
            (Some(Value::Array(items)), true) => {
                for (i, item) in items.iter().enumerate() {
                    if !item.is_object() {
                        return not_object(format!("{key}[{i}]"));
                    }
                    if let Some(sp) = item.get("specialParameters")
                        && !sp.is_object()
                    {
                        return not_object(format!("{key}[{i}].specialParameters"));
                    }
                }
            }
            (Some(x), false) if !x.is_object() && !x.is_null() => {
                return not_object((*key).to_string());
            }
            _ => {}
        }
    }
    Ok(())
}

// --- components

/// A v2 commit with its status folded in: `<commit>[_applied|_failed|_skipped]`, or
/// `_incomplete`, which v2 shows for a layer reported incomplete through v3 (as upstream),
/// so that what a GET shows can be written back.
fn split_commit(commit: String, field: &str) -> Result<(String, LayerStatus), String> {
    match commit.split_once('_') {
        None => Ok((commit, LayerStatus::Applied)),
        Some((c, s)) => match LayerStatus::parse(s) {
            Some(st) => Ok((c.to_string(), st)),
            None => Err(format!(
                "{field}: '{commit}' ends in '_{s}', not one of _applied, _failed, _skipped (or _incomplete, which v2 shows for a layer v3 reported incomplete)"
            )),
        },
    }
}

fn fold_commit(commit: &str, status: LayerStatus) -> String {
    match status {
        LayerStatus::Applied => commit.to_string(),
        other => format!("{commit}_{}", other.as_str()),
    }
}

/// One applied layer, as v2 writes and shows it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct V2StateLayer {
    pub clone_url: String,
    pub playbook: String,
    pub commit: String,
    #[serde(default)]
    pub last_updated: String,
    pub session_name: String,
}

/// A layer result reported with `stateAppend`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct V2StateAppend {
    pub clone_url: String,
    pub playbook: String,
    pub commit: String,
    #[serde(default, deserialize_with = "crate::api::wire::present")]
    pub session_name: Option<String>,
}

/// A v2 component write (PUT and PATCH bodies, a bulk list item, a filtered bulk `patch`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct V2ComponentPatch {
    #[serde(default, deserialize_with = "crate::api::wire::present")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "crate::api::wire::present")]
    pub state: Option<Vec<V2StateLayer>>,
    #[serde(default, deserialize_with = "crate::api::wire::present")]
    pub state_append: Option<V2StateAppend>,
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
}

impl V2ComponentPatch {
    /// The domain patch, or every problem with the commits it names.
    pub fn into_domain(self) -> Result<dom::ComponentPatch, Vec<String>> {
        let mut problems = Vec::new();
        let state = self.state.map(|layers| {
            layers
                .into_iter()
                .enumerate()
                .map(|(i, l)| {
                    let (commit, status) = split_commit(l.commit, &format!("state[{i}].commit"))
                        .unwrap_or_else(|e| {
                            problems.push(e);
                            (String::new(), LayerStatus::Applied)
                        });
                    dom::StateLayer {
                        clone_url: l.clone_url,
                        playbook: l.playbook,
                        commit,
                        status,
                        last_updated: l.last_updated,
                        session_name: l.session_name,
                    }
                })
                .collect()
        });
        let state_append = self.state_append.map(|a| {
            let (commit, status) =
                split_commit(a.commit, "stateAppend.commit").unwrap_or_else(|e| {
                    problems.push(e);
                    (String::new(), LayerStatus::Applied)
                });
            dom::StateAppend {
                clone_url: a.clone_url,
                playbook: a.playbook,
                commit,
                status: Some(status),
                session_name: a.session_name,
                last_updated: None,
            }
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

/// Decode a v2 component write; `what` prefixes the message (`component 2: state[0]…`).
pub fn component_patch(v: serde_json::Value, what: &str) -> Result<dom::ComponentPatch, String> {
    decode::<V2ComponentPatch>(v, what)?
        .into_domain()
        .map_err(|problems| format!("{what}: {}", problems.join("; ")))
}

/// One layer of a component's desired configuration with its status (`configDetails`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct V2DesiredLayer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub clone_url: String,
    pub playbook: String,
    pub commit: String,
    pub status: String,
}

/// A component as v2 shows it: always with its `state`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct V2Component {
    pub id: String,
    pub desired_config: String,
    pub error_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<i64>,
    pub enabled: bool,
    pub configuration_status: String,
    pub tags: BTreeMap<String, String>,
    pub state: Vec<V2StateLayer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_state: Option<Vec<V2DesiredLayer>>,
}

impl V2Component {
    /// `config_details` adds `desiredState`.
    pub fn new(v: &ComponentView, config_details: bool) -> V2Component {
        let c = &v.component;
        V2Component {
            id: c.id.clone(),
            desired_config: c.desired_config.clone(),
            error_count: c.error_count,
            retry_policy: c.retry_policy,
            enabled: c.enabled,
            configuration_status: v.status.as_str().to_string(),
            tags: c.tags.clone(),
            state: c
                .state
                .iter()
                .map(|l| V2StateLayer {
                    clone_url: l.clone_url.clone(),
                    playbook: l.playbook.clone(),
                    commit: fold_commit(&l.commit, l.status),
                    last_updated: l.last_updated.clone(),
                    session_name: l.session_name.clone(),
                })
                .collect(),
            desired_state: config_details.then(|| {
                v.layers
                    .iter()
                    .map(|l| V2DesiredLayer {
                        name: l.name.clone(),
                        clone_url: l.clone_url.clone(),
                        playbook: l.playbook.clone(),
                        commit: l.commit.clone(),
                        status: l.status.as_str().to_string(),
                    })
                    .collect()
            }),
        }
    }
}

// --- configurations

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct V2SpecialParameters {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub ims_require_dkms: Option<bool>,
}

/// One layer of a v2 configuration: `cloneUrl` is required, the playbook defaults.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct V2ConfigLayer {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub name: Option<String>,
    pub clone_url: String,
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
    pub special_parameters: Option<V2SpecialParameters>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct V2InventoryLayer {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub name: Option<String>,
    pub clone_url: String,
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

/// A v2 configuration. `name` and `lastUpdated` are read-only; `additional_inventory`
/// keeps its snake_case name in v2's schema too.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct V2Configuration {
    #[serde(default)]
    pub name: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub description: Option<String>,
    #[serde(default)]
    pub last_updated: String,
    #[serde(default)]
    pub layers: Vec<V2ConfigLayer>,
    #[serde(
        rename = "additional_inventory",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::api::wire::present"
    )]
    pub additional_inventory: Option<V2InventoryLayer>,
}

impl V2Configuration {
    /// The domain configuration; a layer without a playbook gets `default_playbook`.
    pub fn into_domain(self, default_playbook: &str) -> dom::CfsConfiguration {
        dom::CfsConfiguration {
            name: self.name,
            description: self.description,
            tenant_name: None,
            last_updated: self.last_updated,
            layers: self
                .layers
                .into_iter()
                .map(|l| dom::ConfigLayer {
                    name: l.name,
                    clone_url: Some(l.clone_url),
                    source: None,
                    playbook: Some(l.playbook.unwrap_or_else(|| default_playbook.to_string())),
                    commit: l.commit,
                    branch: l.branch,
                    special_parameters: l.special_parameters.map(|s| dom::SpecialParameters {
                        ims_require_dkms: s.ims_require_dkms,
                    }),
                })
                .collect(),
            additional_inventory: self.additional_inventory.map(|i| dom::InventoryLayer {
                name: i.name,
                clone_url: Some(i.clone_url),
                source: None,
                commit: i.commit,
                branch: i.branch,
            }),
        }
    }
}

impl From<&dom::CfsConfiguration> for V2Configuration {
    fn from(c: &dom::CfsConfiguration) -> Self {
        V2Configuration {
            name: c.name.clone(),
            description: c.description.clone(),
            last_updated: c.last_updated.clone(),
            layers: c
                .layers
                .iter()
                .map(|l| V2ConfigLayer {
                    name: l.name.clone(),
                    clone_url: l.clone_url.clone().unwrap_or_default(),
                    playbook: l.playbook.clone(),
                    commit: l.commit.clone(),
                    branch: l.branch.clone(),
                    special_parameters: l.special_parameters.as_ref().map(|s| {
                        V2SpecialParameters {
                            ims_require_dkms: s.ims_require_dkms,
                        }
                    }),
                })
                .collect(),
            additional_inventory: c.additional_inventory.as_ref().map(|i| V2InventoryLayer {
                name: i.name.clone(),
                clone_url: i.clone_url.clone().unwrap_or_default(),
                commit: i.commit.clone(),
                branch: i.branch.clone(),
            }),
        }
    }
}

/// The app's words for a configuration's fields, in v2's spelling (problems name the
/// field the client sent).
pub fn v2_words(detail: &str) -> String {
    detail
        .replace("clone_url", "cloneUrl")
        .replace("special_parameters", "specialParameters")
        .replace("ims_require_dkms", "imsRequireDkms")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v2_commits_carry_the_layer_status() {
        let p = component_patch(
            json!({"state": [{"cloneUrl": "u", "playbook": "p", "commit": "abc_failed", "sessionName": "s"}],
                "stateAppend": {"cloneUrl": "u", "playbook": "q", "commit": "def"}}),
            "component",
        )
        .unwrap();
        let s = &p.state.unwrap()[0];
        assert_eq!((s.commit.as_str(), s.status), ("abc", LayerStatus::Failed));
        let a = p.state_append.unwrap();
        assert_eq!(a.status, Some(LayerStatus::Applied));
        assert_eq!(fold_commit("abc", LayerStatus::Skipped), "abc_skipped");
        assert_eq!(fold_commit("abc", LayerStatus::Applied), "abc");
        let e = component_patch(
            json!({"state": [{"cloneUrl": "u", "playbook": "p", "commit": "abc_bogus", "sessionName": "s"}]}),
            "component",
        )
        .unwrap_err();
        assert!(e.contains("state[0].commit"), "{e}");
    }

    #[test]
    fn v3_spellings_are_named_not_dropped() {
        let e = decode::<V2Configuration>(
            json!({"layers": [{"clone_url": "u", "playbook": "p"}]}),
            "configuration",
        )
        .unwrap_err();
        assert!(e.contains("layers[0]") && e.contains("clone_url"), "{e}");
        let e = component_patch(json!({"desired_config": "x"}), "component").unwrap_err();
        assert!(e.contains("desired_config"), "{e}");
    }

    #[test]
    fn arrays_are_not_read_as_objects() {
        for (v, at) in [
            (json!({"layers": [["n", "https://u"]]}), "layers[0]"),
            (
                json!({"layers": [{"cloneUrl": "u", "specialParameters": [true]}]}),
                "specialParameters",
            ),
            (
                json!({"additional_inventory": ["n", "u"]}),
                "additional_inventory",
            ),
        ] {
            let e = decode::<V2Configuration>(v.clone(), "configuration").unwrap_err();
            assert!(e.contains(at) && e.contains("object"), "{v}: {e}");
        }
        let e = component_patch(json!({"stateAppend": ["u", "p", "c"]}), "component").unwrap_err();
        assert!(e.contains("stateAppend"), "{e}");
        let e =
            decode::<super::super::option_types::V2Options>(json!([1, 2]), "options").unwrap_err();
        assert!(e.contains("object"), "{e}");
    }
}
