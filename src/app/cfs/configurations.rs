//! Built-in CFS configurations: list (with `in_use`), get, PUT (validated, branches
//! resolved to commits with `git ls-remote`), PATCH (branches resolved again), delete
//! (refused while a component wants it).
//!
//! Branches are resolved by running `git` rather than through a git library: one
//! `ls-remote` per branch is all that is needed, and `git` brings the site's credential
//! helpers, proxies and SSH configuration with it.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;

use super::{Cfs, Listing, Page, config_not_found};
use crate::app::{AppError, AppResult};
use crate::model::cfs::{self, CfsConfiguration};

/// How long resolving a branch with `git ls-remote` may take.
const GIT_TIMEOUT: Duration = Duration::from_secs(30);

impl Cfs {
    pub async fn list_configurations(
        &self,
        in_use: Option<bool>,
        page: &Page,
    ) -> AppResult<Listing<CfsConfiguration>> {
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
        let next_after = more
            .then(|| out.last().map(|c: &CfsConfiguration| c.name.clone()))
            .flatten();
        Ok(Listing {
            items: out,
            limit,
            next_after,
        })
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
        mut c: CfsConfiguration,
        drop_branches: bool,
    ) -> AppResult<CfsConfiguration> {
        if name.is_empty() || name.chars().count() > 127 || name.contains('/') {
            return Err(AppError::bad(format!(
                "configuration name '{name}' must be 1 to 127 characters without '/'"
            )));
        }
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
