//! The boot read model: everything a bootscript request needs, in memory.
//!
//! A boot storm asks for hundreds of scripts a second, each needing a MAC → node → boot
//! parameters lookup. Rather than several store queries per request, the index is rebuilt
//! from the store when it is stale and shared read-only (`Arc`) between requests. Staleness
//! is a generation number: every write through `app` bumps it *after* the store commits;
//! a reader that sees a newer generation than its index rebuilds (one rebuild at a time,
//! others wait for it). The generation is read before the store, so a write that lands
//! during a rebuild is never lost: it leaves the new index stale and the next read rebuilds.
//!
//! The generation lives in this process. With several replicas on one PostgreSQL store (a
//! later change), invalidation must come from the store itself (a generation row or
//! LISTEN/NOTIFY), or a replica would serve scripts from another replica's stale writes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::artifacts::ObjectRef;
use crate::artifacts::links;
use crate::model::{BootParams, Component, HostKey, ImageKind, Mac, Xname};
use crate::store::{Store, StoreResult};

#[derive(Default)]
pub struct BootIndex {
    pub components: HashMap<Xname, Component>,
    pub by_nid: HashMap<i64, Xname>,
    pub by_mac: HashMap<Mac, Xname>,
    /// The inventory's addresses (EthernetInterfaces `IPAddresses`) → node, for clients
    /// known only by address (TFTP).
    pub by_ip: HashMap<String, Xname>,
    /// Each node's inventory addresses (what `boot_plane_bind` binds its boot plane to).
    pub ips_of: HashMap<Xname, Vec<String>>,
    /// Each node's MACs, in MAC order (the first is used in chain URLs).
    pub macs_of: HashMap<Xname, Vec<Mac>>,
    pub params: HashMap<String, BootParams>,
    pub images: HashMap<(ImageKind, String), String>,
    /// Artifact token → the node it was minted for and the artifacts it may fetch. Only
    /// tokens of current boot parameters are here, so superseded ones resolve to nothing.
    pub tokens: HashMap<String, NodeArtifacts>,
}

/// What one artifact token opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeArtifacts {
    /// The node it was minted for; `None` for the `Unknown-<arch>` boot of nodes the
    /// inventory does not know (discovery images).
    pub node: Option<Xname>,
    pub objects: std::collections::BTreeMap<String, ObjectRef>,
}

/// Which write of boot parameters a token belongs to: its referral token, or (for records
/// without one) a digest of its contents.
pub fn params_version(bp: &BootParams) -> String {
    match &bp.referral_token {
        Some(t) => t.clone(),
        None => links::token(b"", &bp.kernel, &format!("{}\0{}", bp.initrd, bp.params)),
    }
}

impl BootIndex {
    pub fn params_for(&self, key: &HostKey) -> Option<&BootParams> {
        self.params.get(&key.key())
    }

    pub fn image_params(&self, kind: ImageKind, path: &str) -> &str {
        self.images
            .get(&(kind, path.to_string()))
            .map(String::as_str)
            .unwrap_or("")
    }
}

pub struct BootIndexCache {
    store: Arc<dyn Store>,
    secret: Arc<[u8]>,
    wanted: AtomicU64,
    current: RwLock<(u64, Arc<BootIndex>)>,
    rebuild: tokio::sync::Mutex<()>,
}

impl BootIndexCache {
    pub fn new(store: Arc<dyn Store>, secret: Arc<[u8]>) -> BootIndexCache {
        BootIndexCache {
            store,
            secret,
            wanted: AtomicU64::new(1),
            current: RwLock::new((0, Arc::new(BootIndex::default()))),
            rebuild: tokio::sync::Mutex::new(()),
        }
    }

    pub fn invalidate(&self) {
        self.wanted.fetch_add(1, Ordering::SeqCst);
    }

    /// The generation writes have reached (other read models of the inventory, such as the
    /// DHCP server's reservations, re-read when it moves).
    pub fn generation(&self) -> u64 {
        self.wanted.load(Ordering::SeqCst)
    }

    fn fresh(&self) -> Option<Arc<BootIndex>> {
        let cur = self.current.read().expect("boot index poisoned");
        (cur.0 >= self.wanted.load(Ordering::SeqCst)).then(|| cur.1.clone())
    }

    pub async fn get(&self) -> StoreResult<Arc<BootIndex>> {
        if let Some(idx) = self.fresh() {
            return Ok(idx);
        }
        let _one_at_a_time = self.rebuild.lock().await;
        if let Some(idx) = self.fresh() {
            return Ok(idx);
        }
        let generation = self.wanted.load(Ordering::SeqCst);
        let idx = Arc::new(build(self.store.as_ref(), &self.secret).await?);
        *self.current.write().expect("boot index poisoned") = (generation, idx.clone());
        Ok(idx)
    }
}

async fn build(store: &dyn Store, secret: &[u8]) -> StoreResult<BootIndex> {
    let mut idx = BootIndex::default();
    for c in store.list_components().await? {
        if let Some(n) = c.nid {
            idx.by_nid.entry(n).or_insert_with(|| c.id.clone());
        }
        idx.components.insert(c.id.clone(), c);
    }
    for i in store.list_ethernet_interfaces().await? {
        if let Some(x) = i.component_id {
            for a in &i.ip_addresses {
                idx.by_ip.insert(a.ip_address.clone(), x.clone());
                idx.ips_of
                    .entry(x.clone())
                    .or_default()
                    .push(a.ip_address.clone());
            }
            idx.by_mac.insert(i.mac, x.clone());
            idx.macs_of.entry(x).or_default().push(i.mac);
        }
    }
    for macs in idx.macs_of.values_mut() {
        macs.sort();
    }
    for (k, bp) in store.list_boot_params().await? {
        idx.params.insert(k.key(), bp);
    }
    for img in store.list_image_params().await? {
        idx.images.insert((img.kind, img.path), img.params);
    }
    // Every boot-parameter record a node may boot from (by xname, MAC, NID, role or
    // Default) gives it a token for that record's artifacts.
    let mut tokens = HashMap::new();
    for c in idx.components.values() {
        let mut keys = vec![c.id.to_string()];
        if let Some(macs) = idx.macs_of.get(&c.id) {
            keys.extend(macs.iter().map(|m| m.to_string()));
        }
        if let Some(n) = c.nid {
            keys.push(format!("nid{n}"));
        }
        if let Some(r) = &c.role {
            keys.push(r.clone());
        }
        keys.push("Default".into());
        for k in keys {
            let Some(bp) = idx.params.get(&k) else {
                continue;
            };
            let objects = links::artifact_names(&bp.kernel, &bp.initrd, &bp.params);
            if objects.is_empty() {
                continue;
            }
            tokens.insert(
                links::token(secret, c.id.as_str(), &params_version(bp)),
                NodeArtifacts {
                    node: Some(c.id.clone()),
                    objects,
                },
            );
        }
    }
    // Nodes the inventory does not know boot `Unknown-<arch>`: one token per such record.
    for (k, bp) in &idx.params {
        if k.starts_with("Unknown-") {
            let objects = links::artifact_names(&bp.kernel, &bp.initrd, &bp.params);
            if !objects.is_empty() {
                tokens.insert(
                    links::token(secret, k, &params_version(bp)),
                    NodeArtifacts {
                        node: None,
                        objects,
                    },
                );
            }
        }
    }
    idx.tokens = tokens;
    Ok(idx)
}
