//! Conformance: The inventory tables: components, interfaces, groups and partitions, Redfish endpoints and discovery writes.

use super::*;

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
