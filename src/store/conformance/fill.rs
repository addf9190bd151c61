//! A little of every table family, left in place: the data the upgrade tests
//! (`sqlite/upgrade_tests.rs`) carry through every schema migration.

use super::{bp, endpoint, iface, x};
use crate::model::power::{PowerOperation, PowerTask, TaskCounts, Transition, TransitionStatus};
use crate::model::session::SessionState;
use crate::model::{
    BootComponent, Component, Group, GroupKind, HostKey, ImageKind, ImageParams, Operation,
    Session, SessionStatus,
};
use crate::store::{BootWrite, Store};

pub async fn fill(s: &dyn Store) {
    let now = chrono::Utc::now();
    s.put_components(&[
        Component::new(x("x1c0s0b0n0")),
        Component::new(x("x1c0s0b0n1")),
    ])
    .await
    .unwrap();
    s.insert_ethernet_interfaces(&[
        iface("aa:bb:cc:00:00:01", Some("x1c0s0b0n0")),
        iface("aa:bb:cc:00:00:02", Some("x1c0s0b0n1")),
    ])
    .await
    .unwrap();
    s.insert_group(
        GroupKind::Group,
        &Group {
            label: "compute".into(),
            description: "all".into(),
            tags: vec![],
            exclusive_group: None,
            members: vec![x("x1c0s0b0n0"), x("x1c0s0b0n1")],
        },
    )
    .await
    .unwrap();
    s.insert_redfish_endpoints(&[endpoint("x1c0s0b0")])
        .await
        .unwrap();
    s.write_boot(&BootWrite {
        put_hosts: vec![(
            HostKey::Node(x("x1c0s0b0n0")),
            bp("console=ttyS0", Some("tok")),
        )],
        put_images: vec![ImageParams {
            kind: ImageKind::Kernel,
            path: "s3://b/kernel".into(),
            params: "quiet".into(),
        }],
        ..Default::default()
    })
    .await
    .unwrap();
    let mut c = BootComponent::discovered("x1c0s0b0n0", now);
    c.enabled = true;
    c.session = "s".into();
    s.put_boot_components(&[c, BootComponent::discovered("x1c0s0b0n1", now)])
        .await
        .unwrap();
    s.insert_session(&Session {
        name: "s".into(),
        tenant: None,
        operation: Operation::Boot,
        template_name: "t".into(),
        limit: String::new(),
        stage: false,
        components: "x1c0s0b0n0".into(),
        include_disabled: false,
        status: SessionState {
            status: SessionStatus::Running,
            start_time: Some("2026-01-01T00:00:00".into()),
            end_time: None,
            error: None,
        },
        v1: None,
    })
    .await
    .unwrap();
    let t = Transition {
        id: uuid::Uuid::new_v4(),
        operation: PowerOperation::On,
        deadline_minutes: 1,
        deadline_seconds: None,
        boot_target: None,
        created: now,
        expires: now + chrono::Duration::hours(24),
        status: TransitionStatus::InProgress,
        counts: TaskCounts::default(),
    };
    s.insert_transition(&t, &[PowerTask::new("x1c0s0b0n0".into())])
        .await
        .unwrap();
    s.put_cfs_configuration(&crate::model::cfs::CfsConfiguration {
        name: "site".into(),
        last_updated: "2026-01-01T00:00:00Z".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    s.put_dhcp_lease(&crate::model::dhcp::DhcpLease {
        mac: crate::model::Mac::parse("aa:bb:cc:00:00:01").unwrap(),
        ip: "192.168.77.11".parse().unwrap(),
        expires: now + chrono::Duration::hours(1),
    })
    .await
    .unwrap();
    s.pin_artifact("tok", "kernel", "etag", 42).await.unwrap();
}
