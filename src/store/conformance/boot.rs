//! Conformance: Boot parameters and endpoint history.

use super::*;

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

    // A create-only write that meets an existing host writes nothing, not even the new one.
    let fresh = HostKey::Node(x("x1c0s0b0n1"));
    let e = s
        .write_boot(&BootWrite {
            create_only: true,
            put_hosts: vec![
                (fresh.clone(), bp("new", None)),
                (node.clone(), bp("again", None)),
            ],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&e, crate::store::StoreError::Conflict { what } if what == "x1c0s0b0n0"),
        "{e:?}"
    );
    let all = s.list_boot_params().await.unwrap();
    assert_eq!(all.len(), 1, "nothing half-written");
    assert_eq!(all[0].1.params, "replaced");
    s.write_boot(&BootWrite {
        create_only: true,
        put_hosts: vec![(fresh.clone(), bp("new", None))],
        ..Default::default()
    })
    .await
    .unwrap();
    s.write_boot(&BootWrite {
        delete_hosts: vec![node, fresh],
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
