//! Built-in CFS components: reads with their computed status, PUT and PATCH (one, a list,
//! or one patch over a filter), delete.

use std::collections::{HashMap, HashSet};

use chrono::Utc;

use super::{Cfs, ComponentView, Listing, Page, checked, not_found};
use crate::app::{AppError, AppResult};
use crate::model::cfs::{self, CfsComponent, ComponentFilter, ComponentPatch};

/// A bulk PATCH: per-id patches, or one patch over the components a filter selects.
pub enum BulkPatch {
    List(Vec<ComponentPatch>),
    Filter(Box<ComponentPatch>, ComponentFilter),
}

impl Cfs {
    pub async fn list_components(
        &self,
        f: &ComponentFilter,
        page: &Page,
    ) -> AppResult<Listing<ComponentView>> {
        let limit = page.limit()?;
        let configs = self.configs().await?;
        let retry_default = self.options.get().default_batcher_retry_policy;
        let all = match &f.ids {
            Some(ids) => self.store.get_cfs_components(ids).await?,
            None => self.store.list_cfs_components().await?,
        };
        let mut out = Vec::new();
        let mut more = false;
        for v in all {
            let c = v.value;
            if page.after_id.as_ref().is_some_and(|a| c.id <= *a) || !f.matches_fields(&c) {
                continue;
            }
            let view = Self::view(retry_default, c, &configs);
            if !f.matches_status(view.status) {
                continue;
            }
            if out.len() == limit {
                more = true;
                break;
            }
            out.push(view);
        }
        let next_after = more
            .then(|| out.last().map(|v: &ComponentView| v.component.id.clone()))
            .flatten();
        Ok(Listing {
            items: out,
            limit,
            next_after,
        })
    }

    pub async fn get_component(&self, id: &str) -> AppResult<ComponentView> {
        let Some(v) = self
            .store
            .get_cfs_components(&[id.to_string()])
            .await?
            .pop()
        else {
            return Err(not_found(id));
        };
        let retry_default = self.options.get().default_batcher_retry_policy;
        Ok(Self::view(retry_default, v.value, &self.configs().await?))
    }

    pub async fn put_component(&self, id: &str, p: ComponentPatch) -> AppResult<ComponentView> {
        let p = checked(p, "component")?;
        let c = cfs::from_put(id, &p, Utc::now());
        self.store.put_cfs_components(&[c]).await?;
        self.poke(true);
        self.get_component(id).await
    }

    pub async fn patch_component(&self, id: &str, p: ComponentPatch) -> AppResult<ComponentView> {
        let p = checked(p, "component")?;
        let now = Utc::now();
        let written = self
            .update(&[id.to_string()], false, |c| {
                cfs::apply_patch(c, &p, now);
                true
            })
            .await?;
        if written.is_empty() {
            return Err(not_found(id));
        }
        self.get_component(id).await
    }

    pub async fn delete_component(&self, id: &str) -> AppResult<()> {
        if self.store.delete_cfs_component(id).await? {
            self.poke(true);
            Ok(())
        } else {
            Err(not_found(id))
        }
    }

    /// `PUT /v3/components`: create or replace each; every item needs an id. Returns the
    /// ids written.
    pub async fn put_components(&self, items: Vec<ComponentPatch>) -> AppResult<Vec<String>> {
        let now = Utc::now();
        let mut comps = Vec::new();
        for (i, p) in items.into_iter().enumerate() {
            let p = checked(p, &format!("component {i}"))?;
            let Some(id) = p.id.clone().filter(|s| !s.is_empty()) else {
                return Err(AppError::bad(format!("component {i}: id is required")));
            };
            comps.push(cfs::from_put(&id, &p, now));
        }
        self.store.put_cfs_components(&comps).await?;
        self.poke(true);
        Ok(comps.into_iter().map(|c| c.id).collect())
    }

    /// `PATCH /v3/components`: a list of per-id patches (404 if any id is missing; nothing
    /// is written then), or one patch over a filter. Returns the ids written.
    pub async fn patch_components(&self, bulk: BulkPatch) -> AppResult<Vec<String>> {
        let now = Utc::now();
        match bulk {
            BulkPatch::List(items) => {
                let mut patches: HashMap<String, ComponentPatch> = HashMap::new();
                for (i, p) in items.into_iter().enumerate() {
                    let p = checked(p, &format!("component {i}"))?;
                    let Some(id) = p.id.clone().filter(|s| !s.is_empty()) else {
                        return Err(AppError::bad(format!("component {i}: id is required")));
                    };
                    patches.insert(id, p);
                }
                let ids: Vec<String> = patches.keys().cloned().collect();
                let existing: HashSet<String> = self
                    .store
                    .get_cfs_components(&ids)
                    .await?
                    .into_iter()
                    .map(|v| v.value.id)
                    .collect();
                let mut missing: Vec<&String> =
                    ids.iter().filter(|i| !existing.contains(*i)).collect();
                missing.sort();
                if let Some(m) = missing.first() {
                    return Err(not_found(m));
                }
                self.update(&ids, false, |c| match patches.get(&c.id) {
                    Some(p) => {
                        cfs::apply_patch(c, p, now);
                        true
                    }
                    None => false,
                })
                .await
            }
            BulkPatch::Filter(p, f) => {
                let mut p = checked(*p, "patch")?;
                p.id = None;
                self.patch_where(&p, &f, false).await
            }
        }
    }

    /// Apply `p` to the components `f` selects (all of them if it selects nothing in
    /// particular). With `create`, ids named by the filter that have no component get one
    /// (what CFS's hardware sync would have made).
    pub async fn patch_where(
        &self,
        p: &ComponentPatch,
        f: &ComponentFilter,
        create: bool,
    ) -> AppResult<Vec<String>> {
        let ids: Vec<String> = match &f.ids {
            Some(ids) => ids.clone(),
            None => self
                .store
                .list_cfs_components()
                .await?
                .into_iter()
                .map(|v| v.value.id)
                .collect(),
        };
        let configs = if f.status.is_some() {
            self.configs().await?
        } else {
            HashMap::new()
        };
        let now = Utc::now();
        let retry_default = self.options.get().default_batcher_retry_policy;
        self.update(&ids, create, |c: &mut CfsComponent| {
            if !f.matches_fields(c) {
                return false;
            }
            if f.status.is_some() {
                let (s, _) = Self::status(retry_default, c, configs.get(&c.desired_config));
                if !f.matches_status(s) {
                    return false;
                }
            }
            cfs::apply_patch(c, p, now);
            true
        })
        .await
    }
}
