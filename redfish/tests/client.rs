//! The client against SimBmc over real HTTP(S): auth modes, sessions, busy answers,
//! reset validation, the boot override read-back, and TLS trust modes.
#![cfg(feature = "sim")]

use std::time::Duration;

use redfish::sim::{SimBmc, SimConfig};
use redfish::{AuthMode, BmcConfig, BootOverride, Error, Pool, PowerState, TlsTrust};

fn pool() -> Pool {
    Pool::new(16, Duration::from_secs(2))
}

fn cfg(bmc: &SimBmc) -> BmcConfig {
    let mut c = BmcConfig::new(bmc.url(), "admin", "password");
    c.timeout = Duration::from_secs(2);
    c.backoff = Duration::from_millis(20);
    c
}

#[tokio::test]
async fn auto_auth_uses_one_session_relogs_once_on_401_and_logs_out() {
    let sim = SimBmc::start(SimConfig {
        systems: 2,
        ..Default::default()
    })
    .await
    .unwrap();
    let bmc = pool().bmc(cfg(&sim)).unwrap();
    let paths = bmc.system_paths().await.unwrap();
    assert_eq!(paths, sim.system_paths());
    for p in &paths {
        assert_eq!(bmc.power_state(p).await.unwrap(), PowerState::Off);
    }
    assert_eq!(sim.counters().sessions_created, 1);
    // The BMC forgets its sessions: the next request gets 401, logs in again, succeeds.
    assert_eq!(sim.expire_sessions(), 1);
    assert_eq!(bmc.power_state(&paths[0]).await.unwrap(), PowerState::Off);
    assert_eq!(sim.counters().sessions_created, 2);
    bmc.logout().await;
    assert_eq!(sim.counters().sessions_deleted, 1);
    assert_eq!(sim.counters().live_sessions, 0);
}

#[tokio::test]
async fn basic_auth_when_asked_or_when_no_session_service() {
    let sim = SimBmc::start(SimConfig {
        sessions: false,
        ..Default::default()
    })
    .await
    .unwrap();
    let bmc = pool().bmc(cfg(&sim)).unwrap();
    bmc.system_paths().await.unwrap();
    let with = SimBmc::start(SimConfig::default()).await.unwrap();
    let mut c = cfg(&with);
    c.auth = AuthMode::Basic;
    pool().bmc(c).unwrap().system_paths().await.unwrap();
    assert_eq!(with.counters().sessions_created, 0);
    // Wrong password: named.
    let mut c = cfg(&with);
    c.password = "nope".into();
    let e = pool().bmc(c).unwrap().system_paths().await.unwrap_err();
    assert_eq!(
        e,
        Error::Auth {
            bmc: with.addr().to_string()
        }
    );
    assert_eq!(
        e.to_string(),
        format!("authentication failed for {}", with.addr())
    );
}

#[tokio::test]
async fn busy_answers_are_retried_and_persistent_errors_carry_the_bmc_message() {
    let sim = SimBmc::start(SimConfig {
        sessions: false,
        ..Default::default()
    })
    .await
    .unwrap();
    let bmc = pool().bmc(cfg(&sim)).unwrap();
    let path = sim.system_paths()[0].clone();
    sim.fail_next(2, 503);
    assert_eq!(bmc.power_state(&path).await.unwrap(), PowerState::Off);
    sim.fail_next(10, 500);
    let e = bmc.power_state(&path).await.unwrap_err();
    match &e {
        Error::Http {
            status: 500,
            bmc: b,
            ..
        } => assert_eq!(b, &sim.addr().to_string()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn resets_are_checked_against_what_the_bmc_allows() {
    let sim = SimBmc::start(SimConfig {
        reset_types: vec!["On".into(), "ForceOff".into()],
        action_info: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let bmc = pool().bmc(cfg(&sim)).unwrap();
    let path = sim.system_paths()[0].clone();
    let e = bmc.reset(&path, "GracefulShutdown").await.unwrap_err();
    assert!(
        e.to_string()
            .contains("does not allow reset type GracefulShutdown")
            && e.to_string().contains("On, ForceOff"),
        "{e}"
    );
    assert_eq!(sim.counters().resets, 0, "nothing was sent");
    bmc.reset(&path, "On").await.unwrap();
    assert_eq!(bmc.power_state(&path).await.unwrap(), PowerState::On);
    let d = bmc.discover().await.unwrap();
    assert_eq!(
        d.systems[0].reset_types,
        ["On", "ForceOff"],
        "read through ActionInfo"
    );
    assert_eq!(d.systems[0].macs, sim.macs(0));
}

#[tokio::test]
async fn boot_override_is_read_back_and_a_dropped_one_is_an_error() {
    let sim = SimBmc::start(SimConfig::default()).await.unwrap();
    let bmc = pool().bmc(cfg(&sim)).unwrap();
    let path = sim.system_paths()[0].clone();
    let applied = bmc
        .set_boot_override(&path, &BootOverride::once("Pxe"))
        .await
        .unwrap();
    assert_eq!(applied.boot.target.as_deref(), Some("Pxe"));
    assert!(!applied.retried && applied.note.is_none());
    assert_eq!(sim.boot_override(0).0, "Once");
    // Not an allowed target: refused before anything is sent.
    let before = sim.counters().patches;
    let e = bmc
        .set_boot_override(&path, &BootOverride::once("Floppy"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Floppy is not allowed"), "{e}");
    assert_eq!(sim.counters().patches, before);
    // Dropped: retried once with the full Boot block, then a clear error.
    sim.set_drop_boot_override(true);
    let e = bmc
        .set_boot_override(&path, &BootOverride::once("Hdd"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::OverrideNotKept { .. }), "{e:?}");
    assert!(e.to_string().contains("did not keep it"), "{e}");
    assert_eq!(sim.counters().patches, before + 2);
    // The retry sent the mode the system reported, as it was.
    assert_eq!(sim.counters().mode_patches, 1);
    assert_eq!(sim.boot_override(0).2, "UEFI");
    // A system reporting no boot mode (sushy's BIOS domains): the retry must not invent
    // one, which would switch its firmware.
    sim.set_hide_boot_mode(true);
    let e = bmc
        .set_boot_override(&path, &BootOverride::once("Cd"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::OverrideNotKept { .. }), "{e:?}");
    assert_eq!(sim.counters().patches, before + 4);
    assert_eq!(sim.counters().mode_patches, 1, "no mode was sent");
}

/// A SimBmc whose one system is on, its client, and the system's path.
async fn running() -> (SimBmc, redfish::Bmc, String) {
    let sim = SimBmc::start(SimConfig {
        initial_power: "On".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let bmc = pool().bmc(cfg(&sim)).unwrap();
    let path = sim.system_paths()[0].clone();
    (sim, bmc, path)
}

#[tokio::test]
async fn a_system_without_override_properties_is_told_so_and_nothing_is_sent() {
    use redfish::sim::Mockup;
    use redfish::{BootOutcome, BootWhen};
    // The recorded Cray EX425 blade: a BootOrder, no override properties.
    let ex = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/redfish-mockups/EX425");
    let sim = SimBmc::start(SimConfig {
        mockup: Some(Mockup::load(ex).unwrap()),
        ..Default::default()
    })
    .await
    .unwrap();
    let bmc = pool().bmc(cfg(&sim)).unwrap();
    let path = sim.system_paths()[0].clone();
    let e = bmc
        .set_boot_override(&path, &BootOverride::once("Pxe"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Unsupported { .. })
            && e.to_string().contains("has no Boot override properties"),
        "{e}"
    );
    assert_eq!(sim.counters().patches, 0);
    let reading = bmc.power_reading(&path).await.unwrap();
    assert_eq!(reading.boot_targets, None);
    // With them, a running node is left alone when asked, and nothing is sent.
    let (sim, bmc, path) = running().await;
    let outcome = bmc
        .set_boot_override_when(&path, &BootOverride::once("Pxe"), BootWhen::NotPoweredOn)
        .await
        .unwrap();
    assert_eq!(outcome, BootOutcome::PoweredOn(PowerState::On));
    assert_eq!(sim.counters().patches, 0);
}

#[tokio::test]
async fn a_power_reading_carries_the_restart_marker_that_moves_on_a_restart() {
    let (_sim, bmc, path) = running().await;
    let before = bmc.power_reading(&path).await.unwrap();
    assert_eq!(before.power_state, PowerState::On);
    assert_eq!(before.markers.len(), 1, "{:?}", before.markers);
    assert_eq!(before.markers[0].0, "/LastResetTime");
    assert!(before.boot_targets.unwrap().contains(&"Pxe".to_string()));
    bmc.reset(&path, "GracefulRestart").await.unwrap();
    let after = bmc.power_reading(&path).await.unwrap();
    assert_eq!(
        after.power_state,
        PowerState::On,
        "an instant restart shows no Off"
    );
    assert_ne!(after.markers, before.markers, "but LastResetTime moved");
}

#[tokio::test]
async fn tls_trust_modes() {
    let sim = SimBmc::start(SimConfig {
        tls: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let pin = sim.cert_sha256().unwrap();
    // Default (system roots): refused, with the pin to use.
    let e = pool()
        .bmc(cfg(&sim))
        .unwrap()
        .system_paths()
        .await
        .unwrap_err();
    match &e {
        Error::Untrusted { fingerprint, .. } => assert_eq!(fingerprint, &pin),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains(&format!("--pin {pin}")), "{e}");
    assert_eq!(sim.counters().auth_failures, 0, "no credentials were sent");
    for trust in [
        TlsTrust::Ca(sim.cert_pem().unwrap()),
        TlsTrust::Pin(pin.to_uppercase()),
        TlsTrust::Insecure,
    ] {
        let mut c = cfg(&sim);
        c.trust = trust.clone();
        pool()
            .bmc(c)
            .unwrap()
            .system_paths()
            .await
            .unwrap_or_else(|e| panic!("{trust:?}: {e}"));
    }
    // Another certificate's pin is refused, naming the pin and what was presented.
    let mut c = cfg(&sim);
    c.trust = TlsTrust::Pin("00".repeat(32));
    match pool().bmc(c).unwrap().system_paths().await {
        Err(Error::CertificateChanged {
            pinned, presented, ..
        }) => assert_eq!((pinned, presented), ("00".repeat(32), pin.clone())),
        other => panic!("{other:?}"),
    }
    // The certificate can be read without trusting it and without credentials (what
    // trust-on-first-use pins); a plain-HTTP BMC has none.
    let before = sim.counters().auth_failures;
    let bmc = pool().bmc(cfg(&sim)).unwrap();
    assert_eq!(bmc.peer_certificate().await.unwrap(), Some(pin.clone()));
    assert_eq!(sim.counters().auth_failures, before);
    let plain = SimBmc::start(SimConfig::default()).await.unwrap();
    assert_eq!(
        pool()
            .bmc(cfg(&plain))
            .unwrap()
            .peer_certificate()
            .await
            .unwrap(),
        None
    );
    // A malformed pin is a configuration error.
    let mut c = cfg(&sim);
    c.trust = TlsTrust::Pin("abc".into());
    assert!(matches!(pool().bmc(c), Err(Error::Config { .. })));
}

#[tokio::test]
async fn unreachable_and_unresponsive_bmcs_are_named() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let c = BmcConfig::new(format!("http://127.0.0.1:{port}"), "a", "b");
    let e = pool().bmc(c).unwrap().system_paths().await.unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("cannot reach BMC 127.0.0.1:{port}")),
        "{e}"
    );

    let sim = SimBmc::start(SimConfig::default()).await.unwrap();
    sim.set_unresponsive(true);
    let mut c = cfg(&sim);
    c.timeout = Duration::from_millis(300);
    let e = pool().bmc(c).unwrap().system_paths().await.unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    sim.set_unresponsive(false);
}

#[tokio::test]
async fn a_full_session_table_falls_back_to_basic_auth() {
    let sim = SimBmc::start(SimConfig::default()).await.unwrap();
    sim.set_session_limit(0);
    let mut c = cfg(&sim);
    c.retries = 1;
    let bmc = pool().bmc(c).unwrap();
    assert_eq!(bmc.system_paths().await.unwrap(), sim.system_paths());
    assert_eq!(sim.counters().sessions_created, 0);
}
