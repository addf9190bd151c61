//! DHCP leases in PostgreSQL, one row per MAC, as in SQLite.

use async_trait::async_trait;

use super::{PostgresStore, backend, encode};
use crate::model::Mac;
use crate::model::dhcp::DhcpLease;
use crate::store::{DhcpStore, StoreResult};

#[async_trait]
impl DhcpStore for PostgresStore {
    async fn list_dhcp_leases(&self) -> StoreResult<Vec<DhcpLease>> {
        self.docs("DHCP leases", "SELECT doc FROM dhcp_leases ORDER BY mac")
            .await
    }

    async fn put_dhcp_lease(&self, lease: &DhcpLease) -> StoreResult<()> {
        sqlx::query("INSERT INTO dhcp_leases (mac, doc) VALUES ($1, $2) ON CONFLICT (mac) DO UPDATE SET doc = excluded.doc")
            .bind(lease.mac.to_string())
            .bind(encode(lease))
            .execute(&self.pool)
            .await
            .map_err(backend("put DHCP lease"))?;
        Ok(())
    }

    async fn delete_dhcp_lease(&self, mac: Mac) -> StoreResult<bool> {
        self.delete_by_key(
            "delete DHCP lease",
            "DELETE FROM dhcp_leases WHERE mac = $1",
            &mac.to_string(),
        )
        .await
    }
}
