//! The store conformance suite: what every [`Store`] implementation must do.
//!
//! Written against the trait only, so the SQLite store and the PostgreSQL store (a later
//! change) are held to the same behaviour, as garage does for its database engines. Each
//! check starts from an empty store and cleans up after itself; `run_all` runs them in turn.
//! One file per table family, as the store's traits are split.

mod boot;
mod bos;
mod cfs;
mod dhcp;
mod fill;
mod inventory;
mod power;

pub use boot::*;
pub use bos::*;
pub use cfs::*;
pub use dhcp::*;
pub use fill::fill;
pub use inventory::*;
pub use power::*;

use crate::model::{
    BootParams, Component, EthernetInterface, Group, GroupKind, HostKey, ImageKind, ImageParams,
    Mac, RedfishEndpoint, Xname, redfish_endpoint::Secret,
};
use crate::store::{BootWrite, EndpointAccess, Store, StoreError};

fn x(s: &str) -> Xname {
    Xname::parse(s).unwrap()
}

fn iface(mac: &str, comp: Option<&str>) -> EthernetInterface {
    EthernetInterface {
        mac: Mac::parse(mac).unwrap(),
        description: "test".into(),
        ip_addresses: vec![],
        last_update: chrono::Utc::now(),
        component_id: comp.map(x),
    }
}

fn endpoint(id: &str) -> RedfishEndpoint {
    RedfishEndpoint {
        id: x(id),
        kind: "NodeBMC".into(),
        name: String::new(),
        hostname: "bmc1".into(),
        domain: String::new(),
        fqdn: "bmc1".into(),
        enabled: true,
        uuid: String::new(),
        user: "root".into(),
        password: Secret("hunter2".into()),
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
    }
}

fn bp(params: &str, token: Option<&str>) -> BootParams {
    BootParams {
        params: params.into(),
        kernel: "s3://b/kernel".into(),
        initrd: "s3://b/initrd".into(),
        cloud_init: None,
        referral_token: token.map(str::to_string),
        updated: chrono::Utc::now(),
    }
}

pub async fn run_all(store: &dyn Store) {
    components(store).await;
    ethernet_interfaces(store).await;
    groups_and_partitions(store).await;
    redfish_endpoints(store).await;
    boot_params(store).await;
    endpoint_access(store).await;
    discovery(store).await;
    transitions(store).await;
    boot_components(store).await;
    bos_records(store).await;
    cfs_records(store).await;
    dhcp_leases(store).await;
}
