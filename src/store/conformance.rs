//! The store conformance suite: what every [`Store`] implementation must do.
//!
//! Written against the trait only, so the SQLite store and the PostgreSQL store (a later
//! change) are held to the same behaviour, as garage does for its database engines. Each
//! check starts from an empty store and cleans up after itself; `run_all` runs them in turn.

use super::{BootWrite, EndpointAccess, Store, StoreError};
use crate::model::{
    BootParams, Component, EthernetInterface, Group, GroupKind, HostKey, ImageKind, ImageParams,
    Mac, RedfishEndpoint, Xname, redfish_endpoint::Secret,
};

fn x(s: &str) -> Xname {
    Xname::parse(s).unwrap()
}

fn iface(mac: &str, comp: Option<&str>) -> EthernetInterface {
    EthernetInterface {
        mac: Mac::parse(mac).unwrap(),
        description: "test".into(),
        ip_addresses: vec![],
        last_update: chrono::Utc::now(),
        component_id: comp.map(x),
    }
}

fn endpoint(id: &str) -> RedfishEndpoint {
    RedfishEndpoint {
        id: x(id),
        kind: "NodeBMC".into(),
        name: String::new(),
        hostname: "bmc1".into(),
        domain: String::new(),
        fqdn: "bmc1".into(),
        enabled: true,
        uuid: String::new(),
        user: "root".into(),
        password: Secret("hunter2".into()),
        use_ssdp: false,
        mac_required: false,
        mac_addr: String::new(),
        ip_address: String::new(),
        rediscover_on_update: false,
        template_id: String::new(),
        discovery_info: Default::default(),
        scheme: "https".into(),
        trust: Default::default(),
        node_xnames: vec![],
    }
}

fn bp(params: &str, token: Option<&str>) -> BootParams {
    BootParams {
        params: params.into(),
        kernel: "s3://b/kernel".into(),
        initrd: "s3://b/initrd".into(),
        cloud_init: None,
        referral_token: token.map(str::to_string),
        updated: chrono::Utc::now(),
    }
}

pub async fn run_all(store: &dyn Store) {
    components(store).await;
    ethernet_interfaces(store).await;
    groups_and_partitions(store).await;
    redfish_endpoints(store).await;
    boot_params(store).await;
    endpoint_access(store).await;
    discovery(store).await;
    transitions(store).await;
    boot_components(store).await;
    bos_records(store).await;
    cfs_records(store).await;
    dhcp_leases(store).await;
}

/// DHCP leases: one per MAC, replaced on renewal, deleted on release.
pub async fn dhcp_leases(s: &dyn Store) {
    use crate::model::dhcp::DhcpLease;
    let mac = crate::model::Mac::parse("52:54:00:77:00:01").unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let lease = DhcpLease {
        mac,
        ip: "192.168.77.11".parse().unwrap(),
        expires,
    };
    assert!(s.list_dhcp_leases().await.unwrap().is_empty());
    s.put_dhcp_lease(&lease).await.unwrap();
    let renewed = DhcpLease {
        expires: expires + chrono::Duration::hours(1),
        ..lease.clone()
    };
    s.put_dhcp_lease(&renewed).await.unwrap();
    assert_eq!(s.list_dhcp_leases().await.unwrap(), vec![renewed]);
    assert!(s.delete_dhcp_lease(mac).await.unwrap());
    assert!(!s.delete_dhcp_lease(mac).await.unwrap());
    assert!(s.list_dhcp_leases().await.unwrap().is_empty());
}

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
}

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

pub async fn discovery(s: &dyn Store) {
    use crate::model::ComponentEndpoint;
    use crate::store::DiscoveryWrite;
    let bmc = x("x9c0s0b0");
    s.insert_redfish_endpoints(&[endpoint("x9c0s0b0")])
        .await
        .unwrap();
    let node = Component::new(x("x9c0s0b0n0"));
    let ce = |id: &str| ComponentEndpoint {
        id: x(id),
        redfish_endpoint_id: bmc.clone(),
        odata_id: "/redfish/v1/Systems/1".into(),
        system_id: "1".into(),
        name: String::new(),
        uuid: String::new(),
        reset_target: "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset".into(),
        reset_types: vec!["On".into(), "ForceOff".into()],
        boot_targets: vec![],
        macs: vec!["02:00:00:00:00:01".into()],
    };
    let mut ep = endpoint("x9c0s0b0");
    ep.discovery_info.last_status = "DiscoverOK".into();
    let write = DiscoveryWrite {
        endpoint: ep.clone(),
        components: vec![node.clone()],
        interfaces: vec![iface("02:00:00:00:00:01", Some("x9c0s0b0n0"))],
        component_endpoints: vec![ce("x9c0s0b0n0")],
    };
    s.record_discovery(&write).await.unwrap();
    // Discovery is repeatable: the same write again replaces, never conflicts.
    s.record_discovery(&write).await.unwrap();
    assert_eq!(s.get_redfish_endpoint(&bmc).await.unwrap(), Some(ep));
    assert_eq!(s.get_component(&node.id).await.unwrap(), Some(node.clone()));
    assert_eq!(
        s.list_component_endpoints().await.unwrap(),
        vec![ce("x9c0s0b0n0")]
    );
    assert_eq!(
        s.component_endpoints_of(&bmc).await.unwrap(),
        vec![ce("x9c0s0b0n0")]
    );
    assert!(
        s.component_endpoints_of(&Xname::parse("x9c0s1b0").unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.get_ethernet_interface("020000000001")
            .await
            .unwrap()
            .is_some()
    );
    // Deleting the BMC removes its component endpoints, not its nodes.
    assert!(s.delete_redfish_endpoint(&bmc).await.unwrap());
    assert!(s.get_component_endpoint(&node.id).await.unwrap().is_none());
    assert!(s.get_component(&node.id).await.unwrap().is_some());
    // A discovery of a BMC deleted meanwhile records nothing.
    s.record_discovery(&write).await.unwrap();
    assert!(s.list_component_endpoints().await.unwrap().is_empty());
    s.delete_component(&node.id).await.unwrap();
    s.delete_all_ethernet_interfaces().await.unwrap();
}

pub async fn transitions(s: &dyn Store) {
    use crate::model::power::*;
    let now = chrono::Utc::now();
    let t = Transition {
        id: uuid::Uuid::new_v4(),
        operation: PowerOperation::On,
        deadline_minutes: 1,
        deadline_seconds: None,
        boot_target: Some("Pxe".into()),
        created: now,
        expires: now + chrono::Duration::hours(24),
        status: TransitionStatus::New,
        counts: TaskCounts::default(),
    };
    let tasks = vec![
        PowerTask::new("x1c0s0b0n0".into()),
        PowerTask::new("FAKE".into()),
    ];
    s.insert_transition(&t, &tasks).await.unwrap();
    assert!(matches!(
        s.insert_transition(&t, &tasks).await,
        Err(StoreError::Conflict { .. })
    ));
    let mut t2 = t.clone();
    t2.status = TransitionStatus::InProgress;
    let mut done = tasks[1].clone();
    done.status = TaskStatus::Failed;
    done.error = Some("Invalid xname".into());
    assert!(
        s.update_transition(&t2, std::slice::from_ref(&done))
            .await
            .unwrap()
    );
    let (got, got_tasks) = s.get_transition(t.id).await.unwrap().unwrap();
    assert_eq!(got, t2);
    assert_eq!(got_tasks, vec![tasks[0].clone(), done]);
    assert!(
        s.get_transition(uuid::Uuid::new_v4())
            .await
            .unwrap()
            .is_none()
    );
    // An abort request survives progress writes and reads as abort-signaled.
    assert!(!s.transition_abort_requested(t.id).await.unwrap());
    assert!(s.request_transition_abort(t.id).await.unwrap());
    assert!(
        !s.request_transition_abort(uuid::Uuid::new_v4())
            .await
            .unwrap()
    );
    s.update_transition(&t2, &[]).await.unwrap();
    assert!(s.transition_abort_requested(t.id).await.unwrap());
    let (got, _) = s.get_transition(t.id).await.unwrap().unwrap();
    assert_eq!(got.status, TransitionStatus::AbortSignaled);
    let mut t3 = t2.clone();
    t3.status = TransitionStatus::Aborted;
    s.update_transition(&t3, &[]).await.unwrap();
    assert_eq!(s.list_transitions().await.unwrap(), vec![t3.clone()]);
    assert_eq!(s.delete_expired_transitions(now).await.unwrap(), 0);
    assert_eq!(
        s.delete_expired_transitions(now + chrono::Duration::hours(25))
            .await
            .unwrap(),
        1
    );
    assert!(s.get_transition(t.id).await.unwrap().is_none());
}

pub async fn components(s: &dyn Store) {
    assert!(s.list_components().await.unwrap().is_empty());
    let mut a = Component::new(x("x1c0s0b0n0"));
    a.nid = Some(1);
    a.role = Some("Compute".into());
    let b = Component::new(x("x1c0s0b0n1"));
    s.put_components(&[a.clone(), b.clone()]).await.unwrap();
    assert_eq!(s.get_component(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(
        s.list_components().await.unwrap(),
        vec![a.clone(), b.clone()]
    );

    // put replaces
    a.state = "Ready".into();
    s.put_components(std::slice::from_ref(&a)).await.unwrap();
    assert_eq!(
        s.get_component(&a.id).await.unwrap().unwrap().state,
        "Ready"
    );

    // delete removes memberships too
    let g = Group {
        label: "blue".into(),
        description: String::new(),
        tags: vec![],
        exclusive_group: None,
        members: vec![a.id.clone(), b.id.clone()],
    };
    s.insert_group(GroupKind::Group, &g).await.unwrap();
    assert!(s.delete_component(&a.id).await.unwrap());
    assert!(!s.delete_component(&a.id).await.unwrap());
    assert_eq!(
        s.get_group(GroupKind::Group, "blue")
            .await
            .unwrap()
            .unwrap()
            .members,
        vec![b.id.clone()]
    );
    assert_eq!(s.delete_all_components().await.unwrap(), 1);
    assert!(
        s.get_group(GroupKind::Group, "blue")
            .await
            .unwrap()
            .unwrap()
            .members
            .is_empty()
    );
    assert!(s.delete_group(GroupKind::Group, "blue").await.unwrap());
    assert!(s.list_components().await.unwrap().is_empty());
}

pub async fn ethernet_interfaces(s: &dyn Store) {
    let a = iface("aa:bb:cc:00:00:01", Some("x1c0s0b0n0"));
    let b = iface("aa:bb:cc:00:00:02", None);
    s.insert_ethernet_interfaces(&[a.clone(), b.clone()])
        .await
        .unwrap();
    assert_eq!(
        s.get_ethernet_interface("aabbcc000001").await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(s.list_ethernet_interfaces().await.unwrap().len(), 2);

    // A batch with one duplicate writes nothing.
    let c = iface("aa:bb:cc:00:00:03", None);
    let err = s
        .insert_ethernet_interfaces(&[c.clone(), a.clone()])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    assert!(s.get_ethernet_interface(&c.id()).await.unwrap().is_none());

    let mut b2 = b.clone();
    b2.component_id = Some(x("x1c0s0b0n1"));
    assert!(s.update_ethernet_interface(&b2).await.unwrap());
    assert_eq!(
        s.get_ethernet_interface(&b.id())
            .await
            .unwrap()
            .unwrap()
            .component_id,
        Some(x("x1c0s0b0n1"))
    );
    assert!(!s.update_ethernet_interface(&c).await.unwrap());

    assert!(s.delete_ethernet_interface(&a.id()).await.unwrap());
    assert!(!s.delete_ethernet_interface(&a.id()).await.unwrap());
    assert_eq!(s.delete_all_ethernet_interfaces().await.unwrap(), 1);
}

pub async fn groups_and_partitions(s: &dyn Store) {
    let g = Group {
        label: "red".into(),
        description: "red things".into(),
        tags: vec!["t1".into()],
        exclusive_group: Some("colours".into()),
        members: vec![x("x1c0s0b0n0"), x("x1c0s0b0n1")],
    };
    s.insert_group(GroupKind::Group, &g).await.unwrap();
    // Same label, other kind: independent.
    let p = Group {
        exclusive_group: None,
        ..g.clone()
    };
    s.insert_group(GroupKind::Partition, &p).await.unwrap();
    assert!(matches!(
        s.insert_group(GroupKind::Group, &g).await,
        Err(StoreError::Conflict { .. })
    ));

    assert_eq!(
        s.get_group(GroupKind::Group, "red").await.unwrap(),
        Some(g.clone())
    );
    assert_eq!(
        s.list_groups(GroupKind::Partition).await.unwrap(),
        vec![p.clone()]
    );

    let mut g2 = g.clone();
    g2.members = vec![x("x1c0s0b0n1")];
    g2.description = "fewer".into();
    assert!(s.update_group(GroupKind::Group, &g2).await.unwrap());
    assert_eq!(
        s.get_group(GroupKind::Group, "red").await.unwrap(),
        Some(g2)
    );
    assert!(
        !s.update_group(
            GroupKind::Group,
            &Group {
                label: "nope".into(),
                ..g.clone()
            }
        )
        .await
        .unwrap()
    );

    assert!(s.delete_group(GroupKind::Group, "red").await.unwrap());
    assert!(
        s.get_group(GroupKind::Group, "red")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.get_group(GroupKind::Partition, "red")
            .await
            .unwrap()
            .unwrap()
            .members
            .len(),
        2
    );
    assert!(s.delete_group(GroupKind::Partition, "red").await.unwrap());
}

pub async fn redfish_endpoints(s: &dyn Store) {
    let a = endpoint("x1c0s0b0");
    s.insert_redfish_endpoints(std::slice::from_ref(&a))
        .await
        .unwrap();
    assert!(matches!(
        s.insert_redfish_endpoints(std::slice::from_ref(&a)).await,
        Err(StoreError::Conflict { .. })
    ));
    let got = s.get_redfish_endpoint(&a.id).await.unwrap().unwrap();
    assert_eq!(
        got.password.0, "hunter2",
        "the store keeps the secret; only the API hides it"
    );
    let mut a2 = a.clone();
    a2.user = "admin".into();
    assert!(s.update_redfish_endpoint(&a2).await.unwrap());
    assert_eq!(s.list_redfish_endpoints().await.unwrap(), vec![a2]);
    assert!(s.delete_redfish_endpoint(&a.id).await.unwrap());
    assert!(!s.delete_redfish_endpoint(&a.id).await.unwrap());
    assert_eq!(s.delete_all_redfish_endpoints().await.unwrap(), 0);
}

pub async fn boot_params(s: &dyn Store) {
    let node = HostKey::Node(x("x1c0s0b0n0"));
    let mac = HostKey::Mac(Mac::parse("aa:bb:cc:dd:ee:ff").unwrap());
    let nid = HostKey::Nid(7);
    let tag = HostKey::Tag("Default".into());
    let w = BootWrite {
        put_hosts: vec![
            (node.clone(), bp("console=ttyS0", Some("tok-1"))),
            (mac.clone(), bp("m", None)),
            (nid.clone(), bp("n", None)),
            (tag.clone(), bp("d", None)),
        ],
        put_images: vec![ImageParams {
            kind: ImageKind::Kernel,
            path: "s3://b/kernel".into(),
            params: "quiet".into(),
        }],
        ..Default::default()
    };
    s.write_boot(&w).await.unwrap();
    let all = s.list_boot_params().await.unwrap();
    assert_eq!(all.len(), 4);
    let keys: Vec<HostKey> = all.iter().map(|(k, _)| k.clone()).collect();
    for k in [&node, &mac, &nid, &tag] {
        assert!(keys.contains(k), "{k:?} round-trips");
    }
    let n = all.iter().find(|(k, _)| *k == node).unwrap();
    assert_eq!(n.1.referral_token.as_deref(), Some("tok-1"));
    assert_eq!(s.list_image_params().await.unwrap().len(), 1);

    // One write can delete and put together.
    let w2 = BootWrite {
        put_hosts: vec![(node.clone(), bp("replaced", Some("tok-2")))],
        delete_hosts: vec![mac.clone(), nid.clone(), tag.clone()],
        delete_images: vec![(ImageKind::Kernel, "s3://b/kernel".into())],
        ..Default::default()
    };
    s.write_boot(&w2).await.unwrap();
    let all = s.list_boot_params().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].1.params, "replaced");
    assert!(s.list_image_params().await.unwrap().is_empty());
    s.write_boot(&BootWrite {
        delete_hosts: vec![node],
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(s.list_boot_params().await.unwrap().is_empty());
}

pub async fn endpoint_access(s: &dyn Store) {
    let e = |n: &str, t: i64| EndpointAccess {
        name: n.into(),
        endpoint: "bootscript".into(),
        last_epoch: t,
    };
    s.record_endpoint_access(&[e("x1c0s0b0n0", 100), e("x1c0s0b0n1", 50)])
        .await
        .unwrap();
    // An older report never moves the time backwards.
    s.record_endpoint_access(&[e("x1c0s0b0n0", 90), e("x1c0s0b0n1", 60)])
        .await
        .unwrap();
    assert_eq!(
        s.list_endpoint_access().await.unwrap(),
        vec![e("x1c0s0b0n0", 100), e("x1c0s0b0n1", 60)]
    );
}
