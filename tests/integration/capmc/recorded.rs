//! CAPMC on a recorded HPE Cray EX425 blade (`tests/fixtures/redfish-mockups/EX425`), whose
//! node controllers allow only `On`, `Off`, `ForceOff` and show no restart marker: the graceful
//! off is its `Off`, a reinit is an off and an on (CAPMC's "simulate"), a forced reinit a
//! `ForceOff` and an on; the other node on the blade is never touched.

use redfish::sim::{Mockup, SimConfig};
use serde_json::json;

use super::{capmc_ok, last_transition, status};
use crate::bos::{Lab, quick};

#[tokio::test]
async fn cray_ex425_blade_through_capmc() {
    let cfg = SimConfig {
        mockup: Some(Mockup::load(crate::mockup::fixture("EX425")).unwrap()),
        ..Default::default()
    };
    let lab = Lab::one_bmc(quick(), cfg).await;
    let s = &lab.s;
    let (n0, n1) = (lab.xnames[0].as_str(), lab.xnames[1].as_str());
    assert_eq!((n0, n1), ("x3000c0s0b0n0", "x3000c0s0b0n1"));
    let other = lab.power(1);

    capmc_ok(s, "xname_on", &[n0]).await;
    assert_eq!(lab.power(0), "On");
    capmc_ok(s, "xname_off", &[n0]).await;
    assert_eq!(lab.power(0), "Off");
    assert_eq!(
        last_transition(s, n0).await,
        ("Soft-Off".into(), "Transition confirmed, off".into()),
        "EX's graceful off is its Off"
    );
    let v = status(s, &[n0]).await;
    assert_eq!(v, json!({"e": 0, "err_msg": "", "off": [n0]}));

    capmc_ok(s, "xname_on", &[n0]).await;
    let (bmc, system) = lab.bmc(0);
    let ons = bmc.power_events(system).borrow().power_ons;
    capmc_ok(s, "xname_reinit", &[n0]).await;
    assert_eq!(lab.power(0), "On");
    assert_eq!(bmc.power_events(system).borrow().power_ons, ons + 1);
    assert_eq!(
        last_transition(s, n0).await,
        ("Soft-Restart".into(), "Transition confirmed, on".into())
    );
    let (st, v) = super::capmc(s, "xname_reinit", json!({"xnames": [n0], "force": true})).await;
    assert_eq!((st.as_u16(), v), (200, json!({"e": 0, "err_msg": ""})));
    assert_eq!(bmc.power_events(system).borrow().power_ons, ons + 2);
    assert_eq!(
        last_transition(s, n0).await,
        ("Force-Restart".into(), "Transition confirmed, on".into())
    );
    let v = status(s, &[n0]).await;
    assert_eq!(v, json!({"e": 0, "err_msg": "", "on": [n0]}));
    assert_eq!(
        lab.power(1),
        other,
        "the other node on the blade is not touched"
    );
    lab.s.stop().await;
}
