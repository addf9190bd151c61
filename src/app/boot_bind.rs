//! `boot_plane_bind`: where rackboot knows a node's addresses (its inventory IPAddresses,
//! the addresses DHCP leased it or saw it use), the node's boot script, its artifacts and
//! its reports are served and taken only from those addresses. The boot plane has no
//! credentials, so without this anyone on the boot network can fetch any node's script by
//! name (and with it its artifact URLs and referral token) and report for it. A node whose
//! addresses are unknown is not bound: there is nothing to bind it to (docs/security.md).

use super::boot_index::BootIndex;
use super::{App, AppError, AppResult};
use crate::model::Xname;

impl App {
    /// Refuse `client` for `node`'s boot plane unless it is one of the node's addresses.
    pub(crate) fn check_bound(
        &self,
        idx: &BootIndex,
        node: &Xname,
        client: Option<&str>,
    ) -> AppResult<()> {
        if !self.settings.boot_plane_bind {
            return Ok(());
        }
        let mut known: Vec<String> = idx.ips_of.get(node).cloned().unwrap_or_default();
        known.extend(self.timeline.addresses_of(node));
        if known.is_empty() {
            return Ok(());
        }
        let client = client.unwrap_or("an unknown address");
        if known.iter().any(|k| k == client) {
            return Ok(());
        }
        known.sort();
        known.dedup();
        Err(AppError::Forbidden(format!(
            "{node}'s boot plane is bound to its known addresses ({}); this request came from {client} (boot_plane_bind)",
            known.join(", ")
        )))
    }
}
