//! Address assignment for `full` mode, as a pure planner: given the inventory's reservations
//! (a MAC's EthernetInterface IPAddresses), an optional dynamic pool for unknown MACs, the
//! leases held and a client's message, decide OFFER, ACK, NAK or nothing.
//!
//! An OFFER holds its address (for `offer_hold`), so concurrent DISCOVERs are never offered
//! the same address: the race that made a dnsmasq pool hand one address to two iPXE clients,
//! one of which then gave up (reference netboot-lab.md, step 4). A reserved address is only
//! ever given to its MAC.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use chrono::{DateTime, Duration, Utc};

pub type MacAddr = [u8; 6];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub mac: MacAddr,
    pub ip: Ipv4Addr,
    pub expires: DateTime<Utc>,
    /// Offered but not yet requested.
    pub offered: bool,
}

#[derive(Debug, Clone)]
pub struct Pool {
    pub first: Ipv4Addr,
    pub last: Ipv4Addr,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub reservations: HashMap<MacAddr, Ipv4Addr>,
    pub pool: Option<Pool>,
    pub lease_time: Duration,
    pub offer_hold: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Offer `ip`; the lease table gets the held offer.
    Offer(Lease),
    /// Acknowledge; the lease table gets the lease.
    Ack(Lease),
    /// Refuse a REQUEST for an address the client may not have.
    Nak(String),
    /// Say nothing (unknown MAC without a pool, pool exhausted, not for us).
    Ignore(String),
}

impl Plan {
    fn live(leases: &[Lease], now: DateTime<Utc>) -> impl Iterator<Item = &Lease> {
        leases.iter().filter(move |l| l.expires > now)
    }

    /// The address `mac` should have: its reservation, its live lease, or a free pool
    /// address not reserved for anyone and not held by another MAC.
    fn address_for(&self, mac: MacAddr, leases: &[Lease], now: DateTime<Utc>) -> Option<Ipv4Addr> {
        if let Some(ip) = self.reservations.get(&mac) {
            return Some(*ip);
        }
        if let Some(l) = Self::live(leases, now).find(|l| l.mac == mac) {
            return Some(l.ip);
        }
        let pool = self.pool.as_ref()?;
        let reserved: std::collections::HashSet<Ipv4Addr> =
            self.reservations.values().copied().collect();
        let held: std::collections::HashSet<Ipv4Addr> =
            Self::live(leases, now).map(|l| l.ip).collect();
        (u32::from(pool.first)..=u32::from(pool.last))
            .map(Ipv4Addr::from)
            .find(|ip| !reserved.contains(ip) && !held.contains(ip))
    }

    pub fn discover(&self, mac: MacAddr, leases: &[Lease], now: DateTime<Utc>) -> Decision {
        match self.address_for(mac, leases, now) {
            Some(ip) => Decision::Offer(Lease {
                mac,
                ip,
                expires: now + self.offer_hold,
                offered: true,
            }),
            None if self.pool.is_none() => {
                Decision::Ignore("no reservation for this MAC and no dynamic pool".into())
            }
            None => Decision::Ignore("the dynamic pool is exhausted".into()),
        }
    }

    /// A REQUEST for `requested` (option 50, or ciaddr when renewing).
    pub fn request(
        &self,
        mac: MacAddr,
        requested: Option<Ipv4Addr>,
        leases: &[Lease],
        now: DateTime<Utc>,
    ) -> Decision {
        let Some(want) = self.address_for(mac, leases, now) else {
            return if self.pool.is_none() {
                Decision::Ignore("no reservation for this MAC and no dynamic pool".into())
            } else {
                Decision::Nak("no address is free for this client".into())
            };
        };
        match requested {
            Some(r) if r != want => {
                Decision::Nak(format!("{r} is not this client's address ({want} is)"))
            }
            _ => Decision::Ack(Lease {
                mac,
                ip: want,
                expires: now + self.lease_time,
                offered: false,
            }),
        }
    }
}

/// The lease table after a decision: the client's previous entries are replaced.
pub fn apply(leases: &mut Vec<Lease>, d: &Decision) {
    if let Decision::Offer(l) | Decision::Ack(l) = d {
        leases.retain(|x| x.mac != l.mac);
        leases.push(l.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(pool: bool) -> Plan {
        Plan {
            reservations: [([0x52, 0x54, 0, 0x77, 0, 1], Ipv4Addr::new(192, 168, 77, 11))].into(),
            pool: pool.then(|| Pool {
                first: Ipv4Addr::new(192, 168, 77, 100),
                last: Ipv4Addr::new(192, 168, 77, 102),
            }),
            lease_time: Duration::hours(1),
            offer_hold: Duration::seconds(30),
        }
    }

    fn mac(n: u8) -> MacAddr {
        [2, 0, 0, 0, 0, n]
    }

    #[test]
    fn reserved_macs_get_their_address_and_only_they() {
        let p = plan(true);
        let now = Utc::now();
        let d = p.discover([0x52, 0x54, 0, 0x77, 0, 1], &[], now);
        assert!(matches!(d, Decision::Offer(ref l) if l.ip == Ipv4Addr::new(192, 168, 77, 11)));
        let d = p.request(
            [0x52, 0x54, 0, 0x77, 0, 1],
            Some(Ipv4Addr::new(192, 168, 77, 11)),
            &[],
            now,
        );
        assert!(
            matches!(d, Decision::Ack(ref l) if !l.offered && l.expires == now + Duration::hours(1))
        );
        // Someone else asking for the reserved address is refused.
        let d = p.request(mac(9), Some(Ipv4Addr::new(192, 168, 77, 11)), &[], now);
        assert!(
            matches!(d, Decision::Nak(ref why) if why.contains("192.168.77.100")),
            "{d:?}"
        );
        // Without a pool, unknown MACs get nothing.
        assert!(matches!(
            plan(false).discover(mac(9), &[], now),
            Decision::Ignore(_)
        ));
    }

    #[test]
    fn concurrent_discovers_are_never_offered_the_same_address() {
        let p = plan(true);
        let now = Utc::now();
        let mut leases = Vec::new();
        let mut offered = Vec::new();
        for n in 1..=3 {
            let d = p.discover(mac(n), &leases, now);
            apply(&mut leases, &d);
            let Decision::Offer(l) = d else {
                panic!("{d:?}")
            };
            offered.push(l.ip);
        }
        offered.sort();
        offered.dedup();
        assert_eq!(offered.len(), 3, "{offered:?}");
        // The pool is now held: a fourth client waits (no offer), until the holds lapse.
        assert!(
            matches!(p.discover(mac(4), &leases, now), Decision::Ignore(ref w) if w.contains("exhausted"))
        );
        let later = now + Duration::seconds(31);
        assert!(matches!(
            p.discover(mac(4), &leases, later),
            Decision::Offer(_)
        ));
        // Each client then gets what it was offered.
        let d = p.request(mac(2), Some(offered[1]), &leases, now);
        assert!(
            matches!(d, Decision::Ack(ref l) if l.ip == offered[1]),
            "{d:?}"
        );
        apply(&mut leases, &d);
        assert_eq!(leases.iter().filter(|l| l.mac == mac(2)).count(), 1);
        // A client asking for an address held by another is refused.
        let d = p.request(mac(1), Some(offered[1]), &leases, now);
        assert!(matches!(d, Decision::Nak(_)), "{d:?}");
    }
}
