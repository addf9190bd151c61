//! The Redfish documents SimBmc serves, built with `serde_json::json!`.
//!
//! The simulator shares no model types with the client in this crate, so a misread field in
//! one cannot hide in the other. The documents carry what real BMCs send and the client must
//! tolerate: empty strings, `null`s, mixed-type OEM sections.

use serde_json::{Map, Value, json};

use super::super::events::EVENT_SERVICE;
use super::super::state::{BOOT_ENABLED, BOOT_MODES, BOOT_TARGETS, SimState};
use super::route::{
    ACCOUNT_SERVICE, MANAGER, MANAGERS, ROOT, SESSION_SERVICE, SESSIONS, SYSTEMS, nic_path,
    system_path,
};

pub(super) fn collection(
    id: &str,
    odata_type: &str,
    name: &str,
    members: impl Iterator<Item = String>,
) -> Value {
    let members: Vec<Value> = members.map(|m| json!({ "@odata.id": m })).collect();
    json!({
        "@odata.id": id,
        "@odata.type": odata_type,
        "Name": name,
        "Members@odata.count": members.len(),
        "Members": members,
    })
}

pub(super) fn service_root(st: &SimState) -> Value {
    let mut root = json!({
        "@odata.id": ROOT,
        "@odata.type": "#ServiceRoot.v1_15_0.ServiceRoot",
        "@odata.context": "/redfish/v1/$metadata#ServiceRoot.ServiceRoot",
        "Id": "RootService",
        "Name": "Root Service",
        "RedfishVersion": "1.15.0",
        "UUID": st.uuid("service", None),
        "Vendor": "SimBmc",
        "Product": "SimBmc simulated BMC",
        "Systems": {"@odata.id": SYSTEMS},
        "Managers": {"@odata.id": MANAGERS},
        "AccountService": {"@odata.id": ACCOUNT_SERVICE},
        "ProtocolFeaturesSupported": {
            "ExpandQuery": {"ExpandAll": false, "Levels": false, "Links": false, "NoLinks": false},
            "FilterQuery": false,
            "SelectQuery": false,
        },
        "Links": {},
        "Oem": {
            "SimVendor": {
                "@odata.type": "#SimVendorServiceRoot.v1_0_0.ServiceRoot",
                "BuildDate": "",
                "Features": ["FakeFeature", 42, null],
                "Nested": {"Empty": "", "Null": null, "Deep": {"Deeper": [{}]}},
            }
        },
    });
    if st.fixed.events {
        root["EventService"] = json!({"@odata.id": EVENT_SERVICE});
    }
    if st.fixed.sessions {
        root["SessionService"] = json!({"@odata.id": SESSION_SERVICE});
        root["Links"]["Sessions"] = json!({"@odata.id": SESSIONS});
    }
    root
}

/// The ComputerSystem document and its current ETag.
pub(super) fn system_doc(st: &SimState, i: usize) -> (Value, String) {
    let (power, boot, etag) = st.with_system(i, |s| (s.visible(), s.boot.clone(), s.etag()));
    let path = system_path(i);
    let mut reset = Map::new();
    reset.insert(
        "target".into(),
        json!(format!("{path}/Actions/ComputerSystem.Reset")),
    );
    if st.fixed.action_info {
        reset.insert(
            "@Redfish.ActionInfo".into(),
            json!(format!("{path}/ResetActionInfo")),
        );
    } else {
        reset.insert(
            "ResetType@Redfish.AllowableValues".into(),
            json!(st.fixed.reset_types),
        );
    }
    let mut doc = json!({
        "@odata.id": path,
        "@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem",
        "Id": format!("Node{i}"),
        "Name": format!("Simulated Node {i}"),
        "SystemType": "Physical",
        "Manufacturer": "SimBmc",
        "Model": "",
        "SerialNumber": null,
        "UUID": st.uuid("system", Some(i)),
        "HostName": "",
        "IndicatorLED": "",
        "PowerState": power.as_str(),
        "PowerRestorePolicy": "AlwaysOff",
        "BiosVersion": "SIM.1.0.0",
        "Status": {"State": "Enabled", "Health": "OK", "HealthRollup": "OK"},
        "ProcessorSummary": {"Count": 2, "Model": null, "Status": {"State": "Enabled"}},
        "MemorySummary": {"TotalSystemMemoryGiB": 512, "Status": {}},
        "Boot": {
            "BootSourceOverrideEnabled": boot.enabled.as_ref(),
            "BootSourceOverrideTarget": boot.target.as_ref(),
            "BootSourceOverrideMode": boot.mode.as_ref(),
            "BootSourceOverrideTarget@Redfish.AllowableValues": BOOT_TARGETS,
            "BootSourceOverrideEnabled@Redfish.AllowableValues": BOOT_ENABLED,
            "BootSourceOverrideMode@Redfish.AllowableValues": BOOT_MODES,
            "UefiTargetBootSourceOverride": null,
            "BootOrder": [],
        },
        "EthernetInterfaces": {"@odata.id": format!("{path}/EthernetInterfaces")},
        "Actions": {
            "#ComputerSystem.Reset": Value::Object(reset),
            "Oem": {},
        },
        "Links": {
            "ManagedBy": [{"@odata.id": MANAGER}],
            "Chassis": [],
        },
        "Oem": {
            "SimVendor": {
                "@odata.type": "#SimVendorComputerSystem.v1_0_0.ComputerSystem",
                "PostCode": "0x00",
                "FanMode": "Quiet",
                "Weird": [1, "two", {"three": null}],
            }
        },
    });
    if st.fixed.etag {
        doc["@odata.etag"] = json!(etag);
    }
    if st.knobs().hide_boot_mode
        && let Some(b) = doc["Boot"].as_object_mut()
    {
        b.remove("BootSourceOverrideMode");
        b.remove("BootSourceOverrideMode@Redfish.AllowableValues");
    }
    (doc, etag)
}

pub(super) fn reset_action_info(st: &SimState, i: usize) -> Value {
    json!({
        "@odata.id": format!("{}/ResetActionInfo", system_path(i)),
        "@odata.type": "#ActionInfo.v1_3_0.ActionInfo",
        "Id": "ResetActionInfo",
        "Name": "Reset Action Info",
        "Parameters": [{
            "Name": "ResetType",
            "Required": true,
            "DataType": "String",
            "AllowableValues": st.fixed.reset_types,
        }],
        "Oem": {},
    })
}

pub(super) fn nic(st: &SimState, i: usize, n: usize) -> Value {
    let mac = st.mac(i, n);
    json!({
        "@odata.id": nic_path(i, n),
        "@odata.type": "#EthernetInterface.v1_12_0.EthernetInterface",
        "Id": format!("NIC{n}"),
        "Name": format!("Ethernet Interface {n}"),
        "Description": "Simulated NIC",
        "MACAddress": mac,
        "PermanentMACAddress": mac,
        "LinkStatus": "LinkUp",
        "SpeedMbps": 25000,
        "FullDuplex": true,
        "InterfaceEnabled": true,
        "Status": {"State": "Enabled", "Health": "OK"},
        "IPv4Addresses": [],
        "IPv6Addresses": [],
        "VLAN": null,
    })
}

pub(super) fn manager(st: &SimState) -> Value {
    let servers: Vec<Value> = (0..st.fixed.systems)
        .map(|i| json!({"@odata.id": system_path(i)}))
        .collect();
    json!({
        "@odata.id": MANAGER,
        "@odata.type": "#Manager.v1_19_0.Manager",
        "Id": "BMC",
        "Name": "Simulated BMC",
        "ManagerType": "BMC",
        "Model": "SimBmc",
        "FirmwareVersion": concat!("SimBmc ", env!("CARGO_PKG_VERSION")),
        "UUID": st.uuid("manager", None),
        "Status": {"State": "Enabled", "Health": "OK"},
        "PowerState": "On",
        "Links": {"ManagerForServers": servers},
    })
}

pub(super) fn session_doc(id: u64, user: &str) -> Value {
    json!({
        "@odata.id": format!("{SESSIONS}/{id}"),
        "@odata.type": "#Session.v1_6_0.Session",
        "Id": id.to_string(),
        "Name": "User Session",
        "UserName": user,
    })
}

pub(super) fn session_service() -> Value {
    json!({
        "@odata.id": SESSION_SERVICE,
        "@odata.type": "#SessionService.v1_1_9.SessionService",
        "Id": "SessionService",
        "Name": "Session Service",
        "ServiceEnabled": true,
        "SessionTimeout": 1800,
        "Status": {"State": "Enabled", "Health": "OK"},
        "Sessions": {"@odata.id": SESSIONS},
    })
}

pub(super) fn systems(st: &SimState) -> Value {
    collection(
        SYSTEMS,
        "#ComputerSystemCollection.ComputerSystemCollection",
        "Computer System Collection",
        (0..st.fixed.systems).map(system_path),
    )
}

pub(super) fn nics(st: &SimState, i: usize) -> Value {
    collection(
        &format!("{}/EthernetInterfaces", system_path(i)),
        "#EthernetInterfaceCollection.EthernetInterfaceCollection",
        "Ethernet Network Interface Collection",
        (0..st.fixed.nics_per_system).map(|n| nic_path(i, n)),
    )
}

pub(super) fn managers() -> Value {
    collection(
        MANAGERS,
        "#ManagerCollection.ManagerCollection",
        "Manager Collection",
        std::iter::once(MANAGER.to_string()),
    )
}
