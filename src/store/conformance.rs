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
