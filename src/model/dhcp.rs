//! A DHCP lease as the store keeps it: which MAC holds which IPv4 address until when.

use std::net::Ipv4Addr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Mac;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpLease {
    pub mac: Mac,
    pub ip: Ipv4Addr,
    pub expires: DateTime<Utc>,
}
