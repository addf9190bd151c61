//! Which Redfish reset type carries out a power intent on a given system: one table, as data.
//!
//! Vendors name the same act differently. An HPE iLO shuts down gracefully with
//! `GracefulShutdown`; an HPE Cray EX node controller allows only `On`, `Off`, `ForceOff`, and
//! its `Off` is the graceful one; some BMCs offer nothing but `PushPowerButton`. So nothing in
//! rackboot names a reset type directly: PCS transitions (`plan`), the BOS power operators and,
//! through PCS, the CLI ask this table for an intent and get the first reset type the system
//! allows. The preference lists are CSM's (CAPMC `config.toml`, `PowerControls.<op>.ResetType`),
//! so a CAPMC front end reads the same rows.
//!
//! It must not guess: when a system allows none of an intent's types the answer is a
//! [`NoReset`] naming what the system does allow, and the caller fails at once instead of
//! sending something else. The one tolerance: a system that advertised no list at all (some
//! BMCs drop `AllowableValues` now and then) gets the first preference, and the BMC's answer
//! decides. Pure: no I/O.

use std::fmt;

/// What a power action means, whatever a vendor calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResetIntent {
    On,
    GracefulOff,
    ForceOff,
    GracefulRestart,
    ForceRestart,
}

/// One row of the table: an intent and the Redfish reset types that carry it out, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetRule {
    pub intent: ResetIntent,
    /// How messages name the intent: "a graceful off".
    pub name: &'static str,
    pub preference: &'static [&'static str],
}

/// The table (CAPMC `PowerControls`): `On` adds `ForceOn` and `PushPowerButton` for systems
/// that offer only those (CAPMC keeps `ForceOn` as its own operation).
pub const RESET_RULES: [ResetRule; 5] = [
    ResetRule {
        intent: ResetIntent::On,
        name: "a power on",
        preference: &["On", "ForceOn", "PushPowerButton"],
    },
    ResetRule {
        intent: ResetIntent::GracefulOff,
        name: "a graceful off",
        preference: &["GracefulShutdown", "PushPowerButton", "Off"],
    },
    ResetRule {
        intent: ResetIntent::ForceOff,
        name: "a forced off",
        preference: &["ForceOff"],
    },
    ResetRule {
        intent: ResetIntent::GracefulRestart,
        name: "a graceful restart",
        preference: &["GracefulRestart"],
    },
    ResetRule {
        intent: ResetIntent::ForceRestart,
        name: "a forced restart",
        preference: &["ForceRestart", "PowerCycle"],
    },
];

/// The reset type that toggles power: sent only from the opposite, settled state (CAPMC
/// reads the state first for the same reason), or it would do the opposite of what was asked.
pub const TOGGLE: &str = "PushPowerButton";

impl ResetIntent {
    pub fn rule(self) -> &'static ResetRule {
        RESET_RULES
            .iter()
            .find(|r| r.intent == self)
            .expect("every intent has a row")
    }
}

/// No reset type of the wanted intents is allowed on the system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoReset {
    /// What was looked for, in order (for example a graceful off, then a forced off).
    pub wanted: Vec<ResetIntent>,
    /// What the system allows.
    pub allowed: Vec<String>,
}

impl fmt::Display for NoReset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wanted: Vec<String> = self
            .wanted
            .iter()
            .map(|i| {
                let r = i.rule();
                match r.preference {
                    [one] => format!("{} ({one})", r.name),
                    many => format!("{} (one of {})", r.name, many.join(", ")),
                }
            })
            .collect();
        write!(
            f,
            "no reset type for {}: the system allows {}",
            wanted.join(" or "),
            if self.allowed.is_empty() {
                "none".to_string()
            } else {
                self.allowed.join(", ")
            }
        )
    }
}

/// The first reset type of `intent` the system allows (see the module note for an empty list).
pub fn choose(intent: ResetIntent, allowed: &[String]) -> Result<&'static str, NoReset> {
    let preference = intent.rule().preference;
    if allowed.is_empty() {
        return Ok(preference[0]);
    }
    preference
        .iter()
        .copied()
        .find(|p| allowed.iter().any(|a| a == p))
        .ok_or_else(|| NoReset {
            wanted: vec![intent],
            allowed: allowed.to_vec(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    /// What the recorded trees in tests/fixtures/redfish-mockups allow.
    const EX425: &[&str] = &["ForceOff", "On", "Off"];
    const DL325: &[&str] = &[
        "On",
        "ForceOff",
        "GracefulShutdown",
        "ForceRestart",
        "Nmi",
        "PushPowerButton",
        "GracefulRestart",
    ];

    #[test]
    fn a_cray_ex_node_shuts_down_gracefully_through_off() {
        assert_eq!(choose(ResetIntent::GracefulOff, &s(EX425)), Ok("Off"));
        assert_eq!(choose(ResetIntent::ForceOff, &s(EX425)), Ok("ForceOff"));
        assert_eq!(choose(ResetIntent::On, &s(EX425)), Ok("On"));
        let no = choose(ResetIntent::GracefulRestart, &s(EX425)).unwrap_err();
        assert_eq!(
            no.to_string(),
            "no reset type for a graceful restart (GracefulRestart): the system allows ForceOff, On, Off"
        );
    }

    #[test]
    fn the_first_allowed_preference_wins() {
        assert_eq!(
            choose(ResetIntent::GracefulOff, &s(DL325)),
            Ok("GracefulShutdown")
        );
        assert_eq!(
            choose(
                ResetIntent::GracefulOff,
                &s(&["On", "PushPowerButton", "Off"])
            ),
            Ok("PushPowerButton"),
            "CSM's order: the power button before Off"
        );
        assert_eq!(
            choose(ResetIntent::ForceRestart, &s(DL325)),
            Ok("ForceRestart")
        );
        assert_eq!(
            choose(ResetIntent::ForceRestart, &s(&["On", "PowerCycle"])),
            Ok("PowerCycle")
        );
        assert_eq!(
            choose(ResetIntent::On, &s(&["ForceOn", "ForceOff"])),
            Ok("ForceOn")
        );
        assert_eq!(
            choose(ResetIntent::On, &s(&["PushPowerButton"])),
            Ok("PushPowerButton")
        );
    }

    #[test]
    fn nothing_fitting_names_what_the_system_allows() {
        let no = choose(ResetIntent::GracefulOff, &s(&["On", "ForceOff"])).unwrap_err();
        assert_eq!(
            no.to_string(),
            "no reset type for a graceful off (one of GracefulShutdown, PushPowerButton, Off): the system allows On, ForceOff"
        );
        assert!(choose(ResetIntent::ForceOff, &s(&["On", "GracefulShutdown"])).is_err());
    }

    #[test]
    fn an_unadvertised_list_tries_the_first_preference() {
        assert_eq!(
            choose(ResetIntent::GracefulOff, &[]),
            Ok("GracefulShutdown")
        );
        assert_eq!(choose(ResetIntent::ForceRestart, &[]), Ok("ForceRestart"));
    }

    #[test]
    fn the_table_is_csms() {
        // CAPMC config.toml PowerControls.{Off,ForceOff,Restart,ForceRestart,On}.ResetType.
        let pref = |i: ResetIntent| i.rule().preference;
        assert_eq!(
            pref(ResetIntent::GracefulOff),
            ["GracefulShutdown", "PushPowerButton", "Off"]
        );
        assert_eq!(pref(ResetIntent::ForceOff), ["ForceOff"]);
        assert_eq!(pref(ResetIntent::GracefulRestart), ["GracefulRestart"]);
        assert_eq!(
            pref(ResetIntent::ForceRestart),
            ["ForceRestart", "PowerCycle"]
        );
        assert_eq!(pref(ResetIntent::On)[0], "On");
    }
}
