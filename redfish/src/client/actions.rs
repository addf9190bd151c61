//! Writes (a reset with the reset-type check, a boot override with read-back) and the read
//! that confirms them ([`PowerReading`]).
//!
//! BMCs accept requests they then ignore, so neither write trusts a 2xx alone. A reset type
//! the BMC does not list is refused before anything is sent (and a BMC's own
//! `ActionParameterNotSupported` is reported the same way). A boot override is checked
//! against the system's document first: a system with no Boot override properties at all (a
//! Cray EX node controller) is told so and nothing is sent, instead of a PATCH that cannot
//! stick. Otherwise it is read back after the PATCH; if it did not stick, the full Boot block is
//! sent once more, and if it still did not stick the caller gets [`Error::OverrideNotKept`]
//! rather than a node that boots from disk. PATCHes carry `If-Match` when the BMC gives an ETag.
//!
//! A reset that changes nothing visible (a warm restart keeps `PowerState` at `On`) can only
//! be confirmed by something else in the document that moves: [`RESTART_MARKERS`] lists where
//! BMCs leave that trace, as data.

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use super::Bmc;
use super::resources::reset_target;
use super::transport::Auth;
use crate::error::{Error, Result};
use crate::model::{Boot, ComputerSystem, PowerState};

/// Where a restart leaves a trace in a ComputerSystem document, as JSON pointers: the time of
/// the last reset (`LastResetTime`, bmcweb and newer services). Boot progress
/// (`BootProgress.LastState`/`LastStateTime`) and HPE's `Oem.Hpe.PostState` are left out on
/// purpose: they also move while a node is still booting, which would pass for a restart.
pub const RESTART_MARKERS: &[&str] = &["/LastResetTime"];

/// One read of a system for power control: its power, its restart markers, and whether it
/// can take a boot override. One GET of the system document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerReading {
    pub power_state: PowerState,
    /// The [`RESTART_MARKERS`] the document has, with their values.
    pub markers: Vec<(String, String)>,
    /// `None`: the document has no Boot override properties. Otherwise the targets it lists
    /// (empty when it lists none).
    pub boot_targets: Option<Vec<String>>,
}

/// When [`Bmc::set_boot_override_when`] may set the override.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootWhen {
    Always,
    /// Only while the system is not On or PoweringOn: an override set on a running node
    /// applies at some later boot nobody asked for.
    NotPoweredOn,
}

/// What [`Bmc::set_boot_override_when`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootOutcome {
    Applied(BootApplied),
    /// Nothing sent: the system reads this (On or PoweringOn) and [`BootWhen::NotPoweredOn`]
    /// was asked.
    PoweredOn(PowerState),
    /// Nothing sent: the system's document has no Boot override properties; its PowerState.
    NoOverride(PowerState),
}

/// A one-time (or persistent) boot source override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootOverride {
    /// `Pxe`, `UefiHttp`, `Hdd`, `None`, … as the BMC names them.
    pub target: String,
    /// `Once`, `Continuous` or `Disabled`.
    pub enabled: String,
    /// `UEFI` or `Legacy`; `None` leaves the BMC's mode alone.
    pub mode: Option<String>,
}

impl BootOverride {
    pub fn once(target: &str) -> BootOverride {
        BootOverride {
            target: target.to_string(),
            enabled: "Once".to_string(),
            mode: None,
        }
    }
}

/// The outcome of a boot override that stuck.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootApplied {
    /// What the BMC reads back.
    pub boot: Boot,
    /// The system's PowerState when the override was set (read before the PATCH).
    pub power_state: PowerState,
    /// A difference the BMC is known to have that still boots the wanted target (for
    /// example it reports `Continuous` when asked for `Once`).
    pub note: Option<String>,
    /// The full Boot block had to be sent a second time before it stuck.
    pub retried: bool,
}

impl Bmc {
    /// Reset a system with `reset_type`, refusing types the BMC does not allow. When the BMC
    /// advertises no list at all (some drop it intermittently), the reset is tried anyway.
    pub async fn reset(&self, path: &str, reset_type: &str) -> Result<()> {
        let (sys, _) = self.system(path).await?;
        let allowed = self.reset_types(&sys).await?;
        self.reset_known(path, &reset_target(&sys, path), &allowed, reset_type)
            .await
    }

    /// Reset when the target and allowed types are already known (from discovery).
    pub async fn reset_known(
        &self,
        system: &str,
        target: &str,
        allowed: &[String],
        reset_type: &str,
    ) -> Result<()> {
        let not_allowed = || Error::ResetNotAllowed {
            bmc: self.label.clone(),
            system: system.to_string(),
            requested: reset_type.to_string(),
            allowed: allowed.to_vec(),
        };
        if !allowed.is_empty() && !allowed.iter().any(|a| a == reset_type) {
            return Err(not_allowed());
        }
        let body = serde_json::json!({ "ResetType": reset_type });
        let op = format!("reset {reset_type} of {system}");
        match self
            .call(Method::POST, target, Some(&body), None, Auth::Required, &op)
            .await
        {
            Err(Error::Http {
                status, message, ..
            }) if status == 400 && message.contains("ActionParameterNotSupported") => {
                Err(not_allowed())
            }
            other => other.map(|_| ()),
        }
    }

    /// One GET of a system: its power state, restart markers and boot override support.
    pub async fn power_reading(&self, path: &str) -> Result<PowerReading> {
        let op = format!("GET {path}");
        let reply = self
            .call(Method::GET, path, None, None, Auth::Required, &op)
            .await?;
        let doc: Value = self.decode(&reply, &op)?;
        let sys = ComputerSystem::deserialize(&doc).map_err(|e| Error::Decode {
            bmc: self.label.clone(),
            op: op.clone(),
            cause: e.to_string(),
        })?;
        Ok(PowerReading {
            power_state: sys.power_state(),
            markers: markers(&doc),
            boot_targets: takes_override(&sys.boot).then(|| sys.boot.allowed_targets.clone()),
        })
    }

    /// Set a boot override, then read it back. If it did not stick, send the full Boot
    /// block once more; if it still did not stick, fail with [`Error::OverrideNotKept`]. A
    /// system without Boot override properties is [`Error::Unsupported`], with nothing sent.
    pub async fn set_boot_override(&self, path: &str, want: &BootOverride) -> Result<BootApplied> {
        match self
            .set_boot_override_when(path, want, BootWhen::Always)
            .await?
        {
            BootOutcome::Applied(a) => Ok(a),
            BootOutcome::NoOverride(_) => Err(Error::Unsupported {
                bmc: self.label.clone(),
                what: format!(
                    "{path} has no Boot override properties (BootSourceOverrideTarget, BootSourceOverrideEnabled), so it cannot take a one-time boot override to {}; nothing was sent",
                    want.target
                ),
            }),
            BootOutcome::PoweredOn(_) => unreachable!("BootWhen::Always never skips"),
        }
    }

    /// [`Bmc::set_boot_override`], deciding from the system's document (read first) whether
    /// to send anything at all.
    pub async fn set_boot_override_when(
        &self,
        path: &str,
        want: &BootOverride,
        when: BootWhen,
    ) -> Result<BootOutcome> {
        let (sys, etag) = self.system(path).await?;
        let boot = &sys.boot;
        let power = sys.power_state();
        if !takes_override(boot) {
            return Ok(BootOutcome::NoOverride(power));
        }
        if when == BootWhen::NotPoweredOn
            && matches!(power, PowerState::On | PowerState::PoweringOn)
        {
            return Ok(BootOutcome::PoweredOn(power));
        }
        if !boot.allowed_targets.is_empty() && !boot.allowed_targets.contains(&want.target) {
            return Err(Error::Unsupported {
                bmc: self.label.clone(),
                what: format!(
                    "boot target {} is not allowed on {path} (it allows: {})",
                    want.target,
                    boot.allowed_targets.join(", ")
                ),
            });
        }
        let mut minimal = serde_json::Map::new();
        minimal.insert(
            "BootSourceOverrideTarget".into(),
            want.target.clone().into(),
        );
        minimal.insert(
            "BootSourceOverrideEnabled".into(),
            want.enabled.clone().into(),
        );
        if let Some(mode) = &want.mode {
            minimal.insert("BootSourceOverrideMode".into(), mode.clone().into());
        }
        self.patch_boot(path, Value::Object(minimal), etag).await?;
        let (after, etag) = self.system(path).await?;
        if let Some(applied) = stuck(&after.boot, want) {
            return Ok(BootOutcome::Applied(BootApplied {
                boot: after.boot,
                power_state: power,
                note: applied,
                retried: false,
            }));
        }
        tracing::warn!(bmc = %self.label, system = path, "boot override did not stick; sending the full Boot block again");
        let mut full = serde_json::json!({
            "BootSourceOverrideTarget": want.target,
            "BootSourceOverrideEnabled": want.enabled,
        });
        // The mode only when asked for or reported: guessing one (say UEFI) would switch a
        // legacy-BIOS system's firmware (sushy-tools rebuilds the domain with a UEFI loader).
        if let Some(mode) = want.mode.clone().or(after.boot.mode.clone()) {
            full["BootSourceOverrideMode"] = mode.into();
        }
        self.patch_boot(path, full, etag).await?;
        let (again, _) = self.system(path).await?;
        match stuck(&again.boot, want) {
            Some(note) => Ok(BootOutcome::Applied(BootApplied {
                boot: again.boot,
                power_state: power,
                note,
                retried: true,
            })),
            None => Err(Error::OverrideNotKept {
                bmc: self.label.clone(),
                system: path.to_string(),
                wanted: format!("{} ({})", want.target, want.enabled),
                found: format!(
                    "{} ({})",
                    again.boot.target.as_deref().unwrap_or("nothing"),
                    again.boot.enabled.as_deref().unwrap_or("nothing")
                ),
            }),
        }
    }

    /// PATCH `Boot` with `If-Match` when there is an ETag; on 412 (someone else changed
    /// the system) re-read the ETag and try once more.
    async fn patch_boot(&self, path: &str, boot: Value, etag: Option<String>) -> Result<()> {
        let body = serde_json::json!({ "Boot": boot });
        let op = format!("PATCH Boot of {path}");
        let patch = async |etag: Option<&str>| {
            self.call(Method::PATCH, path, Some(&body), etag, Auth::Required, &op)
                .await
                .map(|_| ())
        };
        match patch(etag.as_deref()).await {
            Err(Error::Http { status: 412, .. }) => {
                let (_, fresh) = self.system(path).await?;
                patch(fresh.as_deref()).await
            }
            other => other,
        }
    }
}

/// Whether a system's Boot has the override properties at all.
fn takes_override(boot: &Boot) -> bool {
    boot.target.is_some() || boot.enabled.is_some() || !boot.allowed_targets.is_empty()
}

/// The [`RESTART_MARKERS`] a document has (nulls and objects are not markers).
fn markers(doc: &Value) -> Vec<(String, String)> {
    RESTART_MARKERS
        .iter()
        .filter_map(|p| {
            let v = match doc.pointer(p)? {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            Some((p.to_string(), v))
        })
        .collect()
}

/// Whether the wanted override is in effect. `Some(note)` when it is, with a note when the
/// BMC reports a different but equivalent-for-booting `enabled` value.
fn stuck(boot: &Boot, want: &BootOverride) -> Option<Option<String>> {
    if boot.target.as_deref() != Some(want.target.as_str()) {
        return None;
    }
    if let Some(mode) = &want.mode
        && boot.mode.as_deref().is_some_and(|m| m != mode)
    {
        return None;
    }
    match boot.enabled.as_deref() {
        Some(e) if e == want.enabled => Some(None),
        Some("Disabled") | None => None,
        Some(other) if want.enabled != "Disabled" => Some(Some(format!(
            "the BMC reports BootSourceOverrideEnabled {other} (asked for {})",
            want.enabled
        ))),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot(target: &str, enabled: &str) -> Boot {
        Boot {
            target: Some(target.into()),
            enabled: Some(enabled.into()),
            ..Boot::default()
        }
    }

    #[test]
    fn markers_and_override_support_come_from_the_document() {
        let doc = serde_json::json!({
            "LastResetTime": "2026-12-01T12:00:00Z",
            "BootProgress": {"LastState": "OSRunning", "LastStateTime": "2026-12-01T12:01:00Z"},
            "Oem": {"Hpe": {"PostState": "FinishedPost"}},
        });
        assert_eq!(
            markers(&doc),
            vec![("/LastResetTime".into(), "2026-12-01T12:00:00Z".into())]
        );
        assert!(markers(&serde_json::json!({"PowerState": "On"})).is_empty());
        assert!(markers(&serde_json::json!({"LastResetTime": null})).is_empty());
        // A Cray EX node controller's Boot: a boot order, no override properties.
        let ex: Boot =
            serde_json::from_value(serde_json::json!({"BootOrder": ["ME0-PXE-IP4"]})).unwrap();
        assert!(!takes_override(&ex));
        assert!(takes_override(&boot("None", "Disabled")));
    }

    #[test]
    fn override_stuck_rules() {
        let want = BootOverride::once("Pxe");
        assert_eq!(stuck(&boot("Pxe", "Once"), &want), Some(None));
        assert!(matches!(
            stuck(&boot("Pxe", "Continuous"), &want),
            Some(Some(_))
        ));
        assert_eq!(stuck(&boot("Pxe", "Disabled"), &want), None);
        assert_eq!(stuck(&boot("Hdd", "Once"), &want), None);
    }
}
