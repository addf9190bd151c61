//! The inventory tables in PostgreSQL: components, Ethernet interfaces, groups and
//! partitions (members in their own table), Redfish endpoints, component endpoints and
//! discovery writes, as in SQLite. Batch upserts go in as arrays (`unnest`), one statement
//! each, with repeated keys folded first (an upsert may not touch a row twice in
//! PostgreSQL; SQLite's row-by-row writes let the last one win). Inserts that must name the
//! record that conflicts go row by row, as in SQLite.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use async_trait::async_trait;
use serde::Serialize;
use sqlx::{Postgres, Row, Transaction};

use super::{PostgresStore, backend, decode, encode, is_unique_violation};
use crate::model::{
    Component, ComponentEndpoint, EthernetInterface, Group, GroupKind, RedfishEndpoint, Xname,
};
use crate::store::{DiscoveryWrite, InventoryStore, StoreError, StoreResult};

/// Stored group document: everything but the members, which live in `group_members`.
#[derive(Serialize, serde::Deserialize)]
struct GroupDoc {
    #[serde(default)]
    description: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    exclusive_group: Option<String>,
}

/// A batch with repeated keys folded as SQLite's row-by-row upserts fold them: each key
/// once, at the place it first appears, with its last value, and the index it first
/// appeared at (what a row inserted by the first and updated by the later ones keeps).
/// Returned in key order: concurrent writers then lock rows in one order, so two
/// overlapping batches wait for each other instead of deadlocking.
pub(super) fn last_wins<'a, T, K, F>(items: &'a [T], key: F) -> Vec<(usize, &'a T)>
where
    K: Eq + Ord + std::hash::Hash,
    F: Fn(&'a T) -> K,
{
    let mut slots: HashMap<K, usize> = HashMap::with_capacity(items.len());
    let mut out: Vec<(usize, &'a T)> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match slots.entry(key(item)) {
            Entry::Occupied(slot) => out[*slot.get()].1 = item,
            Entry::Vacant(slot) => {
                slot.insert(out.len());
                out.push((i, item));
            }
        }
    }
    out.sort_by_key(|a| key(a.1));
    out
}

impl PostgresStore {
    async fn write_members(
        tx: &mut Transaction<'_, Postgres>,
        kind: GroupKind,
        g: &Group,
    ) -> StoreResult<()> {
        sqlx::query("DELETE FROM group_members WHERE kind = $1 AND label = $2")
            .bind(kind.as_str())
            .bind(&g.label)
            .execute(&mut **tx)
            .await
            .map_err(backend("write group members"))?;
        if g.members.is_empty() {
            return Ok(());
        }
        // A member listed twice is kept once (DO NOTHING may meet a row of its own
        // statement; only DO UPDATE may not).
        let members: Vec<String> = g.members.iter().map(|m| m.as_str().to_string()).collect();
        sqlx::query(
            "INSERT INTO group_members (kind, label, member) SELECT $1::text, $2::text, m FROM unnest($3::text[]) AS u(m) ON CONFLICT DO NOTHING",
        )
        .bind(kind.as_str())
        .bind(&g.label)
        .bind(members)
        .execute(&mut **tx)
        .await
        .map_err(backend("write group members"))?;
        Ok(())
    }

    async fn groups_where(&self, kind: GroupKind, label: Option<&str>) -> StoreResult<Vec<Group>> {
        let what = "group";
        let rows = sqlx::query("SELECT label, doc FROM groups WHERE kind = $1 AND ($2::text IS NULL OR label = $2) ORDER BY label")
            .bind(kind.as_str())
            .bind(label)
            .fetch_all(&self.pool)
            .await
            .map_err(backend(what))?;
        let members = sqlx::query(
            "SELECT label, member FROM group_members WHERE kind = $1 AND ($2::text IS NULL OR label = $2) ORDER BY member",
        )
        .bind(kind.as_str())
        .bind(label)
        .fetch_all(&self.pool)
        .await
        .map_err(backend(what))?;
        let mut by_label: HashMap<String, Vec<Xname>> = HashMap::new();
        for r in members {
            let l: String = r.get(0);
            let m: String = r.get(1);
            if let Ok(x) = Xname::parse(&m) {
                by_label.entry(l).or_default().push(x);
            }
        }
        rows.into_iter()
            .map(|r| {
                let l: String = r.get(0);
                let doc: GroupDoc = decode(what, &r.get::<String, _>(1))?;
                Ok(Group {
                    members: by_label.remove(&l).unwrap_or_default(),
                    label: l,
                    description: doc.description,
                    tags: doc.tags,
                    exclusive_group: doc.exclusive_group,
                })
            })
            .collect()
    }

    /// Create or replace components in one statement (the last of a repeated id wins).
    async fn upsert_components(
        tx: &mut Transaction<'_, Postgres>,
        op: &'static str,
        components: &[Component],
    ) -> StoreResult<()> {
        if components.is_empty() {
            return Ok(());
        }
        let batch = last_wins(components, |c| c.id.as_str());
        let mut ids = Vec::with_capacity(batch.len());
        let mut nids: Vec<Option<i64>> = Vec::with_capacity(batch.len());
        let mut docs = Vec::with_capacity(batch.len());
        for (_, c) in batch {
            ids.push(c.id.as_str().to_string());
            nids.push(c.nid);
            docs.push(encode(c));
        }
        sqlx::query("INSERT INTO components (id, nid, doc) SELECT i, n, d FROM unnest($1::text[], $2::bigint[], $3::text[]) AS c(i, n, d) ON CONFLICT (id) DO UPDATE SET nid = excluded.nid, doc = excluded.doc")
            .bind(ids)
            .bind(nids)
            .bind(docs)
            .execute(&mut **tx)
            .await
            .map_err(backend(op))?;
        Ok(())
    }

    /// Create or replace interfaces (by MAC) in one statement (the last of a repeated MAC
    /// wins).
    async fn upsert_interfaces(
        tx: &mut Transaction<'_, Postgres>,
        op: &'static str,
        ifaces: &[EthernetInterface],
    ) -> StoreResult<()> {
        if ifaces.is_empty() {
            return Ok(());
        }
        let batch = last_wins(ifaces, |i| i.id());
        let mut ids = Vec::with_capacity(batch.len());
        let mut owners: Vec<Option<String>> = Vec::with_capacity(batch.len());
        let mut docs = Vec::with_capacity(batch.len());
        for (_, i) in batch {
            ids.push(i.id());
            owners.push(i.component_id.as_ref().map(|x| x.as_str().to_string()));
            docs.push(encode(i));
        }
        sqlx::query("INSERT INTO ethernet_interfaces (id, component_id, doc) SELECT i, c, d FROM unnest($1::text[], $2::text[], $3::text[]) AS e(i, c, d) ON CONFLICT (id) DO UPDATE SET component_id = excluded.component_id, doc = excluded.doc")
            .bind(ids)
            .bind(owners)
            .bind(docs)
            .execute(&mut **tx)
            .await
            .map_err(backend(op))?;
        Ok(())
    }

    /// Create or replace component endpoints in one statement (the last of a repeated id
    /// wins).
    async fn upsert_component_endpoints(
        tx: &mut Transaction<'_, Postgres>,
        op: &'static str,
        ces: &[ComponentEndpoint],
    ) -> StoreResult<()> {
        if ces.is_empty() {
            return Ok(());
        }
        let batch = last_wins(ces, |ce| ce.id.as_str());
        let mut ids = Vec::with_capacity(batch.len());
        let mut endpoints = Vec::with_capacity(batch.len());
        let mut docs = Vec::with_capacity(batch.len());
        for (_, ce) in batch {
            ids.push(ce.id.as_str().to_string());
            endpoints.push(ce.redfish_endpoint_id.as_str().to_string());
            docs.push(encode(ce));
        }
        sqlx::query("INSERT INTO component_endpoints (id, endpoint_id, doc) SELECT i, e, d FROM unnest($1::text[], $2::text[], $3::text[]) AS c(i, e, d) ON CONFLICT (id) DO UPDATE SET endpoint_id = excluded.endpoint_id, doc = excluded.doc")
            .bind(ids)
            .bind(endpoints)
            .bind(docs)
            .execute(&mut **tx)
            .await
            .map_err(backend(op))?;
        Ok(())
    }
}

fn group_doc(g: &Group) -> String {
    encode(&GroupDoc {
        description: g.description.clone(),
        tags: g.tags.clone(),
        exclusive_group: g.exclusive_group.clone(),
    })
}

#[async_trait]
impl InventoryStore for PostgresStore {
    async fn list_components(&self) -> StoreResult<Vec<Component>> {
        self.docs("component", "SELECT doc FROM components ORDER BY id")
            .await
    }

    async fn get_component(&self, id: &Xname) -> StoreResult<Option<Component>> {
        self.doc(
            "component",
            "SELECT doc FROM components WHERE id = $1",
            id.as_str(),
        )
        .await
    }

    async fn put_components(&self, components: &[Component]) -> StoreResult<()> {
        let op = "put components";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        Self::upsert_components(&mut tx, op, components).await?;
        tx.commit().await.map_err(backend(op))
    }

    async fn delete_component(&self, id: &Xname) -> StoreResult<bool> {
        let op = "delete component";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        sqlx::query("DELETE FROM group_members WHERE member = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend(op))?;
        let r = sqlx::query("DELETE FROM components WHERE id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend(op))?;
        tx.commit().await.map_err(backend(op))?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_all_components(&self) -> StoreResult<u64> {
        let op = "delete all components";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        sqlx::query("DELETE FROM group_members")
            .execute(&mut *tx)
            .await
            .map_err(backend(op))?;
        let r = sqlx::query("DELETE FROM components")
            .execute(&mut *tx)
            .await
            .map_err(backend(op))?;
        tx.commit().await.map_err(backend(op))?;
        Ok(r.rows_affected())
    }

    async fn list_ethernet_interfaces(&self) -> StoreResult<Vec<EthernetInterface>> {
        self.docs(
            "ethernet interface",
            "SELECT doc FROM ethernet_interfaces ORDER BY id",
        )
        .await
    }

    async fn get_ethernet_interface(&self, id: &str) -> StoreResult<Option<EthernetInterface>> {
        self.doc(
            "ethernet interface",
            "SELECT doc FROM ethernet_interfaces WHERE id = $1",
            id,
        )
        .await
    }

    async fn insert_ethernet_interfaces(&self, ifaces: &[EthernetInterface]) -> StoreResult<()> {
        let op = "insert ethernet interfaces";
        // Row by row, so a conflict names the interface (the first, in the order given).
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        for i in ifaces {
            let r = sqlx::query(
                "INSERT INTO ethernet_interfaces (id, component_id, doc) VALUES ($1, $2, $3)",
            )
            .bind(i.id())
            .bind(i.component_id.as_ref().map(|x| x.as_str()))
            .bind(encode(i))
            .execute(&mut *tx)
            .await;
            match r {
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict {
                        what: format!("ethernet interface {} (MAC {})", i.id(), i.mac),
                    });
                }
                r => r.map_err(backend(op))?,
            };
        }
        tx.commit().await.map_err(backend(op))
    }

    async fn update_ethernet_interface(&self, iface: &EthernetInterface) -> StoreResult<bool> {
        let r =
            sqlx::query("UPDATE ethernet_interfaces SET component_id = $1, doc = $2 WHERE id = $3")
                .bind(iface.component_id.as_ref().map(|x| x.as_str()))
                .bind(encode(iface))
                .bind(iface.id())
                .execute(&self.pool)
                .await
                .map_err(backend("update ethernet interface"))?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_ethernet_interface(&self, id: &str) -> StoreResult<bool> {
        self.delete_by_key(
            "delete ethernet interface",
            "DELETE FROM ethernet_interfaces WHERE id = $1",
            id,
        )
        .await
    }

    async fn delete_all_ethernet_interfaces(&self) -> StoreResult<u64> {
        self.delete_all(
            "delete all ethernet interfaces",
            "DELETE FROM ethernet_interfaces",
        )
        .await
    }

    async fn list_groups(&self, kind: GroupKind) -> StoreResult<Vec<Group>> {
        self.groups_where(kind, None).await
    }

    async fn get_group(&self, kind: GroupKind, label: &str) -> StoreResult<Option<Group>> {
        Ok(self.groups_where(kind, Some(label)).await?.pop())
    }

    async fn insert_group(&self, kind: GroupKind, group: &Group) -> StoreResult<()> {
        let op = "insert group";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        let r = sqlx::query("INSERT INTO groups (kind, label, doc) VALUES ($1, $2, $3)")
            .bind(kind.as_str())
            .bind(&group.label)
            .bind(group_doc(group))
            .execute(&mut *tx)
            .await;
        match r {
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict {
                    what: format!("{} '{}'", kind.as_str(), group.label),
                });
            }
            r => r.map_err(backend(op))?,
        };
        Self::write_members(&mut tx, kind, group).await?;
        tx.commit().await.map_err(backend(op))
    }

    async fn update_group(&self, kind: GroupKind, group: &Group) -> StoreResult<bool> {
        let op = "update group";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        let r = sqlx::query("UPDATE groups SET doc = $1 WHERE kind = $2 AND label = $3")
            .bind(group_doc(group))
            .bind(kind.as_str())
            .bind(&group.label)
            .execute(&mut *tx)
            .await
            .map_err(backend(op))?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        Self::write_members(&mut tx, kind, group).await?;
        tx.commit().await.map_err(backend(op))?;
        Ok(true)
    }

    async fn delete_group(&self, kind: GroupKind, label: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM groups WHERE kind = $1 AND label = $2")
            .bind(kind.as_str())
            .bind(label)
            .execute(&self.pool)
            .await
            .map_err(backend("delete group"))?;
        Ok(r.rows_affected() > 0)
    }

    async fn list_redfish_endpoints(&self) -> StoreResult<Vec<RedfishEndpoint>> {
        let eps: Vec<RedfishEndpoint> = self
            .docs(
                "redfish endpoint",
                "SELECT doc FROM redfish_endpoints ORDER BY id",
            )
            .await?;
        eps.into_iter().map(|e| self.unseal_endpoint(e)).collect()
    }

    async fn get_redfish_endpoint(&self, id: &Xname) -> StoreResult<Option<RedfishEndpoint>> {
        let ep: Option<RedfishEndpoint> = self
            .doc(
                "redfish endpoint",
                "SELECT doc FROM redfish_endpoints WHERE id = $1",
                id.as_str(),
            )
            .await?;
        ep.map(|e| self.unseal_endpoint(e)).transpose()
    }

    async fn insert_redfish_endpoints(&self, eps: &[RedfishEndpoint]) -> StoreResult<()> {
        let op = "insert redfish endpoints";
        // Row by row, so a conflict names the endpoint (the first, in the order given).
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        for ep in eps {
            let r = sqlx::query("INSERT INTO redfish_endpoints (id, doc) VALUES ($1, $2)")
                .bind(ep.id.as_str())
                .bind(self.sealed_endpoint(ep))
                .execute(&mut *tx)
                .await;
            match r {
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict {
                        what: format!("redfish endpoint {}", ep.id),
                    });
                }
                r => r.map_err(backend(op))?,
            };
        }
        tx.commit().await.map_err(backend(op))
    }

    async fn update_redfish_endpoint(&self, ep: &RedfishEndpoint) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE redfish_endpoints SET doc = $1 WHERE id = $2")
            .bind(self.sealed_endpoint(ep))
            .bind(ep.id.as_str())
            .execute(&self.pool)
            .await
            .map_err(backend("update redfish endpoint"))?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_redfish_endpoint(&self, id: &Xname) -> StoreResult<bool> {
        self.delete_by_key(
            "delete redfish endpoint",
            "DELETE FROM redfish_endpoints WHERE id = $1",
            id.as_str(),
        )
        .await
    }

    async fn delete_all_redfish_endpoints(&self) -> StoreResult<u64> {
        self.delete_all(
            "delete all redfish endpoints",
            "DELETE FROM redfish_endpoints",
        )
        .await
    }

    async fn list_component_endpoints(&self) -> StoreResult<Vec<ComponentEndpoint>> {
        self.docs(
            "component endpoint",
            "SELECT doc FROM component_endpoints ORDER BY id",
        )
        .await
    }

    async fn component_endpoints_of(&self, bmc: &Xname) -> StoreResult<Vec<ComponentEndpoint>> {
        let what = "component endpoints of a BMC";
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT doc FROM component_endpoints WHERE endpoint_id = $1 ORDER BY id",
        )
        .bind(bmc.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(backend(what))?;
        rows.iter().map(|d| decode(what, d)).collect()
    }

    async fn get_component_endpoint(&self, id: &Xname) -> StoreResult<Option<ComponentEndpoint>> {
        self.doc(
            "component endpoint",
            "SELECT doc FROM component_endpoints WHERE id = $1",
            id.as_str(),
        )
        .await
    }

    async fn record_discovery(&self, w: &DiscoveryWrite) -> StoreResult<()> {
        let op = "record discovery";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        let r = sqlx::query("UPDATE redfish_endpoints SET doc = $1 WHERE id = $2")
            .bind(self.sealed_endpoint(&w.endpoint))
            .bind(w.endpoint.id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend(op))?;
        if r.rows_affected() == 0 {
            // Deleted while it was being discovered: record nothing.
            return Ok(());
        }
        Self::upsert_components(&mut tx, op, &w.components).await?;
        Self::upsert_interfaces(&mut tx, op, &w.interfaces).await?;
        sqlx::query("DELETE FROM component_endpoints WHERE endpoint_id = $1")
            .bind(w.endpoint.id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend(op))?;
        Self::upsert_component_endpoints(&mut tx, op, &w.component_endpoints).await?;
        tx.commit().await.map_err(backend(op))
    }
}

impl PostgresStore {
    /// An endpoint's stored form: its password sealed (`security::seal`).
    fn sealed_endpoint(&self, ep: &RedfishEndpoint) -> String {
        let mut e = ep.clone();
        e.password.0 = self.sealer.seal(&ep.password.0);
        encode(&e)
    }

    fn unseal_endpoint(&self, mut ep: RedfishEndpoint) -> StoreResult<RedfishEndpoint> {
        ep.password.0 = self
            .sealer
            .open(
                &format!("password of redfish endpoint {}", ep.id),
                &ep.password.0,
            )
            .map_err(|e| StoreError::Sealed(e.to_string()))?;
        Ok(ep)
    }
}
