//! BOS v2 session templates and boot sets: the schema's rules and the save-time
//! sanitising BOS applies (docs/bos.md, "Session templates"), as pure functions.
//!
//! `sanitize` turns what a client sent into what is stored: names checked against the
//! shared name pattern, boot-set `name` matching its key (then dropped), `arch` defaulted to
//! `X86`, empty `cfs` removed, `node_list` canonicalised, at least one hardware specifier,
//! and the schema's size limits. `merge_patch` is BOS's PATCH merge. Checks that need the
//! artifact source or the inventory (manifests, groups) belong to the use case, not here.

use std::collections::BTreeMap;

use super::Xname;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cfs {
    pub configuration: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BootSet {
    /// Write-only: must equal the boot set's key; never stored.
    pub name: Option<String>,
    pub path: String,
    /// `s3` is the only type rackboot boots.
    pub kind: String,
    pub etag: Option<String>,
    pub kernel_parameters: Option<String>,
    pub node_list: Option<Vec<String>>,
    pub node_groups: Option<Vec<String>>,
    pub node_roles_groups: Option<Vec<String>>,
    pub arch: Option<String>,
    pub rootfs_provider: Option<String>,
    pub rootfs_provider_passthrough: Option<String>,
    pub cfs: Option<Cfs>,
    /// The deprecated v1 ordering, kept from a v1 template (never shown in a v2 document;
    /// a v2 PUT drops it).
    pub ordinals: super::bos_v1::Ordinals,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTemplate {
    /// Set from the URL.
    pub name: String,
    /// Set from the `Cray-Tenant-Name` header; `None` without one.
    pub tenant: Option<String>,
    pub description: Option<String>,
    pub enable_cfs: bool,
    pub cfs: Option<Cfs>,
    pub boot_sets: BTreeMap<String, BootSet>,
}

impl SessionTemplate {
    /// The configuration a boot set's nodes get (docs/bos.md, "Boot artifacts"): none without
    /// `enable_cfs`, else the boot set's own, else the template's, else none (`""`).
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
