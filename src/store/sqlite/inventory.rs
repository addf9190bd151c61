//! The inventory tables: components, Ethernet interfaces, groups and partitions (members
//! in their own table), Redfish endpoints, component endpoints and discovery writes.

use async_trait::async_trait;
use serde::Serialize;
use sqlx::{Row, Sqlite, Transaction};

use super::{SqliteStore, backend, decode, encode, is_unique_violation};
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

impl SqliteStore {
    async fn write_members(
        tx: &mut Transaction<'_, Sqlite>,
        kind: GroupKind,
        g: &Group,
    ) -> StoreResult<()> {
        sqlx::query("DELETE FROM group_members WHERE kind = ? AND label = ?")
            .bind(kind.as_str())
            .bind(&g.label)
            .execute(&mut **tx)
            .await
            .map_err(backend("write group members"))?;
        for m in &g.members {
            sqlx::query(
                "INSERT OR IGNORE INTO group_members (kind, label, member) VALUES (?, ?, ?)",
            )
            .bind(kind.as_str())
            .bind(&g.label)
            .bind(m.as_str())
            .execute(&mut **tx)
            .await
            .map_err(backend("write group members"))?;
        }
        Ok(())
    }

    async fn groups_where(&self, kind: GroupKind, label: Option<&str>) -> StoreResult<Vec<Group>> {
        let what = "group";
        let rows = sqlx::query("SELECT label, doc FROM groups WHERE kind = ?1 AND (?2 IS NULL OR label = ?2) ORDER BY label")
            .bind(kind.as_str())
            .bind(label)
            .fetch_all(&self.pool)
            .await
            .map_err(backend(what))?;
        let members = sqlx::query(
            "SELECT label, member FROM group_members WHERE kind = ?1 AND (?2 IS NULL OR label = ?2) ORDER BY member",
        )
        .bind(kind.as_str())
        .bind(label)
        .fetch_all(&self.pool)
        .await
        .map_err(backend(what))?;
        let mut by_label: std::collections::HashMap<String, Vec<Xname>> =
            std::collections::HashMap::new();
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
                let doc: GroupDoc = decode(what, r.get::<&str, _>(1))?;
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
}

fn group_doc(g: &Group) -> String {
    encode(&GroupDoc {
        description: g.description.clone(),
        tags: g.tags.clone(),
        exclusive_group: g.exclusive_group.clone(),
    })
}

#[async_trait]
impl InventoryStore for SqliteStore {
    async fn list_components(&self) -> StoreResult<Vec<Component>> {
        self.docs("component", "SELECT doc FROM components ORDER BY id")
            .await
    }

    async fn get_component(&self, id: &Xname) -> StoreResult<Option<Component>> {
        self.doc(
            "component",
            "SELECT doc FROM components WHERE id = ?",
            id.as_str(),
        )
        .await
    }

    async fn put_components(&self, components: &[Component]) -> StoreResult<()> {
        let op = "put components";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        for c in components {
            sqlx::query("INSERT INTO components (id, nid, doc) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET nid = excluded.nid, doc = excluded.doc")
                .bind(c.id.as_str())
                .bind(c.nid)
                .bind(encode(c))
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
        }
        tx.commit().await.map_err(backend(op))
    }

    async fn delete_component(&self, id: &Xname) -> StoreResult<bool> {
        let op = "delete component";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        sqlx::query("DELETE FROM group_members WHERE member = ?")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend(op))?;
        let r = sqlx::query("DELETE FROM components WHERE id = ?")
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
            "SELECT doc FROM ethernet_interfaces WHERE id = ?",
            id,
        )
        .await
    }

    async fn insert_ethernet_interfaces(&self, ifaces: &[EthernetInterface]) -> StoreResult<()> {
        let op = "insert ethernet interfaces";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        for i in ifaces {
            let r = sqlx::query(
                "INSERT INTO ethernet_interfaces (id, component_id, doc) VALUES (?, ?, ?)",
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
            sqlx::query("UPDATE ethernet_interfaces SET component_id = ?, doc = ? WHERE id = ?")
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
            "DELETE FROM ethernet_interfaces WHERE id = ?",
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
        let r = sqlx::query("INSERT INTO groups (kind, label, doc) VALUES (?, ?, ?)")
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
        let r = sqlx::query("UPDATE groups SET doc = ? WHERE kind = ? AND label = ?")
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
        let r = sqlx::query("DELETE FROM groups WHERE kind = ? AND label = ?")
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
                "SELECT doc FROM redfish_endpoints WHERE id = ?",
                id.as_str(),
            )
            .await?;
        ep.map(|e| self.unseal_endpoint(e)).transpose()
    }

    async fn insert_redfish_endpoints(&self, eps: &[RedfishEndpoint]) -> StoreResult<()> {
        let op = "insert redfish endpoints";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        for ep in eps {
            let r = sqlx::query("INSERT INTO redfish_endpoints (id, doc) VALUES (?, ?)")
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
        let r = sqlx::query("UPDATE redfish_endpoints SET doc = ? WHERE id = ?")
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
            "DELETE FROM redfish_endpoints WHERE id = ?",
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
            "SELECT doc FROM component_endpoints WHERE endpoint_id = ? ORDER BY id",
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
            "SELECT doc FROM component_endpoints WHERE id = ?",
            id.as_str(),
        )
        .await
    }

    async fn record_discovery(&self, w: &DiscoveryWrite) -> StoreResult<()> {
        let op = "record discovery";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        let r = sqlx::query("UPDATE redfish_endpoints SET doc = ? WHERE id = ?")
            .bind(self.sealed_endpoint(&w.endpoint))
            .bind(w.endpoint.id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend(op))?;
        if r.rows_affected() == 0 {
            // Deleted while it was being discovered: record nothing.
            return Ok(());
        }
        for c in &w.components {
            sqlx::query("INSERT INTO components (id, nid, doc) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET nid = excluded.nid, doc = excluded.doc")
                .bind(c.id.as_str())
                .bind(c.nid)
                .bind(encode(c))
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
        }
        for i in &w.interfaces {
            sqlx::query("INSERT INTO ethernet_interfaces (id, component_id, doc) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET component_id = excluded.component_id, doc = excluded.doc")
                .bind(i.id())
                .bind(i.component_id.as_ref().map(|x| x.as_str()))
                .bind(encode(i))
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
        }
        sqlx::query("DELETE FROM component_endpoints WHERE endpoint_id = ?")
            .bind(w.endpoint.id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend(op))?;
        for ce in &w.component_endpoints {
            sqlx::query("INSERT INTO component_endpoints (id, endpoint_id, doc) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET endpoint_id = excluded.endpoint_id, doc = excluded.doc")
                .bind(ce.id.as_str())
                .bind(ce.redfish_endpoint_id.as_str())
                .bind(encode(ce))
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
        }
        tx.commit().await.map_err(backend(op))
    }
}

impl SqliteStore {
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
