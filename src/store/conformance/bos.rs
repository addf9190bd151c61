//! Conformance: BOS components (compare-and-set), templates, sessions, tokens, options and tenants.

use super::*;

/// BOS components: whole-record puts, and compare-and-set updates that refuse a stale
/// generation without writing anything for that component.
pub async fn boot_components(s: &dyn Store) {
    use crate::model::BootComponent;
    use crate::store::Versioned;
    let now = chrono::Utc::now();
    let mut a = BootComponent::discovered("x1c0s0b0n0", now);
    let b = BootComponent::discovered("x1c0s0b0n1", now);
    s.put_boot_components(&[a.clone(), b.clone()])
        .await
        .unwrap();
    let all = s.list_boot_components(false).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].value, a);
    assert!(s.list_boot_components(true).await.unwrap().is_empty());
    let some = s
        .get_boot_components(&["x1c0s0b0n1".into(), "x9c0s0b0n0".into()])
        .await
        .unwrap();
    assert_eq!(some.len(), 1);
    assert_eq!(some[0].value, b);
    let read = s.get_boot_component("x1c0s0b0n0").await.unwrap().unwrap();
    // A write at the generation read succeeds and bumps the generation.
    a.enabled = true;
    let conflicts = s
        .update_boot_components(&[Versioned {
            value: a.clone(),
            generation: read.generation,
        }])
        .await
        .unwrap();
    assert!(conflicts.is_empty());
    let now_read = s.get_boot_component("x1c0s0b0n0").await.unwrap().unwrap();
    assert!(now_read.generation > read.generation);
    assert_eq!(s.list_boot_components(true).await.unwrap().len(), 1);
    // A second write at the old generation is refused; the other one in the batch lands.
    let mut stale = a.clone();
    stale.error = "stale".into();
    let mut b2 = b.clone();
    b2.error = "fresh".into();
    let b_gen = s
        .get_boot_component("x1c0s0b0n1")
        .await
        .unwrap()
        .unwrap()
        .generation;
    let conflicts = s
        .update_boot_components(&[
            Versioned {
                value: stale,
                generation: read.generation,
            },
            Versioned {
                value: b2,
                generation: b_gen,
            },
        ])
        .await
        .unwrap();
    assert_eq!(conflicts, vec!["x1c0s0b0n0".to_string()]);
    assert_eq!(
        s.get_boot_component("x1c0s0b0n0")
            .await
            .unwrap()
            .unwrap()
            .value
            .error,
        ""
    );
    assert_eq!(
        s.get_boot_component("x1c0s0b0n1")
            .await
            .unwrap()
            .unwrap()
            .value
            .error,
        "fresh"
    );
    assert!(s.delete_boot_component("x1c0s0b0n0").await.unwrap());
    assert!(!s.delete_boot_component("x1c0s0b0n0").await.unwrap());
    assert!(s.delete_boot_component("x1c0s0b0n1").await.unwrap());
}

/// Templates and sessions keyed by (tenant, name); saved status; tokens; options; tenants.
pub async fn bos_records(s: &dyn Store) {
    use crate::model::session::{Phases, SessionState, Timing};
    use crate::model::template::{BootSet, SessionTemplate};
    use crate::model::{BootArtifacts, ExtendedStatus, Operation, Session, SessionStatus, Tenant};
    let t = SessionTemplate {
        name: String::new(),
        tenant: None,
        description: None,
        enable_cfs: true,
        cfs: None,
        boot_sets: [(
            "b".to_string(),
            BootSet {
                kind: "s3".into(),
                path: "s3://b/m.json".into(),
                node_list: Some(vec!["x1".into()]),
                ..Default::default()
            },
        )]
        .into(),
    };
    let mut t1 = t.clone();
    t1.name = "t".into();
    let mut t2 = t1.clone();
    t2.tenant = Some("blue".into());
    s.put_session_template(&t1).await.unwrap();
    s.put_session_template(&t2).await.unwrap();
    assert_eq!(s.list_session_templates().await.unwrap().len(), 2);
    assert_eq!(s.get_session_template("blue", "t").await.unwrap(), Some(t2));
    assert!(s.delete_session_template("", "t").await.unwrap());
    assert!(s.get_session_template("", "t").await.unwrap().is_none());
    assert!(s.delete_session_template("blue", "t").await.unwrap());

    let sess = Session {
        name: "s".into(),
        tenant: None,
        operation: Operation::Boot,
        template_name: "t".into(),
        limit: String::new(),
        stage: false,
        components: String::new(),
        include_disabled: false,
        status: SessionState {
            status: SessionStatus::Pending,
            start_time: None,
            end_time: None,
            error: None,
        },
        v1: None,
    };
    s.insert_session(&sess).await.unwrap();
    assert!(matches!(
        s.insert_session(&sess).await,
        Err(StoreError::Conflict { .. })
    ));
    let mut other = sess.clone();
    other.tenant = Some("blue".into());
    s.insert_session(&other).await.unwrap();
    let mut running = sess.clone();
    running.status.status = SessionStatus::Running;
    // A v1 session's plan and a v1 template's ordinals are kept (docs/bos.md, "BOS v1").
    let mut t3 = t1.clone();
    t3.boot_sets.get_mut("b").unwrap().ordinals.boot = Some(2);
    s.put_session_template(&t3).await.unwrap();
    assert_eq!(s.get_session_template("", "t").await.unwrap(), Some(t3));
    assert!(s.delete_session_template("", "t").await.unwrap());
    let mut run = crate::model::bos_v1::V1Run::plan(crate::model::bos_v1::V1Operation::Reboot, &t1);
    run.boot_sets.get_mut("b").unwrap().nodes = Some(vec!["x1".into()]);
    run.stages[0].start = Some("2026-01-01T00:00:00".into());
    running.v1 = Some(run);
    assert!(s.update_session(&running).await.unwrap());
    assert_eq!(s.get_session("", "s").await.unwrap(), Some(running));
    let st = ExtendedStatus {
        status: SessionStatus::Complete,
        managed_components_count: 3,
        phases: Phases::default(),
        percent_successful: 0.0,
        percent_failed: 0.0,
        percent_staged: 0.0,
        error_summary: Default::default(),
        timing: Timing::default(),
    };
    s.save_session_status("", "s", &st).await.unwrap();
    assert_eq!(s.saved_session_status("", "s").await.unwrap(), Some(st));
    assert_eq!(s.saved_session_status("blue", "s").await.unwrap(), None);
    let n = s
        .delete_sessions(&[
            ("".into(), "s".into()),
            ("blue".into(), "s".into()),
            ("".into(), "none".into()),
        ])
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert!(s.list_sessions().await.unwrap().is_empty());
    assert_eq!(s.saved_session_status("", "s").await.unwrap(), None);

    let arts = BootArtifacts {
        kernel: "s3://b/k".into(),
        kernel_parameters: "quiet".into(),
        initrd: "s3://b/i".into(),
    };
    s.put_boot_token("tok", &arts).await.unwrap();
    assert_eq!(s.get_boot_token("tok").await.unwrap(), Some(arts));
    assert_eq!(s.get_boot_token("other").await.unwrap(), None);

    assert_eq!(s.get_bos_options().await.unwrap(), None);
    let mut o = serde_json::Map::new();
    o.insert("clear_stage".into(), true.into());
    s.put_bos_options(&o).await.unwrap();
    assert_eq!(s.get_bos_options().await.unwrap(), Some(o));

    let tenant = Tenant {
        name: "blue".into(),
        xnames: vec!["x1c0s0b0n0".into()],
    };
    s.put_tenant(&tenant).await.unwrap();
    assert_eq!(s.list_tenants().await.unwrap(), vec![tenant.clone()]);
    assert_eq!(s.get_tenant("blue").await.unwrap(), Some(tenant));
    assert!(s.delete_tenant("blue").await.unwrap());
    assert!(!s.delete_tenant("blue").await.unwrap());
}
