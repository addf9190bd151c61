//! Groups and partitions: named sets of known components, one implementation for both.
//!
//! [`GroupKind`] says which membership rule applies: a component is in at most one
//! partition, and in at most one of the groups that share an `exclusiveGroup`. Labels,
//! tags and exclusive-group names are HSM resource names, normalised to lower case here.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{conflict_as, join_ids};
use crate::app::{App, AppError, AppResult};
use crate::model::{Group, GroupKind, Xname, group::resource_name};

impl App {
    /// Every group's and partition's members, by kind and label (component filters).
    pub(super) async fn memberships(
        &self,
    ) -> AppResult<HashMap<(GroupKind, String), HashSet<Xname>>> {
        let mut m = HashMap::new();
        for kind in [GroupKind::Group, GroupKind::Partition] {
            for g in self.store.list_groups(kind).await? {
                m.insert((kind, g.label), g.members.into_iter().collect());
            }
        }
        Ok(m)
    }

    pub async fn list_groups(
        &self,
        kind: GroupKind,
        labels: &[String],
        tags: &[String],
    ) -> AppResult<Vec<Group>> {
        Ok(self
            .store
            .list_groups(kind)
            .await?
            .into_iter()
            .filter(|g| {
                labels.is_empty() || labels.iter().any(|l| l.eq_ignore_ascii_case(&g.label))
            })
            .filter(|g| tags.is_empty() || g.tags.iter().any(|t| tags.contains(t)))
            .collect())
    }

    pub async fn get_group(&self, kind: GroupKind, label: &str) -> AppResult<Group> {
        let l = resource_name("label", label).map_err(AppError::BadRequest)?;
        self.store
            .get_group(kind, &l)
            .await?
            .ok_or_else(|| AppError::not_found(format!("no such {}: {l}", kind.as_str())))
    }

    /// Check that `members` may belong to group `g` of `kind` given every other group.
    async fn check_members(&self, kind: GroupKind, g: &Group, members: &[Xname]) -> AppResult<()> {
        let known: HashSet<Xname> = self
            .store
            .list_components()
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let unknown: Vec<&Xname> = members.iter().filter(|m| !known.contains(*m)).collect();
        if !unknown.is_empty() {
            return Err(AppError::bad(format!(
                "not known components (add them to State/Components first): {}",
                join_ids(&unknown)
            )));
        }
        let others = self.store.list_groups(kind).await?;
        for other in others.iter().filter(|o| o.label != g.label) {
            let clash = match kind {
                GroupKind::Partition => true,
                GroupKind::Group => {
                    g.exclusive_group.is_some() && other.exclusive_group == g.exclusive_group
                }
            };
            if !clash {
                continue;
            }
            if let Some(m) = members.iter().find(|m| other.members.contains(m)) {
                let why = match kind {
                    GroupKind::Partition => "a component can be in one partition only".to_string(),
                    GroupKind::Group => format!(
                        "groups sharing exclusiveGroup '{}' cannot share members",
                        g.exclusive_group.as_deref().unwrap_or("")
                    ),
                };
                return Err(AppError::Conflict(format!(
                    "{m} is already a member of {} '{}': {why}",
                    kind.as_str(),
                    other.label
                )));
            }
        }
        Ok(())
    }

    pub async fn create_group(&self, kind: GroupKind, mut g: Group) -> AppResult<Group> {
        g.label = resource_name("label", &g.label).map_err(AppError::BadRequest)?;
        for t in &mut g.tags {
            *t = resource_name("tag", t).map_err(AppError::BadRequest)?;
        }
        if let Some(e) = &g.exclusive_group {
            g.exclusive_group =
                Some(resource_name("exclusiveGroup", e).map_err(AppError::BadRequest)?);
        }
        let mut seen = HashSet::new();
        g.members.retain(|m| seen.insert(m.clone()));
        self.check_members(kind, &g, &g.members).await?;
        self.store
            .insert_group(kind, &g)
            .await
            .map_err(|e| conflict_as(e, |what| format!("{what} already exists")))?;
        self.changed();
        Ok(g)
    }

    pub async fn patch_group(
        &self,
        kind: GroupKind,
        label: &str,
        description: Option<String>,
        tags: Option<Vec<String>>,
    ) -> AppResult<()> {
        let mut g = self.get_group(kind, label).await?;
        if let Some(d) = description {
            g.description = d;
        }
        if let Some(tags) = tags {
            g.tags = tags
                .iter()
                .map(|t| resource_name("tag", t))
                .collect::<Result<_, _>>()
                .map_err(AppError::BadRequest)?;
        }
        self.store.update_group(kind, &g).await?;
        Ok(())
    }

    pub async fn delete_group(&self, kind: GroupKind, label: &str) -> AppResult<()> {
        let g = self.get_group(kind, label).await?;
        self.store.delete_group(kind, &g.label).await?;
        self.changed();
        Ok(())
    }

    pub async fn add_group_member(
        &self,
        kind: GroupKind,
        label: &str,
        member: Xname,
    ) -> AppResult<()> {
        let mut g = self.get_group(kind, label).await?;
        if g.members.contains(&member) {
            return Err(AppError::Conflict(format!(
                "{member} is already a member of {} '{}'",
                kind.as_str(),
                g.label
            )));
        }
        self.check_members(kind, &g, std::slice::from_ref(&member))
            .await?;
        g.members.push(member);
        self.store.update_group(kind, &g).await?;
        self.changed();
        Ok(())
    }

    pub async fn remove_group_member(
        &self,
        kind: GroupKind,
        label: &str,
        member: &Xname,
    ) -> AppResult<()> {
        let mut g = self.get_group(kind, label).await?;
        let before = g.members.len();
        g.members.retain(|m| m != member);
        if g.members.len() == before {
            return Err(AppError::not_found(format!(
                "{member} is not a member of {} '{}'",
                kind.as_str(),
                g.label
            )));
        }
        self.store.update_group(kind, &g).await?;
        self.changed();
        Ok(())
    }

    /// Each component's group labels and partition (HSM memberships).
    pub async fn memberships_of(
        &self,
        ids: Option<&[Xname]>,
    ) -> AppResult<BTreeMap<Xname, (Vec<String>, Option<String>)>> {
        let mut out: BTreeMap<Xname, (Vec<String>, Option<String>)> = BTreeMap::new();
        for c in self.store.list_components().await? {
            if ids.is_none_or(|ids| ids.contains(&c.id)) {
                out.insert(c.id, (vec![], None));
            }
        }
        for g in self.store.list_groups(GroupKind::Group).await? {
            for m in g.members {
                if let Some(e) = out.get_mut(&m) {
                    e.0.push(g.label.clone());
                }
            }
        }
        for p in self.store.list_groups(GroupKind::Partition).await? {
            for m in p.members {
                if let Some(e) = out.get_mut(&m) {
                    e.1 = Some(p.label.clone());
                }
            }
        }
        Ok(out)
    }
}
