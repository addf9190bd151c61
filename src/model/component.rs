//! HSM state components: what the appliance knows about each piece of hardware.
//!
//! The enumerated fields (State, Flag, Arch, Class, NetType, Role, SubRole) are kept as
//! their canonical HSM spelling. Input is matched case-insensitively and rewritten to that
//! spelling, so `"compute"` is stored as `"Compute"` and filters compare exactly. Roles and
//! subroles are extensible in HSM; here any short identifier is accepted and known values
//! are canonicalised.

use super::Xname;

pub const STATES: &[&str] = &[
    "Unknown",
    "Empty",
    "Populated",
    "Off",
    "On",
    "Standby",
    "Halt",
    "Ready",
];
pub const FLAGS: &[&str] = &["OK", "Warning", "Alert", "Locked"];
pub const ARCHES: &[&str] = &["X86", "ARM", "Other", "UNKNOWN"];
pub const CLASSES: &[&str] = &["River", "Mountain", "Hill"];
pub const NET_TYPES: &[&str] = &["Sling", "Infiniband", "Ethernet", "OEM", "None"];
pub const ROLES: &[&str] = &[
    "Compute",
    "Service",
    "System",
    "Application",
    "Storage",
    "Management",
];
pub const SUBROLES: &[&str] = &[
    "Master",
    "Worker",
    "Storage",
    "UAN",
    "Gateway",
    "LNETRouter",
    "Visualization",
    "UserDefined",
];
pub const TYPES: &[&str] = &[
    "Cabinet",
    "Chassis",
    "ChassisBMC",
    "ComputeModule",
    "RouterModule",
    "NodeEnclosure",
    "NodeBMC",
    "RouterBMC",
    "Node",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComponentError {
    #[error("invalid {field} '{value}': expected one of {}", allowed.join(", "))]
    NotAllowed {
        field: &'static str,
        value: String,
        allowed: &'static [&'static str],
    },
    #[error("invalid {field} '{value}': expected letters, digits, '_' or '-' (at most 64)")]
    BadIdentifier { field: &'static str, value: String },
    #[error("invalid NID {0}: NIDs are non-negative integers")]
    BadNid(i64),
}

/// Match `value` case-insensitively against `allowed` and return the canonical spelling.
pub fn canonical(
    field: &'static str,
    value: &str,
    allowed: &'static [&'static str],
) -> Result<String, ComponentError> {
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(value.trim()))
        .map(|a| a.to_string())
        .ok_or_else(|| ComponentError::NotAllowed {
            field,
            value: value.to_string(),
            allowed,
        })
}

/// Roles and subroles: canonicalise known values, accept other plain identifiers.
pub fn canonical_open(
    field: &'static str,
    value: &str,
    known: &'static [&'static str],
) -> Result<String, ComponentError> {
    if let Ok(v) = canonical(field, value, known) {
        return Ok(v);
    }
    let v = value.trim();
    if v.is_empty()
        || v.len() > 64
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(ComponentError::BadIdentifier {
            field,
            value: value.to_string(),
        });
    }
    Ok(v.to_string())
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Component {
    pub id: Xname,
    #[serde(rename = "type")]
    pub kind: String,
    pub state: String,
    pub flag: String,
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subrole: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nid: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    #[serde(default)]
    pub reservation_disabled: bool,
    #[serde(default)]
    pub locked: bool,
}

impl Component {
    /// A new component with HSM's defaults for fields the creator left out.
    pub fn new(id: Xname) -> Component {
        let kind = id.kind().hms_type().to_string();
        Component {
            id,
            kind,
            state: "Unknown".into(),
            flag: "OK".into(),
            enabled: true,
            software_status: None,
            role: None,
            subrole: None,
            nid: None,
            subtype: None,
            net_type: None,
            arch: None,
            class: None,
            reservation_disabled: false,
            locked: false,
        }
    }

    /// The architecture BOS assumes: missing or `UNKNOWN` means X86.
    pub fn effective_arch(&self) -> &str {
        match self.arch.as_deref() {
            None | Some("UNKNOWN") => "X86",
            Some(a) => a,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicalises_known_values() {
        assert_eq!(canonical("State", "ready", STATES).unwrap(), "Ready");
        assert_eq!(canonical_open("Role", "compute", ROLES).unwrap(), "Compute");
        assert_eq!(
            canonical_open("Role", "Scratch_1", ROLES).unwrap(),
            "Scratch_1"
        );
        let e = canonical("State", "Dancing", STATES)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("invalid State 'Dancing'") && e.contains("Ready"),
            "{e}"
        );
        assert!(canonical_open("Role", "bad role", ROLES).is_err());
    }

    #[test]
    fn defaults_follow_hsm() {
        let c = Component::new(Xname::parse("x1c0s0b0n0").unwrap());
        assert_eq!(
            (
                c.kind.as_str(),
                c.state.as_str(),
                c.flag.as_str(),
                c.enabled
            ),
            ("Node", "Unknown", "OK", true)
        );
        assert_eq!(c.effective_arch(), "X86");
    }
}
