//! Boot override PATCHes: `If-Match` and validation, the drop knob, and a `Once` override
//! cleared at power-on.

use redfish::sim::SimConfig;
use reqwest::Method;
use serde_json::json;

use super::{call, client, message_id, patch_boot, reset, start};

#[tokio::test]
async fn patch_honours_if_match_and_validates() {
    let bmc = start(SimConfig::default()).await;
    let c = client();
    let path = &bmc.system_paths()[0];

    let (s, h, sys) = call(&c, &bmc, Method::GET, path, None, &[]).await;
    assert_eq!(s, 200);
    let etag = h["ETag"].to_str().unwrap().to_string();
    assert!(etag.starts_with("W/\""), "{etag}");
    assert_eq!(sys["@odata.etag"], etag.as_str());

    let (s, body) = patch_boot(
        &c,
        &bmc,
        0,
        json!({"BootSourceOverrideTarget": "Pxe"}),
        Some("W/\"999\""),
    )
    .await;
    assert_eq!(s, 412);
    assert_eq!(message_id(&body), "Base.1.8.PreconditionFailed");
    assert_eq!(bmc.boot_override(0).1, "None");

    let boot = json!({"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Continuous", "BootSourceOverrideMode": "UEFI"});
    let (s, _) = patch_boot(&c, &bmc, 0, boot, Some(&etag)).await;
    assert_eq!(s, 204);
    assert_eq!(
        bmc.boot_override(0),
        ("Continuous".into(), "Pxe".into(), "UEFI".into())
    );
    let (_, h, sys) = call(&c, &bmc, Method::GET, path, None, &[]).await;
    assert_eq!(sys["Boot"]["BootSourceOverrideTarget"], "Pxe");
    assert_eq!(sys["Boot"]["BootSourceOverrideEnabled"], "Continuous");
    assert_ne!(
        h["ETag"].to_str().unwrap(),
        etag,
        "the ETag changes with the resource"
    );

    // The old ETag is now stale; no If-Match at all is accepted.
    let (s, _) = patch_boot(
        &c,
        &bmc,
        0,
        json!({"BootSourceOverrideTarget": "Hdd"}),
        Some(&etag),
    )
    .await;
    assert_eq!(s, 412);
    let (s, _) = patch_boot(
        &c,
        &bmc,
        0,
        json!({"BootSourceOverrideTarget": "Hdd"}),
        None,
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(bmc.boot_override(0).1, "Hdd");

    let (s, body) = patch_boot(
        &c,
        &bmc,
        0,
        json!({"BootSourceOverrideTarget": "Floppy"}),
        None,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(message_id(&body), "Base.1.8.PropertyValueNotInList");
    assert!(
        body["error"]["@Message.ExtendedInfo"][0]["Message"]
            .as_str()
            .unwrap()
            .contains("BootSourceOverrideTarget")
    );
    let (s, body) = patch_boot(&c, &bmc, 0, json!({"BootNext": "0001"}), None).await;
    assert_eq!(s, 400);
    assert_eq!(message_id(&body), "Base.1.8.PropertyUnknown");
    let (s, _, body) = call(
        &c,
        &bmc,
        Method::PATCH,
        path,
        Some(json!({"AssetTag": "x"})),
        &[],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(message_id(&body), "Base.1.8.PropertyUnknown");
    // A rejected PATCH changes nothing, even where other properties were valid.
    let (s, _) = patch_boot(
        &c,
        &bmc,
        0,
        json!({"BootSourceOverrideTarget": "Cd", "BootSourceOverrideMode": "Bios"}),
        None,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(bmc.boot_override(0).1, "Hdd");

    assert_eq!(bmc.counters().patches, 2);
    bmc.shutdown().await;

    // Without ETag support there is no header and If-Match is ignored.
    let bmc = start(SimConfig {
        etag: false,
        ..SimConfig::default()
    })
    .await;
    let (_, h, _) = call(&c, &bmc, Method::GET, &bmc.system_paths()[0], None, &[]).await;
    assert!(h.get("ETag").is_none());
    let (s, _) = patch_boot(
        &c,
        &bmc,
        0,
        json!({"BootSourceOverrideTarget": "Pxe"}),
        Some("W/\"999\""),
    )
    .await;
    assert_eq!(s, 204);
    bmc.shutdown().await;
}

#[tokio::test]
async fn drop_knob_accepts_and_forgets() {
    let bmc = start(SimConfig::default()).await;
    let c = client();
    bmc.set_drop_boot_override(true);
    let (s, _) = patch_boot(
        &c,
        &bmc,
        0,
        json!({"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}),
        None,
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(
        bmc.boot_override(0),
        ("Disabled".into(), "None".into(), "UEFI".into())
    );
    bmc.set_drop_boot_override(false);
    let (s, _) = patch_boot(
        &c,
        &bmc,
        0,
        json!({"BootSourceOverrideTarget": "Pxe"}),
        None,
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(bmc.boot_override(0).1, "Pxe");
    assert_eq!(bmc.counters().patches, 2);
    bmc.shutdown().await;
}

#[tokio::test]
async fn once_override_clears_on_power_on() {
    let bmc = start(SimConfig {
        systems: 2,
        ..SimConfig::default()
    })
    .await;
    let c = client();
    for i in 0..2 {
        let (s, _) = patch_boot(
            &c,
            &bmc,
            i,
            json!({"BootSourceOverrideEnabled": "Once", "BootSourceOverrideTarget": "Pxe"}),
            None,
        )
        .await;
        assert_eq!(s, 204);
    }
    // Off -> On consumes it.
    reset(&c, &bmc, 0, "On").await;
    assert_eq!(bmc.boot_override(0).0, "Disabled");
    // So does a restart of a running system; ForceOff does not.
    bmc.set_power_state(1, "On");
    assert_eq!(
        bmc.boot_override(1).0,
        "Disabled",
        "set_power_state On counts as a power-on"
    );
    patch_boot(
        &c,
        &bmc,
        1,
        json!({"BootSourceOverrideEnabled": "Once"}),
        None,
    )
    .await;
    reset(&c, &bmc, 1, "ForceOff").await;
    assert_eq!(bmc.boot_override(1).0, "Once");
    reset(&c, &bmc, 1, "On").await;
    patch_boot(
        &c,
        &bmc,
        1,
        json!({"BootSourceOverrideEnabled": "Once"}),
        None,
    )
    .await;
    reset(&c, &bmc, 1, "ForceRestart").await;
    assert_eq!(bmc.boot_override(1).0, "Disabled");
    // Continuous survives power-ons.
    patch_boot(
        &c,
        &bmc,
        1,
        json!({"BootSourceOverrideEnabled": "Continuous"}),
        None,
    )
    .await;
    reset(&c, &bmc, 1, "PowerCycle").await;
    assert_eq!(
        bmc.boot_override(1),
        ("Continuous".into(), "Pxe".into(), "UEFI".into())
    );
    bmc.shutdown().await;
}
