//! CAPMC use cases: resolve a call's xnames against the inventory, record the power call as a
//! PCS transition on the one power operator, wait for it, and read node status.
//!
//! CAPMC is not a second power path: `xname_on|off|reinit` become transitions exactly like
//! `POST /transitions` (handlers record, `operators::power` acts), so a CAPMC call shows in
//! `cray power transition list` and is planned by the same table. What this adds is CAPMC's
//! up-front checks, which PCS does not make (PCS turns unknown xnames into failed tasks): an
//! unknown or disabled xname refuses the whole call before anything is recorded, and a node
//! whose BMC cannot do the action is reported per xname and left out. The call waits for the
//! transition to finish, as CAPMC's own `xname_off` waits for the node to read Off
//! (docs/pcs.md, "CAPMC").

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::power::TransitionRequest;
use super::{App, AppResult};
use crate::model::power::{PowerOperation, PowerState, PowerTask, Transition, supports};
use crate::model::{Component, ComponentEndpoint, Xname, XnameKind};

/// How long each step of a CAPMC transition may take to be confirmed (PCS's default).
pub const CAPMC_DEADLINE_MINUTES: i64 = 5;

/// Between reads of a transition the call is waiting for.
const WAIT_POLL: Duration = Duration::from_millis(100);

/// What the inventory says about the xnames of one CAPMC call.
#[derive(Debug, Default)]
pub struct CapmcTargets {
    /// Nodes with a BMC that can do the action, in request order.
    pub nodes: Vec<Xname>,
    /// Not in the inventory (or not a component CAPMC reports on).
    pub not_found: Vec<Xname>,
    /// In the inventory with `Enabled: false`.
    pub disabled: Vec<Xname>,
    /// Components that are not nodes, with their HSM type: rackboot powers nodes only.
    pub not_nodes: Vec<(Xname, String)>,
    /// Nodes the action cannot be carried out on, with why (no BMC, no fitting reset type).
    pub refused: Vec<(Xname, String)>,
}

/// One node's status as CAPMC groups it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapmcNodeStatus {
    pub xname: Xname,
    pub enabled: bool,
    /// HSM state (`Ready`, `Standby`, `On`, `Off`, `Halt`, `Empty`, …).
    pub hsm_state: String,
    /// From the BMC (the power cache): `None` when it could not be read.
    pub power: Option<PowerState>,
}

impl App {
    /// Resolve a CAPMC call's xnames; `all` (the `all`/`s0` wildcard) means every node with a
    /// BMC. `recursive` adds the nodes below each xname. `op` (None for status) decides
    /// which nodes are refused for their BMC.
    pub async fn capmc_targets(
        &self,
        xnames: &[Xname],
        all: bool,
        recursive: bool,
        op: Option<PowerOperation>,
    ) -> AppResult<CapmcTargets> {
        let components: HashMap<Xname, Component> = self
            .store
            .list_components()
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        let endpoints = self.store.component_endpoints_by_node().await?;
        let mut out = CapmcTargets::default();
        let mut wanted: Vec<Xname> = Vec::new();
        if all {
            wanted = endpoints.keys().cloned().collect();
            wanted.sort();
        }
        for x in xnames {
            let Some(c) = components.get(x) else {
                out.not_found.push(x.clone());
                continue;
            };
            if x.kind() == XnameKind::Node {
                wanted.push(x.clone());
            } else if recursive {
                let below = descendants(x, &components);
                if below.is_empty() {
                    out.not_found.push(x.clone());
                }
                wanted.extend(below);
            } else {
                out.not_nodes.push((x.clone(), c.kind.clone()));
            }
        }
        let mut seen = HashSet::new();
        for x in wanted.into_iter().filter(|x| seen.insert(x.clone())) {
            match components.get(&x) {
                Some(c) if !c.enabled => out.disabled.push(x),
                _ => match (op, endpoints.get(&x)) {
                    (None, _) => out.nodes.push(x),
                    (Some(_), None) => out.refused.push((
                        x,
                        "no Redfish endpoint is known for this node: register and discover its BMC"
                            .into(),
                    )),
                    (Some(op), Some(ce)) => match refusal(op, ce) {
                        Some(why) => out.refused.push((x, why)),
                        None => out.nodes.push(x),
                    },
                },
            }
        }
        Ok(out)
    }

    /// Record `op` over `nodes` as a transition and wait until it is done (or `limit` passed).
    pub async fn capmc_power(
        &self,
        op: PowerOperation,
        nodes: &[Xname],
        limit: Duration,
    ) -> AppResult<(Transition, Vec<PowerTask>)> {
        let t = self
            .request_transition(TransitionRequest {
                operation: op,
                deadline_minutes: CAPMC_DEADLINE_MINUTES,
                deadline_seconds: None,
                xnames: nodes.iter().map(|x| x.to_string()).collect(),
                boot_target: None,
            })
            .await?;
        let id = t.id.to_string();
        let until = tokio::time::Instant::now() + limit;
        loop {
            let (t, tasks) = self.get_transition(&id).await?;
            if t.status.is_done() || tokio::time::Instant::now() >= until {
                return Ok((t, tasks));
            }
            tokio::time::sleep(WAIT_POLL).await;
        }
    }

    /// Status of the given nodes (validated by [`App::capmc_targets`]).
    pub async fn capmc_status(&self, nodes: &[Xname]) -> AppResult<Vec<CapmcNodeStatus>> {
        let mut out = Vec::with_capacity(nodes.len());
        for x in nodes {
            let c = self.store.get_component(x).await?;
            let power = self.power.get(x).filter(|s| s.available).map(|s| s.state);
            out.push(CapmcNodeStatus {
                xname: x.clone(),
                enabled: c.as_ref().is_none_or(|c| c.enabled),
                hsm_state: c.map(|c| c.state).unwrap_or_default(),
                power,
            });
        }
        Ok(out)
    }
}

/// The nodes below `x` in the inventory (CAPMC `recursive`).
fn descendants(x: &Xname, components: &HashMap<Xname, Component>) -> Vec<Xname> {
    let mut below: Vec<Xname> = components
        .keys()
        .filter(|c| c.kind() == XnameKind::Node && is_below(c, x))
        .cloned()
        .collect();
    below.sort();
    below
}

fn is_below(node: &Xname, ancestor: &Xname) -> bool {
    let mut at = node.parent();
    while let Some(p) = at {
        if &p == ancestor {
            return true;
        }
        at = p.parent();
    }
    false
}

/// Why a node's BMC cannot do `op`, as discovered (CAPMC: "no supported ResetType"); `None`
/// when it can, or when discovery recorded no list (the BMC's answer decides then).
fn refusal(op: PowerOperation, ce: &ComponentEndpoint) -> Option<String> {
    if ce.reset_types.is_empty() || supports(op, &ce.reset_types) {
        return None;
    }
    Some(format!(
        "NodeBMC {} {}: no supported ResetType for {op}: the system allows {}",
        ce.redfish_endpoint_id,
        ce.odata_id,
        ce.reset_types.join(", ")
    ))
}
