//! Wire types of `Inventory/RedfishEndpoints`, `Inventory/ComponentEndpoints` and
//! `Inventory/Discover`.
//!
//! A BMC's `Password` is accepted on input and never serialised: [`EndpointOut`] has no
//! such field and is built from a password-less copy. rackboot's extensions (`Scheme`,
//! `TLS`, `CertSHA256`, `NodeXnames`, and in `DiscoveryInfo` the `Problems` and
//! `Renumbered` of the last discovery and the `PresentedCertSHA256` of a refused
//! certificate; on input also `CACert` and `Insecure`) sit beside HSM's fields. At most one
//! trust field may be given; an empty `CertSHA256` or `CACert`, or a cleared `Insecure`,
//! hands the BMC back to the server's `bmc_tls` (under `tofu`, its certificate is pinned
//! again on next contact). A ComponentEndpoint shows the parts discovery fills, in HSM's
//! shape.

use serde::{Deserialize, Serialize};

use super::{Vocabulary, canon, mac, sorted_keys, xname};
use crate::api::problem::{ApiResult, Problem};
use crate::app::inventory::without_password;
use crate::model::component::TYPES;
use crate::model::redfish_endpoint::Secret;
use crate::model::{BmcTrust, ComponentEndpoint, RedfishEndpoint, Xname, XnameKind};

#[derive(Serialize, Deserialize, Default)]
pub struct DiscoveryInfoOut {
    #[serde(
        rename = "LastDiscoveryAttempt",
        skip_serializing_if = "Option::is_none"
    )]
    last_attempt: Option<String>,
    #[serde(rename = "LastDiscoveryStatus")]
    last_status: String,
    #[serde(rename = "RedfishVersion", skip_serializing_if = "Option::is_none")]
    redfish_version: Option<String>,
    /// rackboot extension: why the last discovery failed.
    #[serde(rename = "LastDiscoveryError", skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// rackboot extension: what the last discovery could not read or would not do.
    #[serde(rename = "Problems", skip_serializing_if = "Vec::is_empty", default)]
    problems: Vec<ProblemOut>,
    /// rackboot extension: nodes the last discovery moved to the names HSM gives.
    #[serde(rename = "Renumbered", skip_serializing_if = "Vec::is_empty", default)]
    renumbered: Vec<RenumberedOut>,
    /// rackboot extension: SHA-256 of the certificate the BMC presented when refused.
    #[serde(
        rename = "PresentedCertSHA256",
        skip_serializing_if = "Option::is_none"
    )]
    presented_cert: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub struct ProblemOut {
    #[serde(rename = "Kind")]
    kind: String,
    #[serde(rename = "Resource")]
    resource: String,
    #[serde(rename = "Message")]
    message: String,
}

#[derive(Serialize, Deserialize)]
pub struct RenumberedOut {
    #[serde(rename = "System")]
    system: String,
    #[serde(rename = "From")]
    from: String,
    #[serde(rename = "To")]
    to: String,
}

/// Output shape: every field but `Password`, which is never serialised.
#[derive(Serialize)]
pub struct EndpointOut {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Hostname")]
    hostname: String,
    #[serde(rename = "Domain")]
    domain: String,
    #[serde(rename = "FQDN")]
    fqdn: String,
    #[serde(rename = "Enabled")]
    enabled: bool,
    #[serde(rename = "UUID")]
    uuid: String,
    #[serde(rename = "User")]
    user: String,
    #[serde(rename = "UseSSDP")]
    use_ssdp: bool,
    #[serde(rename = "MACRequired")]
    mac_required: bool,
    #[serde(rename = "MACAddr")]
    mac_addr: String,
    #[serde(rename = "IPAddress")]
    ip_address: String,
    #[serde(rename = "RediscoverOnUpdate")]
    rediscover_on_update: bool,
    #[serde(rename = "TemplateID")]
    template_id: String,
    #[serde(rename = "DiscoveryInfo")]
    discovery_info: DiscoveryInfoOut,
    // rackboot extensions
    #[serde(rename = "Scheme")]
    scheme: String,
    /// How the BMC's certificate is trusted: `default` (the server's `bmc_tls`), `ca`,
    /// `pin:<sha256>` (pinned by an admin), `tofu:<sha256>` (pinned on first contact) or
    /// `insecure`.
    #[serde(rename = "TLS")]
    tls: String,
    /// The pinned certificate's SHA-256, whoever pinned it.
    #[serde(rename = "CertSHA256", skip_serializing_if = "Option::is_none")]
    cert_sha256: Option<String>,
    #[serde(rename = "NodeXnames", skip_serializing_if = "Vec::is_empty")]
    node_xnames: Vec<String>,
}

impl From<RedfishEndpoint> for EndpointOut {
    fn from(e: RedfishEndpoint) -> Self {
        let e = without_password(e);
        EndpointOut {
            id: e.id.to_string(),
            kind: e.kind,
            name: e.name,
            hostname: e.hostname,
            domain: e.domain,
            fqdn: e.fqdn,
            enabled: e.enabled,
            uuid: e.uuid,
            user: e.user,
            use_ssdp: e.use_ssdp,
            mac_required: e.mac_required,
            mac_addr: e.mac_addr,
            ip_address: e.ip_address,
            rediscover_on_update: e.rediscover_on_update,
            template_id: e.template_id,
            discovery_info: DiscoveryInfoOut {
                last_attempt: e.discovery_info.last_attempt.map(|t| t.to_rfc3339()),
                last_status: e.discovery_info.last_status,
                redfish_version: e.discovery_info.redfish_version,
                error: e.discovery_info.error,
                problems: e
                    .discovery_info
                    .problems
                    .into_iter()
                    .map(|p| ProblemOut {
                        kind: p.kind.as_str().to_string(),
                        resource: p.resource,
                        message: p.message,
                    })
                    .collect(),
                renumbered: e
                    .discovery_info
                    .renumbered
                    .into_iter()
                    .map(|r| RenumberedOut {
                        system: r.system,
                        from: r.from.to_string(),
                        to: r.to.to_string(),
                    })
                    .collect(),
                presented_cert: e.discovery_info.presented_cert,
            },
            scheme: e.scheme,
            cert_sha256: e.trust.pinned().map(str::to_string),
            tls: e.trust.describe(),
            node_xnames: e.node_xnames.iter().map(|x| x.to_string()).collect(),
        }
    }
}

/// `GET /Inventory/RedfishEndpoints`; its members' keys are sorted, unlike a single one's.
#[derive(Serialize)]
pub struct EndpointList {
    #[serde(rename = "RedfishEndpoints", serialize_with = "sorted_keys")]
    pub endpoints: Vec<EndpointOut>,
}

/// Input shape of POST, PUT and PATCH: every field optional, so PATCH can apply what it got.
#[derive(Deserialize, Default)]
pub struct EndpointIn {
    #[serde(rename = "ID")]
    id: Option<String>,
    #[serde(rename = "Type")]
    kind: Option<String>,
    #[serde(rename = "Name")]
    name: Option<String>,
    #[serde(rename = "Hostname")]
    hostname: Option<String>,
    #[serde(rename = "Domain")]
    domain: Option<String>,
    #[serde(rename = "FQDN")]
    fqdn: Option<String>,
    #[serde(rename = "Enabled")]
    enabled: Option<bool>,
    #[serde(rename = "UUID")]
    uuid: Option<String>,
    #[serde(rename = "User")]
    user: Option<String>,
    #[serde(rename = "Password")]
    password: Option<String>,
    #[serde(rename = "UseSSDP")]
    use_ssdp: Option<bool>,
    #[serde(rename = "MACRequired", alias = "MacRequired")]
    mac_required: Option<bool>,
    #[serde(rename = "MACAddr")]
    mac_addr: Option<String>,
    #[serde(rename = "IPAddress")]
    ip_address: Option<String>,
    #[serde(rename = "RediscoverOnUpdate")]
    rediscover_on_update: Option<bool>,
    #[serde(rename = "TemplateID")]
    template_id: Option<String>,
    // rackboot extensions
    /// `https` (default) or `http` (simulators).
    #[serde(rename = "Scheme")]
    scheme: Option<String>,
    /// PEM of the CA (or the BMC's own certificate) to trust; empty: none.
    #[serde(rename = "CACert")]
    ca_cert: Option<String>,
    /// SHA-256 of the BMC's certificate to pin; empty: none.
    #[serde(rename = "CertSHA256")]
    cert_sha256: Option<String>,
    /// Skip certificate verification.
    #[serde(rename = "Insecure")]
    insecure: Option<bool>,
    /// Names for the BMC's systems, in HSM's order (member ids sorted naturally).
    #[serde(rename = "NodeXnames")]
    node_xnames: Option<Vec<String>>,
}

impl EndpointIn {
    /// Apply the fields that were given onto `ep`.
    pub fn apply(self, ep: &mut RedfishEndpoint) -> ApiResult<()> {
        if let Some(t) = self.kind.filter(|s| !s.is_empty()) {
            ep.kind = canon("Type", &t, TYPES, Vocabulary::Closed)?;
        }
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f { ep.$f = v; } )* };
        }
        set!(
            name,
            hostname,
            domain,
            fqdn,
            enabled,
            uuid,
            user,
            use_ssdp,
            mac_required,
            ip_address,
            rediscover_on_update,
            template_id
        );
        if let Some(m) = self.mac_addr.filter(|s| !s.is_empty()) {
            ep.mac_addr = mac(&m)?.to_string();
        }
        if let Some(p) = self.password {
            ep.password = Secret(p);
        }
        if let Some(scheme) = self.scheme.filter(|s| !s.is_empty()) {
            let scheme = scheme.to_ascii_lowercase();
            if scheme != "https" && scheme != "http" {
                return Err(Problem::bad_request(format!(
                    "invalid Scheme '{scheme}': use https (or http for simulators)"
                )));
            }
            ep.scheme = scheme;
        }
        let blank = |v: &Option<String>| v.as_deref().is_some_and(|s| s.trim().is_empty());
        let (clear_ca, clear_pin) = (blank(&self.ca_cert), blank(&self.cert_sha256));
        let ca_cert = self.ca_cert.filter(|_| !clear_ca);
        let cert_sha256 = self.cert_sha256.filter(|_| !clear_pin);
        let trust_fields = [
            ca_cert.is_some(),
            cert_sha256.is_some(),
            self.insecure == Some(true),
        ];
        if trust_fields.iter().filter(|b| **b).count() > 1 {
            return Err(Problem::bad_request(
                "give at most one of CACert, CertSHA256 and Insecure",
            ));
        }
        // A cleared field hands the BMC back to the server's bmc_tls.
        if clear_ca && matches!(ep.trust, BmcTrust::Ca { .. })
            || clear_pin && ep.trust.pinned().is_some()
        {
            ep.trust = BmcTrust::System;
        }
        if let Some(pem) = ca_cert {
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(Problem::bad_request(
                    "invalid CACert: expected a PEM certificate (-----BEGIN CERTIFICATE-----)",
                ));
            }
            ep.trust = BmcTrust::Ca { pem };
        } else if let Some(pin) = cert_sha256 {
            let sha256 = redfish::tls::normalise_pin(&pin).ok_or_else(|| {
                Problem::bad_request(format!(
                    "invalid CertSHA256 '{pin}': expected a SHA-256 fingerprint (64 hex digits, colons allowed)"
                ))
            })?;
            ep.trust = BmcTrust::Pin { sha256 };
        } else if let Some(insecure) = self.insecure {
            if insecure {
                ep.trust = BmcTrust::Insecure;
            } else if ep.trust == BmcTrust::Insecure {
                ep.trust = BmcTrust::System;
            }
        }
        if let Some(names) = self.node_xnames {
            ep.node_xnames = names
                .iter()
                .map(|n| {
                    let x = xname(n)?;
                    if x.kind() != XnameKind::Node {
                        return Err(Problem::bad_request(format!(
                            "NodeXnames entry {n} is a {}, not a Node",
                            x.kind().hms_type()
                        )));
                    }
                    Ok(x)
                })
                .collect::<ApiResult<Vec<_>>>()?;
        }
        for (field, v) in [
            ("Hostname", &ep.hostname),
            ("FQDN", &ep.fqdn),
            ("Domain", &ep.domain),
        ] {
            if v.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '/')
            {
                return Err(Problem::bad_request(format!(
                    "invalid {field} '{v}': a host name has no spaces or '/'"
                )));
            }
        }
        Ok(())
    }
}

/// A new endpoint: HSM's defaults (enabled, https, trusted by the system roots) with the
/// given fields applied; the ID is required.
impl TryFrom<EndpointIn> for RedfishEndpoint {
    type Error = Problem;

    fn try_from(w: EndpointIn) -> ApiResult<RedfishEndpoint> {
        let id = w
            .id
            .as_deref()
            .ok_or_else(|| Problem::bad_request("missing required field ID (the BMC's xname)"))?;
        let id = xname(id)?;
        let mut ep = RedfishEndpoint {
            id,
            kind: String::new(),
            name: String::new(),
            hostname: String::new(),
            domain: String::new(),
            fqdn: String::new(),
            enabled: true,
            uuid: String::new(),
            user: String::new(),
            password: Secret::default(),
            use_ssdp: false,
            mac_required: false,
            mac_addr: String::new(),
            ip_address: String::new(),
            rediscover_on_update: false,
            template_id: String::new(),
            discovery_info: Default::default(),
            scheme: "https".into(),
            trust: Default::default(),
            node_xnames: vec![],
        };
        w.apply(&mut ep)?;
        Ok(ep)
    }
}

impl EndpointIn {
    /// Whether the body names how to trust the BMC (a CA, a pin, or insecure, given or
    /// cleared); a PUT that does not keeps the trust the endpoint had.
    pub fn names_trust(&self) -> bool {
        self.ca_cert.is_some() || self.cert_sha256.is_some() || self.insecure.is_some()
    }

    /// The endpoint a PUT to `id`'s path replaces it with; a body ID must name it too.
    pub fn into_replacement(self, id: &Xname) -> ApiResult<RedfishEndpoint> {
        if let Some(bid) = self.id.as_deref()
            && xname(bid)? != *id
        {
            return Err(Problem::bad_request(format!(
                "the path names {id} but the body's ID is {bid}"
            )));
        }
        RedfishEndpoint::try_from(EndpointIn {
            id: Some(id.to_string()),
            ..self
        })
    }
}

/// `POST /Inventory/RedfishEndpoints`: one endpoint or `{"RedfishEndpoints": […]}`.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum EndpointsPost {
    Many {
        #[serde(rename = "RedfishEndpoints")]
        endpoints: Vec<serde_json::Value>,
    },
    One(serde_json::Value),
}

impl EndpointsPost {
    pub fn into_vec(self) -> Vec<serde_json::Value> {
        match self {
            EndpointsPost::Many { endpoints } => endpoints,
            EndpointsPost::One(v) => vec![v],
        }
    }
}

/// HSM's ComponentEndpoint shape (the parts discovery fills). Fields are in alphabetical
/// order, the order these objects have always been written in.
#[derive(Serialize)]
pub struct ComponentEndpointOut {
    #[serde(rename = "ComponentEndpointType")]
    component_endpoint_type: &'static str,
    #[serde(rename = "Enabled")]
    enabled: bool,
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "OdataID")]
    odata_id: String,
    #[serde(rename = "RedfishEndpointFQDN")]
    redfish_endpoint_fqdn: String,
    #[serde(rename = "RedfishEndpointID")]
    redfish_endpoint_id: String,
    #[serde(rename = "RedfishSubtype")]
    redfish_subtype: &'static str,
    #[serde(rename = "RedfishSystemInfo")]
    redfish_system_info: SystemInfo,
    #[serde(rename = "RedfishType")]
    redfish_type: &'static str,
    #[serde(rename = "RedfishURL")]
    redfish_url: String,
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(rename = "UUID")]
    uuid: String,
}

#[derive(Serialize)]
struct SystemInfo {
    #[serde(rename = "Actions")]
    actions: Actions,
    #[serde(rename = "BootSourceOverrideTarget@Redfish.AllowableValues")]
    boot_targets: Vec<String>,
    #[serde(rename = "EthernetNICInfo")]
    nics: Vec<NicInfo>,
    #[serde(rename = "Name")]
    name: String,
}

#[derive(Serialize)]
struct Actions {
    #[serde(rename = "#ComputerSystem.Reset")]
    reset: ResetAction,
}

#[derive(Serialize)]
struct ResetAction {
    #[serde(rename = "ResetType@Redfish.AllowableValues")]
    reset_types: Vec<String>,
    target: String,
}

#[derive(Serialize)]
struct NicInfo {
    #[serde(rename = "MACAddress")]
    mac: String,
}

impl ComponentEndpointOut {
    /// `ce` as HSM shows it, with its BMC's FQDN (empty when the BMC is gone).
    pub fn new(ce: ComponentEndpoint, fqdn: Option<&str>) -> ComponentEndpointOut {
        let fqdn = fqdn.unwrap_or("");
        ComponentEndpointOut {
            component_endpoint_type: "ComponentEndpointComputerSystem",
            enabled: true,
            kind: ce.id.kind().hms_type(),
            id: ce.id.to_string(),
            redfish_url: format!("{fqdn}{}", ce.odata_id),
            odata_id: ce.odata_id,
            redfish_endpoint_fqdn: fqdn.to_string(),
            redfish_endpoint_id: ce.redfish_endpoint_id.to_string(),
            redfish_subtype: "Physical",
            redfish_system_info: SystemInfo {
                actions: Actions {
                    reset: ResetAction {
                        reset_types: ce.reset_types,
                        target: ce.reset_target,
                    },
                },
                boot_targets: ce.boot_targets,
                nics: ce.macs.into_iter().map(|mac| NicInfo { mac }).collect(),
                name: ce.name,
            },
            redfish_type: "ComputerSystem",
            uuid: ce.uuid,
        }
    }
}

/// `GET /Inventory/ComponentEndpoints`.
#[derive(Serialize)]
pub struct ComponentEndpointList {
    #[serde(rename = "ComponentEndpoints")]
    pub endpoints: Vec<ComponentEndpointOut>,
}

/// `POST /Inventory/Discover`: the BMCs to discover again (all when empty).
#[derive(Deserialize, Default)]
pub struct DiscoverIn {
    #[serde(default)]
    pub xnames: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    force: bool,
    /// rackboot extension: rename the nodes as HSM would (sorted member ids), moving any
    /// whose name differs, with its boot parameters, BOS state and MACs.
    #[serde(rename = "Renumber", default)]
    pub renumber: bool,
}
