//! The built-in Configuration Framework Service (`/apis/cfs/v3`, reference
//! bss-hsm-cfs-pcs.md §4): components and configurations, with `configuration_status`
//! computed on every read exactly as CFS does (`model::cfs`).
//!
//! There is no batcher and no Ansible here: whoever configures a node (an Ansible run, or
//! the node itself) reports each layer with `state_append`, and BOS reads the status. So
//! that the built-in service needs no hardware-sync agent, the BOS handoff creates the
//! component of a node it hands over, and a node nobody created reads as a fresh component
//! (no desired configuration, `unconfigured`). Every write is compare-and-set, because
//! nodes report while BOS writes desired state; each write pokes the BOS operators that
//! read configuration status.

pub mod handoff;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::{Map, Value, json};

use crate::activation::Activator;
use crate::app::{AppError, AppResult};
use crate::model::cfs::{
    self, CfsComponent, CfsConfiguration, ComponentFilter, ComponentPatch, DEFAULT_PAGE_SIZE,
};
use crate::store::{Store, Versioned};

/// Compare-and-set rounds before a write gives up with a conflict.
const CAS_ROUNDS: usize = 16;
/// How long resolving a branch with `git ls-remote` may take.
const GIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Which optional parts of a component a read includes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Details {
    /// `state`: the layers applied.
    pub state: bool,
    /// `desired_state`: the desired configuration's layers, each with its status.
    pub config: bool,
}

/// A page request: at most `limit` items after the id (or name) `after_id`.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub limit: Option<usize>,
    pub after_id: Option<String>,
}

impl Page {
    fn limit(&self) -> AppResult<usize> {
        match self.limit {
            Some(0) => Err(AppError::bad("limit: must be at least 1")),
            Some(n) => Ok(n),
            None => Ok(DEFAULT_PAGE_SIZE),
        }
    }
}

/// What a node's configuration service says about it (for BOS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub desired_config: String,
    pub status: &'static str,
}

pub struct Cfs {
    store: Arc<dyn Store>,
    pokes: CfsPokes,
}

/// The BOS operators that read what this service says.
#[derive(Clone, Default)]
pub struct CfsPokes {
    /// Reads every node's configuration status: poked by every write.
    pub status: Activator,
    /// Compares BOS's desired configuration with CFS's: poked only when a component's
    /// desired configuration may have changed (node reports do not change it, and there
    /// are many of them in a boot storm).
    pub configuration: Activator,
}

fn parse_patch(v: Value, what: &str) -> AppResult<ComponentPatch> {
    let p: ComponentPatch = serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        if path.is_empty() || path == "." {
            AppError::bad(format!("{what}: {}", e.into_inner()))
        } else {
            AppError::bad(format!("{what}: {path}: {}", e.into_inner()))
        }
    })?;
    let problems = p.check();
    if !problems.is_empty() {
        return Err(AppError::bad(format!("{what}: {}", problems.join("; "))));
    }
    Ok(p)
}

/// CFS's `next`: the query that was asked, with the page size and the last key read, or
/// null on the last page.
fn next_page(query: Map<String, Value>, limit: usize, last: Option<&str>, more: bool) -> Value {
    match last {
        Some(last) if more => {
            let mut q = query;
            q.insert("limit".into(), json!(limit));
            q.insert("after_id".into(), json!(last));
            Value::Object(q)
        }
        _ => Value::Null,
    }
}

fn not_found(id: &str) -> AppError {
    AppError::not_found(format!("Component {id} could not be found"))
}

fn config_not_found(name: &str) -> AppError {
    AppError::not_found(format!("Configuration {name} could not be found"))
}

/// The comma-separated id list of a filter or query (`""` means none given).
pub fn split_ids(raw: &str) -> Option<Vec<String>> {
    let ids: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    (!ids.is_empty()).then_some(ids)
}

/// Parse a filter as the list query and the bulk PATCH `filters` give it.
pub fn filter_from(
    ids: Option<&str>,
    status: Option<&str>,
    enabled: Option<bool>,
    config_name: Option<&str>,
    tags: Option<&str>,
) -> AppResult<ComponentFilter> {
    let status = match status.and_then(split_ids) {
        None => None,
        Some(list) => {
            if let Some(bad) = list.iter().find(|s| !cfs::STATUSES.contains(&s.as_str())) {
                return Err(AppError::bad(format!(
                    "status: '{bad}' is not one of {}",
                    cfs::STATUSES.join(", ")
                )));
            }
            Some(list)
        }
    };
    Ok(ComponentFilter {
        ids: ids.and_then(split_ids),
        status,
        enabled,
        config_name: config_name.filter(|c| !c.is_empty()).map(String::from),
        tags: match tags {
            Some(t) => cfs::parse_tags(t).map_err(AppError::bad)?,
            None => Vec::new(),
        },
    })
}

impl Cfs {
    pub fn new(store: Arc<dyn Store>, pokes: CfsPokes) -> Cfs {
        Cfs { store, pokes }
    }

    /// After a write; `desired` when a desired configuration may have changed.
    fn poke(&self, desired: bool) {
        self.pokes.status.poke();
        if desired {
            self.pokes.configuration.poke();
        }
    }

    async fn configs(&self) -> AppResult<HashMap<String, CfsConfiguration>> {
        Ok(self
            .store
            .list_cfs_configurations()
            .await?
            .into_iter()
            .map(|c| (c.name.clone(), c))
            .collect())
    }

    fn render(c: &CfsComponent, configs: &HashMap<String, CfsConfiguration>, d: Details) -> Value {
        let (status, layers) = cfs::configuration_status(c, configs.get(&c.desired_config));
        let mut o = Map::new();
        o.insert("id".into(), json!(c.id));
        o.insert("desired_config".into(), json!(c.desired_config));
        o.insert("error_count".into(), json!(c.error_count));
        if let Some(r) = c.retry_policy {
            o.insert("retry_policy".into(), json!(r));
        }
        o.insert("enabled".into(), json!(c.enabled));
        o.insert("configuration_status".into(), json!(status));
        o.insert("tags".into(), json!(c.tags));
        if d.state {
            o.insert("state".into(), json!(c.state));
        }
        if d.config {
            o.insert("desired_state".into(), json!(layers));
        }
        Value::Object(o)
    }

    /// Read-modify-write `ids` with compare-and-set until it sticks. `f` says whether it
    /// changed the component (only those are written and returned). With `create`, ids
    /// without a component get a fresh one first.
    async fn update<F>(&self, ids: &[String], create: bool, mut f: F) -> AppResult<Vec<String>>
    where
        F: FnMut(&mut CfsComponent) -> bool,
    {
        let mut pending: Vec<String> = ids.to_vec();
        let mut done = Vec::new();
        let mut desired_changed = false;
        for _ in 0..CAS_ROUNDS {
            let current = self.store.get_cfs_components(&pending).await?;
            let found: HashSet<String> = current.iter().map(|v| v.value.id.clone()).collect();
            let mut batch = Vec::new();
            for v in current {
                let mut c = v.value.clone();
                if f(&mut c) {
                    desired_changed |= c.desired_config != v.value.desired_config;
                    batch.push(Versioned {
                        value: c,
                        generation: v.generation,
                    });
                }
            }
            if create {
                for id in pending.iter().filter(|id| !found.contains(*id)) {
                    let mut c = CfsComponent::new(id);
                    if f(&mut c) {
                        desired_changed |= !c.desired_config.is_empty();
                        batch.push(Versioned {
                            value: c,
                            generation: 0,
                        });
                    }
                }
            }
            if batch.is_empty() {
                pending.clear();
                break;
            }
            let conflicts = self.store.update_cfs_components(&batch).await?;
            let lost: HashSet<&String> = conflicts.iter().collect();
            done.extend(
                batch
                    .iter()
                    .map(|v| v.value.id.clone())
                    .filter(|id| !lost.contains(id)),
            );
            if conflicts.is_empty() {
                pending.clear();
                break;
            }
            pending = conflicts;
        }
        if !done.is_empty() {
            self.poke(desired_changed);
        }
        if !pending.is_empty() {
            return Err(AppError::Conflict(format!(
                "components {} kept changing while being written; try again",
                pending.join(", ")
            )));
        }
        done.sort();
        Ok(done)
    }

    // --- components

    pub async fn list_components(
        &self,
        f: &ComponentFilter,
        page: &Page,
        d: Details,
        query: Map<String, Value>,
    ) -> AppResult<Value> {
        let limit = page.limit()?;
        let configs = self.configs().await?;
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
            let (status, _) = cfs::configuration_status(&c, configs.get(&c.desired_config));
            if !f.matches_status(status) {
                continue;
            }
            if out.len() == limit {
                more = true;
                break;
            }
            out.push(c);
        }
        let next = next_page(query, limit, out.last().map(|c| c.id.as_str()), more);
        let comps: Vec<Value> = out.iter().map(|c| Self::render(c, &configs, d)).collect();
        Ok(json!({"components": comps, "next": next}))
    }

    pub async fn get_component(&self, id: &str, d: Details) -> AppResult<Value> {
        let Some(v) = self
            .store
            .get_cfs_components(&[id.to_string()])
            .await?
            .pop()
        else {
            return Err(not_found(id));
        };
        Ok(Self::render(&v.value, &self.configs().await?, d))
    }

    async fn full(&self, id: &str) -> AppResult<Value> {
        self.get_component(
            id,
            Details {
                state: true,
                config: false,
            },
        )
        .await
    }

    pub async fn put_component(&self, id: &str, body: Value) -> AppResult<Value> {
        let p = parse_patch(body, "component")?;
        let c = cfs::from_put(id, &p, Utc::now());
        self.store.put_cfs_components(&[c]).await?;
        self.poke(true);
        self.full(id).await
    }

    pub async fn patch_component(&self, id: &str, body: Value) -> AppResult<Value> {
        let p = parse_patch(body, "component")?;
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
        self.full(id).await
    }

    pub async fn delete_component(&self, id: &str) -> AppResult<()> {
        if self.store.delete_cfs_component(id).await? {
            self.poke(true);
            Ok(())
        } else {
            Err(not_found(id))
        }
    }

    /// `PUT /v3/components`: create or replace each; every item needs an id.
    pub async fn put_components(&self, body: Value) -> AppResult<Value> {
        let Value::Array(items) = body else {
            return Err(AppError::bad("expected a JSON array of components"));
        };
        let now = Utc::now();
        let mut comps = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let p = parse_patch(item, &format!("component {i}"))?;
            let Some(id) = p.id.clone().filter(|s| !s.is_empty()) else {
                return Err(AppError::bad(format!("component {i}: id is required")));
            };
            comps.push(cfs::from_put(&id, &p, now));
        }
        self.store.put_cfs_components(&comps).await?;
        self.poke(true);
        let ids: Vec<&str> = comps.iter().map(|c| c.id.as_str()).collect();
        Ok(json!({"component_ids": ids}))
    }

    /// `PATCH /v3/components`: a list of per-id patches (404 if any id is missing; nothing
    /// is written then), or `{patch, filters}` over existing components.
    pub async fn patch_components(&self, body: Value) -> AppResult<Value> {
        let now = Utc::now();
        match body {
            Value::Array(items) => {
                let mut patches: HashMap<String, ComponentPatch> = HashMap::new();
                for (i, item) in items.into_iter().enumerate() {
                    let p = parse_patch(item, &format!("component {i}"))?;
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
                let written = self
                    .update(&ids, false, |c| match patches.get(&c.id) {
                        Some(p) => {
                            cfs::apply_patch(c, p, now);
                            true
                        }
                        None => false,
                    })
                    .await?;
                Ok(json!({"component_ids": written}))
            }
            Value::Object(mut o) => {
                let (Some(patch), Some(filters)) = (o.remove("patch"), o.remove("filters")) else {
                    return Err(AppError::bad(
                        "a bulk PATCH object needs both 'patch' and 'filters'",
                    ));
                };
                if let Some(k) = o.keys().next() {
                    return Err(AppError::bad(format!("unknown field '{k}'")));
                }
                let mut p = parse_patch(patch, "patch")?;
                p.id = None;
                let Value::Object(fl) = filters else {
                    return Err(AppError::bad("filters: expected an object"));
                };
                let text = |k: &str| -> AppResult<Option<String>> {
                    match fl.get(k) {
                        None | Some(Value::Null) => Ok(None),
                        Some(Value::String(s)) => Ok(Some(s.clone())),
                        Some(_) => Err(AppError::bad(format!("filters.{k}: expected a string"))),
                    }
                };
                if let Some(k) = fl.keys().find(|k| {
                    !["ids", "status", "enabled", "config_name", "tags"].contains(&k.as_str())
                }) {
                    return Err(AppError::bad(format!("filters: unknown field '{k}'")));
                }
                let enabled = match fl.get("enabled") {
                    None | Some(Value::Null) => None,
                    Some(Value::Bool(b)) => Some(*b),
                    Some(_) => return Err(AppError::bad("filters.enabled: expected a boolean")),
                };
                let f = filter_from(
                    text("ids")?.as_deref(),
                    text("status")?.as_deref(),
                    enabled,
                    text("config_name")?.as_deref(),
                    text("tags")?.as_deref(),
                )?;
                let written = self.patch_where(&p, &f, false).await?;
                Ok(json!({"component_ids": written}))
            }
            _ => Err(AppError::bad(
                "expected a JSON array of component patches or an object with patch and filters",
            )),
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
        self.update(&ids, create, |c| {
            if !f.matches_fields(c) {
                return false;
            }
            if f.status.is_some() {
                let (s, _) = cfs::configuration_status(c, configs.get(&c.desired_config));
                if !f.matches_status(s) {
                    return false;
                }
            }
            cfs::apply_patch(c, p, now);
            true
        })
        .await
    }

    /// Desired configuration and status of each node; a node without a component reads as
    /// a fresh one.
    pub async fn views(&self, ids: &[String]) -> AppResult<HashMap<String, View>> {
        let configs = self.configs().await?;
        let mut found: HashMap<String, CfsComponent> = self
            .store
            .get_cfs_components(ids)
            .await?
            .into_iter()
            .map(|v| (v.value.id.clone(), v.value))
            .collect();
        Ok(ids
            .iter()
            .map(|id| {
                let c = found.remove(id).unwrap_or_else(|| CfsComponent::new(id));
                let (status, _) = cfs::configuration_status(&c, configs.get(&c.desired_config));
                (
                    id.clone(),
                    View {
                        desired_config: c.desired_config,
                        status,
                    },
                )
            })
            .collect())
    }

    // --- configurations

    pub async fn list_configurations(
        &self,
        in_use: Option<bool>,
        page: &Page,
        query: Map<String, Value>,
    ) -> AppResult<Value> {
        let limit = page.limit()?;
        let used: HashSet<String> = match in_use {
            None => HashSet::new(),
            Some(_) => self
                .store
                .list_cfs_components()
                .await?
                .into_iter()
                .map(|v| v.value.desired_config)
                .filter(|c| !c.is_empty())
                .collect(),
        };
        let mut out = Vec::new();
        let mut more = false;
        for c in self.store.list_cfs_configurations().await? {
            if page.after_id.as_ref().is_some_and(|a| c.name <= *a)
                || in_use.is_some_and(|u| used.contains(&c.name) != u)
            {
                continue;
            }
            if out.len() == limit {
                more = true;
                break;
            }
            out.push(c);
        }
        let next = next_page(query, limit, out.last().map(|c| c.name.as_str()), more);
        Ok(json!({"configurations": out, "next": next}))
    }

    pub async fn get_configuration(&self, name: &str) -> AppResult<CfsConfiguration> {
        self.store
            .get_cfs_configuration(name)
            .await?
            .ok_or_else(|| config_not_found(name))
    }

    pub async fn configuration_exists(&self, name: &str) -> AppResult<bool> {
        Ok(self.store.get_cfs_configuration(name).await?.is_some())
    }

    /// `PUT /v3/configurations/{name}`: validate every layer, resolve branches to commits
    /// (`git ls-remote`), optionally drop the branch names, stamp and store.
    pub async fn put_configuration(
        &self,
        name: &str,
        body: Value,
        drop_branches: bool,
    ) -> AppResult<CfsConfiguration> {
        if name.is_empty() || name.chars().count() > 127 || name.contains('/') {
            return Err(AppError::bad(format!(
                "configuration name '{name}' must be 1 to 127 characters without '/'"
            )));
        }
        let mut c: CfsConfiguration = serde_path_to_error::deserialize(body).map_err(|e| {
            let path = e.path().to_string();
            AppError::bad(format!("configuration: {path}: {}", e.into_inner()))
        })?;
        let mut problems = cfs::check_configuration(&c);
        for (i, l) in c.layers.iter().enumerate() {
            if let Some(s) = &l.source {
                problems.push(format!(
                    "layers[{i}].source: the source '{s}' does not exist (the built-in CFS keeps no sources; give clone_url)"
                ));
            }
        }
        if let Some(s) = c
            .additional_inventory
            .as_ref()
            .and_then(|i| i.source.as_ref())
        {
            problems.push(format!(
                "additional_inventory.source: the source '{s}' does not exist (the built-in CFS keeps no sources; give clone_url)"
            ));
        }
        if !problems.is_empty() {
            return Err(AppError::bad(format!(
                "configuration '{name}': {}",
                problems.join("; ")
            )));
        }
        c.name = name.to_string();
        resolve_branches(&mut c).await?;
        if drop_branches {
            for l in &mut c.layers {
                l.branch = None;
            }
            if let Some(i) = &mut c.additional_inventory {
                i.branch = None;
            }
        }
        c.last_updated = cfs::timestamp(Utc::now());
        self.store.put_cfs_configuration(&c).await?;
        self.poke(false);
        Ok(c)
    }

    /// `PATCH /v3/configurations/{name}`: resolve the branches again (no body).
    pub async fn patch_configuration(&self, name: &str) -> AppResult<CfsConfiguration> {
        let mut c = self.get_configuration(name).await?;
        resolve_branches(&mut c).await?;
        c.last_updated = cfs::timestamp(Utc::now());
        self.store.put_cfs_configuration(&c).await?;
        self.poke(false);
        Ok(c)
    }

    /// 400 while any component wants it, as CFS.
    pub async fn delete_configuration(&self, name: &str) -> AppResult<()> {
        if self.store.get_cfs_configuration(name).await?.is_none() {
            return Err(config_not_found(name));
        }
        let users: Vec<String> = self
            .store
            .list_cfs_components()
            .await?
            .into_iter()
            .filter(|v| v.value.desired_config == name)
            .map(|v| v.value.id)
            .collect();
        if !users.is_empty() {
            return Err(AppError::bad(format!(
                "Configuration {name} is in use: it is the desired configuration of {}",
                users.join(", ")
            )));
        }
        self.store.delete_cfs_configuration(name).await?;
        Ok(())
    }
}

async fn resolve_branches(c: &mut CfsConfiguration) -> AppResult<()> {
    for (i, l) in c.layers.iter_mut().enumerate() {
        if let Some(b) = &l.branch {
            l.commit = Some(resolve(&format!("layers[{i}]"), l.clone_url.as_deref(), b).await?);
        }
    }
    if let Some(inv) = &mut c.additional_inventory
        && let Some(b) = &inv.branch
    {
        inv.commit = Some(resolve("additional_inventory", inv.clone_url.as_deref(), b).await?);
    }
    Ok(())
}

async fn resolve(field: &str, url: Option<&str>, branch: &str) -> AppResult<String> {
    let url = url.unwrap_or_default();
    ls_remote(url, branch).await.map_err(|e| {
        AppError::bad(format!(
            "{field}.branch: cannot resolve branch '{branch}' of {url}: {e}"
        ))
    })
}

/// The commit at the tip of `branch` in the repository at `url`.
async fn ls_remote(url: &str, branch: &str) -> Result<String, String> {
    let run = tokio::process::Command::new("git")
        .args([
            "ls-remote",
            "--heads",
            "--",
            url,
            &format!("refs/heads/{branch}"),
        ])
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(GIT_TIMEOUT, run)
        .await
        .map_err(|_| format!("git ls-remote took longer than {GIT_TIMEOUT:?}"))?
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("git ls-remote failed: {}", err.trim()));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .find(|(_, r)| *r == format!("refs/heads/{branch}"))
        .map(|(c, _)| c.to_string())
        .ok_or_else(|| "no such branch".to_string())
}
