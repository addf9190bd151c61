//! Configuration Framework Service records (reference bss-hsm-cfs-pcs.md §4): components
//! with the layers applied to them, and configurations (ordered layers of playbooks at a
//! commit), in the CFS v3 wire shape, plus the rules CFS applies to them.
//!
//! The rules are pure so they can be tested without a server: [`configuration_status`] is
//! CFS's `_get_status` (per-layer state, retry policy, error count), [`apply_patch`] is its
//! PATCH (tags merged and emptied ones dropped, `state_append` replacing the layer with the
//! same repository and playbook, `error_count` reset when the desired state changes), and
//! [`check_configuration`] names every field of a configuration that is wrong.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};

use super::names::{OrOther, named_enum};

/// CFS's `default_batcher_retry_policy`: failed attempts before a component is `failed`.
pub const DEFAULT_RETRY_POLICY: i64 = 3;
/// CFS's `default_page_size`.
pub const DEFAULT_PAGE_SIZE: usize = 1000;
/// Longest `desired_config` CFS accepts.
pub const MAX_DESIRED_CONFIG: usize = 60;

named_enum! {
    /// A component's (or one layer's) configuration status, as CFS reports it. Ordered
    /// from worst to best: a component is as configured as its least configured layer.
    pub enum ConfigurationStatus("status", "unconfigured, failed, pending, configured") {
        Unconfigured = "unconfigured",
        Failed = "failed",
        Pending = "pending",
        Configured = "configured",
    }
}

named_enum! {
    /// How applying one layer on a node ended (`incomplete` counts as still pending).
    pub enum LayerStatus("status", "applied, failed, skipped") {
        Applied = "applied",
        Failed = "failed",
        Skipped = "skipped",
        Incomplete = "incomplete",
    }
}

/// A configuration status another service reported: known, or its own words.
pub type ReportedStatus = OrOther<ConfigurationStatus>;

/// What another CFS reported, read as one of ours where it is one.
pub fn reported(text: String) -> ReportedStatus {
    match ConfigurationStatus::parse(&text) {
        Some(s) => OrOther::Known(s),
        None => OrOther::Other(text),
    }
}

pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One layer applied (or attempted) on a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateLayer {
    pub clone_url: String,
    pub playbook: String,
    pub commit: String,
    pub status: LayerStatus,
    pub last_updated: String,
    pub session_name: String,
}

/// A CFS component: one node's desired configuration and what has been applied to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfsComponent {
    pub id: String,
    pub desired_config: String,
    pub state: Vec<StateLayer>,
    pub error_count: i64,
    pub retry_policy: Option<i64>,
    pub enabled: bool,
    pub tags: BTreeMap<String, String>,
}

impl CfsComponent {
    pub fn new(id: &str) -> CfsComponent {
        CfsComponent {
            id: id.to_string(),
            desired_config: String::new(),
            state: Vec::new(),
            error_count: 0,
            retry_policy: None,
            enabled: true,
            tags: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpecialParameters {
    pub ims_require_dkms: Option<bool>,
}

/// One layer of a configuration: a playbook from a repository at a commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigLayer {
    pub name: Option<String>,
    pub clone_url: Option<String>,
    pub source: Option<String>,
    pub playbook: Option<String>,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub special_parameters: Option<SpecialParameters>,
}

/// The inventory repository a configuration adds to every layer's run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryLayer {
    pub name: Option<String>,
    pub clone_url: Option<String>,
    pub source: Option<String>,
    pub commit: Option<String>,
    pub branch: Option<String>,
}

/// A named configuration (the body of `PUT /v3/configurations/{name}`, as stored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CfsConfiguration {
    /// Set from the path; read-only on the wire.
    pub name: String,
    pub description: Option<String>,
    pub tenant_name: Option<String>,
    /// Read-only on the wire.
    pub last_updated: String,
    pub layers: Vec<ConfigLayer>,
    pub additional_inventory: Option<InventoryLayer>,
}

fn is_commit(s: &str) -> bool {
    s.len() == 40
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn no_space_or_semicolon(s: &str) -> bool {
    !s.chars().any(|c| c.is_whitespace() || c == ';')
}

/// Every problem with a configuration body, each naming its field (`layers[0].commit`).
/// Branches are allowed here; they are resolved to commits before storing.
pub fn check_configuration(c: &CfsConfiguration) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, l) in c.layers.iter().enumerate() {
        let at = |f: &str| format!("layers[{i}].{f}");
        check_source(
            &mut out,
            &at(""),
            l.name.as_deref(),
            l.clone_url.as_deref(),
            l.source.as_deref(),
            l.commit.as_deref(),
            l.branch.as_deref(),
        );
        match l.playbook.as_deref() {
            None | Some("") => out.push(format!("{}: a playbook is required", at("playbook"))),
            Some(p) if !no_space_or_semicolon(p) => out.push(format!(
                "{}: '{p}' must not contain white space or ';'",
                at("playbook")
            )),
            Some(_) => {}
        }
        let key = (l.clone_url.clone().or(l.source.clone()), l.playbook.clone());
        if !seen.insert(key) {
            out.push(format!(
                "{}: two or more layers apply the same playbook from the same repository",
                at("playbook")
            ));
        }
    }
    if let Some(inv) = &c.additional_inventory {
        check_source(
            &mut out,
            "additional_inventory.",
            inv.name.as_deref(),
            inv.clone_url.as_deref(),
            inv.source.as_deref(),
            inv.commit.as_deref(),
            inv.branch.as_deref(),
        );
    }
    if c.description.as_deref().is_some_and(|d| d.len() > 1023) {
        out.push("description: longer than 1023 characters".into());
    }
    out
}

fn check_source(
    out: &mut Vec<String>,
    prefix: &str,
    name: Option<&str>,
    clone_url: Option<&str>,
    source: Option<&str>,
    commit: Option<&str>,
    branch: Option<&str>,
) {
    if let Some(n) = name
        && (n.is_empty() || n.chars().count() > 45)
    {
        out.push(format!("{prefix}name: must be 1 to 45 characters"));
    }
    match (clone_url, source) {
        (Some(_), Some(_)) => out.push(format!(
            "{prefix}clone_url: only one of clone_url and source may be given"
        )),
        (None, None) => out.push(format!(
            "{prefix}clone_url: one of clone_url and source is required"
        )),
        (Some(u), None) if u.is_empty() || !no_space_or_semicolon(u) => out.push(format!(
            "{prefix}clone_url: '{u}' must be non-empty, without white space or ';'"
        )),
        _ => {}
    }
    match (commit, branch) {
        (Some(_), Some(_)) => out.push(format!(
            "{prefix}commit: only one of commit and branch may be given"
        )),
        (Some(c), None) if !is_commit(c) => out.push(format!(
            "{prefix}commit: '{c}' is not a 40-character lowercase hexadecimal commit id"
        )),
        (None, Some(b)) if b.is_empty() || !no_space_or_semicolon(b) => out.push(format!(
            "{prefix}branch: '{b}' must be non-empty, without white space or ';'"
        )),
        _ => {}
    }
}

/// What a configuration layer needs applied, as CFS compares it with a node's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredLayer {
    pub name: Option<String>,
    pub clone_url: String,
    pub playbook: String,
    pub commit: String,
    /// This layer's status on the node.
    pub status: ConfigurationStatus,
}

use ConfigurationStatus as Level;

/// A component's configuration status and, per layer of its desired configuration, the
/// layer's status (CFS `_get_status`). `config` is the configuration named by
/// `desired_config`, `None` if it is unset or does not exist.
pub fn configuration_status(
    c: &CfsComponent,
    config: Option<&CfsConfiguration>,
) -> (ConfigurationStatus, Vec<DesiredLayer>) {
    let retries = c.retry_policy.unwrap_or(DEFAULT_RETRY_POLICY);
    let max_retries = retries != -1 && c.error_count >= retries;
    let Some(config) = config else {
        let s = if c.state.is_empty() {
            Level::Unconfigured
        } else {
            Level::Configured
        };
        return (s, Vec::new());
    };
    let mut overall = Level::Configured;
    let mut layers = Vec::new();
    for l in &config.layers {
        let clone_url = l.clone_url.clone().or(l.source.clone()).unwrap_or_default();
        let playbook = l.playbook.clone().unwrap_or_default();
        let commit = l.commit.clone().unwrap_or_default();
        let level =
            if clone_url.is_empty() || playbook.is_empty() || commit.is_empty() {
                Level::Unconfigured
            } else {
                match c.state.iter().find(|s| {
                    s.clone_url == clone_url && s.playbook == playbook && s.commit == commit
                }) {
                    None => Level::Pending,
                    Some(s) if s.status == LayerStatus::Failed => {
                        if max_retries {
                            Level::Failed
                        } else {
                            Level::Pending
                        }
                    }
                    Some(s) if s.status == LayerStatus::Incomplete => Level::Pending,
                    Some(_) => Level::Configured,
                }
            };
        overall = overall.min(level);
        layers.push(DesiredLayer {
            name: l.name.clone(),
            clone_url,
            playbook,
            commit,
            status: level,
        });
    }
    if overall == Level::Pending && max_retries {
        overall = Level::Failed;
    }
    (overall, layers)
}

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

/// CFS paging: the query that asks for the page a list's `next` describes: its parameters,
/// strings as they are and anything else (the `limit`) as JSON text.
pub fn next_query(next: &serde_json::Map<String, serde_json::Value>) -> Vec<(String, String)> {
    next.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A patch as a client would send it (decoded by the CFS API's wire types).
    fn json_patch(v: serde_json::Value) -> Result<ComponentPatch, String> {
        crate::api::cfs::types::component_patch(v, "patch")
    }

    const A: &str = "0123456789abcdef0123456789abcdef01234567";
    const B: &str = "89abcdef0123456789abcdef0123456789abcdef";

    fn config(layers: &[(&str, &str, &str)]) -> CfsConfiguration {
        CfsConfiguration {
            name: "site".into(),
            layers: layers
                .iter()
                .map(|(u, p, c)| ConfigLayer {
                    clone_url: Some(u.to_string()),
                    playbook: Some(p.to_string()),
                    commit: Some(c.to_string()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn report(c: &mut CfsComponent, url: &str, pb: &str, commit: &str, status: &str) {
        let p = ComponentPatch {
            state_append: Some(StateAppend {
                clone_url: url.into(),
                playbook: pb.into(),
                commit: commit.into(),
                status: Some(status.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        apply_patch(c, &p, Utc::now());
    }

    #[test]
    fn status_follows_cfs() {
        let cfg = config(&[
            ("https://g/a.git", "a.yml", A),
            ("https://g/b.git", "b.yml", B),
        ]);
        let mut c = CfsComponent::new("x1");
        c.desired_config = "site".into();
        // No configuration known: unconfigured without state.
        assert_eq!(configuration_status(&c, None).0, "unconfigured");
        assert_eq!(configuration_status(&c, Some(&cfg)).0, "pending");
        report(&mut c, "https://g/a.git", "a.yml", A, "applied");
        let (s, layers) = configuration_status(&c, Some(&cfg));
        assert_eq!(s, "pending");
        assert_eq!(layers[0].status, "configured");
        assert_eq!(layers[1].status, "pending");
        // A layer at another commit does not count.
        report(&mut c, "https://g/b.git", "b.yml", A, "applied");
        assert_eq!(configuration_status(&c, Some(&cfg)).0, "pending");
        report(&mut c, "https://g/b.git", "b.yml", B, "applied");
        assert_eq!(c.state.len(), 2, "state_append replaced the same layer");
        assert_eq!(configuration_status(&c, Some(&cfg)).0, "configured");
        // No layers at all: configured.
        assert_eq!(
            configuration_status(&CfsComponent::new("x2"), Some(&config(&[]))).0,
            "configured"
        );
    }

    #[test]
    fn failures_count_against_the_retry_policy() {
        let cfg = config(&[("https://g/a.git", "a.yml", A)]);
        let mut c = CfsComponent::new("x1");
        c.desired_config = "site".into();
        report(&mut c, "https://g/a.git", "a.yml", A, "failed");
        assert_eq!(configuration_status(&c, Some(&cfg)).0, "pending");
        c.error_count = DEFAULT_RETRY_POLICY;
        assert_eq!(configuration_status(&c, Some(&cfg)).0, "failed");
        c.retry_policy = Some(-1);
        assert_eq!(configuration_status(&c, Some(&cfg)).0, "pending");
        // Retries exhausted with a layer still to do is failed too.
        let mut d = CfsComponent::new("x2");
        d.desired_config = "site".into();
        d.error_count = 5;
        assert_eq!(configuration_status(&d, Some(&cfg)).0, "failed");
    }

    #[test]
    fn patch_rules() {
        let mut c = CfsComponent::new("x1");
        c.error_count = 2;
        c.tags.insert("keep".into(), "1".into());
        let p: ComponentPatch = json_patch(serde_json::json!({
            "desired_config": "site", "tags": {"bos_session": "s1", "keep": ""}, "enabled": false
        }))
        .unwrap();
        apply_patch(&mut c, &p, Utc::now());
        assert_eq!(c.error_count, 0, "a new desired config resets the count");
        assert_eq!(c.tags.len(), 1);
        assert_eq!(c.tags["bos_session"], "s1");
        assert!(!c.enabled);
        let p: ComponentPatch =
            json_patch(serde_json::json!({"desired_config": "x", "error_count": 4})).unwrap();
        apply_patch(&mut c, &p, Utc::now());
        assert_eq!(c.error_count, 4, "unless the count is given");
        report(&mut c, "u", "p", A, "applied");
        assert!(!c.state[0].last_updated.is_empty());
        let p: ComponentPatch = json_patch(serde_json::json!({"state": []})).unwrap();
        apply_patch(&mut c, &p, Utc::now());
        assert!(c.state.is_empty());
        assert_eq!(c.error_count, 0);
    }

    #[test]
    fn configuration_checks_name_fields() {
        let mut c = config(&[("https://g/a.git", "a.yml", "abc")]);
        c.layers.push(ConfigLayer {
            clone_url: Some("https://g/b.git".into()),
            commit: Some(B.into()),
            ..Default::default()
        });
        c.layers.push(ConfigLayer {
            playbook: Some("c.yml".into()),
            commit: Some(A.into()),
            branch: Some("main".into()),
            ..Default::default()
        });
        let p = check_configuration(&c);
        assert!(
            p.iter().any(|m| m.starts_with("layers[0].commit: 'abc'")),
            "{p:?}"
        );
        assert!(
            p.iter().any(|m| m.starts_with("layers[1].playbook")),
            "{p:?}"
        );
        assert!(
            p.iter().any(|m| m.starts_with("layers[2].clone_url")),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|m| m.starts_with("layers[2].commit: only one")),
            "{p:?}"
        );
        assert!(check_configuration(&config(&[("u", "p.yml", A)])).is_empty());
    }

    #[test]
    fn tag_filters() {
        assert_eq!(
            parse_tags("a=1,b=2").unwrap(),
            vec![("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        assert!(parse_tags("a").unwrap_err().contains("'a'"));
    }
}
