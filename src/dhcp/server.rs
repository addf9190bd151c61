//! The DHCP server: sockets, the lease table in memory, and the loop that hands each message
//! to [`respond`](super::respond) and acts on the outcome. Thin on purpose: every decision is
//! made by the pure responder; this file receives, persists, records and sends.
//!
//! Sockets are bound to the boot interface (`SO_BINDTODEVICE`), on ports 67 and 4011, with
//! `SO_BROADCAST` (clients without an address are answered by broadcast). They can be made
//! elsewhere and handed in ([`Sockets`]): tests bind them inside a network namespace.
//! A lease is written to the store before its ACK is sent; if the write fails the client
//! hears nothing and asks again.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use tokio::net::UdpSocket;

pub use super::interface::Sockets;
use super::leases::{Lease, Leases, Plan, Pool};
use super::packet::{self, BOOTREQUEST};
use super::respond::{self, Arrived, BootTarget, Effect, Event, Identity, To};
use crate::model::dhcp::DhcpLease;
use crate::model::{Mac, Xname};
use crate::shutdown::Stop;

pub const SERVER_PORT: u16 = 67;
pub const CLIENT_PORT: u16 = 68;
pub const PXE_PORT: u16 = 4011;

/// The inventory is re-read when its generation moves, and at least this often (for writes
/// that did not go through this process).
const INVENTORY_MAX_AGE: Duration = Duration::from_secs(30);
/// While writes keep moving the generation (a BOS session writes boot parameters for every
/// node), it is re-read at most this often, unless a MAC it does not know asks.
const INVENTORY_MIN_AGE: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Proxy,
    Full,
}

#[derive(Debug, Clone)]
pub struct DhcpSettings {
    pub mode: Mode,
    pub identity: Identity,
    pub boot: BootTarget,
    /// Full mode: the dynamic pool for MACs without a reservation.
    pub pool: Option<Pool>,
    pub lease_time: chrono::Duration,
    /// How long an offered address is held for its client.
    pub offer_hold: chrono::Duration,
}

/// One interface of the inventory, as the server needs it.
#[derive(Debug, Clone)]
pub struct Nic {
    pub mac: Mac,
    pub ips: Vec<Ipv4Addr>,
    pub node: Option<Xname>,
}

/// What the server needs from the rest of the appliance.
#[async_trait]
pub trait DhcpBackend: Send + Sync {
    /// The inventory's interfaces (reservations and node names).
    async fn interfaces(&self) -> anyhow::Result<Vec<Nic>>;
    /// A number that moves whenever the inventory may have changed.
    fn inventory_generation(&self) -> u64;
    async fn leases(&self) -> anyhow::Result<Vec<DhcpLease>>;
    async fn save_lease(&self, lease: &DhcpLease) -> anyhow::Result<()>;
    async fn remove_lease(&self, mac: Mac) -> anyhow::Result<()>;
    /// Count and record what happened (`node`: the MAC's node, when the inventory knows it).
    fn observe(&self, event: &Event, node: Option<&Xname>);
}

/// The reservations and node names, as last read from the inventory.
struct Inventory {
    plan: Plan,
    nodes: HashMap<Mac, Xname>,
    read_at: Instant,
    generation: u64,
}

impl Inventory {
    fn build(nics: Vec<Nic>, generation: u64, s: &DhcpSettings) -> Inventory {
        let net = |ip: Ipv4Addr| u32::from(ip) & u32::from(s.identity.netmask);
        let ours = net(s.identity.server_ip);
        let mut reservations = HashMap::new();
        let mut nodes = HashMap::new();
        for nic in nics {
            // Only addresses on the boot network can be handed out on it.
            if let Some(ip) = nic.ips.iter().find(|ip| net(**ip) == ours) {
                reservations.insert(nic.mac, *ip);
            }
            if let Some(n) = nic.node {
                nodes.insert(nic.mac, n);
            }
        }
        Inventory {
            plan: Plan::new(reservations, s.pool, s.lease_time, s.offer_hold),
            nodes,
            read_at: Instant::now(),
            generation,
        }
    }

    fn stale(&self, generation: u64, mac: Option<Mac>) -> bool {
        let age = self.read_at.elapsed();
        age > INVENTORY_MAX_AGE
            || (generation != self.generation
                && (age > INVENTORY_MIN_AGE || mac.is_some_and(|m| !self.nodes.contains_key(&m))))
    }
}

fn to_lease(l: DhcpLease) -> Lease {
    Lease {
        mac: l.mac,
        ip: l.ip,
        expires: l.expires,
        offered: false,
    }
}

/// A DHCP server ready to serve: sockets, the lease table and the inventory, loaded.
pub struct Server {
    dhcp: UdpSocket,
    pxe: UdpSocket,
    settings: DhcpSettings,
    backend: Arc<dyn DhcpBackend>,
    leases: Leases,
    inventory: Inventory,
}

impl Server {
    /// Load what the server needs (the store's leases, the inventory) now, so a failure
    /// fails the appliance's start rather than a task nobody watches.
    pub async fn start(
        sockets: Sockets,
        settings: DhcpSettings,
        backend: Arc<dyn DhcpBackend>,
    ) -> anyhow::Result<Server> {
        let leases = match settings.mode {
            Mode::Full => Leases::new(backend.leases().await?.into_iter().map(to_lease)),
            Mode::Proxy => Leases::default(),
        };
        let generation = backend.inventory_generation();
        let inventory = Inventory::build(backend.interfaces().await?, generation, &settings);
        Ok(Server {
            dhcp: UdpSocket::from_std(sockets.dhcp)?,
            pxe: UdpSocket::from_std(sockets.pxe)?,
            settings,
            backend,
            leases,
            inventory,
        })
    }

    /// Serve until `stop` is cancelled.
    pub async fn run(self, stop: Stop) {
        let Server {
            dhcp,
            pxe,
            settings,
            backend,
            mut leases,
            mut inventory,
        } = self;
        let (mut a, mut b) = ([0u8; 1500], [0u8; 1500]);
        loop {
            let (received, arrived) = tokio::select! {
                r = dhcp.recv_from(&mut a) => (r, Arrived::Dhcp),
                r = pxe.recv_from(&mut b) => (r, Arrived::Pxe),
                () = stop.cancelled() => break,
            };
            let buf = match arrived {
                Arrived::Dhcp => &a,
                Arrived::Pxe => &b,
            };
            let (n, from) = match received {
                Ok(x) => x,
                Err(e) => {
                    tracing::debug!(error = %e, "DHCP receive failed");
                    continue;
                }
            };
            let req = match packet::parse(&buf[..n]) {
                Ok(m) if m.op == BOOTREQUEST => m,
                Ok(_) => continue,
                Err(e) => {
                    metrics::counter!("rackboot_dhcp_dropped_total").increment(1);
                    tracing::debug!(%from, error = %e, "malformed DHCP message dropped");
                    continue;
                }
            };
            let generation = backend.inventory_generation();
            if inventory.stale(generation, req.mac().map(Mac::from_bytes)) {
                match backend.interfaces().await {
                    Ok(nics) => inventory = Inventory::build(nics, generation, &settings),
                    Err(e) => {
                        tracing::warn!(error = %e, "DHCP: cannot re-read the inventory; using the last copy")
                    }
                }
            }
            let out = match settings.mode {
                Mode::Proxy => respond::proxy(&req, arrived, &settings.identity, &settings.boot),
                Mode::Full => respond::full(
                    &req,
                    arrived,
                    &settings.identity,
                    &settings.boot,
                    &inventory.plan,
                    &mut leases,
                    Utc::now(),
                ),
            };
            let persisted = match &out.effect {
                Effect::None => Ok(()),
                Effect::Save(l) => {
                    backend
                        .save_lease(&DhcpLease {
                            mac: l.mac,
                            ip: l.ip,
                            expires: l.expires,
                        })
                        .await
                }
                Effect::Remove(mac) => backend.remove_lease(*mac).await,
            };
            let node = inventory.nodes.get(&out.event.mac);
            backend.observe(&out.event, node);
            if let Err(e) = persisted {
                tracing::warn!(mac = %out.event.mac, error = %format!("{e:#}"),
            "DHCP: cannot store the lease; not answering (the client will ask again)");
                continue;
            }
            let Some((msg, to)) = out.reply else {
                continue;
            };
            let (sock, dest) = match to {
                To::Broadcast => (&dhcp, SocketAddr::from((Ipv4Addr::BROADCAST, CLIENT_PORT))),
                To::Client(ip) => (&dhcp, SocketAddr::from((ip, CLIENT_PORT))),
                To::Relay(ip) => (&dhcp, SocketAddr::from((ip, SERVER_PORT))),
                To::Source => (
                    match arrived {
                        Arrived::Dhcp => &dhcp,
                        Arrived::Pxe => &pxe,
                    },
                    from,
                ),
            };
            if let Err(e) = sock.send_to(&msg.encode(), dest).await {
                tracing::warn!(%dest, mac = %out.event.mac, error = %e, "DHCP: cannot send the reply");
            }
        }
    }
}
