//! CFS component writes: the patch a PUT or PATCH carries, the rules that apply it (tags
//! merged and emptied ones dropped, `state_append` replacing the layer with the same
//! repository and playbook, `error_count` reset when the desired state changes), and the
//! filter a list or bulk PATCH selects with.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{
    CfsComponent, ConfigurationStatus, LayerStatus, MAX_DESIRED_CONFIG, StateLayer, timestamp,
};

/// A layer result reported with `state_append`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateAppend {
    pub clone_url: String,
    pub playbook: String,
    pub commit: String,
    /// `applied` when not given.
    pub status: Option<LayerStatus>,
    pub session_name: Option<String>,
    pub last_updated: Option<String>,
}

/// A component write (`PUT`/`PATCH` body, or the `patch` of a filtered bulk PATCH).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentPatch {
    pub id: Option<String>,
    pub state: Option<Vec<StateLayer>>,
    pub state_append: Option<StateAppend>,
    pub desired_config: Option<String>,
    pub error_count: Option<i64>,
    pub retry_policy: Option<i64>,
    pub enabled: Option<bool>,
    pub tags: Option<BTreeMap<String, String>>,
}

impl ComponentPatch {
    /// What BOS sends CFS when it hands nodes over (docs/cfs.md, "Handoff"): before
    /// power-on (`prepare`) configuration is disabled and the applied state wiped; later
    /// (the configuration operator) configuration is enabled, state kept.
    pub fn handoff(configuration: &str, session: &str, prepare: bool) -> ComponentPatch {
        ComponentPatch {
            enabled: Some(!prepare),
            desired_config: Some(configuration.to_string()),
            tags: Some([("bos_session".to_string(), session.to_string())].into()),
            state: prepare.then(Vec::new),
            ..Default::default()
        }
    }

    /// Field problems a schema would catch, each naming the field.
    pub fn check(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.id.as_deref() == Some("") {
            out.push("id: must not be empty".into());
        }
        if let Some(d) = &self.desired_config
            && d.chars().count() > MAX_DESIRED_CONFIG
        {
            out.push(format!(
                "desired_config: longer than {MAX_DESIRED_CONFIG} characters"
            ));
        }
        if let Some(a) = &self.state_append
            && (a.clone_url.is_empty() || a.playbook.is_empty())
        {
            out.push("state_append: clone_url and playbook must not be empty".into());
        }
        if let Some(r) = self.retry_policy
            && r < -1
        {
            out.push(format!(
                "retry_policy: {r} is not a count (-1 means unlimited)"
            ));
        }
        if let Some(e) = self.error_count
            && e < 0
        {
            out.push(format!("error_count: {e} is negative"));
        }
        out
    }

    /// Does this write change the desired state (and so reset the error count)?
    fn resets_errors(&self) -> bool {
        self.error_count.is_none()
            && (self.desired_config.is_some() || self.state.as_ref().is_some_and(|s| s.is_empty()))
    }
}

fn stamp(layers: &mut [StateLayer], now: &str) {
    for l in layers {
        if l.last_updated.is_empty() {
            l.last_updated = now.to_string();
        }
    }
}

/// CFS PATCH: apply `p` to `c` (fields present replace, tags merge, `state_append`
/// replaces the layer with the same clone_url and playbook or appends).
pub fn apply_patch(c: &mut CfsComponent, p: &ComponentPatch, now: DateTime<Utc>) {
    let now = timestamp(now);
    if let Some(s) = &p.state {
        c.state = s.clone();
        stamp(&mut c.state, &now);
    }
    if let Some(d) = &p.desired_config {
        c.desired_config = d.clone();
    }
    if let Some(e) = p.error_count {
        c.error_count = e;
    } else if p.resets_errors() {
        c.error_count = 0;
    }
    if let Some(r) = p.retry_policy {
        c.retry_policy = Some(r);
    }
    if let Some(e) = p.enabled {
        c.enabled = e;
    }
    if let Some(t) = &p.tags {
        for (k, v) in t {
            c.tags.insert(k.clone(), v.clone());
        }
    }
    c.tags.retain(|_, v| !v.is_empty());
    if let Some(a) = &p.state_append {
        c.state
            .retain(|l| !(l.clone_url == a.clone_url && l.playbook == a.playbook));
        c.state.push(StateLayer {
            clone_url: a.clone_url.clone(),
            playbook: a.playbook.clone(),
            commit: a.commit.clone(),
            status: a.status.unwrap_or(LayerStatus::Applied),
            last_updated: a.last_updated.clone().unwrap_or_else(|| now.clone()),
            session_name: a.session_name.clone().unwrap_or_default(),
        });
    }
}

/// CFS PUT: a whole new component from a write body.
pub fn from_put(id: &str, p: &ComponentPatch, now: DateTime<Utc>) -> CfsComponent {
    let mut c = CfsComponent::new(id);
    apply_patch(&mut c, p, now);
    c
}

/// The tag filter of list and bulk PATCH: `k=v,k2=v2`, all must match.
pub fn parse_tags(raw: &str) -> Result<Vec<(String, String)>, String> {
    raw.split(',')
        .filter(|t| !t.is_empty())
        .map(|t| match t.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.contains('=') => Ok((k.into(), v.into())),
            _ => Err(format!(
                "tags: '{t}' is not key=value (tags are key=value pairs separated by commas)"
            )),
        })
        .collect()
}

/// Which components a list or a filtered bulk PATCH selects.
#[derive(Debug, Clone, Default)]
pub struct ComponentFilter {
    pub ids: Option<Vec<String>>,
    pub status: Option<Vec<ConfigurationStatus>>,
    pub enabled: Option<bool>,
    pub config_name: Option<String>,
    pub tags: Vec<(String, String)>,
}

impl ComponentFilter {
    /// The checks that do not need the status.
    pub fn matches_fields(&self, c: &CfsComponent) -> bool {
        self.ids.as_ref().is_none_or(|ids| ids.contains(&c.id))
            && self.enabled.is_none_or(|e| e == c.enabled)
            && self
                .config_name
                .as_ref()
                .is_none_or(|n| n.is_empty() || *n == c.desired_config)
            && self
                .tags
                .iter()
                .all(|(k, v)| c.tags.get(k).is_some_and(|x| x == v))
    }

    pub fn matches_status(&self, status: ConfigurationStatus) -> bool {
        self.status
            .as_ref()
            .is_none_or(|s| s.is_empty() || s.contains(&status))
    }
}
