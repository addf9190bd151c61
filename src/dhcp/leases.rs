//! Address assignment for `full` mode, as a pure planner: given the inventory's reservations
//! (a MAC's EthernetInterface IPAddresses), an optional dynamic pool for unknown MACs, the
//! leases held and a client's message, decide OFFER, ACK, NAK or nothing.
//!
//! An OFFER holds its address (for `offer_hold`), so concurrent DISCOVERs are never offered
//! the same address: the race that made a dnsmasq pool hand one address to two iPXE clients,
//! one of which then gave up (docs/netboot.md). A reserved address is only
//! ever given to its MAC. The table is indexed by MAC and by address, so a decision costs
//! hash lookups (plus a scan of the pool for a new client), not a pass over every lease.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use chrono::{DateTime, Duration, Utc};

use crate::model::Mac;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub mac: Mac,
    pub ip: Ipv4Addr,
    pub expires: DateTime<Utc>,
    /// Offered but not yet requested (held in memory only; never persisted).
    pub offered: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    pub first: Ipv4Addr,
    pub last: Ipv4Addr,
}

impl Pool {
    /// `a.b.c.d-e.f.g.h`, first ≤ last.
    pub fn parse(s: &str) -> Result<Pool, String> {
        let bad = || format!("'{s}' is not an address range such as 192.168.77.100-192.168.77.199");
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let first: Ipv4Addr = a.trim().parse().map_err(|_| bad())?;
        let last: Ipv4Addr = b.trim().parse().map_err(|_| bad())?;
        if u32::from(first) > u32::from(last) {
            return Err(format!("'{s}': the first address is after the last"));
        }
        Ok(Pool { first, last })
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        (u32::from(self.first)..=u32::from(self.last)).contains(&u32::from(ip))
    }
}

/// Who gets which address, and for how long.
#[derive(Debug, Clone)]
pub struct Plan {
    reservations: HashMap<Mac, Ipv4Addr>,
    reserved: HashSet<Ipv4Addr>,
    pub pool: Option<Pool>,
    pub lease_time: Duration,
    pub offer_hold: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Offer `ip`; the lease table gets the held offer.
    Offer(Lease),
    /// Acknowledge; the lease table gets the lease (and the store, before the reply).
    Ack(Lease),
    /// Refuse a REQUEST for an address the client may not have.
    Nak(String),
    /// Say nothing (unknown MAC without a pool, pool exhausted, not for us).
    Ignore(String),
}

/// The leases held, by MAC and by address. Expired entries stay until replaced; every
/// question asks about live ones only.
#[derive(Debug, Clone, Default)]
pub struct Leases {
    by_mac: HashMap<Mac, Lease>,
    by_ip: HashMap<Ipv4Addr, Mac>,
    /// Addresses a client DECLINEd (found in use on the wire), until when.
    declined: HashMap<Ipv4Addr, DateTime<Utc>>,
    /// Where the search for a free pool address starts: after the last address handed
    /// out, so a busy pool is not scanned from its first address for every new client.
    next: Option<Ipv4Addr>,
}

impl Leases {
    pub fn new(leases: impl IntoIterator<Item = Lease>) -> Leases {
        let mut t = Leases::default();
        for l in leases {
            t.insert(l);
        }
        t
    }

    pub fn get(&self, mac: Mac) -> Option<&Lease> {
        self.by_mac.get(&mac)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Lease> {
        self.by_mac.values()
    }

    fn live(&self, mac: Mac, now: DateTime<Utc>) -> Option<&Lease> {
        self.by_mac.get(&mac).filter(|l| l.expires > now)
    }

    /// Whether `ip` is held (live) by a MAC other than `mac`, or was declined lately.
    fn taken(&self, ip: Ipv4Addr, mac: Mac, now: DateTime<Utc>) -> bool {
        if self.declined.get(&ip).is_some_and(|until| *until > now) {
            return true;
        }
        self.by_ip
            .get(&ip)
            .and_then(|m| self.by_mac.get(m))
            .is_some_and(|l| l.mac != mac && l.expires > now)
    }

    /// Put `l` in, replacing the client's previous entry.
    pub fn insert(&mut self, l: Lease) {
        if let Some(old) = self.by_mac.remove(&l.mac)
            && self.by_ip.get(&old.ip) == Some(&l.mac)
        {
            self.by_ip.remove(&old.ip);
        }
        self.by_ip.insert(l.ip, l.mac);
        self.next = Some(Ipv4Addr::from(u32::from(l.ip).wrapping_add(1)));
        self.by_mac.insert(l.mac, l);
    }

    /// Forget the client's entry (RELEASE, or it chose another server's offer).
    pub fn remove(&mut self, mac: Mac) -> Option<Lease> {
        let old = self.by_mac.remove(&mac)?;
        if self.by_ip.get(&old.ip) == Some(&mac) {
            self.by_ip.remove(&old.ip);
        }
        Some(old)
    }

    /// A client found `ip` in use: nobody is offered it until `until`.
    pub fn decline(&mut self, mac: Mac, ip: Ipv4Addr, until: DateTime<Utc>) {
        if self.by_mac.get(&mac).is_some_and(|l| l.ip == ip) {
            self.remove(mac);
        }
        self.declined.insert(ip, until);
    }

    /// The table after a decision.
    pub fn apply(&mut self, d: &Decision) {
        if let Decision::Offer(l) | Decision::Ack(l) = d {
            self.insert(l.clone());
        }
    }
}

impl Plan {
    pub fn new(
        reservations: HashMap<Mac, Ipv4Addr>,
        pool: Option<Pool>,
        lease_time: Duration,
        offer_hold: Duration,
    ) -> Plan {
        let reserved = reservations.values().copied().collect();
        Plan {
            reservations,
            reserved,
            pool,
            lease_time,
            offer_hold,
        }
    }

    pub fn reservation(&self, mac: Mac) -> Option<Ipv4Addr> {
        self.reservations.get(&mac).copied()
    }

    /// The address `mac` should have: its reservation, its live lease (unless that address
    /// has since been reserved for someone else), or a free pool address reserved for
    /// nobody and held by no other MAC.
    fn address_for(&self, mac: Mac, leases: &Leases, now: DateTime<Utc>) -> Option<Ipv4Addr> {
        if let Some(ip) = self.reservations.get(&mac) {
            return Some(*ip);
        }
        if let Some(l) = leases.live(mac, now)
            && !self.reserved.contains(&l.ip)
            && self.pool.is_some_and(|p| p.contains(l.ip))
        {
            return Some(l.ip);
        }
        let pool = self.pool.as_ref()?;
        let (first, last) = (u32::from(pool.first), u32::from(pool.last));
        let start = leases
            .next
            .map(u32::from)
            .filter(|n| (first..=last).contains(n))
            .unwrap_or(first);
        (start..=last)
            .chain(first..start)
            .map(Ipv4Addr::from)
            .find(|ip| !self.reserved.contains(ip) && !leases.taken(*ip, mac, now))
    }

    pub fn discover(&self, mac: Mac, leases: &Leases, now: DateTime<Utc>) -> Decision {
        match self.address_for(mac, leases, now) {
            Some(ip) => Decision::Offer(Lease {
                mac,
                ip,
                // A client that already holds this address keeps its lease's end.
                expires: leases
                    .live(mac, now)
                    .filter(|l| l.ip == ip && !l.offered)
                    .map_or(now + self.offer_hold, |l| {
                        l.expires.max(now + self.offer_hold)
                    }),
                offered: !leases
                    .live(mac, now)
                    .is_some_and(|l| l.ip == ip && !l.offered),
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
        mac: Mac,
        requested: Option<Ipv4Addr>,
        leases: &Leases,
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

#[cfg(test)]
mod tests {
    use super::*;

    const RESERVED: [u8; 6] = [0x52, 0x54, 0, 0x77, 0, 1];

    fn plan(pool: bool) -> Plan {
        Plan::new(
            [(Mac::from_bytes(RESERVED), Ipv4Addr::new(192, 168, 77, 11))].into(),
            pool.then(|| Pool::parse("192.168.77.100-192.168.77.102").unwrap()),
            Duration::hours(1),
            Duration::seconds(30),
        )
    }

    fn mac(n: u8) -> Mac {
        Mac::from_bytes([2, 0, 0, 0, 0, n])
    }

    #[test]
    fn reserved_macs_get_their_address_and_only_they() {
        let p = plan(true);
        let now = Utc::now();
        let none = Leases::default();
        let r = Mac::from_bytes(RESERVED);
        let d = p.discover(r, &none, now);
        assert!(matches!(d, Decision::Offer(ref l) if l.ip == Ipv4Addr::new(192, 168, 77, 11)));
        let d = p.request(r, Some(Ipv4Addr::new(192, 168, 77, 11)), &none, now);
        assert!(
            matches!(d, Decision::Ack(ref l) if !l.offered && l.expires == now + Duration::hours(1))
        );
        // Someone else asking for the reserved address is refused.
        let d = p.request(mac(9), Some(Ipv4Addr::new(192, 168, 77, 11)), &none, now);
        assert!(
            matches!(d, Decision::Nak(ref why) if why.contains("192.168.77.100")),
            "{d:?}"
        );
        // Without a pool, unknown MACs get nothing.
        assert!(matches!(
            plan(false).discover(mac(9), &none, now),
            Decision::Ignore(_)
        ));
    }

    #[test]
    fn concurrent_discovers_are_never_offered_the_same_address() {
        let p = plan(true);
        let now = Utc::now();
        let mut leases = Leases::default();
        let mut offered = Vec::new();
        for n in 1..=3 {
            let d = p.discover(mac(n), &leases, now);
            leases.apply(&d);
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
        leases.apply(&d);
        assert_eq!(leases.iter().filter(|l| l.mac == mac(2)).count(), 1);
        // A client asking for an address held by another is refused.
        let d = p.request(mac(1), Some(offered[1]), &leases, now);
        assert!(matches!(d, Decision::Nak(_)), "{d:?}");
    }

    #[test]
    fn a_bound_client_keeps_its_address_and_lease_across_rediscovery() {
        let p = plan(true);
        let now = Utc::now();
        let mut leases = Leases::default();
        let d = p.request(mac(1), None, &leases, now);
        leases.apply(&d);
        let Decision::Ack(bound) = d else { panic!() };
        // Rediscovery (a reboot) offers the same address without shortening the lease.
        let Decision::Offer(o) = p.discover(mac(1), &leases, now + Duration::minutes(5)) else {
            panic!()
        };
        assert_eq!(o.ip, bound.ip);
        assert!(!o.offered);
        assert_eq!(o.expires, bound.expires);
        // Renewal (REQUEST with ciaddr) extends it.
        let later = now + Duration::minutes(30);
        let d = p.request(mac(1), Some(bound.ip), &leases, later);
        assert!(matches!(d, Decision::Ack(ref l) if l.expires == later + Duration::hours(1)));
    }

    #[test]
    fn released_and_declined_addresses() {
        let p = plan(true);
        let now = Utc::now();
        let mut leases = Leases::default();
        let d = p.request(mac(1), None, &leases, now);
        leases.apply(&d);
        let Decision::Ack(l1) = d else { panic!() };
        // Declined: the client found it in use; nobody is offered it for a while.
        leases.decline(mac(1), l1.ip, now + Duration::minutes(10));
        for n in 2..=3 {
            let d = p.discover(mac(n), &leases, now);
            assert!(
                matches!(d, Decision::Offer(ref l) if l.ip != l1.ip),
                "{d:?}"
            );
            leases.apply(&d);
        }
        // Released: the address is free again for another client (the search goes round
        // the pool, so it comes back once the others are taken).
        let mut leases = Leases::default();
        let d = p.request(mac(1), None, &leases, now);
        leases.apply(&d);
        assert!(leases.remove(mac(1)).is_some());
        for n in 2..=3 {
            let d = p.discover(mac(n), &leases, now);
            assert!(
                matches!(d, Decision::Offer(ref l) if l.ip != l1.ip),
                "{d:?}"
            );
            leases.apply(&d);
        }
        let d = p.discover(mac(4), &leases, now);
        assert!(
            matches!(d, Decision::Offer(ref l) if l.ip == l1.ip),
            "{d:?}"
        );
    }

    #[test]
    fn a_pool_lease_on_a_newly_reserved_address_moves() {
        let p = Plan::new(
            [(mac(7), Ipv4Addr::new(192, 168, 77, 100))].into(),
            Some(Pool::parse("192.168.77.100-192.168.77.102").unwrap()),
            Duration::hours(1),
            Duration::seconds(30),
        );
        let now = Utc::now();
        let leases = Leases::new([Lease {
            mac: mac(1),
            ip: Ipv4Addr::new(192, 168, 77, 100),
            expires: now + Duration::hours(1),
            offered: false,
        }]);
        let d = p.request(mac(1), Some(Ipv4Addr::new(192, 168, 77, 100)), &leases, now);
        assert!(matches!(d, Decision::Nak(_)), "{d:?}");
        assert!(
            matches!(p.discover(mac(7), &leases, now), Decision::Offer(ref l) if l.ip == Ipv4Addr::new(192, 168, 77, 100))
        );
        assert!(Pool::parse("10.0.0.5-10.0.0.1").is_err());
        assert!(Pool::parse("10.0.0.5").is_err());
    }
}
