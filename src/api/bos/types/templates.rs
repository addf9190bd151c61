//! Session templates: the document BOS stores and shows, and the PATCH that merges into it.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::api::wire::{nullable, present};
use crate::model::template as tpl;
use crate::model::template_patch as tpatch;

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Cfs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<String>,
}

impl From<Cfs> for tpl::Cfs {
    fn from(c: Cfs) -> Self {
        tpl::Cfs {
            configuration: c.configuration,
        }
    }
}

impl From<&tpl::Cfs> for Cfs {
    fn from(c: &tpl::Cfs) -> Self {
        Cfs {
            configuration: c.configuration.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootSet {
    /// Write-only: must equal the boot set's key; never stored or shown.
    #[serde(default, skip_serializing)]
    pub name: Option<String>,
    pub path: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_parameters: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_list: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_roles_groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rootfs_provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rootfs_provider_passthrough: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cfs: Option<Cfs>,
}

impl From<BootSet> for tpl::BootSet {
    fn from(b: BootSet) -> Self {
        tpl::BootSet {
            name: b.name,
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
            ordinals: Default::default(),
        }
    }
}

impl From<&tpl::BootSet> for BootSet {
    fn from(b: &tpl::BootSet) -> Self {
        BootSet {
            name: None,
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
        }
    }
}

/// A session template as BOS shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SessionTemplate {
    pub name: String,
    /// `null` without a tenant.
    pub tenant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub enable_cfs: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cfs: Option<Cfs>,
    pub boot_sets: BTreeMap<String, BootSet>,
}

impl From<&tpl::SessionTemplate> for SessionTemplate {
    fn from(t: &tpl::SessionTemplate) -> Self {
        SessionTemplate {
            name: t.name.clone(),
            tenant: t.tenant.clone(),
            description: t.description.clone(),
            enable_cfs: t.enable_cfs,
            cfs: t.cfs.as_ref().map(Into::into),
            boot_sets: t
                .boot_sets
                .iter()
                .map(|(k, b)| (k.clone(), b.into()))
                .collect(),
        }
    }
}

/// A session template a client PUTs. `name` and `tenant` are read-only: taken from the
/// URL and the tenant header, whatever the body says.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "SessionTemplate")]
pub struct SessionTemplateIn {
    #[serde(default)]
    pub name: Option<IgnoredAny>,
    #[serde(default)]
    pub tenant: Option<IgnoredAny>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "yes")]
    pub enable_cfs: bool,
    #[serde(default)]
    pub cfs: Option<Cfs>,
    pub boot_sets: BTreeMap<String, BootSet>,
}

impl SessionTemplateIn {
    /// The domain template (named and scoped later, by the use case).
    pub fn into_domain(self) -> tpl::SessionTemplate {
        tpl::SessionTemplate {
            name: String::new(),
            tenant: None,
            description: self.description,
            enable_cfs: self.enable_cfs,
            cfs: self.cfs.map(Into::into),
            boot_sets: self
                .boot_sets
                .into_iter()
                .map(|(k, b)| (k, b.into()))
                .collect(),
        }
    }
}

/// Decode a PUT body; the `links` a client echoes from a GET are dropped first.
pub fn template_in(v: serde_json::Value, what: &str) -> Result<tpl::SessionTemplate, String> {
    let mut v = v;
    if let Some(o) = v.as_object_mut() {
        o.remove("links");
    }
    let t: SessionTemplateIn = serde_json::from_value(v)
        .map_err(|e| format!("The session template could not be {what}: {e}"))?;
    Ok(t.into_domain())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename = "Cfs")]
pub struct CfsPatchIn {
    #[serde(default, deserialize_with = "nullable")]
    pub configuration: Option<Option<String>>,
}

impl From<CfsPatchIn> for tpatch::CfsPatch {
    fn from(c: CfsPatchIn) -> Self {
        tpatch::CfsPatch {
            configuration: c.configuration,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename = "BootSet")]
pub struct BootSetPatchIn {
    #[serde(default, deserialize_with = "nullable")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub path: Option<String>,
    #[serde(rename = "type", default, deserialize_with = "present")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub etag: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub kernel_parameters: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub node_list: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "nullable")]
    pub node_groups: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "nullable")]
    pub node_roles_groups: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "nullable")]
    pub arch: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub rootfs_provider: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub rootfs_provider_passthrough: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub cfs: Option<Option<CfsPatchIn>>,
}

impl From<BootSetPatchIn> for tpatch::BootSetPatch {
    fn from(b: BootSetPatchIn) -> Self {
        tpatch::BootSetPatch {
            name: b.name,
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
            cfs: b.cfs.map(|c| c.map(Into::into)),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename = "SessionTemplate")]
pub struct TemplatePatchIn {
    #[serde(default, deserialize_with = "nullable")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub enable_cfs: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub cfs: Option<Option<CfsPatchIn>>,
    #[serde(default, deserialize_with = "present")]
    pub boot_sets: Option<BTreeMap<String, BootSetPatchIn>>,
}

/// Decode a template PATCH: only `description`, `enable_cfs`, `cfs` and `boot_sets` may
/// be patched.
pub fn template_patch(v: serde_json::Value) -> Result<tpatch::TemplatePatch, String> {
    const WHAT: &str = "The session template could not be patched";
    let Some(o) = v.as_object() else {
        return Err(format!("{WHAT}: the body must be a JSON object"));
    };
    if let Some(k) = o
        .keys()
        .find(|k| !["description", "enable_cfs", "cfs", "boot_sets"].contains(&k.as_str()))
    {
        return Err(format!("{WHAT}: '{k}' cannot be patched"));
    }
    let p: TemplatePatchIn = serde_json::from_value(v).map_err(|e| format!("{WHAT}: {e}"))?;
    Ok(tpatch::TemplatePatch {
        description: p.description,
        enable_cfs: p.enable_cfs,
        cfs: p.cfs.map(|c| c.map(Into::into)),
        boot_sets: p.boot_sets.map(|m| {
            m.into_iter()
                .map(|(k, b)| (k, b.into()))
                .collect::<BTreeMap<_, _>>()
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::template::{SessionTemplate, sanitize};
    use serde_json::json;

    fn parse(v: serde_json::Value) -> SessionTemplate {
        template_in(v, "created").unwrap()
    }

    fn minimal() -> serde_json::Value {
        json!({"boot_sets": {"compute": {"path": "s3://boot-images/i1/manifest.json", "type": "s3",
            "node_list": ["x3000c0s01b0n0"], "cfs": {}}}, "cfs": {"configuration": ""}})
    }

    #[test]
    fn sanitising_fills_defaults_and_canonicalises() {
        let (t, w) = sanitize("t1", parse(minimal()), false).unwrap();
        assert!(w.is_empty());
        assert_eq!(t.name, "t1");
        assert!(t.enable_cfs, "enable_cfs defaults to true");
        assert_eq!(t.cfs, None, "empty cfs dropped");
        let bs = &t.boot_sets["compute"];
        assert_eq!(bs.arch.as_deref(), Some("X86"));
        assert_eq!(bs.cfs, None);
        assert_eq!(bs.node_list.as_ref().unwrap(), &["x3000c0s1b0n0"]);
        let stored = serde_json::to_value(super::SessionTemplate::from(&t)).unwrap();
        assert!(stored["boot_sets"]["compute"].get("name").is_none());
    }

    #[test]
    fn schema_rules_are_enforced() {
        assert!(
            sanitize("-bad", parse(minimal()), false)
                .unwrap_err()
                .contains("invalid session template name")
        );
        let mut v = minimal();
        v["boot_sets"]["compute"]["name"] = "other".into();
        assert!(
            sanitize("t", parse(v), false)
                .unwrap_err()
                .contains("differs from its key")
        );
        let mut v = minimal();
        v["boot_sets"]["compute"]["node_list"] = json!([]);
        assert!(
            sanitize("t", parse(v), false)
                .unwrap_err()
                .contains("names no nodes")
        );
        let mut v = minimal();
        v["boot_sets"]["compute"]["arch"] = "RISCV".into();
        assert!(
            sanitize("t", parse(v), false)
                .unwrap_err()
                .contains("arch 'RISCV'")
        );
        let mut v = minimal();
        v["boot_sets"] = json!({});
        assert!(
            sanitize("t", parse(v), false)
                .unwrap_err()
                .contains("between 1 and 127")
        );
        assert!(template_in(json!({"boot_sets": {}, "bogus": 1}), "created").is_err());
    }

    #[test]
    fn nids_warn_or_fail_and_unsupported_rootfs_warns() {
        let mut v = minimal();
        v["boot_sets"]["compute"]["node_list"] = json!(["nid000001"]);
        v["boot_sets"]["compute"]["rootfs_provider"] = "cpss3".into();
        let (_, w) = sanitize("t", parse(v.clone()), false).unwrap();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(sanitize("t", parse(v), true).unwrap_err().contains("NIDs"));
    }

    #[test]
    fn patch_merges_like_bos() {
        let stored = parse(json!({"description": "a", "cfs": {"configuration": "c1"},
            "boot_sets": {"b1": {"path": "p1", "type": "s3", "node_list": ["x1"], "cfs": {"configuration": "bc"}}}}));
        let patch = template_patch(json!({"description": "b",
            "boot_sets": {"b1": {"kernel_parameters": "quiet", "cfs": {"configuration": "bc2"}},
                          "b2": {"path": "p2", "type": "s3", "node_groups": ["g"]}}}))
        .unwrap();
        let m = serde_json::to_value(super::SessionTemplate::from(&patch.apply(stored).unwrap()))
            .unwrap();
        assert_eq!(m["description"], "b");
        assert_eq!(m["cfs"]["configuration"], "c1");
        assert_eq!(m["boot_sets"]["b1"]["path"], "p1");
        assert_eq!(m["boot_sets"]["b1"]["kernel_parameters"], "quiet");
        assert_eq!(m["boot_sets"]["b1"]["cfs"]["configuration"], "bc2");
        assert_eq!(m["boot_sets"]["b2"]["path"], "p2");
        assert!(
            template_patch(json!({"name": "x"}))
                .unwrap_err()
                .contains("'name' cannot be patched")
        );
    }
}
