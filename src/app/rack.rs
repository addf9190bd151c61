//! The web console's use cases: the rack at a glance (every node's tile state, one snapshot
//! shared by every page and live stream, taken at most once a second however many browsers
//! watch) and a session's dry run (which nodes, which artifacts, which power action, from the
//! same planning session setup uses — nothing is written).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::bos::Scope;
use super::{App, AppError, AppResult};
use crate::model::power::PowerState;
use crate::model::rack::{TileState, classify};
use crate::model::{BootArtifacts, GroupKind, NewSession, Operation};
use crate::operators::bos::session_plan::{Inventory, plan};

/// One node as the rack view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeTile {
    pub xname: String,
    pub state: TileState,
    /// `Compute`, or `Compute_UAN` with a subrole; empty when none.
    pub role: String,
    /// The BOS session that last acted on it; empty when none.
    pub session: String,
    /// The groups and partitions it is a member of.
    pub groups: Vec<String>,
}

/// Every node's tile, in natural xname order.
#[derive(Debug, Clone)]
pub struct RackSnapshot {
    pub tiles: Vec<NodeTile>,
    pub taken: DateTime<Utc>,
}

impl RackSnapshot {
    /// How many nodes are in each state (every state, zero included).
    pub fn counts(&self) -> BTreeMap<TileState, usize> {
        let mut out: BTreeMap<TileState, usize> =
            TileState::ALL.into_iter().map(|t| (t, 0)).collect();
        for t in &self.tiles {
            *out.entry(t.state).or_default() += 1;
        }
        out
    }
}

/// The last snapshot and when it was taken.
#[derive(Default)]
pub struct RackCache(tokio::sync::Mutex<Option<(Instant, Arc<RackSnapshot>)>>);

/// How long a snapshot answers before the next request takes a new one.
const RACK_MAX_AGE: Duration = Duration::from_millis(900);

/// What a session would do to one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlannedPower {
    /// Nothing: it already runs what it is to run (or is off for a shutdown).
    Nothing,
    PowerOn,
    PowerOffThenOn,
    PowerOff,
    /// Its power is not known yet: on or off is decided by the first reading.
    AfterReading,
    /// A staged session changes nothing until its state is applied.
    StagedOnly,
}

impl PlannedPower {
    pub fn label(self) -> &'static str {
        match self {
            PlannedPower::Nothing => "none",
            PlannedPower::PowerOn => "power on",
            PlannedPower::PowerOffThenOn => "power off, then on",
            PlannedPower::PowerOff => "power off",
            PlannedPower::AfterReading => "decided by its first power reading",
            PlannedPower::StagedOnly => "staged: none until applied",
        }
    }
}

/// The planned power action of a node that is `power` now and runs `actual`.
pub fn planned_power(
    op: Operation,
    staged: bool,
    power: Option<PowerState>,
    actual: &BootArtifacts,
    planned: &BootArtifacts,
) -> PlannedPower {
    if staged {
        return PlannedPower::StagedOnly;
    }
    match (op, power) {
        (_, None | Some(PowerState::Undefined)) => PlannedPower::AfterReading,
        (Operation::Shutdown, Some(PowerState::Off)) => PlannedPower::Nothing,
        (Operation::Shutdown, _) => PlannedPower::PowerOff,
        (_, Some(PowerState::Off)) => PlannedPower::PowerOn,
        (Operation::Reboot, _) => PlannedPower::PowerOffThenOn,
        (Operation::Boot, _) if actual == planned => PlannedPower::Nothing,
        (Operation::Boot, _) => PlannedPower::PowerOffThenOn,
    }
}

/// One node of a dry run.
#[derive(Debug, Clone)]
pub struct PlannedNode {
    pub xname: String,
    pub boot_sets: Vec<String>,
    pub artifacts: BootArtifacts,
    pub configuration: String,
    pub power: PlannedPower,
}

/// A session's dry run: its nodes, or why it would act on none.
#[derive(Debug, Clone)]
pub struct SessionPreview {
    pub operation: Operation,
    pub template: String,
    pub nodes: Vec<PlannedNode>,
    /// The session's `status.error` if it were started now (no node to act on, …).
    pub error: Option<String>,
}

impl App {
    /// The rack at a glance, at most about a second old.
    pub async fn rack(&self) -> AppResult<Arc<RackSnapshot>> {
        let mut last = self.rack.0.lock().await;
        if let Some((at, snap)) = &*last
            && at.elapsed() < RACK_MAX_AGE
        {
            return Ok(snap.clone());
        }
        let snap = Arc::new(self.take_rack_snapshot().await?);
        *last = Some((Instant::now(), snap.clone()));
        Ok(snap)
    }

    async fn take_rack_snapshot(&self) -> AppResult<RackSnapshot> {
        let nodes = self.store.list_components().await?;
        let boot: HashMap<String, crate::model::BootComponent> = self
            .store
            .list_boot_components(false)
            .await?
            .into_iter()
            .map(|v| (v.value.id.clone(), v.value))
            .collect();
        let mut groups: HashMap<String, Vec<String>> = HashMap::new();
        for kind in [GroupKind::Group, GroupKind::Partition] {
            for g in self.store.list_groups(kind).await? {
                for m in &g.members {
                    groups
                        .entry(m.to_string())
                        .or_default()
                        .push(g.label.clone());
                }
            }
        }
        let open: HashSet<String> = self
            .bmc_health()
            .into_iter()
            .filter(|h| h.state == "open")
            .map(|h| h.bmc)
            .collect();
        let mut tiles: Vec<NodeTile> = nodes
            .into_iter()
            .filter(|c| c.kind == "Node")
            .map(|c| {
                let x = c.id.to_string();
                let bmc_open = c.id.parent().is_some_and(|b| open.contains(b.as_str()));
                let power = self.power.get(&c.id);
                let b = boot.get(&x);
                let role = match (&c.role, &c.subrole) {
                    (Some(r), Some(s)) => format!("{r}_{s}"),
                    (Some(r), None) => r.clone(),
                    _ => String::new(),
                };
                NodeTile {
                    state: classify(b, power.as_ref(), bmc_open),
                    session: b.map(|b| b.session.clone()).unwrap_or_default(),
                    groups: groups.remove(&x).unwrap_or_default(),
                    role,
                    xname: x,
                }
            })
            .collect();
        tiles.sort_by(|a, b| alphanumeric_sort::compare_str(&a.xname, &b.xname));
        Ok(RackSnapshot {
            tiles,
            taken: Utc::now(),
        })
    }

    /// What starting `req` would do now, without recording anything. A request that
    /// creation would refuse is refused the same way; one that would start and then act on
    /// no node has that as its `error`.
    pub async fn preview_session(
        &self,
        scope: &Scope,
        req: NewSession,
    ) -> AppResult<SessionPreview> {
        if req.v1.is_some() {
            return Err(AppError::bad(
                "the dry run plans v2 sessions (boot, reboot, shutdown)",
            ));
        }
        let (s, t) = self.checked_session(scope, req).await?;
        let inv = Inventory::load(&*self.store).await?;
        let stored = crate::model::options::resolve(self.store.get_bos_options().await?);
        let mut preview = SessionPreview {
            operation: s.operation,
            template: t.name.clone(),
            nodes: Vec::new(),
            error: None,
        };
        let p = match plan(&*self.store, self, &stored, &s, &t, &inv).await {
            Ok(p) => p,
            Err(e) => {
                preview.error = Some(e);
                return Ok(preview);
            }
        };
        if p.nodes.is_empty() {
            preview.error = Some("No nodes were found to act upon.".into());
            return Ok(preview);
        }
        let boot: HashMap<String, crate::model::BootComponent> = self
            .store
            .list_boot_components(false)
            .await?
            .into_iter()
            .map(|v| (v.value.id.clone(), v.value))
            .collect();
        let mut sets: HashMap<&str, Vec<String>> = HashMap::new();
        for (bs, members) in &p.members {
            for x in members {
                sets.entry(x.as_str()).or_default().push(bs.clone());
            }
        }
        for (x, (artifacts, configuration)) in &p.nodes {
            let power = crate::model::Xname::parse(x)
                .ok()
                .and_then(|id| self.power.get(&id))
                .filter(|p| p.available)
                .map(|p| p.state);
            let actual = boot
                .get(x)
                .map(|c| c.actual_state.boot_artifacts.clone())
                .unwrap_or_default();
            preview.nodes.push(PlannedNode {
                xname: x.clone(),
                boot_sets: sets.remove(x.as_str()).unwrap_or_default(),
                power: planned_power(s.operation, s.stage, power, &actual, artifacts),
                artifacts: artifacts.clone(),
                configuration: configuration.clone(),
            });
        }
        preview
            .nodes
            .sort_by(|a, b| alphanumeric_sort::compare_str(&a.xname, &b.xname));
        Ok(preview)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arts(k: &str) -> BootArtifacts {
        BootArtifacts {
            kernel: k.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_boot_powers_on_what_is_off_and_restarts_what_runs_something_else() {
        let want = arts("s3://boot/new/kernel");
        let p = |power, actual: &BootArtifacts| {
            planned_power(Operation::Boot, false, power, actual, &want)
        };
        assert_eq!(p(Some(PowerState::Off), &arts("")), PlannedPower::PowerOn);
        assert_eq!(p(Some(PowerState::On), &want), PlannedPower::Nothing);
        assert_eq!(
            p(Some(PowerState::On), &arts("s3://boot/old/kernel")),
            PlannedPower::PowerOffThenOn
        );
        assert_eq!(p(None, &arts("")), PlannedPower::AfterReading);
    }

    #[test]
    fn reboot_shutdown_and_staged_plans() {
        let a = arts("k");
        let on = Some(PowerState::On);
        let off = Some(PowerState::Off);
        assert_eq!(
            planned_power(Operation::Reboot, false, on, &a, &a),
            PlannedPower::PowerOffThenOn
        );
        assert_eq!(
            planned_power(Operation::Reboot, false, off, &a, &a),
            PlannedPower::PowerOn
        );
        assert_eq!(
            planned_power(Operation::Shutdown, false, on, &a, &a),
            PlannedPower::PowerOff
        );
        assert_eq!(
            planned_power(Operation::Shutdown, false, off, &a, &a),
            PlannedPower::Nothing
        );
        assert_eq!(
            planned_power(Operation::Boot, true, off, &a, &a),
            PlannedPower::StagedOnly
        );
    }
}
