//! CAPMC calls that move power: on, off (graceful and forced), reinit (graceful and forced),
//! status by source and filter, health, and a BMC that cannot do the action.

use redfish::sim::SimConfig;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{CAPMC, capmc, capmc_ok, lab, last_transition, sampled, status, transitions};

const N0: &str = "x1000c0s0b0n0";
const N1: &str = "x1000c0s0b0n1";

#[tokio::test]
async fn on_off_reinit_move_and_report_real_bmc_power() {
    let (s, _d, bmc) = lab(2, SimConfig::default()).await;
    sampled(&s, N0).await;
    assert_eq!(bmc.power_state(0), "Off");
    let v = status(&s, &[N0, N1]).await;
    assert_eq!(v, json!({"e": 0, "err_msg": "", "off": [N0, N1]}));

    // cray capmc xname_on create --xnames x1000c0s0b0n0: returns once the node is On.
    capmc_ok(&s, "xname_on", &[N0]).await;
    assert_eq!(bmc.power_state(0), "On");
    assert_eq!(bmc.power_state(1), "Off", "the other node is not touched");
    assert_eq!(
        last_transition(&s, N0).await,
        ("On".into(), "Transition confirmed, on".into()),
        "the call is a PCS transition on the power operator"
    );
    let v = status(&s, &[N0, N1]).await;
    assert_eq!(v, json!({"e": 0, "err_msg": "", "on": [N0], "off": [N1]}));

    // Graceful off: GracefulShutdown, graceful only (Soft-Off).
    capmc_ok(&s, "xname_off", &[N0]).await;
    assert_eq!(bmc.power_state(0), "Off");
    assert_eq!(
        last_transition(&s, N0).await,
        (
            "Soft-Off".into(),
            "Transition confirmed, gracefulshutdown".into()
        )
    );

    // Both on, then a forced off of one.
    capmc_ok(&s, "xname_on", &[N0, N1]).await;
    assert_eq!(
        (bmc.power_state(0), bmc.power_state(1)),
        ("On".into(), "On".into())
    );
    let (st, v) = capmc(
        &s,
        "xname_off",
        json!({"xnames": [N1], "force": true, "reason": "test"}),
    )
    .await;
    assert_eq!((st, v), (StatusCode::OK, json!({"e": 0, "err_msg": ""})));
    assert_eq!(bmc.power_state(1), "Off");
    assert_eq!(
        last_transition(&s, N1).await,
        ("Force-Off".into(), "Transition confirmed, forceoff".into())
    );

    // Reinit: a graceful restart, observed (the host powered on again).
    let ons = bmc.power_events(0).borrow().power_ons;
    capmc_ok(&s, "xname_reinit", &[N0]).await;
    assert_eq!(bmc.power_state(0), "On");
    assert_eq!(bmc.power_events(0).borrow().power_ons, ons + 1);
    assert_eq!(
        last_transition(&s, N0).await,
        (
            "Soft-Restart".into(),
            "Transition confirmed, gracefulrestart".into()
        )
    );
    // Forced reinit: ForceRestart, never a graceful step.
    let (st, v) = capmc(&s, "xname_reinit", json!({"xnames": [N0], "force": true})).await;
    assert_eq!((st, v), (StatusCode::OK, json!({"e": 0, "err_msg": ""})));
    assert_eq!(bmc.power_events(0).borrow().power_ons, ons + 2);
    assert_eq!(
        last_transition(&s, N0).await,
        (
            "Force-Restart".into(),
            "Transition confirmed, forcerestart".into()
        )
    );
    // Reinit of an Off node is refused per xname (Soft-Restart needs On), nothing sent.
    let resets = bmc.counters().resets;
    let (st, v) = capmc(&s, "xname_reinit", json!({"xnames": [N1]})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["e"], -1, "{v}");
    assert_eq!(
        v["err_msg"],
        "Errors encountered with 1/1 Xnames issued Restart"
    );
    assert_eq!(v["xnames"][0]["xname"], N1);
    assert!(
        v["xnames"][0]["err_msg"]
            .as_str()
            .unwrap()
            .contains("Component must be in the On state for Soft-Restart"),
        "{v}"
    );
    assert_eq!(bmc.counters().resets, resets);

    // The whole system (empty list) and the filters.
    let (_, v) = capmc(&s, "get_xname_status", json!({})).await;
    assert_eq!(v, json!({"e": 0, "err_msg": "", "on": [N0], "off": [N1]}));
    let (_, v) = capmc(
        &s,
        "get_xname_status",
        json!({"xnames": [], "filter": "show_off"}),
    )
    .await;
    assert_eq!(v, json!({"e": 0, "err_msg": "", "off": [N1]}));
    let (_, v) = capmc(&s, "get_xname_status", json!({"filter": "show_alert"})).await;
    assert_eq!(
        v,
        json!({"e": 0, "err_msg": ""}),
        "flag filters list nothing here"
    );
    // `all` is the whole system for the power calls too.
    capmc_ok(&s, "xname_on", &["all"]).await;
    assert_eq!(bmc.power_state(1), "On");
    assert_eq!(
        transitions(&s).await.len(),
        8,
        "every power call is one transition"
    );

    // source hsm reports HSM's component state (discovery records what it read).
    let (st, v) = capmc(
        &s,
        "get_xname_status",
        json!({"xnames": [N0], "source": "HSM"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (v["e"].clone(), v["err_msg"].clone()),
        (json!(0), json!("")),
        "{v}"
    );
    let lists: Vec<&String> = v
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| *k != "e" && *k != "err_msg")
        .collect();
    assert_eq!(lists.len(), 1, "one state list: {v}");
    assert_eq!(v[lists[0].as_str()], json!([N0]));

    // A disabled node: power calls refuse it; status shows it as disabled.
    let (st, _) = s
        .send(
            Method::PATCH,
            &format!("/apis/smd/hsm/v2/State/Components/{N1}/Enabled"),
            json!({"Enabled": false}),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let resets = bmc.counters().resets;
    let (st, v) = capmc(&s, "xname_off", json!({"xnames": [N0, N1]})).await;
    assert_eq!(
        (st, v),
        (
            StatusCode::BAD_REQUEST,
            json!({"e": 400, "err_msg": format!("components disabled: [{N1}]")})
        )
    );
    assert_eq!(bmc.counters().resets, resets, "nothing sent");
    assert_eq!(bmc.power_state(0), "On");
    let v = status(&s, &[N0, N1]).await;
    assert_eq!(
        v,
        json!({"e": 0, "err_msg": "", "on": [N0, N1], "disabled": [N1]})
    );
    let (_, v) = capmc(
        &s,
        "get_xname_status",
        json!({"xnames": [N0, N1], "filter": "show_on"}),
    )
    .await;
    assert_eq!(
        v,
        json!({"e": 0, "err_msg": "", "on": [N0]}),
        "an explicit filter hides disabled nodes"
    );
    let (_, v) = capmc(
        &s,
        "get_xname_status",
        json!({"xnames": [N0, N1], "filter": "show_disabled"}),
    )
    .await;
    assert_eq!(
        v,
        json!({"e": 0, "err_msg": "", "on": [N1], "disabled": [N1]})
    );
    s.stop().await;
}

/// A BMC without a graceful off: CAPMC reports it per xname (HTTP 200, `e: -1`), sends
/// nothing to that node, and `force` does it.
#[tokio::test]
async fn a_bmc_that_cannot_do_the_action_is_reported_per_xname() {
    let cfg = SimConfig {
        reset_types: vec!["On".into(), "ForceOff".into()],
        initial_power: "On".into(),
        ..Default::default()
    };
    let (s, _d, bmc) = lab(1, cfg).await;
    let (st, v) = capmc(&s, "xname_off", json!({"xnames": [N0]})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"e": -1, "err_msg": "Errors encountered with 1/1 Xnames issued Off", "xnames": [{
            "xname": N0, "e": -1,
            "err_msg": "NodeBMC x1000c0s0b0 /redfish/v1/Systems/Node0: no supported ResetType for Soft-Off: the system allows On, ForceOff"
        }]})
    );
    assert_eq!(bmc.counters().resets, 0, "nothing sent");
    assert!(transitions(&s).await.is_empty(), "nothing recorded");
    assert_eq!(bmc.power_state(0), "On");
    // Forced off it can do; a reinit it cannot (neither a restart nor a graceful off).
    let (st, v) = capmc(&s, "xname_off", json!({"xnames": [N0], "force": true})).await;
    assert_eq!((st, v), (StatusCode::OK, json!({"e": 0, "err_msg": ""})));
    assert_eq!(bmc.power_state(0), "Off");
    capmc_ok(&s, "xname_on", &[N0]).await;
    let (_, v) = capmc(&s, "xname_reinit", json!({"xnames": [N0]})).await;
    assert_eq!(v["e"], -1, "{v}");
    assert!(
        v["xnames"][0]["err_msg"]
            .as_str()
            .unwrap()
            .contains("no supported ResetType for Soft-Restart"),
        "{v}"
    );
    // A forced reinit falls back to a forced off and an on, as CAPMC's "simulate".
    capmc_ok_forced_reinit(&s).await;
    assert_eq!(bmc.power_state(0), "On");
    s.stop().await;
}

async fn capmc_ok_forced_reinit(s: &crate::common::Server) {
    let (st, v) = capmc(s, "xname_reinit", json!({"xnames": [N0], "force": true})).await;
    assert_eq!((st, v), (StatusCode::OK, json!({"e": 0, "err_msg": ""})));
    assert_eq!(
        last_transition(s, N0).await,
        ("Force-Restart".into(), "Transition confirmed, on".into())
    );
}

#[tokio::test]
async fn health_liveness_readiness_and_power_capping() {
    let (s, _d) = crate::power::start_fast().await;
    let (st, v) = s.get(&format!("{CAPMC}/health")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["readiness"], "Ready", "{v}");
    assert_eq!(v["hsm"], "HSM Ready");
    assert!(v["vault"].is_string());
    for p in ["liveness", "readiness"] {
        let (st, _, body) = s.call(Method::GET, &format!("{CAPMC}/{p}"), None).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{p}: {body}");
    }
    for call in [
        "get_power_cap",
        "get_power_cap_capabilities",
        "set_power_cap",
    ] {
        let (st, v) = capmc(&s, call, json!({"nids": [1]})).await;
        assert_eq!(st, StatusCode::NOT_IMPLEMENTED, "{call}: {v}");
        assert_eq!(v["e"], 501);
        let msg = v["err_msg"].as_str().unwrap();
        assert!(
            msg.starts_with(&format!("{call}: power capping is not supported")),
            "{msg}"
        );
        let (st, _, v) = s
            .raw(Method::POST, &format!("{CAPMC}/{call}"), "{nids")
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "bad JSON first: {v}");
    }
    s.stop().await;
}
