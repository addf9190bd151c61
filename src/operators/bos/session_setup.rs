//! Session setup (docs/bos.md, "Session setup"): turn each pending session into desired (or
//! staged) state on its components, then mark it running — or complete with an error that says
//! why no node could be acted on.
//!
//! Nodes come from the inventory: a boot set's `node_list`, the members of its `node_groups` and
//! the nodes with its `node_roles_groups`; then the session's limit, locks, the tenant's nodes,
//! the arch filter and (unless `include_disabled`) the enabled flag. Unlike BOS, a node the
//! inventory knows but BOS has no component for yet is given one here rather than dropped (BOS
//! waits for its discovery operator).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use async_trait::async_trait;

use super::BosContext;
use crate::model::boot_component::{BootComponent, DesiredState, StagedState, timestamp};
use crate::model::bos_v1::V1Operation;
use crate::model::{Action, Operation, SessionStatus, Status};
use crate::model::{BootArtifacts, Component, GroupKind, Session, SessionTemplate, limit};
use crate::operators::{Operator, OperatorResult};

pub struct SessionSetup(pub BosContext);

/// The inventory as session setup needs it.
struct Inventory {
    nodes: BTreeMap<String, Component>,
    groups: HashMap<String, BTreeSet<String>>,
    roles: HashMap<String, BTreeSet<String>>,
}

impl Inventory {
    async fn load(ctx: &BosContext) -> crate::store::StoreResult<Inventory> {
        let nodes: BTreeMap<String, Component> = ctx
            .store
            .list_components()
            .await?
            .into_iter()
            .filter(|c| c.kind == "Node")
            .map(|c| (c.id.to_string(), c))
            .collect();
        let mut groups: HashMap<String, BTreeSet<String>> = HashMap::new();
        for kind in [GroupKind::Group, GroupKind::Partition] {
            for g in ctx.store.list_groups(kind).await? {
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

    fn resolve(&self, name: &str) -> Option<BTreeSet<String>> {
        self.groups
            .get(name)
            .or_else(|| self.groups.get(&name.to_ascii_lowercase()))
            .or_else(|| self.roles.get(&name.to_ascii_lowercase()))
            .cloned()
    }
}

/// Why a session could not be set up (its `status.error`).
type SetupError = String;

/// A v1 session with a stage still to run, or whose earlier stages found nodes.
fn more_stages_or_earlier_nodes(s: &Session) -> bool {
    s.v1.as_ref()
        .is_some_and(|r| r.has_next() || !s.components.is_empty())
}

/// What session setup will write: each node's artifacts and configuration, and the nodes
/// each boot set resolved to (after the limit and the filters).
struct Plan {
    nodes: BTreeMap<String, (BootArtifacts, String)>,
    members: BTreeMap<String, Vec<String>>,
}

impl SessionSetup {
    /// The nodes of each boot set and the state each should get.
    async fn plan(
        &self,
        s: &Session,
        t: &SessionTemplate,
        inv: &Inventory,
    ) -> Result<Plan, SetupError> {
        let ctx = &self.0;
        let owned: Option<HashSet<String>> = match &s.tenant {
            None => None,
            Some(name) => match ctx.store.get_tenant(name).await {
                Ok(Some(t)) => Some(t.xnames.into_iter().collect()),
                Ok(None) => return Err(format!("Invalid tenant: tenant '{name}' does not exist")),
                Err(e) => return Err(crate::errors::chain(&e)),
            },
        };
        let stored = ctx.options_doc().await;
        let freq = crate::model::options::Options::update_frequency(&stored);
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
            // A v1 configure keeps each node's own artifacts (set per node in `setup`).
            let artifacts = if s.operation == Operation::Shutdown || configure {
                BootArtifacts::default()
            } else {
                ctx.boot
                    .boot_set_artifacts(bs, &freq)
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

    async fn setup(&self, s: &mut Session, inv: &Inventory) -> Result<Vec<String>, SetupError> {
        let ctx = &self.0;
        let t = match ctx
            .store
            .get_session_template(s.tenant.as_deref().unwrap_or(""), &s.template_name)
            .await
        {
            Ok(Some(t)) => t,
            Ok(None) => {
                return Err(format!(
                    "Session template '{}' does not exist",
                    s.template_name
                ));
            }
            Err(e) => return Err(crate::errors::chain(&e)),
        };
        let Plan {
            nodes: mut plan,
            members,
        } = self.plan(s, &t, inv).await?;
        if let Some(run) = &mut s.v1 {
            for (bs, nodes) in members {
                if let Some(b) = run.boot_sets.get_mut(&bs) {
                    b.nodes = Some(nodes);
                }
            }
        }
        let configure =
            s.v1.as_ref()
                .is_some_and(|r| r.operation == V1Operation::Configure);
        if configure {
            // Configuring without a power action needs a node that is known to run an image.
            let booted: HashSet<String> = ctx
                .store
                .list_boot_components(false)
                .await
                .map_err(|e| crate::errors::chain(&e))?
                .into_iter()
                .filter(|v| !v.value.actual_state.boot_artifacts.is_empty())
                .map(|v| v.value.id)
                .collect();
            plan.retain(|x, _| booted.contains(x));
            if plan.is_empty() && !more_stages_or_earlier_nodes(s) {
                return Err("No nodes were found to act upon: none of the nodes is known to run an image, and configure does not power nodes on.".into());
            }
        }
        if plan.is_empty() {
            // A v1 stage without nodes is skipped, unless the whole session has none.
            if more_stages_or_earlier_nodes(s) {
                return Ok(Vec::new());
            }
            return Err("No nodes were found to act upon.".into());
        }
        // Nodes the inventory knows but BOS does not yet: give them a component.
        let existing: HashSet<String> = ctx
            .store
            .list_boot_components(false)
            .await
            .map_err(|e| crate::errors::chain(&e))?
            .into_iter()
            .map(|v| v.value.id)
            .collect();
        let now = ctx.clock.now();
        let new: Vec<BootComponent> = plan
            .keys()
            .filter(|x| !existing.contains(*x))
            .map(|x| BootComponent::discovered(x, now))
            .collect();
        if !new.is_empty() {
            ctx.store
                .put_boot_components(&new)
                .await
                .map_err(|e| crate::errors::chain(&e))?;
        }
        let ids: HashSet<String> = plan.keys().cloned().collect();
        let ts = timestamp(now);
        ctx.update(&ids, |c| {
            let Some((arts, cfg)) = plan.get(&c.id) else {
                return false;
            };
            if s.stage {
                c.staged_state = StagedState {
                    boot_artifacts: arts.clone(),
                    configuration: cfg.clone(),
                    session: if s.operation == Operation::Shutdown {
                        String::new()
                    } else {
                        s.name.clone()
                    },
                    last_updated: Some(ts.clone()),
                };
                c.error.clear();
                return true;
            }
            let arts = if configure {
                c.actual_state.boot_artifacts.clone()
            } else {
                arts.clone()
            };
            c.desired_state = DesiredState {
                boot_artifacts: arts,
                configuration: cfg.clone(),
                bss_token: String::new(),
                last_updated: Some(ts.clone()),
            };
            if s.operation == Operation::Reboot {
                c.actual_state = Default::default();
            }
            c.session = s.name.clone();
            c.enabled = true;
            c.error.clear();
            c.event_stats = Default::default();
            c.set_override(Some(Status::OnHold));
            c.act(Action::SessionSetup, now);
            true
        })
        .await
        .map_err(|e| crate::errors::chain(&e))?;
        Ok(plan.into_keys().collect())
    }
}

#[async_trait]
impl Operator for SessionSetup {
    async fn activate(&mut self) -> OperatorResult {
        let ctx = &self.0;
        let sessions = ctx.store.list_sessions().await?;
        let pending: Vec<Session> = sessions
            .into_iter()
            .filter(|s| s.is(SessionStatus::Pending))
            .collect();
        if pending.is_empty() {
            return Ok(serde_json::json!({"pending": 0}));
        }
        let inv = Inventory::load(ctx).await?;
        let mut report = Vec::new();
        for mut s in pending {
            let now = ctx.clock.now();
            if let Some(run) = &mut s.v1
                && let Some(st) = run.stages.get_mut(run.stage)
            {
                st.start = Some(timestamp(now));
            }
            let outcome = self.setup(&mut s, &inv).await;
            crate::faults::crash_point("bos.session_setup.components");
            match &outcome {
                Ok(nodes) => {
                    s.status.status = SessionStatus::Running;
                    // A later v1 stage adds its nodes to the earlier ones'.
                    let mut all: BTreeSet<&str> =
                        s.components.split(',').filter(|x| !x.is_empty()).collect();
                    all.extend(nodes.iter().map(String::as_str));
                    s.components = all.into_iter().collect::<Vec<_>>().join(",");
                }
                Err(e) => {
                    if let Some(run) = &mut s.v1
                        && let Some(st) = run.stages.get_mut(run.stage)
                    {
                        st.end = Some(timestamp(now));
                    }
                    s.complete(now, Some(e.clone()))
                }
            }
            if let Err(e) = ctx.store.update_session(&s).await {
                report.push(
                    serde_json::json!({"session": s.name, "error": crate::errors::chain(&e)}),
                );
                continue;
            }
            if outcome.is_err() {
                let _ = ctx.sessions.save_session_status(&s).await;
            }
            report.push(match outcome {
                Ok(n) => serde_json::json!({"session": s.name, "nodes": n.len()}),
                Err(e) => serde_json::json!({"session": s.name, "error": e}),
            });
        }
        ctx.pokes.all();
        Ok(serde_json::json!({ "sessions": report }))
    }
}
