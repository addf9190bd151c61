//! How a BOS PUT or PATCH changes a component (docs/bos.md, "Component writes").
//!
//! A [`ComponentPatch`] names the fields a client sent; absent fields are kept. BOS merges
//! the three states and their `boot_artifacts`, `last_action`, `event_stats` and `status`
//! field by field and replaces everything else; `id` is never changed. Before merging, BOS
//! applies its "auto fields" ([`ComponentPatch::with_auto_fields`]): a reported referral
//! token stands for the artifacts it was minted for, enabling a component puts it on hold,
//! new desired state clears the session unless one is given and resets the event counters.
//! Every sub-state a patch touches gets the write's timestamp. A PUT is the patch applied
//! to an empty component.

use chrono::{DateTime, Utc};

use super::boot_component::{BootArtifacts, BootComponent, EventStats, timestamp};
use super::bos_state::{Action, Phase, Status, StatusOverride};
use super::names::OrOther;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArtifactsPatch {
    pub kernel: Option<String>,
    pub kernel_parameters: Option<String>,
    pub initrd: Option<String>,
}

impl From<&BootArtifacts> for ArtifactsPatch {
    fn from(a: &BootArtifacts) -> ArtifactsPatch {
        ArtifactsPatch {
            kernel: Some(a.kernel.clone()),
            kernel_parameters: Some(a.kernel_parameters.clone()),
            initrd: Some(a.initrd.clone()),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActualStatePatch {
    pub boot_artifacts: Option<ArtifactsPatch>,
    pub bss_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesiredStatePatch {
    pub boot_artifacts: Option<ArtifactsPatch>,
    pub configuration: Option<String>,
    pub bss_token: Option<String>,
}

impl DesiredStatePatch {
    /// Only the referral token: the one desired-state write that keeps its timestamp.
    fn only_token(&self) -> bool {
        self.bss_token.is_some() && self.boot_artifacts.is_none() && self.configuration.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StagedStatePatch {
    pub boot_artifacts: Option<ArtifactsPatch>,
    pub configuration: Option<String>,
    pub session: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LastActionPatch {
    /// `Some(None)`: the empty action.
    pub action: Option<Option<Action>>,
    pub failed: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventStatsPatch {
    pub power_on_attempts: Option<u32>,
    pub power_off_graceful_attempts: Option<u32>,
    pub power_off_forceful_attempts: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusPatch {
    pub phase: Option<Phase>,
    pub status_override: Option<StatusOverride>,
}

/// The fields of a component a client sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentPatch {
    /// Names the component in list forms; never changes it.
    pub id: Option<String>,
    pub actual_state: Option<ActualStatePatch>,
    pub desired_state: Option<DesiredStatePatch>,
    pub staged_state: Option<StagedStatePatch>,
    pub last_action: Option<LastActionPatch>,
    pub event_stats: Option<EventStatsPatch>,
    pub status: Option<StatusPatch>,
    pub enabled: Option<bool>,
    pub error: Option<String>,
    pub session: Option<String>,
    /// `Some(None)` clears the component's own policy.
    pub retry_policy: Option<Option<u32>>,
}

fn set<T: Clone>(field: &mut T, v: &Option<T>) {
    if let Some(v) = v {
        *field = v.clone();
    }
}

fn merge_artifacts(a: &mut BootArtifacts, p: &Option<ArtifactsPatch>) {
    if let Some(p) = p {
        set(&mut a.kernel, &p.kernel);
        set(&mut a.kernel_parameters, &p.kernel_parameters);
        set(&mut a.initrd, &p.initrd);
    }
}

impl ComponentPatch {
    /// The referral token a node reports having booted, if the patch carries one.
    pub fn reported_token(&self) -> Option<&str> {
        self.actual_state
            .as_ref()
            .and_then(|a| a.bss_token.as_deref())
            .filter(|t| !t.is_empty())
    }

    /// BOS's auto fields. `token_artifacts` are the artifacts the reported token was minted
    /// for (`None`: unknown token, or none reported).
    pub fn with_auto_fields(mut self, token_artifacts: Option<&BootArtifacts>) -> ComponentPatch {
        if let Some(tok) = self.reported_token().map(str::to_string) {
            match token_artifacts {
                Some(a) => {
                    if let Some(actual) = &mut self.actual_state {
                        actual.boot_artifacts = Some(a.into());
                    }
                }
                None => tracing::warn!(token = %tok, "unknown BSS referral token reported"),
            }
        }
        if self.enabled == Some(true) {
            self.status
                .get_or_insert_with(Default::default)
                .status_override = Some(Some(OrOther::Known(Status::OnHold)));
        }
        if let Some(d) = &self.desired_state {
            if self.session.as_deref().is_none_or(str::is_empty) {
                self.session = Some(String::new());
            }
            if d.boot_artifacts.is_some() || d.configuration.is_some() {
                self.event_stats = Some(EventStatsPatch {
                    power_on_attempts: Some(0),
                    power_off_graceful_attempts: Some(0),
                    power_off_forceful_attempts: Some(0),
                });
            }
        }
        self
    }

    /// Merge into `c` (whose `id` is kept), stamping every touched sub-state with `now`.
    pub fn apply(&self, c: &mut BootComponent, now: DateTime<Utc>) {
        let ts = Some(timestamp(now));
        if let Some(p) = &self.actual_state {
            merge_artifacts(&mut c.actual_state.boot_artifacts, &p.boot_artifacts);
            set(&mut c.actual_state.bss_token, &p.bss_token);
            c.actual_state.last_updated = ts.clone();
        }
        if let Some(p) = &self.desired_state {
            merge_artifacts(&mut c.desired_state.boot_artifacts, &p.boot_artifacts);
            set(&mut c.desired_state.configuration, &p.configuration);
            set(&mut c.desired_state.bss_token, &p.bss_token);
            if !p.only_token() {
                c.desired_state.last_updated = ts.clone();
            }
        }
        if let Some(p) = &self.staged_state {
            merge_artifacts(&mut c.staged_state.boot_artifacts, &p.boot_artifacts);
            set(&mut c.staged_state.configuration, &p.configuration);
            set(&mut c.staged_state.session, &p.session);
            c.staged_state.last_updated = ts.clone();
        }
        if let Some(p) = &self.last_action {
            set(&mut c.last_action.action, &p.action);
            set(&mut c.last_action.failed, &p.failed);
            c.last_action.last_updated = ts;
        }
        if let Some(p) = &self.event_stats {
            let s: &mut EventStats = &mut c.event_stats;
            set(&mut s.power_on_attempts, &p.power_on_attempts);
            set(
                &mut s.power_off_graceful_attempts,
                &p.power_off_graceful_attempts,
            );
            set(
                &mut s.power_off_forceful_attempts,
                &p.power_off_forceful_attempts,
            );
        }
        if let Some(p) = &self.status {
            set(&mut c.status.phase, &p.phase);
            set(&mut c.status.status_override, &p.status_override);
        }
        set(&mut c.enabled, &self.enabled);
        set(&mut c.error, &self.error);
        set(&mut c.session, &self.session);
        set(&mut c.retry_policy, &self.retry_policy);
    }

    /// The component a PUT of this document creates.
    pub fn to_component(&self, id: &str, now: DateTime<Utc>) -> BootComponent {
        let mut c = BootComponent {
            id: id.to_string(),
            ..Default::default()
        };
        self.apply(&mut c, now);
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arts() -> BootArtifacts {
        BootArtifacts {
            kernel: "k".into(),
            kernel_parameters: "p".into(),
            initrd: "i".into(),
        }
    }

    #[test]
    fn auto_fields_apply_in_order() {
        let now = Utc::now();
        let p = ComponentPatch {
            actual_state: Some(ActualStatePatch {
                bss_token: Some("t1".into()),
                ..Default::default()
            }),
            enabled: Some(true),
            desired_state: Some(DesiredStatePatch {
                configuration: Some("c".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
        .with_auto_fields(Some(&arts()));
        let c = p.to_component("x1", now);
        assert_eq!(c.actual_state.boot_artifacts, arts());
        assert!(c.actual_state.last_updated.is_some());
        assert!(c.overridden(Status::OnHold));
        assert_eq!(c.session, "");
        assert_eq!(p.event_stats.as_ref().unwrap().power_on_attempts, Some(0));
        // A desired_state holding only the token gets no timestamp.
        let p = ComponentPatch {
            desired_state: Some(DesiredStatePatch {
                bss_token: Some("t".into()),
                ..Default::default()
            }),
            session: Some("s".into()),
            ..Default::default()
        }
        .with_auto_fields(None);
        let c = p.to_component("x1", now);
        assert!(c.desired_state.last_updated.is_none());
        assert_eq!(c.session, "s");
        assert!(p.event_stats.is_none());
    }

    #[test]
    fn merge_is_deep_where_bos_is() {
        let now = Utc::now();
        let mut base = BootComponent {
            id: "x1".into(),
            error: "e".into(),
            ..Default::default()
        };
        base.desired_state.boot_artifacts.kernel = "k".into();
        base.desired_state.boot_artifacts.initrd = "i".into();
        base.desired_state.configuration = "c".into();
        base.event_stats.power_on_attempts = 2;
        ComponentPatch {
            id: Some("other".into()),
            desired_state: Some(DesiredStatePatch {
                boot_artifacts: Some(ArtifactsPatch {
                    kernel: Some("k2".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            error: Some(String::new()),
            event_stats: Some(EventStatsPatch {
                power_off_graceful_attempts: Some(1),
                ..Default::default()
            }),
            ..Default::default()
        }
        .apply(&mut base, now);
        assert_eq!(base.id, "x1");
        assert_eq!(base.desired_state.boot_artifacts.kernel, "k2");
        assert_eq!(base.desired_state.boot_artifacts.initrd, "i");
        assert_eq!(base.desired_state.configuration, "c");
        assert_eq!(base.error, "");
        assert_eq!(base.event_stats.power_on_attempts, 2);
        assert_eq!(base.event_stats.power_off_graceful_attempts, 1);
    }
}
