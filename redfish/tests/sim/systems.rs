//! The resource tree: Systems, their NICs and MACs, and Managers.

use redfish::sim::SimConfig;
use reqwest::Method;

use super::{call, client, get, message_id, start};

#[tokio::test]
async fn systems_nics_and_managers() {
    let bmc = start(SimConfig {
        systems: 3,
        nics_per_system: 2,
        mac_seed: 0x0102_0300,
        ..SimConfig::default()
    })
    .await;
    let c = client();

    let (s, coll) = get(&c, &bmc, "/redfish/v1/Systems").await;
    assert_eq!(s, 200);
    assert_eq!(coll["Members@odata.count"], 3);
    let members: Vec<&str> = coll["Members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["@odata.id"].as_str().unwrap())
        .collect();
    assert_eq!(members, bmc.system_paths());
    assert_eq!(members[2], "/redfish/v1/Systems/Node2");

    let (s, sys) = get(&c, &bmc, "/redfish/v1/Systems/Node1").await;
    assert_eq!(s, 200);
    assert_eq!(sys["@odata.type"], "#ComputerSystem.v1_20_0.ComputerSystem");
    assert_eq!(sys["Id"], "Node1");
    assert_eq!(sys["PowerState"], "Off");
    assert_eq!(sys["Status"]["Health"], "OK");
    assert_eq!(sys["Boot"]["BootSourceOverrideEnabled"], "Disabled");
    assert_eq!(sys["Boot"]["BootSourceOverrideTarget"], "None");
    assert_eq!(sys["Boot"]["BootSourceOverrideMode"], "UEFI");
    assert_eq!(
        sys["Boot"]["BootSourceOverrideTarget@Redfish.AllowableValues"][4],
        "UefiHttp"
    );
    assert_eq!(
        sys["Actions"]["#ComputerSystem.Reset"]["target"],
        "/redfish/v1/Systems/Node1/Actions/ComputerSystem.Reset"
    );
    assert_eq!(
        sys["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"][1],
        "ForceOff"
    );
    assert_eq!(
        sys["Links"]["ManagedBy"][0]["@odata.id"],
        "/redfish/v1/Managers/BMC"
    );
    assert_eq!(sys["IndicatorLED"], "");
    let (_, sys0) = get(&c, &bmc, "/redfish/v1/Systems/Node0").await;
    assert_ne!(sys0["UUID"], sys["UUID"]);

    assert_eq!(bmc.macs(1), ["02:00:01:02:03:02", "02:00:01:02:03:03"]);
    let nics_path = sys["EthernetInterfaces"]["@odata.id"].as_str().unwrap();
    let (s, nics) = get(&c, &bmc, nics_path).await;
    assert_eq!(s, 200);
    assert_eq!(nics["Members@odata.count"], 2);
    for (n, m) in nics["Members"].as_array().unwrap().iter().enumerate() {
        let (s, nic) = get(&c, &bmc, m["@odata.id"].as_str().unwrap()).await;
        assert_eq!(s, 200);
        assert_eq!(nic["Id"], format!("NIC{n}"));
        assert_eq!(nic["MACAddress"], bmc.macs(1)[n].as_str());
        assert_eq!(nic["PermanentMACAddress"], bmc.macs(1)[n].as_str());
        assert_eq!(nic["LinkStatus"], "LinkUp");
        assert!(nic["SpeedMbps"].as_u64().unwrap() > 0);
    }

    let (s, mgrs) = get(&c, &bmc, "/redfish/v1/Managers").await;
    assert_eq!(s, 200);
    assert_eq!(mgrs["Members"][0]["@odata.id"], "/redfish/v1/Managers/BMC");
    let (_, mgr) = get(&c, &bmc, "/redfish/v1/Managers/BMC").await;
    assert_eq!(mgr["ManagerType"], "BMC");
    assert!(mgr["FirmwareVersion"].is_string());

    for path in [
        "/redfish/v1/Systems/Node3",
        "/redfish/v1/Systems/Node01",
        "/redfish/v1/Chassis",
        "/redfish/v1/Systems/Node0/ResetActionInfo",
    ] {
        let (s, body) = get(&c, &bmc, path).await;
        assert_eq!(s, 404, "{path}");
        assert_eq!(message_id(&body), "Base.1.8.ResourceMissingAtURI");
    }
    let (s, h, _) = call(
        &c,
        &bmc,
        Method::DELETE,
        "/redfish/v1/Systems/Node0",
        None,
        &[],
    )
    .await;
    assert_eq!(s, 405);
    assert_eq!(h["Allow"], "GET, HEAD, PATCH");
    let (s, _, _) = call(
        &c,
        &bmc,
        Method::GET,
        "/redfish/v1/Systems/Node0/Actions/ComputerSystem.Reset",
        None,
        &[],
    )
    .await;
    assert_eq!(s, 405);
    bmc.shutdown().await;
}
