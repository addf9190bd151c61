//! BOS v2 session templates and boot sets: the schema's rules and the save-time
//! sanitising BOS applies (reference bos.md §3.1, §4.1), as pure functions.
//!
//! `sanitize` turns what a client sent into what is stored: names checked against the
//! shared name pattern, boot-set `name` matching its key (then dropped), `arch` defaulted to
//! `X86`, empty `cfs` removed, `node_list` canonicalised, at least one hardware specifier,
//! and the schema's size limits. `merge_patch` is BOS's PATCH merge. Checks that need the
//! artifact source or the inventory (manifests, groups) belong to the use case, not here.

use std::collections::BTreeMap;

use super::Xname;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cfs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootSet {
    /// Write-only: must equal the boot set's key; never stored.
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

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionTemplate {
    /// Read-only: set from the URL.
    #[serde(default)]
    pub name: String,
    /// Read-only: set from the `Cray-Tenant-Name` header; `null` without one.
    #[serde(default)]
    pub tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default = "yes")]
    pub enable_cfs: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cfs: Option<Cfs>,
    pub boot_sets: BTreeMap<String, BootSet>,
}

fn yes() -> bool {
    true
}

impl SessionTemplate {
    /// The configuration a boot set's nodes get (bos.md §6.3): none without `enable_cfs`,
    /// else the boot set's own, else the template's, else none (`""`).
    pub fn configuration_for(&self, bs: &BootSet) -> String {
        if !self.enable_cfs {
            return String::new();
        }
        bs.cfs
            .as_ref()
            .and_then(|c| c.configuration.clone())
            .or_else(|| self.cfs.as_ref().and_then(|c| c.configuration.clone()))
            .unwrap_or_default()
    }
}

pub const ARCHES: &[&str] = &["X86", "ARM", "Other", "Unknown"];

/// The name pattern shared by templates, sessions and boot sets:
/// `^[a-zA-Z0-9](?:[-._a-zA-Z0-9]{0,125}[a-zA-Z0-9])?$`.
pub fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 127
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
}

/// What sanitising found that does not stop the save.
pub type Warnings = Vec<String>;

fn too_long(field: &str, v: &str, max: usize) -> Result<(), String> {
    if v.chars().count() > max {
        Err(format!("{field} is longer than {max} characters"))
    } else {
        Ok(())
    }
}

/// Check and normalise a template for storage. `reject_nids` is the BOS option of that name.
pub fn sanitize(
    name: &str,
    mut t: SessionTemplate,
    reject_nids: bool,
) -> Result<(SessionTemplate, Warnings), String> {
    if !valid_name(name) {
        return Err(format!(
            "invalid session template name '{name}': use 1-127 letters, digits, '.', '-' or '_', starting and ending with a letter or digit"
        ));
    }
    t.name = name.to_string();
    let mut warnings = Vec::new();
    if let Some(d) = &t.description {
        if d.is_empty() {
            return Err("description must not be empty".into());
        }
        too_long("description", d, 1023)?;
    }
    if t.cfs
        .as_ref()
        .is_some_and(|c| c.configuration.as_deref().unwrap_or("").is_empty())
    {
        t.cfs = None;
    }
    if let Some(c) = t.cfs.as_ref().and_then(|c| c.configuration.as_deref()) {
        too_long("cfs.configuration", c, 127)?;
    }
    if t.boot_sets.is_empty() || t.boot_sets.len() > 127 {
        return Err("boot_sets must have between 1 and 127 boot sets".into());
    }
    for (key, bs) in t.boot_sets.iter_mut() {
        let at = |m: String| format!("boot set '{key}': {m}");
        if !valid_name(key) {
            return Err(at("invalid boot set name".into()));
        }
        if let Some(n) = bs.name.take()
            && n != *key
        {
            return Err(at(format!("its name '{n}' differs from its key")));
        }
        if bs.path.is_empty() {
            return Err(at("path must not be empty".into()));
        }
        too_long("path", &bs.path, 4095).map_err(at)?;
        if bs.kind.is_empty() {
            return Err(at("type must not be empty".into()));
        }
        too_long("type", &bs.kind, 127).map_err(at)?;
        if let Some(k) = &bs.kernel_parameters {
            too_long("kernel_parameters", k, 4096).map_err(at)?;
        }
        match bs.arch.as_deref() {
            None => bs.arch = Some("X86".into()),
            Some(a) if ARCHES.contains(&a) => {}
            Some(a) => {
                return Err(at(format!(
                    "arch '{a}' is not one of {}",
                    ARCHES.join(", ")
                )));
            }
        }
        if bs
            .cfs
            .as_ref()
            .is_some_and(|c| c.configuration.as_deref().unwrap_or("").is_empty())
        {
            bs.cfs = None;
        }
        let present = |v: &Option<Vec<String>>| v.as_ref().is_some_and(|l| !l.is_empty());
        if !present(&bs.node_list) && !present(&bs.node_groups) && !present(&bs.node_roles_groups) {
            return Err(at(
                "it names no nodes: give node_list, node_groups or node_roles_groups".into(),
            ));
        }
        if let Some(list) = &mut bs.node_list {
            let nids: Vec<&String> = list.iter().filter(|x| x.starts_with("nid")).collect();
            if !nids.is_empty() {
                let msg = format!(
                    "node_list has NIDs, which BOS does not resolve: {}",
                    nids.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                if reject_nids {
                    return Err(at(msg));
                }
                warnings.push(at(msg));
            }
            for x in list.iter_mut() {
                // Canonical form where it is an xname; other strings are kept as written.
                if let Ok(c) = Xname::parse(x) {
                    *x = c.to_string();
                }
            }
        }
        if let Some(p) = &bs.rootfs_provider
            && p != "sbps"
        {
            warnings.push(at(format!(
                "rootfs_provider '{p}' is not supported (only sbps): sessions using it will fail"
            )));
        }
    }
    Ok((t, warnings))
}

/// BOS's PATCH merge: top-level `cfs` merged, `boot_sets` merged per key (new keys added,
/// existing boot sets updated field by field, their `cfs` merged), other fields replaced.
/// A field cannot be deleted by PATCH.
pub fn merge_patch(stored: &serde_json::Value, patch: &serde_json::Value) -> serde_json::Value {
    let mut out = stored.clone();
    let (Some(o), Some(p)) = (out.as_object_mut(), patch.as_object()) else {
        return out;
    };
    for (k, v) in p {
        match (k.as_str(), o.get_mut(k)) {
            ("cfs", Some(serde_json::Value::Object(cur))) if v.is_object() => {
                for (ck, cv) in v.as_object().expect("object") {
                    cur.insert(ck.clone(), cv.clone());
                }
            }
            ("boot_sets", Some(serde_json::Value::Object(cur))) if v.is_object() => {
                for (bk, bv) in v.as_object().expect("object") {
                    match (cur.get_mut(bk), bv.as_object()) {
                        (Some(serde_json::Value::Object(bs)), Some(bvo)) => {
                            for (fk, fv) in bvo {
                                match (fk.as_str(), bs.get_mut(fk)) {
                                    ("cfs", Some(serde_json::Value::Object(c)))
                                        if fv.is_object() =>
                                    {
                                        for (ck, cv) in fv.as_object().expect("object") {
                                            c.insert(ck.clone(), cv.clone());
                                        }
                                    }
                                    _ => {
                                        bs.insert(fk.clone(), fv.clone());
                                    }
                                }
                            }
                        }
                        _ => {
                            cur.insert(bk.clone(), bv.clone());
                        }
                    }
                }
            }
            _ => {
                o.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> SessionTemplate {
        serde_json::from_value(v).unwrap()
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
        let stored = serde_json::to_value(&t).unwrap();
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
        assert!(
            serde_json::from_value::<SessionTemplate>(json!({"boot_sets": {}, "bogus": 1}))
                .is_err()
        );
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
        let stored = json!({"description": "a", "cfs": {"configuration": "c1"},
            "boot_sets": {"b1": {"path": "p1", "type": "s3", "node_list": ["x1"], "cfs": {"configuration": "bc"}}}});
        let patch = json!({"description": "b",
            "boot_sets": {"b1": {"kernel_parameters": "quiet", "cfs": {"configuration": "bc2"}},
                          "b2": {"path": "p2", "type": "s3", "node_groups": ["g"]}}});
        let m = merge_patch(&stored, &patch);
        assert_eq!(m["description"], "b");
        assert_eq!(m["cfs"]["configuration"], "c1");
        assert_eq!(m["boot_sets"]["b1"]["path"], "p1");
        assert_eq!(m["boot_sets"]["b1"]["kernel_parameters"], "quiet");
        assert_eq!(m["boot_sets"]["b1"]["cfs"]["configuration"], "bc2");
        assert_eq!(m["boot_sets"]["b2"]["path"], "p2");
    }
}
