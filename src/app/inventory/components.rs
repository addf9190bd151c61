//! Components: HSM's `State/Components` and the lock view of them.
//!
//! State, Flag and the hardware description (Subtype, NetType, Arch, Class) belong to
//! whoever reported them, so a POST of a known component without `Force` keeps them;
//! `Locked` and `ReservationDisabled` are kept whatever a request says. Every write checks
//! that NIDs stay unique across the whole inventory before anything is stored.

use std::collections::{HashMap, HashSet};

use super::{any_eq, join_ids};
use crate::app::{App, AppError, AppResult};
use crate::model::{Component, GroupKind, Xname};

/// HSM component filters: OR within a field, AND across fields. Values are canonical.
#[derive(Debug, Default, Clone)]
pub struct ComponentFilter {
    pub ids: Vec<Xname>,
    pub types: Vec<String>,
    pub states: Vec<String>,
    pub flags: Vec<String>,
    pub roles: Vec<String>,
    pub subroles: Vec<String>,
    pub enabled: Vec<bool>,
    pub software_status: Vec<String>,
    pub subtypes: Vec<String>,
    pub arches: Vec<String>,
    pub classes: Vec<String>,
    pub nids: Vec<i64>,
    pub nid_start: Option<i64>,
    pub nid_end: Option<i64>,
    pub groups: Vec<String>,
    pub partitions: Vec<String>,
}

impl ComponentFilter {
    fn matches(
        &self,
        c: &Component,
        members: &HashMap<(GroupKind, String), HashSet<Xname>>,
    ) -> bool {
        let in_any = |kind: GroupKind, labels: &[String]| {
            labels.is_empty()
                || labels.iter().any(|l| {
                    members
                        .get(&(kind, l.to_ascii_lowercase()))
                        .is_some_and(|m| m.contains(&c.id))
                })
        };
        (self.ids.is_empty() || self.ids.contains(&c.id))
            && any_eq(&self.types, Some(&c.kind))
            && any_eq(&self.states, Some(&c.state))
            && any_eq(&self.flags, Some(&c.flag))
            && any_eq(&self.roles, c.role.as_deref())
            && any_eq(&self.subroles, c.subrole.as_deref())
            && (self.enabled.is_empty() || self.enabled.contains(&c.enabled))
            && any_eq(&self.software_status, c.software_status.as_deref())
            && any_eq(&self.subtypes, c.subtype.as_deref())
            && any_eq(&self.arches, c.arch.as_deref())
            && any_eq(&self.classes, c.class.as_deref())
            && (self.nids.is_empty() || c.nid.is_some_and(|n| self.nids.contains(&n)))
            && self.nid_start.is_none_or(|s| c.nid.is_some_and(|n| n >= s))
            && self.nid_end.is_none_or(|e| c.nid.is_some_and(|n| n <= e))
            && in_any(GroupKind::Group, &self.groups)
            && in_any(GroupKind::Partition, &self.partitions)
    }

    fn uses_membership(&self) -> bool {
        !self.groups.is_empty() || !self.partitions.is_empty()
    }
}

/// The single-field changes HSM offers as PATCH (one component or bulk).
#[derive(Debug, Clone)]
pub enum ComponentPatch {
    StateData {
        state: String,
        flag: Option<String>,
        force: bool,
    },
    Flag(String),
    Enabled(bool),
    SoftwareStatus(String),
    Role {
        role: String,
        subrole: Option<String>,
    },
    Nid(i64),
}

#[derive(Debug, Clone)]
pub struct LockStatus {
    pub id: Xname,
    pub locked: bool,
    pub reserved: bool,
    pub reservation_disabled: bool,
}

impl App {
    pub async fn list_components(&self, f: &ComponentFilter) -> AppResult<Vec<Component>> {
        let members = if f.uses_membership() {
            self.memberships().await?
        } else {
            HashMap::new()
        };
        let all = if f.ids.len() == 1 {
            self.store
                .get_component(&f.ids[0])
                .await?
                .into_iter()
                .collect()
        } else {
            self.store.list_components().await?
        };
        Ok(all.into_iter().filter(|c| f.matches(c, &members)).collect())
    }

    pub async fn get_component(&self, id: &Xname) -> AppResult<Component> {
        self.store
            .get_component(id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("no such component: {id}")))
    }

    pub async fn get_component_by_nid(&self, nid: i64) -> AppResult<Component> {
        self.store
            .list_components()
            .await?
            .into_iter()
            .find(|c| c.nid == Some(nid))
            .ok_or_else(|| AppError::not_found(format!("no component has NID {nid}")))
    }

    /// Refuse a set of final component states in which two components share a NID.
    async fn check_unique_nids(&self, changed: &[Component]) -> AppResult<()> {
        let mut owner: HashMap<i64, Xname> = HashMap::new();
        let changed_ids: HashSet<&Xname> = changed.iter().map(|c| &c.id).collect();
        for c in self.store.list_components().await? {
            if let (false, Some(n)) = (changed_ids.contains(&c.id), c.nid) {
                owner.insert(n, c.id);
            }
        }
        for c in changed {
            if let Some(n) = c.nid
                && let Some(other) = owner.insert(n, c.id.clone())
                && other != c.id
            {
                return Err(AppError::Conflict(format!(
                    "NID {n} is already used by {other}; NIDs must be unique ({} asked for it)",
                    c.id
                )));
            }
        }
        Ok(())
    }

    /// Create or update components (HSM POST /State/Components and PUT one).
    pub async fn upsert_components(&self, new: Vec<Component>, force: bool) -> AppResult<()> {
        let mut seen = HashSet::new();
        if let Some(dup) = new.iter().find(|c| !seen.insert(c.id.clone())) {
            return Err(AppError::bad(format!(
                "component {} appears more than once in the request",
                dup.id
            )));
        }
        let existing: HashMap<Xname, Component> = self
            .store
            .list_components()
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        let merged: Vec<Component> = new
            .into_iter()
            .map(|mut c| {
                if let (false, Some(old)) = (force, existing.get(&c.id)) {
                    c.state = old.state.clone();
                    c.flag = old.flag.clone();
                    c.subtype = old.subtype.clone();
                    c.net_type = old.net_type.clone();
                    c.arch = old.arch.clone();
                    c.class = old.class.clone();
                }
                if let Some(old) = existing.get(&c.id) {
                    c.locked = old.locked;
                    c.reservation_disabled = old.reservation_disabled;
                }
                c
            })
            .collect();
        self.check_unique_nids(&merged).await?;
        self.store.put_components(&merged).await?;
        self.changed();
        Ok(())
    }

    pub async fn patch_components(&self, ids: &[Xname], patch: &ComponentPatch) -> AppResult<()> {
        if ids.is_empty() {
            return Err(AppError::bad("Missing IDs: no component IDs given"));
        }
        let mut out = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match self.store.get_component(id).await? {
                Some(c) => out.push(c),
                None => missing.push(id.clone()),
            }
        }
        if !missing.is_empty() {
            return Err(AppError::not_found(format!(
                "no such component: {}",
                join_ids(&missing)
            )));
        }
        if let (ComponentPatch::Nid(_), true) = (patch, ids.len() > 1) {
            return Err(AppError::bad(
                "one NID cannot be given to several components",
            ));
        }
        for c in &mut out {
            match patch {
                ComponentPatch::StateData { state, flag, .. } => {
                    c.state = state.clone();
                    c.flag = flag.clone().unwrap_or_else(|| "OK".into());
                }
                ComponentPatch::Flag(f) => c.flag = f.clone(),
                ComponentPatch::Enabled(e) => c.enabled = *e,
                ComponentPatch::SoftwareStatus(s) => c.software_status = Some(s.clone()),
                ComponentPatch::Role { role, subrole } => {
                    c.role = Some(role.clone());
                    c.subrole = subrole.clone();
                }
                ComponentPatch::Nid(n) => c.nid = Some(*n),
            }
        }
        self.check_unique_nids(&out).await?;
        self.store.put_components(&out).await?;
        self.changed();
        Ok(())
    }

    pub async fn delete_component(&self, id: &Xname) -> AppResult<()> {
        if !self.store.delete_component(id).await? {
            return Err(AppError::not_found(format!("no such component: {id}")));
        }
        self.changed();
        Ok(())
    }

    pub async fn delete_all_components(&self) -> AppResult<u64> {
        let n = self.store.delete_all_components().await?;
        if n == 0 {
            return Err(AppError::not_found("there are no components to delete"));
        }
        self.changed();
        Ok(n)
    }

    /// POST /State/Components/Query: the filter applied to the given IDs only.
    pub async fn query_components(&self, f: &ComponentFilter) -> AppResult<Vec<Component>> {
        if f.ids.is_empty() {
            return Err(AppError::bad(
                "Missing IDs: ComponentIDs must name at least one component",
            ));
        }
        self.list_components(f).await
    }

    pub async fn lock_status(&self, f: &ComponentFilter) -> AppResult<Vec<LockStatus>> {
        Ok(self
            .list_components(f)
            .await?
            .into_iter()
            .map(|c| LockStatus {
                id: c.id,
                locked: c.locked,
                reserved: false,
                reservation_disabled: c.reservation_disabled,
            })
            .collect())
    }
}
