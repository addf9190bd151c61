use super::*;

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

const FULL: &[&str] = &[
    "On",
    "ForceOff",
    "GracefulShutdown",
    "GracefulRestart",
    "ForceRestart",
];
/// A Cray EX node controller (tests/fixtures/redfish-mockups/EX425).
const EX: &[&str] = &["ForceOff", "On", "Off"];

fn facts(state: PowerState, allowed: &[&str]) -> SystemFacts {
    SystemFacts {
        state,
        reset_types: s(allowed),
        restart_observable: true,
        boot_override: BootOverrideSupport::Targets(s(&["Pxe", "Hdd"])),
    }
}

fn steps(p: Plan) -> Vec<Step> {
    match p {
        Plan::Steps(s) => s,
        other => panic!("expected steps, got {other:?}"),
    }
}

fn resets(p: Plan) -> Vec<(String, Option<String>)> {
    steps(p)
        .into_iter()
        .map(|s| (s.reset, s.fallback))
        .collect()
}

fn r(reset: &str, fallback: Option<&str>) -> (String, Option<String>) {
    (reset.to_string(), fallback.map(String::from))
}

#[test]
fn operations_parse_case_insensitively() {
    assert_eq!(
        PowerOperation::parse("soft-off"),
        Some(PowerOperation::SoftOff)
    );
    assert_eq!(
        PowerOperation::parse("FORCE-OFF"),
        Some(PowerOperation::ForceOff)
    );
    assert_eq!(PowerOperation::parse("reboot"), None);
}

#[test]
fn on_when_on_is_already_there() {
    assert_eq!(
        plan(PowerOperation::On, &facts(PowerState::On, FULL), None),
        Plan::AlreadyThere
    );
}

#[test]
fn off_escalates_but_soft_off_does_not() {
    let on = facts(PowerState::On, FULL);
    assert_eq!(
        resets(plan(PowerOperation::Off, &on, None)),
        vec![r("GracefulShutdown", Some("ForceOff"))]
    );
    assert_eq!(
        resets(plan(PowerOperation::SoftOff, &on, None)),
        vec![r("GracefulShutdown", None)]
    );
}

#[test]
fn a_cray_ex_node_shuts_down_gracefully_through_off() {
    let on = facts(PowerState::On, EX);
    assert_eq!(
        resets(plan(PowerOperation::Off, &on, None)),
        vec![r("Off", Some("ForceOff"))]
    );
    assert_eq!(
        resets(plan(PowerOperation::SoftOff, &on, None)),
        vec![r("Off", None)]
    );
    // No GracefulRestart: a soft restart is a graceful off, then On.
    assert_eq!(
        resets(plan(PowerOperation::SoftRestart, &on, None)),
        vec![r("Off", None), r("On", None)]
    );
    assert_eq!(
        resets(plan(PowerOperation::Init, &on, None)),
        vec![r("Off", Some("ForceOff")), r("On", None)]
    );
}

#[test]
fn no_graceful_off_is_forced_only_where_the_operation_allows_it() {
    let on = facts(PowerState::On, &["On", "ForceOff"]);
    assert_eq!(
        resets(plan(PowerOperation::Off, &on, None)),
        vec![r("ForceOff", None)]
    );
    let Plan::Refuse(TaskStatus::Unsupported, why) = plan(PowerOperation::SoftOff, &on, None)
    else {
        panic!()
    };
    assert_eq!(
        why,
        "no reset type for a graceful off (one of GracefulShutdown, PushPowerButton, Off): the system allows On, ForceOff"
    );
    let Plan::Refuse(TaskStatus::Unsupported, why) =
        plan(PowerOperation::Off, &facts(PowerState::On, &["On"]), None)
    else {
        panic!()
    };
    assert!(why.contains("or a forced off (ForceOff)"), "{why}");
}

#[test]
fn init_from_on_goes_off_then_on_and_from_off_just_on() {
    assert_eq!(
        steps(plan(
            PowerOperation::Init,
            &facts(PowerState::On, FULL),
            None
        ))
        .len(),
        2
    );
    assert_eq!(
        steps(plan(
            PowerOperation::Init,
            &facts(PowerState::Off, FULL),
            None
        ))
        .len(),
        1
    );
}

#[test]
fn restarts_need_on() {
    for op in [PowerOperation::SoftRestart, PowerOperation::HardRestart] {
        assert!(matches!(
            plan(op, &facts(PowerState::Off, FULL), None),
            Plan::Refuse(TaskStatus::Failed, _)
        ));
    }
}

#[test]
fn a_restart_is_confirmed_by_an_observed_transition_or_done_as_off_then_on() {
    let on = facts(PowerState::On, FULL);
    let s = steps(plan(PowerOperation::SoftRestart, &on, None));
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].reset, "GracefulRestart");
    assert_eq!(s[0].confirm, Confirm::Restarted);
    // A system that shows no restart marker: a GracefulRestart could never be confirmed.
    let blind = SystemFacts {
        restart_observable: false,
        ..on
    };
    assert_eq!(
        resets(plan(PowerOperation::SoftRestart, &blind, None)),
        vec![r("GracefulShutdown", None), r("On", None)]
    );
    // ForceRestart alone is not a soft restart.
    let forced = facts(PowerState::On, &["ForceRestart"]);
    assert!(matches!(
        plan(PowerOperation::SoftRestart, &forced, None),
        Plan::Refuse(TaskStatus::Unsupported, _)
    ));
}

#[test]
fn the_restart_watch_needs_a_transition() {
    let before = vec![("/LastResetTime".to_string(), "t0".to_string())];
    let mut w = RestartWatch::new(before.clone());
    assert!(
        !w.observe(PowerState::On, &before),
        "reading On is not a restart"
    );
    assert!(!w.observe(PowerState::Transition, &before));
    assert!(w.observe(PowerState::On, &before), "left On and came back");

    let mut w = RestartWatch::new(before.clone());
    let moved = vec![("/LastResetTime".to_string(), "t1".to_string())];
    assert!(w.observe(PowerState::On, &moved), "the marker moved");

    let mut w = RestartWatch::new(Vec::new());
    assert!(w.observe(PowerState::On, &moved), "a marker that appeared");
    let mut w = RestartWatch::new(before);
    assert!(!w.observe(PowerState::On, &[]), "a marker that vanished");
}

#[test]
fn netboot_on_a_node_that_is_on_is_refused_but_a_restart_honours_it() {
    let on = facts(PowerState::On, FULL);
    let Plan::Refuse(TaskStatus::Failed, why) = plan(PowerOperation::On, &on, Some("Pxe")) else {
        panic!()
    };
    assert!(
        why.contains("already On") && why.contains("restart it with the override"),
        "{why}"
    );
    let s = steps(plan(PowerOperation::SoftRestart, &on, Some("Pxe")));
    assert!(s[0].boot_before, "the override before the restart");
    let s = steps(plan(PowerOperation::Init, &on, Some("Pxe")));
    assert_eq!(
        s.iter().map(|s| s.boot_before).collect::<Vec<_>>(),
        [false, true],
        "the override after the off, before the on"
    );
    let s = steps(plan(
        PowerOperation::On,
        &facts(PowerState::Off, FULL),
        Some("Pxe"),
    ));
    assert!(s[0].boot_before);
}

#[test]
fn a_system_without_override_properties_is_refused_before_anything() {
    let ex = SystemFacts {
        boot_override: BootOverrideSupport::Absent,
        ..facts(PowerState::On, EX)
    };
    for op in [PowerOperation::Init, PowerOperation::On] {
        let Plan::Refuse(TaskStatus::Unsupported, why) = plan(op, &ex, Some("Pxe")) else {
            panic!("{op}")
        };
        assert!(why.contains("no Boot override properties"), "{why}");
    }
    // Without a boot target the same system is planned as usual.
    assert!(matches!(
        plan(PowerOperation::Init, &ex, None),
        Plan::Steps(_)
    ));
    let Plan::Refuse(TaskStatus::Unsupported, why) = plan(
        PowerOperation::Init,
        &facts(PowerState::Off, FULL),
        Some("UefiHttp"),
    ) else {
        panic!()
    };
    assert_eq!(
        why,
        "boot target UefiHttp is not allowed: the system allows Pxe, Hdd"
    );
}

#[test]
fn a_power_button_is_pressed_only_from_the_settled_opposite_state() {
    let button = &["PushPowerButton"];
    assert_eq!(
        resets(plan(
            PowerOperation::SoftOff,
            &facts(PowerState::On, button),
            None
        )),
        vec![r("PushPowerButton", None)]
    );
    assert_eq!(
        resets(plan(
            PowerOperation::Init,
            &facts(PowerState::On, button),
            None
        )),
        vec![r("PushPowerButton", None), r("PushPowerButton", None)]
    );
    assert!(matches!(
        plan(
            PowerOperation::SoftOff,
            &facts(PowerState::Transition, button),
            None
        ),
        Plan::Refuse(TaskStatus::Failed, _)
    ));
    assert!(matches!(
        plan(
            PowerOperation::On,
            &facts(PowerState::Undefined, button),
            None
        ),
        Plan::Refuse(TaskStatus::Failed, _)
    ));
}

#[test]
fn missing_reset_types_are_unsupported() {
    assert!(matches!(
        plan(
            PowerOperation::ForceOff,
            &facts(PowerState::On, &["On", "GracefulShutdown"]),
            None
        ),
        Plan::Refuse(TaskStatus::Unsupported, _)
    ));
    // No advertised list at all: try the preferred action rather than refuse.
    assert!(matches!(
        plan(PowerOperation::On, &facts(PowerState::Off, &[]), None),
        Plan::Steps(_)
    ));
}

#[test]
fn supported_transitions_follow_the_table() {
    let ops = supported_transitions(&s(FULL));
    for op in PowerOperation::ALL {
        assert!(ops.contains(&op), "{op} missing");
    }
    assert_eq!(supported_transitions(&s(&["On"])), vec![PowerOperation::On]);
    // A Cray EX node: everything, Soft-Restart as off then on.
    assert_eq!(supported_transitions(&s(EX)).len(), 7);
    assert_eq!(
        supported_transitions(&s(&["On", "ForceOff"])),
        vec![
            PowerOperation::On,
            PowerOperation::Off,
            PowerOperation::ForceOff,
            PowerOperation::HardRestart,
            PowerOperation::Init
        ]
    );
}

#[test]
fn unconfirmed_steps_say_what_was_sent_and_seen() {
    assert_eq!(
        unconfirmed(
            "GracefulShutdown",
            Confirm::Off,
            "On",
            Duration::from_secs(300),
            None
        ),
        "GracefulShutdown accepted but PowerState still On after 300 s"
    );
    let m = unconfirmed(
        "GracefulRestart",
        Confirm::Restarted,
        "On",
        Duration::from_secs(5),
        Some("boom"),
    );
    assert!(
        m.starts_with("GracefulRestart accepted but no restart observed after 5 s")
            && m.ends_with("(the last read failed: boom)"),
        "{m}"
    );
}

#[test]
fn capmc_forced_reinit_restarts_by_force_or_forces_off_then_on() {
    let op = PowerOperation::ForceRestart;
    // CAPMC config.toml ForceRestart: ForceRestart, then PowerCycle; confirmed as a restart.
    let p = steps(plan(op, &facts(PowerState::On, FULL), None));
    assert_eq!(p.len(), 1);
    assert_eq!(
        (p[0].reset.as_str(), p[0].confirm),
        ("ForceRestart", Confirm::Restarted)
    );
    assert_eq!(
        resets(plan(
            op,
            &facts(PowerState::On, &["On", "PowerCycle"]),
            None
        )),
        vec![r("PowerCycle", None)]
    );
    // No forced restart (Cray EX), or no restart marker: a forced off, then on; never graceful.
    assert_eq!(
        resets(plan(op, &facts(PowerState::On, EX), None)),
        vec![r("ForceOff", None), r("On", None)]
    );
    let mut blind = facts(PowerState::On, FULL);
    blind.restart_observable = false;
    assert_eq!(
        resets(plan(op, &blind, None)),
        vec![r("ForceOff", None), r("On", None)]
    );
    // An Off node is just powered on, as CAPMC's simulated restart ends.
    assert_eq!(
        resets(plan(op, &facts(PowerState::Off, EX), None)),
        vec![r("On", None)]
    );
    // Nothing forced at all: unsupported, naming what the system allows.
    match plan(
        op,
        &facts(PowerState::On, &["On", "GracefulShutdown"]),
        None,
    ) {
        Plan::Refuse(TaskStatus::Unsupported, why) => assert_eq!(
            why,
            "no reset type for a forced restart (one of ForceRestart, PowerCycle) or a forced off (ForceOff): the system allows On, GracefulShutdown"
        ),
        other => panic!("{other:?}"),
    }
    // Not a PCS operation: never parsed from, nor listed to, PCS clients.
    assert_eq!(PowerOperation::parse("force-restart"), None);
    assert!(!supported_transitions(&s(FULL)).contains(&op));
    assert!(supports(op, &s(EX)));
    assert!(!supports(op, &s(&["On", "GracefulShutdown"])));
}
