//! What one BMC's discovery writes: a pure function of what the BMC reported, the names
//! [`super::names`] chose, and the records it touches (read beforehand by the operator).
//!
//! Rules it keeps:
//! - each named system becomes a Node component (admin-set fields kept; hardware states
//!   follow the power state) and a ComponentEndpoint; a system that did not answer keeps
//!   the endpoint it had, so one unreadable member never takes a node off the inventory;
//! - a MAC becomes the node's EthernetInterface unless another node already has it: a MAC
//!   owned by a node behind another BMC (or registered by hand for a node no BMC
//!   reported) stays where it is and is reported with both endpoints and how to resolve
//!   it, because moving it would boot one machine with another's parameters. Moves among
//!   this BMC's own nodes (a renumbering) are fine; a MAC whose owner is gone is claimed;
//! - every resource that did not answer, name kept against HSM's order or system left out
//!   is a [`DiscoveryProblem`] on the endpoint, and an explicit renumbering is recorded.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::names::Naming;
use crate::model::redfish_endpoint::{DiscoveryProblem, ProblemKind, discovery_status as ds};
use crate::model::{Component, ComponentEndpoint, EthernetInterface, Mac, RedfishEndpoint, Xname};
use crate::power::DiscoveredBmc;
use crate::store::DiscoveryWrite;

/// The records a plan looks at, read before planning.
#[derive(Debug, Default)]
pub struct Facts {
    /// The components of the nodes being named, when they exist.
    pub components: HashMap<Xname, Component>,
    /// The interfaces of the MACs found, by interface ID, when they exist.
    pub interfaces: HashMap<String, EthernetInterface>,
    /// For each other component owning one of those interfaces: whether it still exists,
    /// and its component endpoint (which says its BMC), when it has one.
    pub owners: HashMap<Xname, (bool, Option<ComponentEndpoint>)>,
}

/// Plan the write for `ep`, given what its BMC reported, the names chosen and the facts.
pub fn plan(
    ep: &RedfishEndpoint,
    found: &DiscoveredBmc,
    naming: &Naming,
    facts: &Facts,
    now: DateTime<Utc>,
) -> DiscoveryWrite {
    let mut problems: Vec<DiscoveryProblem> = found
        .problems
        .iter()
        .map(|(resource, why)| DiscoveryProblem {
            kind: ProblemKind::Unreadable,
            resource: resource.clone(),
            message: why.clone(),
        })
        .collect();
    problems.extend(order_problems(ep, naming));
    let mut components = Vec::new();
    let mut interfaces = Vec::new();
    let mut ces = naming.kept_unread.clone();
    let mut claimed: HashMap<Mac, (Xname, String)> = HashMap::new();
    let named = found.systems.iter().zip(&naming.names);
    let ignored = named.clone().filter(|(_, n)| n.is_none()).count();
    if ignored > 0 {
        problems.push(DiscoveryProblem {
            kind: ProblemKind::Ignored,
            resource: "/redfish/v1/Systems".into(),
            message: format!(
                "{} is a {} and lists {ignored} systems: a {}'s systems get no nodes (as in HSM); register the BMCs that manage them",
                ep.id,
                ep.id.kind().hms_type(),
                ep.id.kind().hms_type()
            ),
        });
    }
    for (sys, node) in named {
        let Some(node) = node else { continue };
        let mut comp = facts.components.get(node).cloned().unwrap_or_else(|| {
            let mut c = Component::new(node.clone());
            c.role = Some("Compute".into());
            c.arch = Some("X86".into());
            c
        });
        // Hardware states follow the power state; software states (Ready, Standby…)
        // belong to whoever set them.
        if matches!(
            comp.state.as_str(),
            "Unknown" | "Empty" | "Populated" | "On" | "Off"
        ) {
            comp.state = match sys.power {
                crate::model::power::PowerState::On => "On",
                crate::model::power::PowerState::Off => "Off",
                _ => "Populated",
            }
            .into();
        }
        components.push(comp);
        let mut macs = Vec::new();
        let mut seen_here = HashSet::new();
        for raw in &sys.macs {
            let Ok(mac) = Mac::parse(raw) else {
                problems.push(DiscoveryProblem {
                    kind: ProblemKind::Ignored,
                    resource: sys.path.clone(),
                    message: format!("{}: '{raw}' is not a MAC address; left out", sys.path),
                });
                continue;
            };
            if !seen_here.insert(mac) {
                continue;
            }
            if let Some((other, path)) = claimed.get(&mac) {
                problems.push(DiscoveryProblem {
                    kind: ProblemKind::MacConflict,
                    resource: mac.to_string(),
                    message: format!(
                        "MAC {mac} is reported by two systems of BMC {}: {path} ({other}) and {} ({node}); it stays with {other}",
                        ep.id, sys.path
                    ),
                });
                continue;
            }
            claimed.insert(mac, (node.clone(), sys.path.clone()));
            macs.push(mac.to_string());
            let existing = facts.interfaces.get(&mac.id());
            if let Some(owner) = existing.and_then(|i| i.component_id.as_ref())
                && owner != node
                && let Some(why) = foreign_owner(ep, owner, facts)
            {
                problems.push(DiscoveryProblem {
                    kind: ProblemKind::MacConflict,
                    resource: mac.to_string(),
                    message: conflict_message(ep, &sys.path, node, &mac, owner, &why),
                });
                continue;
            }
            let mut iface = existing.cloned().unwrap_or(EthernetInterface {
                mac,
                description: String::new(),
                ip_addresses: vec![],
                last_update: now,
                component_id: None,
            });
            iface.component_id = Some(node.clone());
            if iface.description.is_empty() {
                iface.description = format!("discovered on {} {}", ep.id, sys.path);
            }
            iface.last_update = now;
            interfaces.push(iface);
        }
        if sys.macs.is_empty() {
            problems.push(DiscoveryProblem {
                kind: ProblemKind::NoMac,
                resource: sys.path.clone(),
                message: format!(
                    "{} lists no host network interface (no EthernetInterfaces with a MAC), so {node} cannot be recognised when it netboots; unless its MAC is already in HSM, add it: POST /apis/smd/hsm/v2/Inventory/EthernetInterfaces {{\"ComponentID\": \"{node}\", \"MACAddress\": \"…\"}}",
                    sys.path
                ),
            });
        }
        ces.push(ComponentEndpoint {
            id: node.clone(),
            redfish_endpoint_id: ep.id.clone(),
            odata_id: sys.path.clone(),
            system_id: sys.id.clone(),
            name: sys.name.clone(),
            uuid: sys.uuid.clone(),
            reset_target: sys.reset_target.clone(),
            reset_types: sys.reset_types.clone(),
            boot_targets: sys.boot_targets.clone(),
            macs,
        });
    }
    let mut endpoint = ep.clone();
    if let Some(uuid) = &found.uuid {
        endpoint.uuid = uuid.clone();
    }
    let info = &mut endpoint.discovery_info;
    info.last_status = ds::OK.into();
    info.error = None;
    info.redfish_version = found.redfish_version.clone();
    info.problems = problems;
    info.renumbered = naming.renumbered.clone();
    info.presented_cert = None;
    info.renumber = false;
    DiscoveryWrite {
        endpoint,
        components,
        interfaces,
        component_endpoints: ces,
    }
}

/// Why `owner` (which has the interface) is not this BMC's to take it from, if it is not:
/// it is behind another BMC, or was registered by hand for a node no BMC reported.
fn foreign_owner(ep: &RedfishEndpoint, owner: &Xname, facts: &Facts) -> Option<String> {
    let (exists, ce) = facts.owners.get(owner)?;
    if !exists {
        return None;
    }
    match ce {
        Some(ce) if ce.redfish_endpoint_id == ep.id => None,
        Some(ce) => Some(format!("behind BMC {}", ce.redfish_endpoint_id)),
        None if owner.parent().as_ref() == Some(&ep.id) => None,
        None => Some("registered without a BMC".into()),
    }
}

fn conflict_message(
    ep: &RedfishEndpoint,
    system: &str,
    node: &Xname,
    mac: &Mac,
    owner: &Xname,
    why: &str,
) -> String {
    let id = &ep.id;
    format!(
        "MAC {mac} of {node} ({system} on BMC {id}) is already the interface of {owner} ({why}); it stays with {owner}. \
         If it belongs to {node} (the NIC moved, or the other record is stale or the same BMC is registered twice), \
         delete the interface (DELETE /apis/smd/hsm/v2/Inventory/EthernetInterfaces/{}) and rediscover {id} \
         (rackboot bmc discover {id}); if it does not, fix the wiring or {id}'s address and rediscover it",
        mac.id()
    )
}

/// Names kept against HSM's order, and a renumbering that was asked for but not done.
fn order_problems(ep: &RedfishEndpoint, naming: &Naming) -> Vec<DiscoveryProblem> {
    let mut out = Vec::new();
    if !naming.not_hsm.is_empty() {
        let list: Vec<String> = naming
            .not_hsm
            .iter()
            .map(|(sys, is, hsm)| format!("{sys} is {is} (HSM: {hsm})"))
            .collect();
        out.push(DiscoveryProblem {
            kind: ProblemKind::NotInHsmOrder,
            resource: ep.id.to_string(),
            message: format!(
                "nodes of {} are not named as HSM would name them: {}; the names were kept so that no node moves. \
                 To rename them as HSM would (each node's boot parameters, BOS state and MACs go with its name), \
                 rediscover with renumbering: rackboot bmc discover {} --renumber",
                ep.id,
                list.join(", "),
                ep.id
            ),
        });
    }
    if let Some(why) = &naming.renumber_refused {
        out.push(DiscoveryProblem {
            kind: ProblemKind::NotInHsmOrder,
            resource: ep.id.to_string(),
            message: format!("{}: {why}; ask again when it answers", ep.id),
        });
    }
    out
}

/// The owners whose facts [`plan`] needs: those of the found MACs' interfaces that are not
/// among the nodes being named.
pub fn foreign_candidates<'a>(
    interfaces: impl Iterator<Item = &'a EthernetInterface>,
    nodes: &HashSet<Xname>,
) -> HashSet<Xname> {
    interfaces
        .filter_map(|i| i.component_id.clone())
        .filter(|c| !nodes.contains(c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::power::DiscoveredSystem;

    fn ep(id: &str) -> RedfishEndpoint {
        serde_json::from_value(serde_json::json!({"id": id, "type": "NodeBMC", "enabled": true}))
            .unwrap()
    }

    fn x(s: &str) -> Xname {
        Xname::parse(s).unwrap()
    }

    fn system(path: &str, macs: &[&str]) -> DiscoveredSystem {
        DiscoveredSystem {
            path: path.into(),
            id: path.rsplit('/').next().unwrap().into(),
            name: String::new(),
            uuid: String::new(),
            power: crate::model::power::PowerState::On,
            reset_target: format!("{path}/Actions/ComputerSystem.Reset"),
            reset_types: vec!["On".into()],
            boot_targets: vec![],
            macs: macs.iter().map(|m| m.to_string()).collect(),
        }
    }

    fn iface(mac: &str, owner: &str) -> EthernetInterface {
        EthernetInterface {
            mac: Mac::parse(mac).unwrap(),
            description: "by hand".into(),
            ip_addresses: vec![],
            last_update: Utc::now(),
            component_id: Some(x(owner)),
        }
    }

    fn owner_ce(node: &str, bmc: &str) -> ComponentEndpoint {
        ComponentEndpoint {
            id: x(node),
            redfish_endpoint_id: x(bmc),
            odata_id: "/redfish/v1/Systems/1".into(),
            system_id: "1".into(),
            name: String::new(),
            uuid: String::new(),
            reset_target: String::new(),
            reset_types: vec![],
            boot_targets: vec![],
            macs: vec![],
        }
    }

    #[test]
    fn a_mac_another_bmc_has_stays_there_and_is_reported_with_both_endpoints() {
        let me = ep("x3000c0s2b0");
        let found = DiscoveredBmc {
            redfish_version: Some("1.6.0".into()),
            uuid: Some("root-uuid".into()),
            members: vec!["/redfish/v1/Systems/1".into()],
            systems: vec![system(
                "/redfish/v1/Systems/1",
                &[
                    "94:40:C9:5C:86:BC",
                    "94:40:c9:5c:86:bd",
                    "94-40-C9-5C-86-BC",
                ],
            )],
            problems: vec![(
                "/redfish/v1/Systems/1/EthernetInterfaces/3".into(),
                "HTTP 404".into(),
            )],
        };
        let naming = Naming {
            names: vec![Some(x("x3000c0s2b0n0"))],
            ..Default::default()
        };
        let mut facts = Facts::default();
        facts.interfaces.insert(
            "9440c95c86bc".into(),
            iface("94:40:c9:5c:86:bc", "x3000c0s1b0n0"),
        );
        facts.owners.insert(
            x("x3000c0s1b0n0"),
            (true, Some(owner_ce("x3000c0s1b0n0", "x3000c0s1b0"))),
        );
        let w = plan(&me, &found, &naming, &facts, Utc::now());
        // Only the free MAC is claimed; the taken one is not moved.
        let claimed: Vec<String> = w.interfaces.iter().map(|i| i.mac.to_string()).collect();
        assert_eq!(claimed, ["94:40:c9:5c:86:bd"]);
        // The endpoint lists what the BMC reported, each MAC once.
        assert_eq!(
            w.component_endpoints[0].macs,
            ["94:40:c9:5c:86:bc", "94:40:c9:5c:86:bd"]
        );
        let info = &w.endpoint.discovery_info;
        assert_eq!(info.last_status, ds::OK);
        assert_eq!(w.endpoint.uuid, "root-uuid");
        let kinds: Vec<_> = info.problems.iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [ProblemKind::Unreadable, ProblemKind::MacConflict]);
        let m = &info.problems[1].message;
        for needle in [
            "94:40:c9:5c:86:bc",
            "x3000c0s2b0",
            "x3000c0s1b0n0",
            "behind BMC x3000c0s1b0",
            "DELETE /apis/smd/hsm/v2/Inventory/EthernetInterfaces/9440c95c86bc",
            "rackboot bmc discover x3000c0s2b0",
        ] {
            assert!(m.contains(needle), "{needle} not in {m}");
        }

        // The same MAC owned by a node of this BMC (a renumbering), by a node that is
        // gone, or by nobody, is claimed.
        for (owner, facts_for) in [
            (
                "x3000c0s2b0n1",
                (true, Some(owner_ce("x3000c0s2b0n1", "x3000c0s2b0"))),
            ),
            ("x3000c0s1b0n0", (false, None)),
        ] {
            let mut facts = Facts::default();
            facts
                .interfaces
                .insert("9440c95c86bc".into(), iface("94:40:c9:5c:86:bc", owner));
            facts.owners.insert(x(owner), facts_for);
            let w = plan(&me, &found, &naming, &facts, Utc::now());
            assert_eq!(w.interfaces.len(), 2, "{owner}");
            assert!(
                w.interfaces
                    .iter()
                    .all(|i| i.component_id == Some(x("x3000c0s2b0n0")))
            );
            assert_eq!(w.interfaces[0].description, "by hand", "kept");
        }
        // Registered by hand for a node no BMC reported: not taken.
        let mut facts = Facts::default();
        facts.interfaces.insert(
            "9440c95c86bc".into(),
            iface("94:40:c9:5c:86:bc", "x3000c0s9b0n0"),
        );
        facts.owners.insert(x("x3000c0s9b0n0"), (true, None));
        let w = plan(&me, &found, &naming, &facts, Utc::now());
        assert_eq!(w.interfaces.len(), 1);
        assert!(
            w.endpoint.discovery_info.problems[1]
                .message
                .contains("registered without a BMC")
        );
    }

    #[test]
    fn two_systems_of_one_bmc_reporting_a_mac_keep_it_on_the_first() {
        let me = ep("x3000c0s2b0");
        let found = DiscoveredBmc {
            redfish_version: None,
            uuid: None,
            members: vec![
                "/redfish/v1/Systems/a".into(),
                "/redfish/v1/Systems/b".into(),
            ],
            systems: vec![
                system("/redfish/v1/Systems/a", &["02:00:00:00:00:01"]),
                system("/redfish/v1/Systems/b", &["02:00:00:00:00:01", "bogus"]),
            ],
            problems: vec![],
        };
        let naming = Naming {
            names: vec![Some(x("x3000c0s2b0n0")), Some(x("x3000c0s2b0n1"))],
            ..Default::default()
        };
        let w = plan(&me, &found, &naming, &Facts::default(), Utc::now());
        assert_eq!(w.interfaces.len(), 1);
        assert_eq!(w.interfaces[0].component_id, Some(x("x3000c0s2b0n0")));
        let kinds: Vec<_> = w
            .endpoint
            .discovery_info
            .problems
            .iter()
            .map(|p| p.kind)
            .collect();
        assert_eq!(kinds, [ProblemKind::MacConflict, ProblemKind::Ignored]);
        assert!(w.component_endpoints[1].macs.is_empty());
    }

    #[test]
    fn a_system_listing_no_host_nic_is_named_and_reported_with_how_to_add_its_mac() {
        let me = ep("x3000c0s2b0");
        let found = DiscoveredBmc {
            redfish_version: None,
            uuid: None,
            members: vec!["/redfish/v1/Systems/system".into()],
            systems: vec![system("/redfish/v1/Systems/system", &[])],
            problems: vec![],
        };
        let naming = Naming {
            names: vec![Some(x("x3000c0s2b0n0"))],
            ..Default::default()
        };
        let w = plan(&me, &found, &naming, &Facts::default(), Utc::now());
        assert_eq!(w.component_endpoints.len(), 1);
        assert!(w.interfaces.is_empty());
        let p = &w.endpoint.discovery_info.problems;
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].kind, ProblemKind::NoMac);
        assert_eq!(p[0].resource, "/redfish/v1/Systems/system");
        assert!(p[0].message.contains("x3000c0s2b0n0"), "{}", p[0].message);
        assert!(
            p[0].message.contains("Inventory/EthernetInterfaces"),
            "{}",
            p[0].message
        );
        assert_eq!(w.endpoint.discovery_info.last_status, ds::OK);
    }
}
