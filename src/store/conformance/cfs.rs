//! Conformance: Built-in CFS components and configurations.

use super::*;

/// Built-in CFS: components with compare-and-set (including create-only at generation 0)
/// and configurations by name.
pub async fn cfs_records(s: &dyn Store) {
    use crate::model::cfs::{CfsComponent, CfsConfiguration};
    use crate::store::Versioned;
    let a = CfsComponent::new("x1c0s0b0n0");
    let created = s
        .update_cfs_components(&[Versioned {
            value: a.clone(),
            generation: 0,
        }])
        .await
        .unwrap();
    assert!(
        created.is_empty(),
        "a new component is created at generation 0"
    );
    // A second create-only write of the same id is a conflict.
    let again = s
        .update_cfs_components(&[Versioned {
            value: a.clone(),
            generation: 0,
        }])
        .await
        .unwrap();
    assert_eq!(again, vec!["x1c0s0b0n0".to_string()]);
    let mut read = s
        .get_cfs_components(&["x1c0s0b0n0".into(), "x9".into()])
        .await
        .unwrap();
    assert_eq!(read.len(), 1);
    let stale = read[0].clone();
    read[0].value.desired_config = "site".into();
    assert!(s.update_cfs_components(&read).await.unwrap().is_empty());
    let mut stale = stale;
    stale.value.enabled = false;
    assert_eq!(
        s.update_cfs_components(&[stale]).await.unwrap(),
        vec!["x1c0s0b0n0".to_string()],
        "a stale generation is refused"
    );
    let b = CfsComponent::new("x1c0s0b0n1");
    s.put_cfs_components(std::slice::from_ref(&b))
        .await
        .unwrap();
    let all = s.list_cfs_components().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].value.desired_config, "site");
    assert!(all[0].value.enabled);
    assert_eq!(all[1].value, b);
    assert!(s.delete_cfs_component("x1c0s0b0n1").await.unwrap());
    assert!(!s.delete_cfs_component("x1c0s0b0n1").await.unwrap());

    let c = CfsConfiguration {
        name: "site".into(),
        last_updated: "2026-01-01T00:00:00Z".into(),
        ..Default::default()
    };
    s.put_cfs_configuration(&c).await.unwrap();
    assert_eq!(
        s.get_cfs_configuration("site").await.unwrap(),
        Some(c.clone())
    );
    assert_eq!(s.list_cfs_configurations().await.unwrap(), vec![c]);
    assert!(s.delete_cfs_configuration("site").await.unwrap());
    assert!(s.get_cfs_configuration("site").await.unwrap().is_none());

    assert_eq!(s.get_cfs_options().await.unwrap(), None);
    let mut o = crate::model::cfs::CfsOptions {
        default_batcher_retry_policy: 7,
        default_playbook: "main.yml".into(),
        ..Default::default()
    };
    s.put_cfs_options(&o).await.unwrap();
    assert_eq!(s.get_cfs_options().await.unwrap(), Some(o.clone()));
    o.batcher_disable = true;
    s.put_cfs_options(&o).await.unwrap();
    assert_eq!(s.get_cfs_options().await.unwrap(), Some(o));
}
