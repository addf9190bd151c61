//! Ethernet interfaces: the MACs the boot network knows, keyed by MAC.
//!
//! These are what DHCP, TFTP and BSS resolve a booting node by, so every write here drops
//! the boot read model. A MAC is registered once: a second POST of it is a 409.

use super::{any_eq, conflict_as};
use crate::app::{App, AppError, AppResult};
use crate::model::{EthernetInterface, IpMapping, Mac, Xname};

#[derive(Debug, Clone, Default)]
pub struct EthernetFilter {
    pub macs: Vec<Mac>,
    pub ips: Vec<String>,
    pub networks: Vec<String>,
    pub component_ids: Vec<Xname>,
    pub types: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct EthernetPatch {
    pub description: Option<String>,
    pub ip_addresses: Option<Vec<IpMapping>>,
    pub component_id: Option<Option<Xname>>,
}

impl App {
    pub async fn list_ethernet_interfaces(
        &self,
        f: &EthernetFilter,
    ) -> AppResult<Vec<EthernetInterface>> {
        Ok(self
            .store
            .list_ethernet_interfaces()
            .await?
            .into_iter()
            .filter(|i| {
                (f.macs.is_empty() || f.macs.contains(&i.mac))
                    && (f.ips.is_empty()
                        || i.ip_addresses.iter().any(|a| f.ips.contains(&a.ip_address)))
                    && (f.networks.is_empty()
                        || i.ip_addresses
                            .iter()
                            .any(|a| a.network.as_ref().is_some_and(|n| f.networks.contains(n))))
                    && (f.component_ids.is_empty()
                        || i.component_id
                            .as_ref()
                            .is_some_and(|c| f.component_ids.contains(c)))
                    && any_eq(&f.types, i.component_type())
            })
            .collect())
    }

    pub async fn get_ethernet_interface(&self, mac: &Mac) -> AppResult<EthernetInterface> {
        self.store
            .get_ethernet_interface(&mac.id())
            .await?
            .ok_or_else(|| AppError::not_found(format!("no such ethernet interface: {}", mac.id())))
    }

    pub async fn create_ethernet_interfaces(
        &self,
        ifaces: Vec<EthernetInterface>,
    ) -> AppResult<()> {
        self.store
            .insert_ethernet_interfaces(&ifaces)
            .await
            .map_err(|e| {
                conflict_as(e, |what| {
                    format!("{what}: a MAC address can be registered only once")
                })
            })?;
        self.changed();
        Ok(())
    }

    pub async fn patch_ethernet_interface(
        &self,
        mac: &Mac,
        p: EthernetPatch,
    ) -> AppResult<EthernetInterface> {
        let mut i = self.get_ethernet_interface(mac).await?;
        if let Some(d) = p.description {
            i.description = d;
        }
        if let Some(ips) = p.ip_addresses {
            i.ip_addresses = ips;
        }
        if let Some(c) = p.component_id {
            i.component_id = c;
        }
        i.last_update = chrono::Utc::now();
        if !self.store.update_ethernet_interface(&i).await? {
            return Err(AppError::not_found(format!(
                "no such ethernet interface: {}",
                mac.id()
            )));
        }
        self.changed();
        Ok(i)
    }

    pub async fn delete_ethernet_interface(&self, mac: &Mac) -> AppResult<()> {
        if !self.store.delete_ethernet_interface(&mac.id()).await? {
            return Err(AppError::not_found(format!(
                "no such ethernet interface: {}",
                mac.id()
            )));
        }
        self.changed();
        Ok(())
    }

    pub async fn delete_all_ethernet_interfaces(&self) -> AppResult<u64> {
        let n = self.store.delete_all_ethernet_interfaces().await?;
        if n == 0 {
            return Err(AppError::not_found(
                "there are no ethernet interfaces to delete",
            ));
        }
        self.changed();
        Ok(n)
    }
}
