//! `EthernetInterface`: a system's network ports, and which of them are the host's own.
//!
//! A node is found by its MACs (DHCP, `bootscript?mac=`), so only the ports it can boot
//! from count: a port whose MAC the BMC cannot read ("Not Available", zeros), the host's
//! side of the BMC's host interface (often the same MAC on every machine of a model), and
//! VLAN or other virtual interfaces are told apart here, from the document alone.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::{Identity, Link, lenient, lenient_string, link};

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EthernetInterface {
    #[serde(flatten)]
    pub ident: Identity,
    #[serde(rename = "MACAddress", default, deserialize_with = "lenient_string")]
    pub mac_address: Option<String>,
    #[serde(
        rename = "PermanentMACAddress",
        default,
        deserialize_with = "lenient_string"
    )]
    pub permanent_mac_address: Option<String>,
    /// `Physical` or `Virtual` (a VLAN or other software interface on top of another).
    #[serde(
        rename = "EthernetInterfaceType",
        default,
        deserialize_with = "lenient_string"
    )]
    pub interface_type: Option<String>,
    /// The VLAN this interface is, when it is one.
    #[serde(rename = "VLAN", default, deserialize_with = "lenient")]
    pub vlan: Vlan,
    #[serde(rename = "Links", default, deserialize_with = "lenient")]
    pub links: NicLinks,
    /// Vendor sections; only an `InterfaceType` inside one is read (HPE marks the host
    /// interface `Oem.Hpe.InterfaceType = "HostInterface"`).
    #[serde(rename = "Oem", default)]
    pub oem: Value,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Vlan {
    #[serde(rename = "VLANEnable", default, deserialize_with = "lenient_bool")]
    pub enabled: Option<bool>,
    #[serde(rename = "VLANId", default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NicLinks {
    /// Set on the host's side of a Redfish host interface (the BMC's own USB/virtual NIC).
    #[serde(rename = "HostInterface", default, deserialize_with = "link")]
    pub host_interface: Option<Link>,
}

/// A boolean read leniently: `true`/`false` and the strings "true"/"false"; else `None`.
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    })
}

impl EthernetInterface {
    /// The MAC to use: the current one, else the permanent one. Only something shaped like
    /// a MAC counts (12 hex digits, with `:`, `-` or `.` separators or none, not all zero):
    /// BMCs fill the field with "Not Available", "" or zeros for ports they cannot read.
    pub fn mac(&self) -> Option<&str> {
        [&self.mac_address, &self.permanent_mac_address]
            .into_iter()
            .flatten()
            .map(|s| s.trim())
            .find(|s| looks_like_mac(s))
    }

    /// Why this interface is not one of the host's own network ports, if it is not: the
    /// host side of the BMC's host interface, a VLAN interface, or another virtual one.
    /// Their MACs are not where the node netboots from (a host interface's MAC is often
    /// the same on every machine of a model).
    pub fn not_a_host_port(&self) -> Option<&'static str> {
        let oem_host_interface = self.oem.as_object().is_some_and(|vendors| {
            vendors.values().any(|v| {
                v.get("InterfaceType")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case("HostInterface"))
            })
        });
        if self.links.host_interface.is_some() || oem_host_interface {
            Some("a host interface (the BMC's own link to the host)")
        } else if self.vlan.enabled == Some(true) {
            Some("a VLAN interface")
        } else if self
            .interface_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("Virtual"))
        {
            Some("a virtual interface")
        } else {
            None
        }
    }
}

fn looks_like_mac(s: &str) -> bool {
    let hex: Vec<char> = s
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    hex.len() == 12
        && hex.iter().all(char::is_ascii_hexdigit)
        && hex.iter().any(|c| *c != '0')
        && s.chars()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_prefers_current_and_skips_zero() {
        let nic: EthernetInterface = serde_json::from_value(serde_json::json!({
            "MACAddress": "00:00:00:00:00:00",
            "PermanentMACAddress": "52:54:00:AA:BB:CC"
        }))
        .unwrap();
        assert_eq!(nic.mac(), Some("52:54:00:AA:BB:CC"));
    }

    fn nic(v: serde_json::Value) -> EthernetInterface {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn macs_must_look_like_macs() {
        // EX425's HSN port has no MAC to read.
        let cases = [
            (
                serde_json::json!({"MACAddress": "Not Available", "PermanentMACAddress": ""}),
                None,
            ),
            (
                serde_json::json!({"MACAddress": "b4-2e-99-ba-de-15"}),
                Some("b4-2e-99-ba-de-15"),
            ),
            (
                serde_json::json!({"MACAddress": "b42e.99ba.de15"}),
                Some("b42e.99ba.de15"),
            ),
            (serde_json::json!({"MACAddress": "decafbad"}), None),
        ];
        for (doc, want) in cases {
            assert_eq!(nic(doc.clone()).mac(), want, "{doc}");
        }
    }

    #[test]
    fn host_interfaces_and_vlans_are_not_host_ports() {
        use serde_json::json;
        let cases = [
            // A port carrying VLANs is still a port.
            (json!({"VLANs": {"@odata.id": "/x/VLANs"}}), None),
            (
                json!({"VLAN": {"VLANEnable": true, "VLANId": 101}}),
                Some("a VLAN interface"),
            ),
            (json!({"VLAN": {"VLANEnable": false, "VLANId": 0}}), None),
            (
                json!({"Links": {"HostInterface": {"@odata.id": "/redfish/v1/Managers/1/HostInterfaces/1"}}}),
                Some("a host interface (the BMC's own link to the host)"),
            ),
            (
                json!({"Oem": {"Hpe": {"InterfaceType": "HostInterface"}}}),
                Some("a host interface (the BMC's own link to the host)"),
            ),
            (
                json!({"EthernetInterfaceType": "Virtual"}),
                Some("a virtual interface"),
            ),
            (
                json!({"VLAN": "yes", "Links": [], "Oem": 3, "EthernetInterfaceType": 7}),
                None,
            ),
        ];
        for (doc, want) in cases {
            assert_eq!(nic(doc.clone()).not_a_host_port(), want, "{doc}");
        }
    }
}
