//! The CFS rules against CFS's own behaviour.

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
