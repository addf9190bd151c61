//! Tolerant read models for the handful of Redfish resources a boot appliance reads.
//!
//! Every field is optional and read leniently: a missing property, a `null`, a value of
//! the wrong JSON type (real BMCs send `"IndicatorLED": ""` and numbers as strings) or an
//! enum value newer than any schema never fails a document; the field is simply absent or
//! kept as the string the BMC sent. Unknown properties are ignored. `@odata.id`, `Id` and
//! `Name` are always read, because a client follows links by them.
//!
//! Why hand-written rather than a Redfish model crate: the generated models of
//! redfish-codegen are written from a server's point of view and skip deserializing
//! read-only properties (`@odata.id`, `Id`, `Name` come back empty, collection members as
//! nothing), and their closed enums fail a whole document on one value they do not know
//! (a vendor `BootSourceOverrideTarget`, an empty `IndicatorLED`). nv-redfish reads real
//! documents but is strict about required properties (sushy-tools' service root needs a
//! repair rule) and brings a second reqwest major; libredfish brings clap and tokio `full`
//! into a library. The appliance needs five calls, so a few hundred lines of lenient serde
//! are the smaller and more tolerant thing to own.

mod nic;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

pub use nic::{EthernetInterface, NicLinks, Vlan};

/// A string property read leniently: strings and numbers are kept, anything else is `None`.
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

/// A list of strings read leniently: non-strings in the list are dropped, a non-list is empty.
fn lenient_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    })
}

/// A nested object read leniently: if it does not decode (wrong type), it is the default.
fn lenient<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned + Default,
{
    let v = Value::deserialize(d)?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

/// A string property that is empty when absent or not a string.
fn lenient_string_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(lenient_string(d)?.unwrap_or_default())
}

/// A reference to another resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Link {
    #[serde(
        rename = "@odata.id",
        default,
        deserialize_with = "lenient_string_or_empty"
    )]
    pub odata_id: String,
}

/// A link property: absent, malformed or empty links are `None`.
fn link<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Link>, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(serde_json::from_value::<Link>(v)
        .ok()
        .filter(|l| !l.odata_id.is_empty()))
}

/// A list of links (`[{"@odata.id": …}]`): entries without an `@odata.id` are dropped.
fn lenient_links<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Link>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| serde_json::from_value::<Link>(v).ok())
            .filter(|l| !l.odata_id.is_empty())
            .collect(),
        _ => Vec::new(),
    })
}

/// The identity every Redfish resource carries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Identity {
    #[serde(rename = "@odata.id", default, deserialize_with = "lenient_string")]
    pub odata_id: Option<String>,
    #[serde(rename = "Id", default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(rename = "Name", default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServiceRoot {
    #[serde(flatten)]
    pub ident: Identity,
    #[serde(
        rename = "RedfishVersion",
        default,
        deserialize_with = "lenient_string"
    )]
    pub redfish_version: Option<String>,
    #[serde(rename = "UUID", default, deserialize_with = "lenient_string")]
    pub uuid: Option<String>,
    #[serde(rename = "Systems", default, deserialize_with = "link")]
    pub systems: Option<Link>,
    #[serde(rename = "Managers", default, deserialize_with = "link")]
    pub managers: Option<Link>,
    #[serde(rename = "SessionService", default, deserialize_with = "link")]
    pub session_service: Option<Link>,
    #[serde(rename = "Links", default, deserialize_with = "lenient")]
    pub links: RootLinks,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RootLinks {
    #[serde(rename = "Sessions", default, deserialize_with = "link")]
    pub sessions: Option<Link>,
}

/// Any resource collection: only the member links are read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Collection {
    #[serde(rename = "Members", default, deserialize_with = "lenient_links")]
    pub members: Vec<Link>,
}

/// The power state a BMC reports, with room for values newer than this client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PowerState {
    On,
    Off,
    PoweringOn,
    PoweringOff,
    Paused,
    /// Absent, `null`, or a value this client does not know (kept as sent).
    Unknown(String),
}

impl PowerState {
    pub fn parse(s: Option<&str>) -> PowerState {
        match s {
            Some("On") => PowerState::On,
            Some("Off") => PowerState::Off,
            Some("PoweringOn") => PowerState::PoweringOn,
            Some("PoweringOff") => PowerState::PoweringOff,
            Some("Paused") => PowerState::Paused,
            Some(other) => PowerState::Unknown(other.to_string()),
            None => PowerState::Unknown(String::new()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            PowerState::On => "On",
            PowerState::Off => "Off",
            PowerState::PoweringOn => "PoweringOn",
            PowerState::PoweringOff => "PoweringOff",
            PowerState::Paused => "Paused",
            PowerState::Unknown(s) => s,
        }
    }
}

impl std::fmt::Display for PowerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PowerState::Unknown(s) if s.is_empty() => f.write_str("unknown"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// `Boot` of a ComputerSystem: the override settings and what the BMC allows for them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Boot {
    #[serde(
        rename = "BootSourceOverrideEnabled",
        default,
        deserialize_with = "lenient_string"
    )]
    pub enabled: Option<String>,
    #[serde(
        rename = "BootSourceOverrideTarget",
        default,
        deserialize_with = "lenient_string"
    )]
    pub target: Option<String>,
    #[serde(
        rename = "BootSourceOverrideMode",
        default,
        deserialize_with = "lenient_string"
    )]
    pub mode: Option<String>,
    #[serde(
        rename = "BootSourceOverrideTarget@Redfish.AllowableValues",
        default,
        deserialize_with = "lenient_strings"
    )]
    pub allowed_targets: Vec<String>,
    #[serde(
        rename = "BootSourceOverrideEnabled@Redfish.AllowableValues",
        default,
        deserialize_with = "lenient_strings"
    )]
    pub allowed_enabled: Vec<String>,
    #[serde(
        rename = "BootSourceOverrideMode@Redfish.AllowableValues",
        default,
        deserialize_with = "lenient_strings"
    )]
    pub allowed_modes: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ResetAction {
    #[serde(rename = "target", default, deserialize_with = "lenient_string")]
    pub target: Option<String>,
    #[serde(
        rename = "ResetType@Redfish.AllowableValues",
        default,
        deserialize_with = "lenient_strings"
    )]
    pub allowed: Vec<String>,
    #[serde(
        rename = "@Redfish.ActionInfo",
        default,
        deserialize_with = "lenient_string"
    )]
    pub action_info: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct SystemActions {
    #[serde(
        rename = "#ComputerSystem.Reset",
        default,
        deserialize_with = "lenient"
    )]
    pub reset: Option<ResetAction>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ComputerSystem {
    #[serde(flatten)]
    pub ident: Identity,
    #[serde(rename = "UUID", default, deserialize_with = "lenient_string")]
    pub uuid: Option<String>,
    #[serde(rename = "PowerState", default, deserialize_with = "lenient_string")]
    power_state: Option<String>,
    #[serde(rename = "Boot", default, deserialize_with = "lenient")]
    pub boot: Boot,
    #[serde(rename = "Actions", default, deserialize_with = "lenient")]
    pub actions: SystemActions,
    #[serde(rename = "EthernetInterfaces", default, deserialize_with = "link")]
    pub ethernet_interfaces: Option<Link>,
}

impl ComputerSystem {
    pub fn power_state(&self) -> PowerState {
        PowerState::parse(self.power_state.as_deref())
    }
}

/// Just the power state of a ComputerSystem.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PowerOnly {
    #[serde(rename = "PowerState", default, deserialize_with = "lenient_string")]
    power_state: Option<String>,
}

impl PowerOnly {
    pub fn power_state(&self) -> PowerState {
        PowerState::parse(self.power_state.as_deref())
    }
}

/// `ActionInfo` (AMI-style BMCs publish reset types here instead of inline).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActionInfo {
    #[serde(rename = "Parameters", default, deserialize_with = "lenient")]
    pub parameters: Vec<ActionParameter>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActionParameter {
    #[serde(rename = "Name", default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    #[serde(
        rename = "AllowableValues",
        default,
        deserialize_with = "lenient_strings"
    )]
    pub allowable_values: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Manager {
    #[serde(flatten)]
    pub ident: Identity,
    #[serde(rename = "ManagerType", default, deserialize_with = "lenient_string")]
    pub manager_type: Option<String>,
    #[serde(
        rename = "FirmwareVersion",
        default,
        deserialize_with = "lenient_string"
    )]
    pub firmware_version: Option<String>,
}

/// A Redfish error body: `{"error": {"code", "message", "@Message.ExtendedInfo": [...]}}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default, deserialize_with = "lenient")]
    pub error: ErrorInfo,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorInfo {
    #[serde(default, deserialize_with = "lenient_string")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub message: Option<String>,
    #[serde(
        rename = "@Message.ExtendedInfo",
        default,
        deserialize_with = "lenient"
    )]
    pub extended: Vec<ExtendedInfo>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExtendedInfo {
    #[serde(rename = "MessageId", default, deserialize_with = "lenient_string")]
    pub message_id: Option<String>,
    #[serde(rename = "Message", default, deserialize_with = "lenient_string")]
    pub message: Option<String>,
}

impl ErrorBody {
    /// The most specific human message in the body, if any.
    pub fn summary(&self) -> Option<String> {
        let ext: Vec<&str> = self
            .error
            .extended
            .iter()
            .filter_map(|e| e.message.as_deref().or(e.message_id.as_deref()))
            .collect();
        if !ext.is_empty() {
            return Some(ext.join("; "));
        }
        self.error.message.clone().or(self.error.code.clone())
    }

    /// Every MessageId (and the code), for recognising busy answers.
    pub fn message_ids(&self) -> impl Iterator<Item = &str> {
        self.error
            .extended
            .iter()
            .filter_map(|e| e.message_id.as_deref())
            .chain(self.error.code.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostile_system_document_still_reads() {
        let doc = serde_json::json!({
            "@odata.id": "/redfish/v1/Systems/1",
            "Id": 1,
            "Name": null,
            "IndicatorLED": "",
            "PowerState": "Quantum",
            "Boot": {
                "BootSourceOverrideTarget": "VendorSpecificNetwork",
                "BootSourceOverrideTarget@Redfish.AllowableValues": ["Pxe", 7, "VendorSpecificNetwork"],
                "BootSourceOverrideEnabled": ["not", "a", "string"]
            },
            "Actions": {"#ComputerSystem.Reset": "garbage", "Oem": {}},
            "EthernetInterfaces": {"nope": 1},
            "Oem": {"Vendor": {"deep": [1, 2, 3]}}
        });
        let sys: ComputerSystem = serde_json::from_value(doc).unwrap();
        assert_eq!(sys.ident.odata_id.as_deref(), Some("/redfish/v1/Systems/1"));
        assert_eq!(sys.ident.id.as_deref(), Some("1"));
        assert_eq!(sys.ident.name, None);
        assert_eq!(sys.power_state(), PowerState::Unknown("Quantum".into()));
        assert_eq!(sys.boot.target.as_deref(), Some("VendorSpecificNetwork"));
        assert_eq!(sys.boot.allowed_targets, ["Pxe", "VendorSpecificNetwork"]);
        assert_eq!(sys.boot.enabled, None);
        assert_eq!(sys.actions.reset, None);
        assert_eq!(sys.ethernet_interfaces, None);
    }

    #[test]
    fn collections_skip_members_without_links() {
        let c: Collection = serde_json::from_value(serde_json::json!({
            "Members": [{"@odata.id": "/a"}, {}, "x", {"@odata.id": "/b"}],
            "Members@odata.count": "three"
        }))
        .unwrap();
        let ids: Vec<_> = c.members.iter().map(|l| l.odata_id.as_str()).collect();
        assert_eq!(ids, ["/a", "/b"]);
    }

    #[test]
    fn service_root_reads_session_link_and_tolerates_missing_links() {
        let r: ServiceRoot = serde_json::from_value(serde_json::json!({
            "RedfishVersion": "1.6.0",
            "Systems": {"@odata.id": "/redfish/v1/Systems"},
            "Links": {"Sessions": {"@odata.id": "/redfish/v1/SessionService/Sessions"}}
        }))
        .unwrap();
        assert_eq!(r.systems.unwrap().odata_id, "/redfish/v1/Systems");
        assert_eq!(
            r.links.sessions.unwrap().odata_id,
            "/redfish/v1/SessionService/Sessions"
        );
        let bare: ServiceRoot = serde_json::from_value(serde_json::json!({"Links": 5})).unwrap();
        assert!(bare.links.sessions.is_none() && bare.systems.is_none());
    }

    #[test]
    fn error_summary_prefers_extended_info() {
        let e: ErrorBody = serde_json::from_value(serde_json::json!({"error": {
            "code": "Base.1.8.GeneralError", "message": "A general error has occurred.",
            "@Message.ExtendedInfo": [{"MessageId": "Base.1.8.ActionParameterNotSupported",
                "Message": "The parameter Nmi for the action Reset is not supported."}]}}))
        .unwrap();
        assert_eq!(
            e.summary().unwrap(),
            "The parameter Nmi for the action Reset is not supported."
        );
        assert!(
            e.message_ids()
                .any(|m| m.ends_with("ActionParameterNotSupported"))
        );
    }
}
