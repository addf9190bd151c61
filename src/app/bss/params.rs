//! Boot parameters: GET, PUT, POST, PATCH and DELETE of `/bootparameters`.
//!
//! Write semantics follow hms-bss (docs/bss.md, "Write semantics"): PUT replaces each named
//! host's record and mints one fresh referral token for the request; POST does the same but
//! refuses hosts that already have a record; PATCH merges into existing records and keeps their
//! token; DELETE removes hosts, or an image (stripping it from every host). MACs and NIDs that
//! inventory knows are stored under the node's xname, others under the MAC or `nid<N>`. Unlike
//! upstream, `hosts`, `macs` and `nids` may be combined in one request (upstream silently uses
//! only the first family present). Writes are serialised (`bss_writes`), because each checks the
//! read model before it writes. With several replicas (`cluster`) the read model can be a
//! moment behind another replica's write, so POST's "already exists" is also the store's own
//! check (`BootWrite::create_only`, in the write's transaction); a PATCH of one host on two
//! replicas at the same instant is last-writer-wins.

use std::collections::BTreeSet;

use crate::app::boot_index::BootIndex;
use crate::app::{App, AppError, AppResult};
use crate::model::{
    BootParams, HostKey, ImageKind, ImageParams, Mac, Xname,
    bootparams::{check_params, check_path},
};
use crate::store::BootWrite;

/// A BootParams request body, as the API decoded it (selectors still unresolved).
#[derive(Debug, Clone, Default)]
pub struct BootParamsRequest {
    pub hosts: Vec<String>,
    pub macs: Vec<String>,
    pub nids: Vec<i64>,
    pub params: String,
    pub kernel: String,
    pub initrd: String,
    pub cloud_init: Option<serde_json::Value>,
}

/// One entry of a GET /bootparameters answer.
#[derive(Debug, Clone)]
pub enum BootParamsEntry {
    Host(HostKey, BootParams),
    Image(ImageParams),
}

#[derive(PartialEq)]
enum Selection {
    Hosts(Vec<HostKey>),
    Image(ImageKind, String),
}

impl App {
    fn check_values(req: &BootParamsRequest) -> AppResult<()> {
        check_params("params", &req.params).map_err(|e| AppError::bad(e.to_string()))?;
        check_path("kernel", &req.kernel).map_err(|e| AppError::bad(e.to_string()))?;
        check_path("initrd", &req.initrd).map_err(|e| AppError::bad(e.to_string()))?;
        // s3:// artifacts are served by the appliance: they must be references it can
        // resolve (no '..', no absolute keys), in kernel, initrd and root= parameters alike.
        for (field, v) in [("kernel", &req.kernel), ("initrd", &req.initrd)] {
            if v.starts_with("s3://") {
                crate::artifacts::ObjectRef::parse(v)
                    .map_err(|e| AppError::bad(format!("invalid {field}: {e}")))?;
            }
        }
        for word in req.params.split_whitespace() {
            if let Some(at) = word.find("s3://") {
                let raw = word[at..].split(',').next().unwrap_or_default();
                crate::artifacts::ObjectRef::parse(raw)
                    .map_err(|e| AppError::bad(format!("invalid params: {e}")))?;
            }
        }
        if let Some(ci) = &req.cloud_init
            && !ci.is_object()
            && !ci.is_null()
        {
            return Err(AppError::bad("cloud-init must be a JSON object"));
        }
        Ok(())
    }

    /// Resolve the request's hosts, MACs and NIDs to storage keys, or name the image it is about.
    async fn select(&self, req: &BootParamsRequest) -> AppResult<Selection> {
        let idx = self.boot.get().await?;
        let mut keys = BTreeSet::new();
        for h in &req.hosts {
            keys.insert(HostKey::parse_host(h).map_err(AppError::BadRequest)?);
        }
        for m in &req.macs {
            let mac = Mac::parse(m).map_err(|e| AppError::bad(e.to_string()))?;
            keys.insert(match idx.by_mac.get(&mac) {
                Some(x) => HostKey::Node(x.clone()),
                None => HostKey::Mac(mac),
            });
        }
        for n in &req.nids {
            if *n < 0 {
                return Err(AppError::bad(format!("Bad Request - Invalid nid '{n}'")));
            }
            keys.insert(match idx.by_nid.get(n) {
                Some(x) => HostKey::Node(x.clone()),
                None => HostKey::Nid(*n),
            });
        }
        if !keys.is_empty() {
            return Ok(Selection::Hosts(keys.into_iter().collect()));
        }
        if !req.kernel.is_empty() {
            return Ok(Selection::Image(ImageKind::Kernel, req.kernel.clone()));
        }
        if !req.initrd.is_empty() {
            return Ok(Selection::Image(ImageKind::Initrd, req.initrd.clone()));
        }
        Err(AppError::bad(
            "Bad Request: the request names no hosts, macs, nids, kernel or initrd",
        ))
    }

    /// The one path of every write: validate, then (one writer at a time) resolve the
    /// selection against the current read model, let `plan` turn it into a store write,
    /// write it and drop the read model.
    async fn write_selected<T>(
        &self,
        req: BootParamsRequest,
        plan: impl FnOnce(BootParamsRequest, Selection, &BootIndex) -> AppResult<(BootWrite, T)>,
    ) -> AppResult<T> {
        Self::check_values(&req)?;
        let _serial = self.bss_writes.lock().await;
        let sel = self.select(&req).await?;
        let idx = self.boot.get().await?;
        let (write, out) = plan(req, sel, &idx)?;
        // The read model may be a moment behind another replica's write; a create-only
        // write is checked again by the store itself.
        self.store.write_boot(&write).await.map_err(|e| match e {
            crate::store::StoreError::Conflict { what } if write.create_only => {
                AppError::bad(format!("Already exists: {what}"))
            }
            e => e.into(),
        })?;
        self.changed();
        Ok(out)
    }

    /// PUT (create or replace) or POST (create only). Returns the referral token minted for
    /// host writes; image-param writes get none.
    pub async fn write_boot_params(
        &self,
        req: BootParamsRequest,
        create_only: bool,
    ) -> AppResult<Option<String>> {
        self.write_selected(req, |req, sel, idx| {
            let now = chrono::Utc::now();
            let (write, token) = match sel {
                Selection::Hosts(keys) => {
                    if create_only {
                        let existing = keys_where(&keys, |k| idx.params_for(k).is_some());
                        if !existing.is_empty() {
                            return Err(AppError::bad(format!(
                                "Already exists: {}",
                                existing.join(", ")
                            )));
                        }
                    }
                    let token = uuid::Uuid::new_v4().to_string();
                    let bp = BootParams {
                        params: req.params,
                        kernel: req.kernel,
                        initrd: req.initrd,
                        cloud_init: req.cloud_init.filter(|c| !c.is_null()),
                        referral_token: Some(token.clone()),
                        updated: now,
                    };
                    (
                        BootWrite {
                            create_only,
                            put_hosts: keys.into_iter().map(|k| (k, bp.clone())).collect(),
                            ..Default::default()
                        },
                        Some(token),
                    )
                }
                Selection::Image(kind, path) => {
                    if create_only && idx.images.contains_key(&(kind, path.clone())) {
                        return Err(AppError::bad(format!(
                            "Already exists: {} {path}",
                            kind.as_str()
                        )));
                    }
                    (
                        BootWrite {
                            create_only,
                            put_images: vec![ImageParams {
                                kind,
                                path,
                                params: req.params,
                            }],
                            ..Default::default()
                        },
                        None,
                    )
                }
            };
            Ok((write, token))
        })
        .await
    }

    /// PATCH: merge into existing records; every named host must exist.
    pub async fn patch_boot_params(&self, req: BootParamsRequest) -> AppResult<()> {
        self.write_selected(req, |req, sel, idx| {
            let write = match sel {
                Selection::Hosts(keys) => {
                    let missing = keys_where(&keys, |k| idx.params_for(k).is_none());
                    if !missing.is_empty() {
                        return Err(AppError::not_found(format!(
                            "Not Found: no boot parameters for {}",
                            missing.join(", ")
                        )));
                    }
                    let put_hosts = keys
                        .into_iter()
                        .map(|k| {
                            let mut bp = idx.params_for(&k).expect("checked above").clone();
                            if !req.params.is_empty() {
                                bp.params = req.params.clone();
                            }
                            if !req.kernel.is_empty() {
                                bp.kernel = req.kernel.clone();
                            }
                            if !req.initrd.is_empty() {
                                bp.initrd = req.initrd.clone();
                            }
                            if let Some(patch) = &req.cloud_init {
                                let mut ci = bp
                                    .cloud_init
                                    .take()
                                    .unwrap_or_else(|| serde_json::json!({}));
                                json_merge_patch(&mut ci, patch);
                                bp.cloud_init = Some(ci);
                            }
                            bp.updated = chrono::Utc::now();
                            (k, bp)
                        })
                        .collect();
                    BootWrite {
                        put_hosts,
                        ..Default::default()
                    }
                }
                Selection::Image(kind, path) => {
                    if !idx.images.contains_key(&(kind, path.clone())) {
                        return Err(AppError::not_found(format!(
                            "Not Found: no params for {} {path}",
                            kind.as_str()
                        )));
                    }
                    BootWrite {
                        put_images: vec![ImageParams {
                            kind,
                            path,
                            params: req.params,
                        }],
                        ..Default::default()
                    }
                }
            };
            Ok((write, ()))
        })
        .await
    }

    /// DELETE: hosts (each must exist), or an image, which is also removed from every host
    /// record that uses it.
    pub async fn delete_boot_params(&self, req: BootParamsRequest) -> AppResult<()> {
        self.write_selected(req, |_, sel, idx| {
            let write = match sel {
                Selection::Hosts(keys) => {
                    let missing = keys_where(&keys, |k| idx.params_for(k).is_none());
                    if !missing.is_empty() {
                        return Err(AppError::bad(format!(
                            "Bad Request: no boot parameters exist for {}",
                            missing.join(", ")
                        )));
                    }
                    BootWrite {
                        delete_hosts: keys,
                        ..Default::default()
                    }
                }
                Selection::Image(kind, path) => {
                    let mut put_hosts = Vec::new();
                    for (key, bp) in &idx.params {
                        let uses = match kind {
                            ImageKind::Kernel => bp.kernel == path,
                            ImageKind::Initrd => bp.initrd == path,
                        };
                        if uses {
                            let mut bp = bp.clone();
                            match kind {
                                ImageKind::Kernel => bp.kernel.clear(),
                                ImageKind::Initrd => bp.initrd.clear(),
                            }
                            put_hosts.push((HostKey::from_key(key), bp));
                        }
                    }
                    if put_hosts.is_empty() && !idx.images.contains_key(&(kind, path.clone())) {
                        return Err(AppError::bad(format!(
                            "Bad Request: no boot parameters use {} {path}",
                            kind.as_str()
                        )));
                    }
                    BootWrite {
                        put_hosts,
                        delete_images: vec![(kind, path)],
                        ..Default::default()
                    }
                }
            };
            Ok((write, ()))
        })
        .await
    }

    /// GET /bootparameters: everything, or the records the selectors name.
    pub async fn get_boot_params(
        &self,
        names: &[String],
        macs: &[String],
        nids: &[i64],
    ) -> AppResult<Vec<BootParamsEntry>> {
        let idx = self.boot.get().await?;
        if names.is_empty() && macs.is_empty() && nids.is_empty() {
            let mut out: Vec<BootParamsEntry> = idx
                .images
                .iter()
                .map(|((kind, path), params)| {
                    BootParamsEntry::Image(ImageParams {
                        kind: *kind,
                        path: path.clone(),
                        params: params.clone(),
                    })
                })
                .collect();
            let mut hosts: Vec<BootParamsEntry> = idx
                .params
                .iter()
                .map(|(k, bp)| BootParamsEntry::Host(HostKey::from_key(k), bp.clone()))
                .collect();
            out.sort_by_key(entry_sort_key);
            hosts.sort_by_key(entry_sort_key);
            out.extend(hosts);
            return Ok(out);
        }
        let mut keys: BTreeSet<String> = BTreeSet::new();
        for n in names {
            let k = match Xname::parse(n) {
                Ok(x) => x.to_string(),
                Err(_) => n.trim().to_string(),
            };
            keys.insert(k);
        }
        for m in macs {
            let mac = Mac::parse(m).map_err(|e| AppError::bad(e.to_string()))?;
            keys.insert(mac.to_string());
            if let Some(x) = idx.by_mac.get(&mac) {
                keys.insert(x.to_string());
            }
        }
        for n in nids {
            keys.insert(format!("nid{n}"));
            if let Some(x) = idx.by_nid.get(n) {
                keys.insert(x.to_string());
            }
        }
        let found: Vec<BootParamsEntry> = keys
            .iter()
            .filter_map(|k| {
                idx.params
                    .get(k)
                    .map(|bp| BootParamsEntry::Host(HostKey::from_key(k), bp.clone()))
            })
            .collect();
        if found.is_empty() {
            let mut what = vec![];
            if !names.is_empty() {
                what.push("Hosts");
            }
            if !macs.is_empty() {
                what.push("MACs");
            }
            if !nids.is_empty() {
                what.push("NIDs");
            }
            return Err(AppError::not_found(format!(
                "Cannot find boot parameters for requested {}",
                what.join(", ")
            )));
        }
        Ok(found)
    }
}

/// The storage keys of the hosts for which `pred` holds.
fn keys_where(keys: &[HostKey], pred: impl Fn(&HostKey) -> bool) -> Vec<String> {
    keys.iter().filter(|k| pred(k)).map(HostKey::key).collect()
}

fn entry_sort_key(e: &BootParamsEntry) -> (u8, String) {
    match e {
        BootParamsEntry::Image(i) => (0, format!("{}{}", i.kind.as_str(), i.path)),
        BootParamsEntry::Host(k, _) => (1, k.key()),
    }
}

/// RFC 7386 JSON merge patch.
fn json_merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    json_merge_patch(t.entry(k.clone()).or_insert(serde_json::Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch() {
        let mut t = serde_json::json!({"meta-data": {"a": 1, "b": 2}, "x": 1});
        json_merge_patch(
            &mut t,
            &serde_json::json!({"meta-data": {"b": null, "c": 3}, "x": [1]}),
        );
        assert_eq!(
            t,
            serde_json::json!({"meta-data": {"a": 1, "c": 3}, "x": [1]})
        );
    }
}
