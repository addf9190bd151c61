//! What a session will do, before it does it: the nodes each boot set resolves to (after the
//! limit, locks, tenant, arch and enabled filters) and the artifacts and configuration each
//! node is to get. Session setup writes this plan into components; the web console's dry run
//! shows it without writing anything, so both read the same rules from one place.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::model::bos_v1::V1Operation;
use crate::model::{
    BootArtifacts, Component, GroupKind, Operation, Session, SessionTemplate, limit,
};
use crate::operators::ports::BootParamsWriter;
use crate::store::Store;

/// The inventory as session planning needs it: nodes, group and partition members, roles.
pub struct Inventory {
    pub nodes: BTreeMap<String, Component>,
    pub groups: HashMap<String, BTreeSet<String>>,
    pub roles: HashMap<String, BTreeSet<String>>,
}

impl Inventory {
    pub async fn load(store: &dyn Store) -> crate::store::StoreResult<Inventory> {
        let nodes: BTreeMap<String, Component> = store
            .list_components()
            .await?
            .into_iter()
            .filter(|c| c.kind == "Node")
            .map(|c| (c.id.to_string(), c))
            .collect();
        let mut groups: HashMap<String, BTreeSet<String>> = HashMap::new();
        for kind in [GroupKind::Group, GroupKind::Partition] {
            for g in store.list_groups(kind).await? {
                groups
                    .entry(g.label.clone())
                    .or_default()
                    .extend(g.members.iter().map(|m| m.to_string()));
            }
        }
        let mut roles: HashMap<String, BTreeSet<String>> = HashMap::new();
        for (id, c) in &nodes {
            if let Some(r) = &c.role {
                roles
                    .entry(r.to_ascii_lowercase())
                    .or_default()
                    .insert(id.clone());
                if let Some(sr) = &c.subrole {
                    roles
                        .entry(format!("{r}_{sr}").to_ascii_lowercase())
                        .or_default()
                        .insert(id.clone());
                }
            }
        }
        Ok(Inventory {
            nodes,
            groups,
            roles,
        })
    }

    /// The members of a group, partition or role named in a limit.
    pub fn resolve(&self, name: &str) -> Option<BTreeSet<String>> {
        self.groups
            .get(name)
            .or_else(|| self.groups.get(&name.to_ascii_lowercase()))
            .or_else(|| self.roles.get(&name.to_ascii_lowercase()))
            .cloned()
    }
}

/// What session setup will write: each node's artifacts and configuration, and the nodes
/// each boot set resolved to (after the limit and the filters).
pub struct Plan {
    pub nodes: BTreeMap<String, (BootArtifacts, String)>,
    pub members: BTreeMap<String, Vec<String>>,
}

/// The nodes of each boot set of `t` for session `s` and the state each should get. `stored`
/// is the resolved BOS options document. The error is the session's `status.error`.
pub async fn plan(
    store: &dyn Store,
    boot: &dyn BootParamsWriter,
    stored: &serde_json::Map<String, serde_json::Value>,
    s: &Session,
    t: &SessionTemplate,
    inv: &Inventory,
) -> Result<Plan, String> {
    let owned: Option<HashSet<String>> = match &s.tenant {
        None => None,
        Some(name) => match store.get_tenant(name).await {
            Ok(Some(t)) => Some(t.xnames.into_iter().collect()),
            Ok(None) => return Err(format!("Invalid tenant: tenant '{name}' does not exist")),
            Err(e) => return Err(crate::errors::chain(&e)),
        },
    };
    let freq = crate::model::options::Options::update_frequency(stored);
    let mut out = BTreeMap::new();
    let mut members = BTreeMap::new();
    // A v1 session runs its boot sets stage by stage (docs/bos.md, "BOS v1").
    let stage: Option<Vec<&str>> = s.v1.as_ref().map(|r| r.current());
    let configure =
        s.v1.as_ref()
            .is_some_and(|r| r.operation == V1Operation::Configure);
    for (bs_name, bs) in &t.boot_sets {
        if stage
            .as_ref()
            .is_some_and(|st| !st.contains(&bs_name.as_str()))
        {
            continue;
        }
        let mut nodes: BTreeSet<String> = BTreeSet::new();
        for x in bs.node_list.iter().flatten() {
            if let Some(o) = &owned
                && !o.contains(x)
            {
                return Err(format!(
                    "The session template includes nodes which do not exist or are not available to this tenant: {x}"
                ));
            }
            nodes.insert(x.clone());
        }
        for g in bs.node_groups.iter().flatten() {
            match inv
                .groups
                .get(g)
                .or_else(|| inv.groups.get(&g.to_ascii_lowercase()))
            {
                Some(m) => nodes.extend(m.iter().cloned()),
                None => {
                    tracing::warn!(session = %s.name, group = %g, "node group does not exist")
                }
            }
        }
        for r in bs.node_roles_groups.iter().flatten() {
            if let Some(m) = inv.roles.get(&r.to_ascii_lowercase()) {
                nodes.extend(m.iter().cloned());
            }
        }
        let mut nodes = limit::apply(&s.limit, &nodes, |n| inv.resolve(n));
        let arch = bs.arch.as_deref().unwrap_or("X86");
        nodes.retain(|x| {
            let Some(c) = inv.nodes.get(x) else {
                return false;
            };
            let node_arch = match c.arch.as_deref() {
                None => "Unknown",
                Some(a) => a,
            };
            let arch_ok = node_arch.eq_ignore_ascii_case(arch)
                || (arch == "X86" && matches!(node_arch, "UNKNOWN" | "Unknown" | "X86"));
            !c.locked
                && arch_ok
                && (s.include_disabled || c.enabled)
                && owned.as_ref().is_none_or(|o| o.contains(x))
        });
        members.insert(bs_name.clone(), nodes.iter().cloned().collect());
        if nodes.is_empty() {
            continue;
        }
        // A v1 configure keeps each node's own artifacts (set per node in session setup).
        let artifacts = if s.operation == Operation::Shutdown || configure {
            BootArtifacts::default()
        } else {
            boot.boot_set_artifacts(bs, &freq)
                .await
                .map_err(|e| format!("boot set '{bs_name}': {e}"))?
        };
        let configuration = t.configuration_for(bs);
        for x in nodes {
            out.insert(x, (artifacts.clone(), configuration.clone()));
        }
    }
    Ok(Plan {
        nodes: out,
        members,
    })
}
