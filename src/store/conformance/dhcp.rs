//! Conformance: DHCP leases.

use super::*;

/// DHCP leases: one per MAC, replaced on renewal, deleted on release.
pub async fn dhcp_leases(s: &dyn Store) {
    use crate::model::dhcp::DhcpLease;
    let mac = crate::model::Mac::parse("52:54:00:77:00:01").unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let lease = DhcpLease {
        mac,
        ip: "192.168.77.11".parse().unwrap(),
        expires,
    };
    assert!(s.list_dhcp_leases().await.unwrap().is_empty());
    s.put_dhcp_lease(&lease).await.unwrap();
    let renewed = DhcpLease {
        expires: expires + chrono::Duration::hours(1),
        ..lease.clone()
    };
    s.put_dhcp_lease(&renewed).await.unwrap();
    assert_eq!(s.list_dhcp_leases().await.unwrap(), vec![renewed]);
    assert!(s.delete_dhcp_lease(mac).await.unwrap());
    assert!(!s.delete_dhcp_lease(mac).await.unwrap());
    assert!(s.list_dhcp_leases().await.unwrap().is_empty());
}
