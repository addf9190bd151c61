//! Wire types of `Inventory/EthernetInterfaces`.
//!
//! An interface is keyed by its MAC: the ID is derived from it (HSM's lower-case hex without
//! separators), so a body's ID may only repeat it. IP addresses are checked to be addresses;
//! an empty `ComponentID` in a PATCH unlinks the interface from its component.

use serde::{Deserialize, Serialize};

use super::{mac, xname};
use crate::api::problem::{ApiResult, Problem};
use crate::app::inventory::EthernetPatch;
use crate::model::{EthernetInterface, IpMapping};

#[derive(Serialize, Deserialize, Clone)]
pub struct IpOut {
    #[serde(rename = "IPAddress")]
    ip_address: String,
    #[serde(rename = "Network", default, skip_serializing_if = "String::is_empty")]
    network: String,
}

impl From<IpMapping> for IpOut {
    fn from(a: IpMapping) -> Self {
        IpOut {
            ip_address: a.ip_address,
            network: a.network.unwrap_or_default(),
        }
    }
}

impl TryFrom<IpOut> for IpMapping {
    type Error = Problem;

    fn try_from(i: IpOut) -> ApiResult<IpMapping> {
        i.ip_address
            .parse::<std::net::IpAddr>()
            .map_err(|_| Problem::bad_request(format!("invalid IPAddress '{}'", i.ip_address)))?;
        Ok(IpMapping {
            ip_address: i.ip_address,
            network: Some(i.network).filter(|n| !n.is_empty()),
        })
    }
}

fn ips(v: Vec<IpOut>) -> ApiResult<Vec<IpMapping>> {
    v.into_iter().map(IpMapping::try_from).collect()
}

#[derive(Serialize)]
pub struct IfaceOut {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Description")]
    description: String,
    #[serde(rename = "MACAddress")]
    mac: String,
    #[serde(rename = "IPAddresses")]
    ips: Vec<IpOut>,
    #[serde(rename = "LastUpdate")]
    last_update: String,
    #[serde(rename = "ComponentID")]
    component_id: String,
    #[serde(rename = "Type")]
    kind: String,
}

impl From<EthernetInterface> for IfaceOut {
    fn from(i: EthernetInterface) -> Self {
        IfaceOut {
            id: i.id(),
            kind: i.component_type().unwrap_or("").to_string(),
            description: i.description,
            mac: i.mac.to_string(),
            ips: i.ip_addresses.into_iter().map(IpOut::from).collect(),
            last_update: i
                .last_update
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            component_id: i.component_id.map(|x| x.to_string()).unwrap_or_default(),
        }
    }
}

/// `POST /Inventory/EthernetInterfaces`.
#[derive(Deserialize)]
pub struct IfaceIn {
    #[serde(rename = "ID")]
    id: Option<String>,
    #[serde(rename = "Description", default)]
    description: String,
    #[serde(rename = "MACAddress")]
    mac: String,
    #[serde(rename = "IPAddresses", default)]
    ips: Vec<IpOut>,
    #[serde(rename = "ComponentID")]
    component_id: Option<String>,
}

impl TryFrom<IfaceIn> for EthernetInterface {
    type Error = Problem;

    fn try_from(b: IfaceIn) -> ApiResult<EthernetInterface> {
        let m = mac(&b.mac)?;
        if let Some(id) = b.id.as_deref().filter(|s| !s.is_empty())
            && mac(id).map(|x| x != m).unwrap_or(true)
        {
            return Err(Problem::bad_request(format!(
                "ID '{id}' does not match MACAddress {m}; leave ID out and it is derived"
            )));
        }
        let component_id = b
            .component_id
            .filter(|s| !s.is_empty())
            .map(|s| xname(&s))
            .transpose()?;
        Ok(EthernetInterface {
            mac: m,
            description: b.description,
            ip_addresses: ips(b.ips)?,
            last_update: chrono::Utc::now(),
            component_id,
        })
    }
}

/// `PATCH /Inventory/EthernetInterfaces/{id}`: the fields given are replaced.
#[derive(Deserialize)]
pub struct IfacePatch {
    #[serde(rename = "Description")]
    description: Option<String>,
    #[serde(rename = "IPAddresses")]
    ips: Option<Vec<IpOut>>,
    #[serde(rename = "ComponentID")]
    component_id: Option<String>,
}

impl TryFrom<IfacePatch> for EthernetPatch {
    type Error = Problem;

    fn try_from(b: IfacePatch) -> ApiResult<EthernetPatch> {
        Ok(EthernetPatch {
            description: b.description,
            ip_addresses: b.ips.map(ips).transpose()?,
            component_id: b
                .component_id
                .map(|s| {
                    if s.is_empty() {
                        Ok(None)
                    } else {
                        xname(&s).map(Some)
                    }
                })
                .transpose()?,
        })
    }
}
