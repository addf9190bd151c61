//! Node names for a BMC's systems, as HSM gives them, without ever moving a node silently.
//!
//! HSM numbers a NodeBMC's systems `<bmc>n0`, `n1`, … in the sorted order of their member
//! ids, whatever order the Systems collection lists them in (a Cray EX blade lists Node3,
//! Node1, Node2, Node0). The sort is natural (`Node2` before `Node10`), from the
//! `alphanumeric-sort` crate.
//!
//! Names are also stable: a system this BMC reported before (same UUID, or same
//! `@odata.id` when either side has no UUID) keeps its node, because a node's name carries
//! its MACs, boot parameters and BOS state, and renaming it would hand them to another
//! machine. So a name that differs from HSM's (nodes named by an older rule, or a system
//! added in front of the others) is kept and reported; only an explicit renumbering,
//! asked for by an admin, moves nodes to HSM's names, and says which moved. New systems
//! take their HSM name when it is free, else the lowest free `n<i>`.
//!
//! Pure: a function of the endpoint, what the BMC listed and what was recorded before.

use std::cmp::Ordering;
use std::collections::HashSet;

use crate::model::redfish_endpoint::Renumbering;
use crate::model::{ComponentEndpoint, RedfishEndpoint, Xname, XnameKind};
use crate::power::DiscoveredSystem;

/// The outcome of naming one BMC's systems.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Naming {
    /// Per system read (in the order given): its node, or `None` for a controller whose
    /// systems get no nodes.
    pub names: Vec<Option<Xname>>,
    /// Members that did not answer but were named before: their recorded endpoint stays.
    pub kept_unread: Vec<ComponentEndpoint>,
    /// Systems whose node is not the one HSM would name: (system, its node, HSM's name).
    pub not_hsm: Vec<(String, Xname, Xname)>,
    /// Nodes an explicit renumbering moved.
    pub renumbered: Vec<Renumbering>,
    /// Why a requested renumbering was not done.
    pub renumber_refused: Option<String>,
}

/// One member of the Systems collection: a system that answered, or one that did not.
struct Entry<'a> {
    path: &'a str,
    system: Option<usize>,
    kept: Option<&'a ComponentEndpoint>,
}

/// Name the systems (`systems`, read from `members`, which lists every member whether it
/// answered or not) of `ep`, given what its last discovery recorded.
pub fn node_names(
    ep: &RedfishEndpoint,
    members: &[String],
    systems: &[DiscoveredSystem],
    previous: &[ComponentEndpoint],
    renumber: bool,
) -> Result<Naming, String> {
    let mut entries = entries(members, systems, previous);
    let mut naming = Naming {
        names: vec![None; systems.len()],
        ..Default::default()
    };
    if !ep.node_xnames.is_empty() {
        if ep.node_xnames.len() < entries.len() {
            return Err(format!(
                "BMC {} has {} systems but only {} node xnames were given",
                ep.id,
                entries.len(),
                ep.node_xnames.len()
            ));
        }
        for (rank, e) in entries.iter().enumerate() {
            if let Some(i) = e.system {
                naming.names[i] = Some(ep.node_xnames[rank].clone());
            }
        }
        return Ok(naming);
    }
    match ep.id.kind() {
        XnameKind::NodeBmc => {}
        // Chassis and switch controllers are discovered with no nodes, as in HSM.
        XnameKind::ChassisBmc | XnameKind::RouterBmc => return Ok(naming),
        other => {
            return Err(format!(
                "cannot name the systems of {} ({}): register its BMC's xname (e.g. x3000c0s1b0) or give the nodes' xnames (NodeXnames)",
                ep.id,
                other.hms_type()
            ));
        }
    }
    let hsm = |rank: usize| {
        Xname::parse(&format!("{}n{rank}", ep.id))
            .map_err(|e| format!("cannot name system {rank} of {}: {e}", ep.id))
    };
    let unread: Vec<&str> = entries
        .iter()
        .filter(|e| e.system.is_none())
        .map(|e| e.path)
        .collect();
    let renumber = if renumber && !unread.is_empty() {
        naming.renumber_refused = Some(format!(
            "renumbering postponed: {} did not answer, and its node cannot move without it",
            unread.join(", ")
        ));
        false
    } else {
        renumber
    };
    let mut taken: HashSet<Xname> = entries
        .iter()
        .filter_map(|e| e.kept.map(|ce| ce.id.clone()))
        .collect();
    // An unread system's HSM name is left for it to take when it answers again.
    for (rank, e) in entries.iter().enumerate() {
        if e.system.is_none() && e.kept.is_none() {
            taken.insert(hsm(rank)?);
        }
    }
    let mut next = 0;
    for (rank, e) in entries.iter_mut().enumerate() {
        let own = hsm(rank)?;
        let Some(i) = e.system else {
            if let Some(ce) = e.kept {
                naming.kept_unread.push(ce.clone());
                if ce.id != own {
                    naming
                        .not_hsm
                        .push((e.path.to_string(), ce.id.clone(), own));
                }
            }
            continue;
        };
        let name = match e.kept {
            Some(ce) if renumber => {
                if ce.id != own {
                    naming.renumbered.push(Renumbering {
                        system: e.path.to_string(),
                        from: ce.id.clone(),
                        to: own.clone(),
                    });
                }
                own.clone()
            }
            _ if renumber => own.clone(),
            Some(ce) => ce.id.clone(),
            None if !taken.contains(&own) => own.clone(),
            None => loop {
                let candidate = hsm(next)?;
                next += 1;
                if !taken.contains(&candidate) {
                    break candidate;
                }
            },
        };
        taken.insert(name.clone());
        if name != own {
            naming.not_hsm.push((e.path.to_string(), name.clone(), own));
        }
        naming.names[i] = Some(name);
    }
    Ok(naming)
}

/// Every member in HSM's order, each with the system read from it and its previous node.
fn entries<'a>(
    members: &'a [String],
    systems: &'a [DiscoveredSystem],
    previous: &'a [ComponentEndpoint],
) -> Vec<Entry<'a>> {
    let trim = |p: &str| p.trim_end_matches('/').to_string();
    let read: HashSet<String> = systems.iter().map(|s| trim(&s.path)).collect();
    let mut entries: Vec<Entry<'a>> = systems
        .iter()
        .enumerate()
        .map(|(i, s)| Entry {
            path: &s.path,
            system: Some(i),
            kept: None,
        })
        .chain(
            members
                .iter()
                .filter(|m| !read.contains(&trim(m)))
                .map(|m| Entry {
                    path: m,
                    system: None,
                    kept: None,
                }),
        )
        .collect();
    entries.sort_by(|a, b| hsm_order(a.path, b.path));
    // A UUID identifies a system only if no other system of this BMC reports it too.
    let uuid_of = |e: &Entry| {
        let sys = &systems[e.system?];
        let dup = systems
            .iter()
            .filter(|o| o.uuid.eq_ignore_ascii_case(&sys.uuid))
            .count()
            > 1;
        (!sys.uuid.is_empty() && !dup).then_some(sys.uuid.as_str())
    };
    let mut used = vec![false; previous.len()];
    for e in entries.iter_mut() {
        let uuid = uuid_of(e);
        let found = previous.iter().enumerate().position(|(j, ce)| {
            !used[j]
                && match uuid {
                    Some(u) if !ce.uuid.is_empty() => u.eq_ignore_ascii_case(&ce.uuid),
                    _ => trim(e.path) == trim(&ce.odata_id),
                }
        });
        if let Some(j) = found {
            used[j] = true;
            e.kept = Some(&previous[j]);
        }
    }
    entries
}

/// HSM's order of member ids: natural (numbers by value), then the whole path.
fn hsm_order(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_end_matches('/'), b.trim_end_matches('/'));
    alphanumeric_sort::compare_str(a, b).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sys(path: &str, uuid: &str) -> DiscoveredSystem {
        DiscoveredSystem {
            path: path.into(),
            id: path.rsplit('/').next().unwrap().into(),
            name: String::new(),
            uuid: uuid.into(),
            power: crate::model::power::PowerState::Off,
            reset_target: String::new(),
            reset_types: vec![],
            boot_targets: vec![],
            macs: vec![],
        }
    }

    fn ce(node: &str, path: &str, uuid: &str) -> ComponentEndpoint {
        ComponentEndpoint {
            id: Xname::parse(node).unwrap(),
            redfish_endpoint_id: Xname::parse("x3000c0s1b0").unwrap(),
            odata_id: path.into(),
            system_id: String::new(),
            name: String::new(),
            uuid: uuid.into(),
            reset_target: String::new(),
            reset_types: vec![],
            boot_targets: vec![],
            macs: vec![],
        }
    }

    fn ep(id: &str) -> RedfishEndpoint {
        serde_json::from_value(serde_json::json!({"id": id, "type": "NodeBMC", "enabled": true}))
            .unwrap()
    }

    fn paths(systems: &[DiscoveredSystem]) -> Vec<String> {
        systems.iter().map(|s| s.path.clone()).collect()
    }

    fn names(n: &Naming) -> Vec<String> {
        n.names
            .iter()
            .map(|x| x.as_ref().map(|x| x.to_string()).unwrap_or_default())
            .collect()
    }

    const S: &str = "/redfish/v1/Systems/";

    #[test]
    fn systems_are_numbered_in_natural_order_of_their_ids_whatever_the_listing() {
        let listed: Vec<_> = ["Node3", "Node1", "Node10", "Node2", "Node0"]
            .iter()
            .map(|n| sys(&format!("{S}{n}"), ""))
            .collect();
        let n = node_names(&ep("x1000c0s0b0"), &paths(&listed), &listed, &[], false).unwrap();
        assert_eq!(
            names(&n),
            [
                "x1000c0s0b0n3",
                "x1000c0s0b0n1",
                "x1000c0s0b0n4",
                "x1000c0s0b0n2",
                "x1000c0s0b0n0"
            ],
            "Node0 < Node1 < Node2 < Node3 < Node10"
        );
        assert!(n.not_hsm.is_empty() && n.renumbered.is_empty());
    }

    #[test]
    fn rediscovery_keeps_each_system_on_its_node_whatever_the_order() {
        let (a, b, c) = (
            sys(&format!("{S}a"), "UUID-A"),
            sys(&format!("{S}b"), "uuid-b"),
            sys(&format!("{S}c"), ""),
        );
        let previous = [
            ce("x3000c0s1b0n0", &format!("{S}a"), "uuid-a"),
            ce("x3000c0s1b0n1", &format!("{S}b"), "UUID-B"),
            ce("x3000c0s1b0n2", &format!("{S}c/"), ""),
        ];
        // Reordered (and a trailing slash): each keeps its node, by UUID
        // case-insensitively, by path without one.
        let listed = [c.clone(), b.clone(), a.clone()];
        let n = node_names(
            &ep("x3000c0s1b0"),
            &paths(&listed),
            &listed,
            &previous,
            false,
        )
        .unwrap();
        assert_eq!(
            names(&n),
            ["x3000c0s1b0n2", "x3000c0s1b0n1", "x3000c0s1b0n0"]
        );
        assert!(n.not_hsm.is_empty(), "{n:?}");
        // A system replaced by a new one (new UUID at a's path) takes a free name: its
        // own HSM name is taken by nobody once a's node is released... here n0 is free.
        let d = sys(&format!("{S}a"), "uuid-d");
        let e = sys(&format!("{S}e"), "uuid-e");
        let listed = [d, b, c, e];
        let n = node_names(
            &ep("x3000c0s1b0"),
            &paths(&listed),
            &listed,
            &previous,
            false,
        )
        .unwrap();
        assert_eq!(
            names(&n),
            [
                "x3000c0s1b0n0",
                "x3000c0s1b0n1",
                "x3000c0s1b0n2",
                "x3000c0s1b0n3"
            ]
        );
    }

    #[test]
    fn a_name_hsm_would_give_otherwise_is_kept_reported_and_moved_only_on_request() {
        // Named by the old rule (collection order Node3, Node1, Node2, Node0).
        let previous = [
            ce("x3000c0s1b0n0", &format!("{S}Node3"), ""),
            ce("x3000c0s1b0n1", &format!("{S}Node1"), ""),
            ce("x3000c0s1b0n2", &format!("{S}Node2"), ""),
            ce("x3000c0s1b0n3", &format!("{S}Node0"), ""),
        ];
        let listed: Vec<_> = ["Node3", "Node1", "Node2", "Node0"]
            .iter()
            .map(|n| sys(&format!("{S}{n}"), ""))
            .collect();
        let x = ep("x3000c0s1b0");
        let kept = node_names(&x, &paths(&listed), &listed, &previous, false).unwrap();
        assert_eq!(
            names(&kept),
            [
                "x3000c0s1b0n0",
                "x3000c0s1b0n1",
                "x3000c0s1b0n2",
                "x3000c0s1b0n3"
            ],
            "nothing moves silently"
        );
        let differ: Vec<_> = kept
            .not_hsm
            .iter()
            .map(|(p, is, hsm)| format!("{p} {is} {hsm}"))
            .collect();
        assert_eq!(
            differ,
            [
                format!("{S}Node0 x3000c0s1b0n3 x3000c0s1b0n0"),
                format!("{S}Node3 x3000c0s1b0n0 x3000c0s1b0n3"),
            ]
        );
        let moved = node_names(&x, &paths(&listed), &listed, &previous, true).unwrap();
        assert_eq!(
            names(&moved),
            [
                "x3000c0s1b0n3",
                "x3000c0s1b0n1",
                "x3000c0s1b0n2",
                "x3000c0s1b0n0"
            ]
        );
        assert!(moved.not_hsm.is_empty());
        let what: Vec<_> = moved
            .renumbered
            .iter()
            .map(|r| format!("{} {}→{}", r.system, r.from, r.to))
            .collect();
        assert_eq!(
            what,
            [
                format!("{S}Node0 x3000c0s1b0n3→x3000c0s1b0n0"),
                format!("{S}Node3 x3000c0s1b0n0→x3000c0s1b0n3"),
            ]
        );
        // With a member that does not answer, nothing is renumbered and its node stays.
        let answered = &listed[..3];
        let n = node_names(&x, &paths(&listed), answered, &previous, true).unwrap();
        assert!(n.renumbered.is_empty());
        assert!(n.renumber_refused.unwrap().contains("Node0 did not answer"));
        assert_eq!(n.kept_unread.len(), 1);
        assert_eq!(n.kept_unread[0].id.as_str(), "x3000c0s1b0n3");
    }

    #[test]
    fn an_unread_system_keeps_its_place_and_a_new_one_its_hsm_name() {
        let listed: Vec<_> = ["Node0", "Node1"]
            .iter()
            .map(|n| sys(&format!("{S}{n}"), ""))
            .collect();
        // Node0 did not answer on first contact: Node1 still becomes n1, not n0.
        let n = node_names(
            &ep("x3000c0s1b0"),
            &paths(&listed),
            &listed[1..],
            &[],
            false,
        )
        .unwrap();
        assert_eq!(names(&n), ["x3000c0s1b0n1"]);
        // Node1 was there first (as n0); Node0 joins: it cannot have n0, takes n1, and
        // both are reported.
        let previous = [ce("x3000c0s1b0n0", &format!("{S}Node1"), "")];
        let n = node_names(
            &ep("x3000c0s1b0"),
            &paths(&listed),
            &listed,
            &previous,
            false,
        )
        .unwrap();
        assert_eq!(names(&n), ["x3000c0s1b0n1", "x3000c0s1b0n0"]);
        assert_eq!(n.not_hsm.len(), 2);
    }

    #[test]
    fn a_uuid_shared_by_two_systems_identifies_neither() {
        let listed = [sys(&format!("{S}1"), "same"), sys(&format!("{S}2"), "same")];
        let previous = [
            ce("x3000c0s1b0n0", &format!("{S}1"), "same"),
            ce("x3000c0s1b0n1", &format!("{S}2"), "same"),
        ];
        let n = node_names(
            &ep("x3000c0s1b0"),
            &paths(&listed),
            &listed,
            &previous,
            false,
        )
        .unwrap();
        assert_eq!(names(&n), ["x3000c0s1b0n0", "x3000c0s1b0n1"]);
    }

    #[test]
    fn controllers_get_no_nodes_and_explicit_names_follow_hsm_order() {
        let listed = [sys(&format!("{S}b"), ""), sys(&format!("{S}a"), "")];
        for cmm in ["x1000c0b0", "x1000c0r3b0"] {
            let n = node_names(&ep(cmm), &paths(&listed), &listed, &[], false).unwrap();
            assert_eq!(n.names, [None, None], "{cmm}");
        }
        let e = node_names(&ep("x1000c0"), &paths(&listed), &listed, &[], false).unwrap_err();
        assert!(e.contains("Chassis"), "{e}");
        let mut named = ep("x1000c0s0b0");
        named.node_xnames = vec![
            Xname::parse("x1000c0s0b0n7").unwrap(),
            Xname::parse("x1000c0s0b0n8").unwrap(),
        ];
        let n = node_names(&named, &paths(&listed), &listed, &[], false).unwrap();
        assert_eq!(names(&n), ["x1000c0s0b0n8", "x1000c0s0b0n7"]);
        named.node_xnames.pop();
        assert!(node_names(&named, &paths(&listed), &listed, &[], false).is_err());
    }
}
