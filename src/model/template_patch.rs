//! BOS's session-template PATCH (docs/bos.md, "Session templates"): top-level `cfs` merged,
//! `boot_sets` merged per key (new keys added whole, existing boot sets updated field by
//! field, their `cfs` merged), other fields replaced. `Some(None)` is a JSON `null`, which
//! clears an optional field.

use std::collections::BTreeMap;

use super::template::{BootSet, Cfs, SessionTemplate};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CfsPatch {
    pub configuration: Option<Option<String>>,
}

impl CfsPatch {
    fn apply(&self, to: Option<Cfs>) -> Cfs {
        let mut c = to.unwrap_or_default();
        if let Some(v) = &self.configuration {
            c.configuration = v.clone();
        }
        c
    }
}

fn merge_cfs(field: &mut Option<Cfs>, p: &Option<Option<CfsPatch>>) {
    match p {
        None => {}
        Some(None) => *field = None,
        Some(Some(cp)) => *field = Some(cp.apply(field.take())),
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootSetPatch {
    pub name: Option<Option<String>>,
    pub path: Option<String>,
    pub kind: Option<String>,
    pub etag: Option<Option<String>>,
    pub kernel_parameters: Option<Option<String>>,
    pub node_list: Option<Option<Vec<String>>>,
    pub node_groups: Option<Option<Vec<String>>>,
    pub node_roles_groups: Option<Option<Vec<String>>>,
    pub arch: Option<Option<String>>,
    pub rootfs_provider: Option<Option<String>>,
    pub rootfs_provider_passthrough: Option<Option<String>>,
    pub cfs: Option<Option<CfsPatch>>,
}

fn set<T: Clone>(field: &mut T, v: &Option<T>) {
    if let Some(v) = v {
        *field = v.clone();
    }
}

impl BootSetPatch {
    fn apply(&self, bs: &mut BootSet) {
        set(&mut bs.name, &self.name);
        set(&mut bs.path, &self.path);
        set(&mut bs.kind, &self.kind);
        set(&mut bs.etag, &self.etag);
        set(&mut bs.kernel_parameters, &self.kernel_parameters);
        set(&mut bs.node_list, &self.node_list);
        set(&mut bs.node_groups, &self.node_groups);
        set(&mut bs.node_roles_groups, &self.node_roles_groups);
        set(&mut bs.arch, &self.arch);
        set(&mut bs.rootfs_provider, &self.rootfs_provider);
        set(
            &mut bs.rootfs_provider_passthrough,
            &self.rootfs_provider_passthrough,
        );
        merge_cfs(&mut bs.cfs, &self.cfs);
    }

    /// A boot set the patch adds: `path` and `type` are required, as in a PUT.
    fn to_new(&self) -> Result<BootSet, String> {
        if self.path.is_none() {
            return Err("missing field `path`".into());
        }
        if self.kind.is_none() {
            return Err("missing field `type`".into());
        }
        let mut bs = BootSet::default();
        self.apply(&mut bs);
        Ok(bs)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplatePatch {
    pub description: Option<Option<String>>,
    pub enable_cfs: Option<bool>,
    pub cfs: Option<Option<CfsPatch>>,
    pub boot_sets: Option<BTreeMap<String, BootSetPatch>>,
}

impl TemplatePatch {
    /// The stored template with the patch merged in (not yet sanitised).
    pub fn apply(&self, mut t: SessionTemplate) -> Result<SessionTemplate, String> {
        set(&mut t.description, &self.description);
        set(&mut t.enable_cfs, &self.enable_cfs);
        merge_cfs(&mut t.cfs, &self.cfs);
        for (key, p) in self.boot_sets.iter().flatten() {
            match t.boot_sets.get_mut(key) {
                Some(bs) => p.apply(bs),
                None => {
                    t.boot_sets.insert(key.clone(), p.to_new()?);
                }
            }
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_merges_like_bos() {
        let mut b1 = BootSet {
            path: "p1".into(),
            kind: "s3".into(),
            node_list: Some(vec!["x1".into()]),
            cfs: Some(Cfs {
                configuration: Some("bc".into()),
            }),
            ..Default::default()
        };
        let stored = SessionTemplate {
            name: "t".into(),
            tenant: None,
            description: Some("a".into()),
            enable_cfs: true,
            cfs: Some(Cfs {
                configuration: Some("c1".into()),
            }),
            boot_sets: [("b1".to_string(), b1.clone())].into(),
        };
        let patch = TemplatePatch {
            description: Some(Some("b".into())),
            boot_sets: Some(
                [
                    (
                        "b1".to_string(),
                        BootSetPatch {
                            kernel_parameters: Some(Some("quiet".into())),
                            cfs: Some(Some(CfsPatch {
                                configuration: Some(Some("bc2".into())),
                            })),
                            ..Default::default()
                        },
                    ),
                    (
                        "b2".to_string(),
                        BootSetPatch {
                            path: Some("p2".into()),
                            kind: Some("s3".into()),
                            node_groups: Some(Some(vec!["g".into()])),
                            ..Default::default()
                        },
                    ),
                ]
                .into(),
            ),
            ..Default::default()
        };
        let m = patch.apply(stored).unwrap();
        assert_eq!(m.description.as_deref(), Some("b"));
        assert_eq!(m.cfs.as_ref().unwrap().configuration.as_deref(), Some("c1"));
        b1.kernel_parameters = Some("quiet".into());
        b1.cfs = Some(Cfs {
            configuration: Some("bc2".into()),
        });
        assert_eq!(m.boot_sets["b1"], b1);
        assert_eq!(m.boot_sets["b2"].path, "p2");
        let lacking = TemplatePatch {
            boot_sets: Some([("b3".to_string(), BootSetPatch::default())].into()),
            ..Default::default()
        };
        assert_eq!(lacking.apply(m).unwrap_err(), "missing field `path`");
    }
}
