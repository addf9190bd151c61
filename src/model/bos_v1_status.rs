//! The BOS v1 status tree (session → boot sets → phases → categories), derived from the
//! components as a pure function, so the v1 view and the v2 view of a session never disagree.
//!
//! BOA wrote this tree as it went; here nothing is written: each node's place in each phase
//! is read off its component ([`node_phases`]): which session it belongs to, its phase, its
//! derived status and whether it is still enabled. The only inputs besides the components are
//! what the session remembers ([`V1Run`]): the phases of each boot set, the nodes each boot
//! set resolved to, and when each stage started and ended.

use std::collections::{BTreeMap, HashMap};

use super::boot_component::BootComponent;
use super::bos_state::{Phase, SessionStatus, Status};
use super::bos_v1::{V1Category, V1Phase, V1Run};
use super::session::Session;

/// `V1GenericMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    pub start_time: Option<String>,
    pub stop_time: Option<String>,
    pub complete: bool,
    pub in_progress: bool,
    pub error_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseStatus {
    pub name: V1Phase,
    pub metadata: Metadata,
    /// Every category, in `V1Category::ALL` order, each with its nodes (sorted).
    pub categories: Vec<(V1Category, Vec<String>)>,
    /// Failed nodes grouped by their error.
    pub errors: BTreeMap<String, Vec<String>>,
}

impl PhaseStatus {
    pub fn category(&self, c: V1Category) -> &[String] {
        self.categories
            .iter()
            .find(|(k, _)| *k == c)
            .map(|(_, n)| n.as_slice())
            .unwrap_or(&[])
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootSetStatus {
    pub name: String,
    pub metadata: Metadata,
    pub phases: Vec<PhaseStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTree {
    pub id: String,
    pub metadata: Metadata,
    pub boot_sets: Vec<BootSetStatus>,
}

impl SessionTree {
    pub fn boot_set(&self, name: &str) -> Option<&BootSetStatus> {
        self.boot_sets.iter().find(|b| b.name == name)
    }
}

/// The error a failed node is listed under when its component names none.
pub const NO_ERROR_TEXT: &str = "the node failed without an error message";

/// Where one node is in each of `phases`, with the error of the phase it failed in.
/// `started`: whether its boot set's stage has been set up.
pub fn node_phases(
    phases: &[V1Phase],
    c: Option<&BootComponent>,
    session: &str,
    started: bool,
) -> Vec<(V1Category, Option<String>)> {
    let all = |k: V1Category| phases.iter().map(|_| (k, None)).collect();
    if !started {
        return all(V1Category::NotStarted);
    }
    // No component, or another session took the node over: this session does not act on it.
    let Some(c) = c.filter(|c| c.session == session) else {
        return all(V1Category::Excluded);
    };
    let index = |p: V1Phase| phases.iter().position(|x| *x == p);
    let status = c.derived_status();
    let done = !c.enabled && c.status.phase == Phase::None && status == Status::Stable;
    let failed = status == Status::Failed || (!c.enabled && !done);
    let current = match c.status.phase {
        Phase::PoweringOff => index(V1Phase::Shutdown).or(index(V1Phase::Boot)),
        Phase::PoweringOn => index(V1Phase::Boot),
        Phase::Configuring => index(V1Phase::Configure),
        Phase::None => None,
    };
    if done && !failed {
        return all(V1Category::Succeeded);
    }
    // Before the engine first looks at a node its phase is empty: the first phase is under way.
    let current = current.unwrap_or(0);
    phases
        .iter()
        .enumerate()
        .map(|(i, _)| match i.cmp(&current) {
            std::cmp::Ordering::Less => (V1Category::Succeeded, None),
            std::cmp::Ordering::Equal if failed => {
                let e = if c.error.is_empty() {
                    NO_ERROR_TEXT.to_string()
                } else {
                    c.error.clone()
                };
                (V1Category::Failed, Some(e))
            }
            std::cmp::Ordering::Equal => (V1Category::InProgress, None),
            std::cmp::Ordering::Greater if failed => (V1Category::Excluded, None),
            std::cmp::Ordering::Greater => (V1Category::NotStarted, None),
        })
        .collect()
}

/// The whole tree of a v1 session from the components (`comps`: every component, by id).
pub fn session_tree(
    s: &Session,
    run: &V1Run,
    comps: &HashMap<&str, &BootComponent>,
) -> SessionTree {
    let complete = s.is(SessionStatus::Complete);
    let mut boot_sets = Vec::new();
    for (name, bs) in &run.boot_sets {
        let times = run.stages.get(bs.stage).cloned().unwrap_or_default();
        let started = times.start.is_some();
        let nodes = bs.nodes.clone().unwrap_or_default();
        let per_node: Vec<Vec<(V1Category, Option<String>)>> = nodes
            .iter()
            .map(|n| node_phases(&bs.phases, comps.get(n.as_str()).copied(), &s.name, started))
            .collect();
        let mut phases = Vec::new();
        for (i, p) in bs.phases.iter().enumerate() {
            let mut cats: BTreeMap<V1Category, Vec<String>> = BTreeMap::new();
            let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (node, places) in nodes.iter().zip(&per_node) {
                let (cat, err) = &places[i];
                cats.entry(*cat).or_default().push(node.clone());
                if let Some(e) = err {
                    errors.entry(e.clone()).or_default().push(node.clone());
                }
            }
            let count = |c: V1Category| cats.get(&c).map_or(0, Vec::len);
            let moving = count(V1Category::NotStarted) + count(V1Category::InProgress);
            // A boot set whose stage ended with no nodes (setup found none) is complete too.
            let phase_complete =
                started && (moving == 0 || times.end.is_some() && nodes.is_empty());
            let phase_started = started && count(V1Category::NotStarted) < nodes.len().max(1);
            let metadata = Metadata {
                start_time: phase_started.then(|| times.start.clone()).flatten(),
                stop_time: phase_complete.then(|| times.end.clone()).flatten(),
                complete: phase_complete,
                in_progress: count(V1Category::InProgress) > 0,
                error_count: count(V1Category::Failed) as u64,
            };
            phases.push(PhaseStatus {
                name: *p,
                metadata,
                categories: V1Category::ALL
                    .iter()
                    .map(|c| (*c, cats.remove(c).unwrap_or_default()))
                    .collect(),
                errors,
            });
        }
        let bs_complete =
            times.end.is_some() || (started && phases.iter().all(|p| p.metadata.complete));
        let metadata = Metadata {
            start_time: times.start.clone(),
            stop_time: times.end.clone(),
            complete: bs_complete,
            in_progress: started && !bs_complete,
            error_count: phases.iter().map(|p| p.metadata.error_count).sum(),
        };
        boot_sets.push(BootSetStatus {
            name: name.clone(),
            metadata,
            phases,
        });
    }
    let setup_error = u64::from(s.status.error.is_some());
    SessionTree {
        id: s.name.clone(),
        metadata: Metadata {
            start_time: s.status.start_time.clone(),
            stop_time: s.status.end_time.clone(),
            complete,
            in_progress: !complete,
            error_count: boot_sets
                .iter()
                .map(|b| b.metadata.error_count)
                .sum::<u64>()
                + setup_error,
        },
        boot_sets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::boot_component::timestamp;
    use crate::model::bos_v1::{StageTimes, V1BootSet, V1Operation};
    use crate::model::session::SessionState;
    use crate::model::{Action, Operation};
    use V1Category::*;
    use chrono::Utc;

    fn comp(id: &str, session: &str, phase: &str, enabled: bool) -> BootComponent {
        let mut c = BootComponent::discovered(id, Utc::now());
        c.session = session.into();
        c.status.phase = phase.into();
        c.enabled = enabled;
        c
    }

    fn cats(v: Vec<(V1Category, Option<String>)>) -> Vec<V1Category> {
        v.into_iter().map(|(c, _)| c).collect()
    }

    #[test]
    fn a_node_reads_its_place_off_its_component() {
        let reboot = V1Operation::Reboot.phases(true);
        let at = |c: &BootComponent| cats(node_phases(&reboot, Some(c), "s", true));
        assert_eq!(
            cats(node_phases(&reboot, None, "s", false)),
            vec![NotStarted; 3]
        );
        assert_eq!(at(&comp("x", "other", "", false)), vec![Excluded; 3]);
        // Just set up: the first phase is under way.
        assert_eq!(
            at(&comp("x", "s", "", true)),
            vec![InProgress, NotStarted, NotStarted]
        );
        assert_eq!(
            at(&comp("x", "s", "powering_off", true)),
            vec![InProgress, NotStarted, NotStarted]
        );
        assert_eq!(
            at(&comp("x", "s", "powering_on", true)),
            vec![Succeeded, InProgress, NotStarted]
        );
        assert_eq!(
            at(&comp("x", "s", "configuring", true)),
            vec![Succeeded, Succeeded, InProgress]
        );
        assert_eq!(at(&comp("x", "s", "", false)), vec![Succeeded; 3]);
        let mut f = comp("x", "s", "powering_on", false);
        f.set_override(Some(Status::Failed));
        f.error = "boom".into();
        let got = node_phases(&reboot, Some(&f), "s", true);
        assert_eq!(cats(got.clone()), vec![Succeeded, Failed, Excluded]);
        assert_eq!(got[1].1.as_deref(), Some("boom"));
        // A boot of a node on the wrong image powers it off inside the boot phase.
        let boot = V1Operation::Boot.phases(false);
        assert_eq!(
            cats(node_phases(
                &boot,
                Some(&comp("x", "s", "powering_off", true)),
                "s",
                true
            )),
            vec![InProgress]
        );
        // Disabled while on hold (its BMC could not be read): failed, with the reason.
        let mut h = comp("x", "s", "powering_on", false);
        h.set_override(Some(Status::OnHold));
        let got = node_phases(&boot, Some(&h), "s", true);
        assert_eq!(got[0], (Failed, Some(NO_ERROR_TEXT.into())));
    }

    #[test]
    fn the_tree_groups_nodes_and_errors_and_sums_metadata() {
        let now = Utc::now();
        let ts = timestamp(now);
        let s = Session {
            name: "s".into(),
            tenant: None,
            operation: Operation::Boot,
            template_name: "t".into(),
            limit: String::new(),
            stage: false,
            components: "x1,x2,x3".into(),
            include_disabled: false,
            status: SessionState {
                status: SessionStatus::Running,
                start_time: Some(ts.clone()),
                end_time: None,
                error: None,
            },
            v1: None,
        };
        let run = V1Run {
            operation: V1Operation::Boot,
            boot_sets: [
                (
                    "a".to_string(),
                    V1BootSet {
                        stage: 0,
                        phases: V1Operation::Boot.phases(true),
                        nodes: Some(vec!["x1".into(), "x2".into(), "x3".into()]),
                    },
                ),
                (
                    "b".to_string(),
                    V1BootSet {
                        stage: 1,
                        phases: V1Operation::Boot.phases(false),
                        nodes: None,
                    },
                ),
            ]
            .into_iter()
            .collect(),
            stages: vec![
                StageTimes {
                    start: Some(ts.clone()),
                    end: None,
                },
                StageTimes::default(),
            ],
            stage: 0,
        };
        let mut x1 = comp("x1", "s", "", false);
        x1.act(Action::PoweringOn, now);
        let x2 = comp("x2", "s", "configuring", true);
        let mut x3 = comp("x3", "s", "powering_on", false);
        x3.set_override(Some(Status::Failed));
        x3.error = "The retry limit has been hit".into();
        let all = [x1, x2, x3];
        let comps: HashMap<&str, &BootComponent> = all.iter().map(|c| (c.id.as_str(), c)).collect();
        let t = session_tree(&s, &run, &comps);
        let a = t.boot_set("a").unwrap();
        let boot = &a.phases[0];
        assert_eq!(boot.name, V1Phase::Boot);
        assert_eq!(boot.category(Succeeded), ["x1", "x2"]);
        assert_eq!(boot.category(Failed), ["x3"]);
        assert_eq!(boot.errors["The retry limit has been hit"], ["x3"]);
        assert!(boot.metadata.complete && !boot.metadata.in_progress);
        assert_eq!(boot.metadata.start_time.as_deref(), Some(ts.as_str()));
        assert_eq!(boot.metadata.stop_time, None, "the stage has not ended");
        let cfg = &a.phases[1];
        assert_eq!(cfg.category(Succeeded), ["x1"]);
        assert_eq!(cfg.category(InProgress), ["x2"]);
        assert_eq!(cfg.category(Excluded), ["x3"]);
        assert!(cfg.metadata.in_progress && !cfg.metadata.complete);
        assert_eq!(a.metadata.error_count, 1);
        assert!(a.metadata.in_progress);
        let b = t.boot_set("b").unwrap();
        assert!(!b.metadata.in_progress && !b.metadata.complete);
        assert_eq!(b.metadata.start_time, None);
        assert_eq!(t.metadata.error_count, 1);
        assert!(t.metadata.in_progress && !t.metadata.complete);
    }
}
