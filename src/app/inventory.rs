//! Inventory use cases (the HSM subset): components, Ethernet interfaces, groups,
//! partitions, Redfish endpoints and lock status.
//!
//! Rules kept from HSM: a POST of existing components keeps their State, Flag, Subtype,
//! NetType, Arch and Class unless `Force` is set; a MAC is registered once; a component is
//! in at most one partition and in at most one group per `exclusiveGroup`; group and
//! partition members must be known components. Added here: NIDs are unique, because BSS
//! resolves `nid=` to exactly one node.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{App, AppError, AppResult};
use crate::model::{
    Component, EthernetInterface, Group, GroupKind, IpMapping, Mac, RedfishEndpoint, Xname,
    group::resource_name, redfish_endpoint::Secret,
};
use crate::store::StoreError;

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

fn any_eq(wanted: &[String], v: Option<&str>) -> bool {
    wanted.is_empty() || v.is_some_and(|v| wanted.iter().any(|w| w.eq_ignore_ascii_case(v)))
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

#[derive(Debug, Clone, Default)]
pub struct EthernetFilter {
    pub macs: Vec<Mac>,
    pub ips: Vec<String>,
    pub networks: Vec<String>,
    pub component_ids: Vec<Xname>,
    pub types: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct EthernetPatch {
    pub description: Option<String>,
    pub ip_addresses: Option<Vec<IpMapping>>,
    pub component_id: Option<Option<Xname>>,
}

#[derive(Debug, Clone)]
pub struct LockStatus {
    pub id: Xname,
    pub locked: bool,
    pub reserved: bool,
    pub reservation_disabled: bool,
}

fn join_ids<T: std::fmt::Display>(ids: &[T]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl App {
    // ----- components

    async fn memberships(&self) -> AppResult<HashMap<(GroupKind, String), HashSet<Xname>>> {
        let mut m = HashMap::new();
        for kind in [GroupKind::Group, GroupKind::Partition] {
            for g in self.store.list_groups(kind).await? {
                m.insert((kind, g.label), g.members.into_iter().collect());
            }
        }
        Ok(m)
    }

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

    // ----- Ethernet interfaces

    pub async fn list_ethernet_interfaces(
        &self,
        f: &EthernetFilter,
    ) -> AppResult<Vec<EthernetInterface>> {
        Ok(self
            .store
            .list_ethernet_interfaces()
            .await?
            .into_iter()
            .filter(|i| {
                (f.macs.is_empty() || f.macs.contains(&i.mac))
                    && (f.ips.is_empty()
                        || i.ip_addresses.iter().any(|a| f.ips.contains(&a.ip_address)))
                    && (f.networks.is_empty()
                        || i.ip_addresses
                            .iter()
                            .any(|a| a.network.as_ref().is_some_and(|n| f.networks.contains(n))))
                    && (f.component_ids.is_empty()
                        || i.component_id
                            .as_ref()
                            .is_some_and(|c| f.component_ids.contains(c)))
                    && any_eq(&f.types, i.component_type())
            })
            .collect())
    }

    pub async fn get_ethernet_interface(&self, mac: &Mac) -> AppResult<EthernetInterface> {
        self.store
            .get_ethernet_interface(&mac.id())
            .await?
            .ok_or_else(|| AppError::not_found(format!("no such ethernet interface: {}", mac.id())))
    }

    pub async fn create_ethernet_interfaces(
        &self,
        ifaces: Vec<EthernetInterface>,
    ) -> AppResult<()> {
        self.store
            .insert_ethernet_interfaces(&ifaces)
            .await
            .map_err(|e| match e {
                StoreError::Conflict { what } => {
                    AppError::Conflict(format!("{what}: a MAC address can be registered only once"))
                }
                e => e.into(),
            })?;
        self.changed();
        Ok(())
    }

    pub async fn patch_ethernet_interface(
        &self,
        mac: &Mac,
        p: EthernetPatch,
    ) -> AppResult<EthernetInterface> {
        let mut i = self.get_ethernet_interface(mac).await?;
        if let Some(d) = p.description {
            i.description = d;
        }
        if let Some(ips) = p.ip_addresses {
            i.ip_addresses = ips;
        }
        if let Some(c) = p.component_id {
            i.component_id = c;
        }
        i.last_update = chrono::Utc::now();
        if !self.store.update_ethernet_interface(&i).await? {
            return Err(AppError::not_found(format!(
                "no such ethernet interface: {}",
                mac.id()
            )));
        }
        self.changed();
        Ok(i)
    }

    pub async fn delete_ethernet_interface(&self, mac: &Mac) -> AppResult<()> {
        if !self.store.delete_ethernet_interface(&mac.id()).await? {
            return Err(AppError::not_found(format!(
                "no such ethernet interface: {}",
                mac.id()
            )));
        }
        self.changed();
        Ok(())
    }

    pub async fn delete_all_ethernet_interfaces(&self) -> AppResult<u64> {
        let n = self.store.delete_all_ethernet_interfaces().await?;
        if n == 0 {
            return Err(AppError::not_found(
                "there are no ethernet interfaces to delete",
            ));
        }
        self.changed();
        Ok(n)
    }

    // ----- groups and partitions

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
            .map_err(|e| match e {
                StoreError::Conflict { what } => {
                    AppError::Conflict(format!("{what} already exists"))
                }
                e => e.into(),
            })?;
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

    // ----- Redfish endpoints

    pub async fn list_redfish_endpoints(&self) -> AppResult<Vec<RedfishEndpoint>> {
        Ok(self.store.list_redfish_endpoints().await?)
    }

    pub async fn get_redfish_endpoint(&self, id: &Xname) -> AppResult<RedfishEndpoint> {
        self.store
            .get_redfish_endpoint(id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("no such redfish endpoint: {id}")))
    }

    pub async fn create_redfish_endpoints(
        &self,
        eps: Vec<RedfishEndpoint>,
    ) -> AppResult<Vec<RedfishEndpoint>> {
        let eps: Vec<RedfishEndpoint> = eps.into_iter().map(fill_endpoint_defaults).collect();
        let mut seen = HashSet::new();
        if let Some(dup) = eps.iter().find(|e| !seen.insert(e.id.clone())) {
            return Err(AppError::bad(format!(
                "redfish endpoint {} appears more than once in the request",
                dup.id
            )));
        }
        self.store
            .insert_redfish_endpoints(&eps)
            .await
            .map_err(|e| match e {
                StoreError::Conflict { what } => {
                    AppError::Conflict(format!("{what} already exists"))
                }
                e => e.into(),
            })?;
        self.pokes.discovery.poke();
        Ok(eps)
    }

    /// Replace an endpoint; an empty password in the new record keeps the stored one, so a
    /// client that read the endpoint (without its password) can write it back.
    pub async fn replace_redfish_endpoint(
        &self,
        mut ep: RedfishEndpoint,
    ) -> AppResult<RedfishEndpoint> {
        let old = self.get_redfish_endpoint(&ep.id).await?;
        if ep.password.0.is_empty() {
            ep.password = old.password.clone();
        }
        ep.discovery_info = old.discovery_info.clone();
        let ep = requeue_if_access_changed(&old, fill_endpoint_defaults(ep));
        self.store.update_redfish_endpoint(&ep).await?;
        self.pokes.discovery.poke();
        Ok(ep)
    }

    pub async fn update_redfish_endpoint_with(
        &self,
        id: &Xname,
        f: impl FnOnce(&mut RedfishEndpoint),
    ) -> AppResult<RedfishEndpoint> {
        let old = self.get_redfish_endpoint(id).await?;
        let mut ep = old.clone();
        f(&mut ep);
        let ep = requeue_if_access_changed(&old, fill_endpoint_defaults(ep));
        self.store.update_redfish_endpoint(&ep).await?;
        self.pokes.discovery.poke();
        Ok(ep)
    }

    pub async fn delete_redfish_endpoint(&self, id: &Xname) -> AppResult<()> {
        if !self.store.delete_redfish_endpoint(id).await? {
            return Err(AppError::not_found(format!(
                "no such redfish endpoint: {id}"
            )));
        }
        Ok(())
    }

    pub async fn delete_all_redfish_endpoints(&self) -> AppResult<u64> {
        let n = self.store.delete_all_redfish_endpoints().await?;
        if n == 0 {
            return Err(AppError::not_found(
                "there are no redfish endpoints to delete",
            ));
        }
        Ok(n)
    }
}

/// HSM's derivations: Hostname defaults to the ID, FQDN to Hostname(.Domain), Type from the
/// xname; a never-discovered endpoint says `NotYetQueried`.
fn fill_endpoint_defaults(mut ep: RedfishEndpoint) -> RedfishEndpoint {
    if ep.kind.is_empty() {
        ep.kind = ep.id.kind().hms_type().to_string();
    }
    if ep.hostname.is_empty() && ep.fqdn.is_empty() {
        ep.hostname = ep.id.to_string();
    }
    if ep.fqdn.is_empty() {
        ep.fqdn = if ep.domain.is_empty() {
            ep.hostname.clone()
        } else {
            format!("{}.{}", ep.hostname, ep.domain)
        };
    } else if ep.hostname.is_empty() {
        let (h, d) = ep.fqdn.split_once('.').unwrap_or((ep.fqdn.as_str(), ""));
        ep.hostname = h.to_string();
        ep.domain = d.to_string();
    }
    if ep.discovery_info.last_status.is_empty() {
        ep.discovery_info.last_status = "NotYetQueried".into();
    }
    ep
}

/// A BMC whose address, credentials or trust changed (or that asks for it) is discovered
/// again.
fn requeue_if_access_changed(old: &RedfishEndpoint, mut ep: RedfishEndpoint) -> RedfishEndpoint {
    let changed = old.base_url() != ep.base_url()
        || old.user != ep.user
        || old.password != ep.password
        || old.trust != ep.trust
        || old.node_xnames != ep.node_xnames
        || (ep.enabled && !old.enabled);
    if changed || ep.rediscover_on_update {
        ep.discovery_info.last_status =
            crate::model::redfish_endpoint::discovery_status::NOT_YET_QUERIED.into();
        ep.discovery_info.error = None;
    }
    ep
}

/// A password-less copy of an endpoint, for logs and API output.
pub fn without_password(mut ep: RedfishEndpoint) -> RedfishEndpoint {
    ep.password = Secret::default();
    ep
}
