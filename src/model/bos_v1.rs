//! BOS v1 sessions on the v2 engine (docs/bos.md, "BOS v1"): the v1 operations, the order in
//! which a v1 session runs its template's boot sets, and what a v1 session remembers so its
//! v1 status tree can be derived (`bos_v1_status`).
//!
//! Upstream a v1 session was a one-shot BOA job that drove CAPMC, BSS and CFS itself. Here it
//! is a v2 session carrying a [`V1Run`]: session setup writes the same desired states a v2
//! session of the engine operation ([`V1Operation::engine`]) would, for the boot sets of the
//! current stage only; session completion starts the next stage instead of completing while
//! stages remain. Nothing else in the engine knows about v1, and no v1 state is kept that the
//! components do not already say, except which nodes each boot set resolved to (so the tree
//! can list them) and when each stage started and ended.

use std::collections::BTreeMap;

use super::bos_state::Operation;
use super::names::named_enum;
use super::template::SessionTemplate;

named_enum! {
    /// What a v1 session does (`V1Operation`, accepted in any case).
    pub enum V1Operation("operation", "boot, configure, reboot or shutdown") {
        Boot = "boot",
        Configure = "configure",
        Reboot = "reboot",
        Shutdown = "shutdown",
    }
}

named_enum! {
    /// A phase of a v1 boot set's status (`V1PhaseStatus.name`).
    pub enum V1Phase("phase", "boot, configure or shutdown") {
        Shutdown = "shutdown",
        Boot = "boot",
        Configure = "configure",
    }
}

named_enum! {
    /// Where a node is within a phase (`V1PhaseCategoryName`).
    pub enum V1Category("category", "not_started, in_progress, succeeded, failed or excluded") {
        NotStarted = "not_started",
        InProgress = "in_progress",
        Succeeded = "succeeded",
        Failed = "failed",
        Excluded = "excluded",
    }
}

impl V1Operation {
    pub fn parse_any_case(s: &str) -> Option<V1Operation> {
        V1Operation::parse(&s.to_ascii_lowercase())
    }

    /// The v2 operation whose desired state the engine writes. `configure` is a boot whose
    /// desired artifacts are the ones each node already runs (session setup), so the only
    /// thing that changes is the desired configuration: no power action, the configuration
    /// service reconfigures.
    pub fn engine(self) -> Operation {
        match self {
            V1Operation::Boot | V1Operation::Configure => Operation::Boot,
            V1Operation::Reboot => Operation::Reboot,
            V1Operation::Shutdown => Operation::Shutdown,
        }
    }

    /// The phases a boot set goes through (BOA's): the configure phase only when the boot
    /// set's nodes get a configuration.
    pub fn phases(self, configured: bool) -> Vec<V1Phase> {
        let mut p = match self {
            V1Operation::Boot => vec![V1Phase::Boot],
            V1Operation::Reboot => vec![V1Phase::Shutdown, V1Phase::Boot],
            V1Operation::Shutdown => vec![V1Phase::Shutdown],
            V1Operation::Configure => vec![],
        };
        if self == V1Operation::Configure || (configured && self != V1Operation::Shutdown) {
            p.push(V1Phase::Configure);
        }
        p
    }
}

/// What a client asks for when it creates a v1 session (validated by the use case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewV1Session {
    pub operation: V1Operation,
    pub template_name: String,
    pub limit: Option<String>,
}

/// The deprecated v1 boot-set ordering, kept beside the v2 boot set (never in a v2
/// document): boot sets run from the lowest ordinal up, equal ordinals together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ordinals {
    pub boot: Option<u32>,
    pub shutdown: Option<u32>,
}

/// One boot set of a v1 session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1BootSet {
    /// Index into [`V1Run::stages`].
    pub stage: usize,
    pub phases: Vec<V1Phase>,
    /// The nodes it resolved to, once its stage was set up.
    pub nodes: Option<Vec<String>>,
}

/// When a stage started and ended (BOS timestamps).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageTimes {
    pub start: Option<String>,
    pub end: Option<String>,
}

/// What a v2 session carries when it runs a v1 session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Run {
    pub operation: V1Operation,
    pub boot_sets: BTreeMap<String, V1BootSet>,
    /// One entry per stage, in running order.
    pub stages: Vec<StageTimes>,
    /// The stage being run.
    pub stage: usize,
}

impl V1Run {
    /// Plan a v1 session over `t`: boot sets grouped into stages by their ordinal
    /// (`shutdown_ordinal` for a shutdown, else `boot_ordinal`; a boot set without one counts
    /// as 0), lowest first. Without any ordinal every boot set runs at once, as in v2.
    pub fn plan(operation: V1Operation, t: &SessionTemplate) -> V1Run {
        let ordinal = |name: &str| {
            let o = t.boot_sets[name].ordinals;
            match operation {
                V1Operation::Shutdown => o.shutdown,
                _ => o.boot,
            }
        };
        let mut levels: Vec<u32> = t
            .boot_sets
            .keys()
            .map(|k| ordinal(k).unwrap_or(0))
            .collect();
        levels.sort_unstable();
        levels.dedup();
        let boot_sets = t
            .boot_sets
            .iter()
            .map(|(k, bs)| {
                let level = ordinal(k).unwrap_or(0);
                let stage = levels.iter().position(|l| *l == level).unwrap_or(0);
                let configured = !t.configuration_for(bs).is_empty();
                (
                    k.clone(),
                    V1BootSet {
                        stage,
                        phases: operation.phases(configured),
                        nodes: None,
                    },
                )
            })
            .collect();
        V1Run {
            operation,
            boot_sets,
            stages: vec![StageTimes::default(); levels.len().max(1)],
            stage: 0,
        }
    }

    /// The boot sets of the stage being run.
    pub fn current(&self) -> Vec<&str> {
        self.boot_sets
            .iter()
            .filter(|(_, b)| b.stage == self.stage)
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// Whether a stage follows the current one.
    pub fn has_next(&self) -> bool {
        self.stage + 1 < self.stages.len()
    }

    pub fn started(&self, stage: usize) -> bool {
        self.stages.get(stage).is_some_and(|s| s.start.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::template::{BootSet, Cfs};

    fn template(sets: &[(&str, Option<u32>, Option<u32>)], cfg: &str) -> SessionTemplate {
        SessionTemplate {
            name: "t".into(),
            tenant: None,
            description: None,
            enable_cfs: true,
            cfs: Some(Cfs {
                configuration: Some(cfg.into()),
            }),
            boot_sets: sets
                .iter()
                .map(|(n, b, s)| {
                    (
                        n.to_string(),
                        BootSet {
                            ordinals: Ordinals {
                                boot: *b,
                                shutdown: *s,
                            },
                            ..BootSet::default()
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn stages_follow_the_ordinals_of_the_operation() {
        let t = template(
            &[
                ("a", Some(2), Some(0)),
                ("b", Some(1), Some(1)),
                ("c", None, None),
            ],
            "site",
        );
        let boot = V1Run::plan(V1Operation::Boot, &t);
        assert_eq!(boot.stages.len(), 3);
        assert_eq!(boot.current(), vec!["c"]);
        assert_eq!(boot.boot_sets["b"].stage, 1);
        assert_eq!(boot.boot_sets["a"].stage, 2);
        let off = V1Run::plan(V1Operation::Shutdown, &t);
        assert_eq!(off.stages.len(), 2);
        assert_eq!(off.current(), vec!["a", "c"]);
        assert!(off.has_next());
        // Without ordinals: one stage, every boot set.
        let flat = V1Run::plan(
            V1Operation::Boot,
            &template(&[("a", None, None), ("b", None, None)], ""),
        );
        assert_eq!((flat.stages.len(), flat.current()), (1, vec!["a", "b"]));
        assert!(!flat.has_next());
    }

    #[test]
    fn phases_per_operation() {
        use V1Phase::*;
        assert_eq!(V1Operation::Boot.phases(true), vec![Boot, Configure]);
        assert_eq!(V1Operation::Boot.phases(false), vec![Boot]);
        assert_eq!(
            V1Operation::Reboot.phases(true),
            vec![Shutdown, Boot, Configure]
        );
        assert_eq!(V1Operation::Shutdown.phases(true), vec![Shutdown]);
        assert_eq!(V1Operation::Configure.phases(false), vec![Configure]);
        assert_eq!(
            V1Operation::parse_any_case("Configure"),
            Some(V1Operation::Configure)
        );
        assert_eq!(V1Operation::parse_any_case("dance"), None);
        assert_eq!(V1Operation::Configure.engine(), Operation::Boot);
    }
}
