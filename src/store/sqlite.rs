//! The embedded store: one SQLite file in the data directory (WAL, foreign keys on).
//!
//! Records are JSON documents of the domain types with their keys as real columns. The
//! schema is created by the embedded migrations in `migrations/sqlite/`, applied in order at
//! open time and recorded in `schema_migrations`, so an old data directory is upgraded in
//! place and a new one needs nothing installed.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

use super::{BootWrite, DiscoveryWrite, EndpointAccess, Store, StoreError, StoreResult, Versioned};
use crate::model::cfs::{CfsComponent, CfsConfiguration};
use crate::model::dhcp::DhcpLease;
use crate::model::power::{PowerTask, Transition};
use crate::model::{
    BootArtifacts, BootComponent, BootParams, Component, ComponentEndpoint, EthernetInterface,
    ExtendedStatus, Group, GroupKind, HostKey, ImageParams, Mac, RedfishEndpoint, Session,
    SessionTemplate, Tenant, Xname,
};

/// Embedded migrations, in order. Never edit one that has shipped; add a new one.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../migrations/sqlite/0001_inventory_and_boot.sql"),
    ),
    (2, include_str!("../../migrations/sqlite/0002_power.sql")),
    (3, include_str!("../../migrations/sqlite/0003_bos.sql")),
    (4, include_str!("../../migrations/sqlite/0004_cfs.sql")),
    (5, include_str!("../../migrations/sqlite/0005_dhcp.sql")),
];

/// Connections to the database file.
const POOL_SIZE: u32 = 4;

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

fn backend(op: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Backend { op, source }
}

fn encode<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("domain records always serialise")
}

/// A transition whose abort was requested reads `abort-signaled` until it is done.
fn with_abort(mut t: Transition, abort_requested: bool) -> Transition {
    if abort_requested && !t.status.is_done() {
        t.status = crate::model::power::TransitionStatus::AbortSignaled;
    }
    t
}

fn decode<T: DeserializeOwned>(what: &str, doc: &str) -> StoreResult<T> {
    serde_json::from_str(doc).map_err(|source| StoreError::Corrupt {
        what: what.to_string(),
        source,
    })
}

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
    /// Open (creating if needed) the database file and bring its schema up to date.
    pub async fn open(path: &Path) -> StoreResult<SqliteStore> {
        let opts = SqliteConnectOptions::from_str("sqlite://")
            .map_err(backend("open"))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Sorts and temporary tables in memory, not in temp files: a file needs a
            // descriptor, and under a boot storm client sockets can take them all (seen at
            // 10,000 nodes: "unable to open database file" from large sorted reads).
            .pragma("temp_store", "memory");
        // For the same reason connections are kept for the store's life, rather than
        // closed when idle and reopened on demand.
        let pool = SqlitePoolOptions::new()
            .max_connections(POOL_SIZE)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts)
            .await
            .map_err(backend("open"))?;
        let store = SqliteStore { pool };
        store.migrate().await?;
        // Open them all now, one after the other (several connections switching a new file
        // to WAL at once get "database is locked").
        let mut held = Vec::new();
        for _ in 0..POOL_SIZE {
            held.push(store.pool.acquire().await.map_err(backend("open"))?);
        }
        drop(held);
        Ok(store)
    }

    async fn migrate(&self) -> StoreResult<()> {
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
            .execute(&self.pool)
            .await
            .map_err(backend("migrate"))?;
        for (version, sql) in MIGRATIONS {
            let mut tx = self.pool.begin().await.map_err(backend("migrate"))?;
            let done: Option<i64> =
                sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = ?")
                    .bind(version)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend("migrate"))?;
            if done.is_some() {
                continue;
            }
            sqlx::raw_sql(*sql)
                .execute(&mut *tx)
                .await
                .map_err(|source| StoreError::Migration {
                    version: *version,
                    source,
                })?;
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)")
                .bind(version)
                .bind(chrono::Utc::now().to_rfc3339())
                .execute(&mut *tx)
                .await
                .map_err(backend("migrate"))?;
            tx.commit().await.map_err(backend("migrate"))?;
        }
        Ok(())
    }

    async fn keyed_doc<T: DeserializeOwned>(
        &self,
        what: &'static str,
        sql: &'static str,
        tenant: &str,
        name: &str,
    ) -> StoreResult<Option<T>> {
        let doc: Option<String> = sqlx::query_scalar(sql)
            .bind(tenant)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend(what))?;
        doc.map(|d| decode(what, &d)).transpose()
    }

    /// Every row of a versioned table (`doc`, `gen`), optionally filtered, in id order.
    async fn versioned<T: DeserializeOwned>(
        &self,
        what: &'static str,
        sql: &'static str,
    ) -> StoreResult<Vec<Versioned<T>>> {
        let rows = sqlx::query(sql)
            .fetch_all(&self.pool)
            .await
            .map_err(backend(what))?;
        rows.iter()
            .map(|r| {
                Ok(Versioned {
                    value: decode(what, &r.get::<String, _>(0))?,
                    generation: r.get(1),
                })
            })
            .collect()
    }

    /// The rows of a versioned table with these ids (`sql` binds a JSON array of ids),
    /// in id order.
    async fn versioned_by_ids<T: DeserializeOwned>(
        &self,
        what: &'static str,
        sql: &'static str,
        ids: &[String],
        id_of: impl Fn(&T) -> &str,
    ) -> StoreResult<Vec<Versioned<T>>> {
        let mut out: Vec<Versioned<T>> = Vec::new();
        for chunk in ids.chunks(5000) {
            let rows = sqlx::query(sql)
                .bind(encode(&chunk))
                .fetch_all(&self.pool)
                .await
                .map_err(backend(what))?;
            for r in rows {
                out.push(Versioned {
                    value: decode(what, &r.get::<String, _>(0))?,
                    generation: r.get(1),
                });
            }
        }
        out.sort_by(|a, b| id_of(&a.value).cmp(id_of(&b.value)));
        Ok(out)
    }

    /// Compare-and-set through `sql`, an upsert over a JSON array of `{gen, doc}` that
    /// writes only where the generation still matches and returns the ids it wrote.
    /// Returns the ids that were not written.
    async fn compare_and_set<T: Serialize>(
        &self,
        op: &'static str,
        sql: &'static str,
        items: &[Versioned<T>],
        id_of: impl Fn(&T) -> &str,
    ) -> StoreResult<Vec<String>> {
        let mut conflicts = Vec::new();
        for chunk in items.chunks(5000) {
            let docs: Vec<serde_json::Value> = chunk
                .iter()
                .map(|v| serde_json::json!({"gen": v.generation, "doc": v.value}))
                .collect();
            let written: Vec<String> = sqlx::query_scalar(sql)
                .bind(serde_json::Value::Array(docs).to_string())
                .fetch_all(&self.pool)
                .await
                .map_err(backend(op))?;
            let written: std::collections::HashSet<String> = written.into_iter().collect();
            conflicts.extend(
                chunk
                    .iter()
                    .map(|v| id_of(&v.value))
                    .filter(|id| !written.contains(*id))
                    .map(String::from),
            );
        }
        Ok(conflicts)
    }

    async fn docs<T: DeserializeOwned>(
        &self,
        what: &'static str,
        sql: &'static str,
    ) -> StoreResult<Vec<T>> {
        let rows: Vec<String> = sqlx::query_scalar(sql)
            .fetch_all(&self.pool)
            .await
            .map_err(backend(what))?;
        rows.iter().map(|d| decode(what, d)).collect()
    }

    async fn doc<T: DeserializeOwned>(
        &self,
        what: &'static str,
        sql: &'static str,
        key: &str,
    ) -> StoreResult<Option<T>> {
        let row: Option<String> = sqlx::query_scalar(sql)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend(what))?;
        row.map(|d| decode(what, &d)).transpose()
    }

    async fn delete_by_key(
        &self,
        what: &'static str,
        sql: &'static str,
        key: &str,
    ) -> StoreResult<bool> {
        let r = sqlx::query(sql)
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(backend(what))?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_all(&self, what: &'static str, sql: &'static str) -> StoreResult<u64> {
        let r = sqlx::query(sql)
            .execute(&self.pool)
            .await
            .map_err(backend(what))?;
        Ok(r.rows_affected())
    }

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

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

#[async_trait]
impl Store for SqliteStore {
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
        self.docs(
            "redfish endpoint",
            "SELECT doc FROM redfish_endpoints ORDER BY id",
        )
        .await
    }

    async fn get_redfish_endpoint(&self, id: &Xname) -> StoreResult<Option<RedfishEndpoint>> {
        self.doc(
            "redfish endpoint",
            "SELECT doc FROM redfish_endpoints WHERE id = ?",
            id.as_str(),
        )
        .await
    }

    async fn insert_redfish_endpoints(&self, eps: &[RedfishEndpoint]) -> StoreResult<()> {
        let op = "insert redfish endpoints";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        for ep in eps {
            let r = sqlx::query("INSERT INTO redfish_endpoints (id, doc) VALUES (?, ?)")
                .bind(ep.id.as_str())
                .bind(encode(ep))
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
            .bind(encode(ep))
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
            .bind(encode(&w.endpoint))
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

    async fn insert_transition(&self, t: &Transition, tasks: &[PowerTask]) -> StoreResult<()> {
        let op = "insert transition";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        let r =
            sqlx::query("INSERT INTO transitions (id, created, expires, doc) VALUES (?, ?, ?, ?)")
                .bind(t.id.to_string())
                .bind(t.created.to_rfc3339())
                .bind(t.expires.to_rfc3339())
                .bind(encode(t))
                .execute(&mut *tx)
                .await;
        match r {
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict {
                    what: format!("transition {}", t.id),
                });
            }
            r => r.map_err(backend(op))?,
        };
        // One statement for all tasks (a transition may have tens of thousands): the
        // array index becomes the task's order.
        sqlx::query("INSERT INTO transition_tasks (transition_id, seq, xname, doc) SELECT ?1, key, json_extract(value, '$.xname'), value FROM json_each(?2)")
            .bind(t.id.to_string())
            .bind(encode(&tasks))
            .execute(&mut *tx)
            .await
            .map_err(backend(op))?;
        tx.commit().await.map_err(backend(op))
    }

    async fn update_transition(&self, t: &Transition, tasks: &[PowerTask]) -> StoreResult<bool> {
        let op = "update transition";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        let r = sqlx::query("UPDATE transitions SET doc = ? WHERE id = ?")
            .bind(encode(t))
            .bind(t.id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(backend(op))?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        if !tasks.is_empty() {
            // One statement per batch of progress, however many tasks changed.
            // An upsert driven by the array: one primary-key lookup per changed task (an
            // UPDATE … FROM json_each makes SQLite scan the whole table per element). Tasks
            // always exist, so it only ever updates.
            sqlx::query("INSERT INTO transition_tasks (transition_id, seq, xname, doc) SELECT ?2, key, json_extract(value, '$.xname'), value FROM json_each(?1) WHERE true ON CONFLICT (transition_id, xname) DO UPDATE SET doc = excluded.doc")
                .bind(encode(&tasks))
                .bind(t.id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
        }
        tx.commit().await.map_err(backend(op))?;
        Ok(true)
    }

    async fn get_transition(
        &self,
        id: uuid::Uuid,
    ) -> StoreResult<Option<(Transition, Vec<PowerTask>)>> {
        let what = "transition";
        let row = sqlx::query("SELECT doc, abort_requested FROM transitions WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend(what))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let t = with_abort(
            decode(what, &row.get::<String, _>(0))?,
            row.get::<i64, _>(1) != 0,
        );
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT doc FROM transition_tasks WHERE transition_id = ? ORDER BY seq",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(backend(what))?;
        let tasks = rows
            .iter()
            .map(|d| decode("transition task", d))
            .collect::<StoreResult<Vec<PowerTask>>>()?;
        Ok(Some((t, tasks)))
    }

    async fn list_transitions(&self) -> StoreResult<Vec<Transition>> {
        let what = "transition";
        let rows = sqlx::query("SELECT doc, abort_requested FROM transitions ORDER BY created, id")
            .fetch_all(&self.pool)
            .await
            .map_err(backend(what))?;
        rows.iter()
            .map(|r| {
                Ok(with_abort(
                    decode(what, &r.get::<String, _>(0))?,
                    r.get::<i64, _>(1) != 0,
                ))
            })
            .collect()
    }

    async fn request_transition_abort(&self, id: uuid::Uuid) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE transitions SET abort_requested = 1 WHERE id = ?")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend("request transition abort"))?;
        Ok(r.rows_affected() > 0)
    }

    async fn transition_abort_requested(&self, id: uuid::Uuid) -> StoreResult<bool> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT abort_requested FROM transitions WHERE id = ?")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend("read transition abort"))?;
        Ok(v.unwrap_or(0) != 0)
    }

    async fn delete_expired_transitions(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM transitions WHERE expires < ?")
            .bind(now.to_rfc3339())
            .execute(&self.pool)
            .await
            .map_err(backend("delete expired transitions"))?;
        Ok(r.rows_affected())
    }

    async fn list_boot_params(&self) -> StoreResult<Vec<(HostKey, BootParams)>> {
        let rows = sqlx::query("SELECT host, doc FROM boot_params ORDER BY host")
            .fetch_all(&self.pool)
            .await
            .map_err(backend("list boot params"))?;
        rows.into_iter()
            .map(|r| {
                let host: String = r.get(0);
                let doc: BootParams = decode("boot params", r.get::<&str, _>(1))?;
                Ok((HostKey::from_key(&host), doc))
            })
            .collect()
    }

    async fn list_image_params(&self) -> StoreResult<Vec<ImageParams>> {
        self.docs(
            "image params",
            "SELECT doc FROM image_params ORDER BY kind, path",
        )
        .await
    }

    async fn write_boot(&self, w: &BootWrite) -> StoreResult<()> {
        let op = "write boot params";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        for h in &w.delete_hosts {
            sqlx::query("DELETE FROM boot_params WHERE host = ?")
                .bind(h.key())
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
        }
        for (kind, path) in &w.delete_images {
            sqlx::query("DELETE FROM image_params WHERE kind = ? AND path = ?")
                .bind(kind.as_str())
                .bind(path)
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
        }
        for (h, bp) in &w.put_hosts {
            sqlx::query("INSERT INTO boot_params (host, doc) VALUES (?, ?) ON CONFLICT (host) DO UPDATE SET doc = excluded.doc")
                .bind(h.key())
                .bind(encode(bp))
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
        }
        for img in &w.put_images {
            sqlx::query("INSERT INTO image_params (kind, path, doc) VALUES (?, ?, ?) ON CONFLICT (kind, path) DO UPDATE SET doc = excluded.doc")
                .bind(img.kind.as_str())
                .bind(&img.path)
                .bind(encode(img))
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
        }
        tx.commit().await.map_err(backend(op))
    }

    async fn record_endpoint_access(&self, entries: &[EndpointAccess]) -> StoreResult<()> {
        let op = "record endpoint access";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        for e in entries {
            sqlx::query("INSERT INTO endpoint_access (name, endpoint, last_epoch) VALUES (?, ?, ?) ON CONFLICT (name, endpoint) DO UPDATE SET last_epoch = max(last_epoch, excluded.last_epoch)")
                .bind(&e.name)
                .bind(&e.endpoint)
                .bind(e.last_epoch)
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?;
        }
        tx.commit().await.map_err(backend(op))
    }

    async fn list_endpoint_access(&self) -> StoreResult<Vec<EndpointAccess>> {
        let rows = sqlx::query(
            "SELECT name, endpoint, last_epoch FROM endpoint_access ORDER BY name, endpoint",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend("list endpoint access"))?;
        Ok(rows
            .into_iter()
            .map(|r| EndpointAccess {
                name: r.get(0),
                endpoint: r.get(1),
                last_epoch: r.get(2),
            })
            .collect())
    }

    async fn list_boot_components(
        &self,
        enabled_only: bool,
    ) -> StoreResult<Vec<Versioned<BootComponent>>> {
        if enabled_only {
            self.versioned(
                "BOS components",
                "SELECT doc, gen FROM boot_components WHERE enabled = 1 ORDER BY id",
            )
            .await
        } else {
            self.versioned(
                "BOS components",
                "SELECT doc, gen FROM boot_components ORDER BY id",
            )
            .await
        }
    }

    async fn get_boot_component(&self, id: &str) -> StoreResult<Option<Versioned<BootComponent>>> {
        let what = "BOS component";
        let row = sqlx::query("SELECT doc, gen FROM boot_components WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend(what))?;
        row.map(|r| {
            Ok(Versioned {
                value: decode(what, &r.get::<String, _>(0))?,
                generation: r.get(1),
            })
        })
        .transpose()
    }

    async fn get_boot_components(
        &self,
        ids: &[String],
    ) -> StoreResult<Vec<Versioned<BootComponent>>> {
        self.versioned_by_ids(
            "BOS components",
            "SELECT doc, gen FROM boot_components WHERE id IN (SELECT value FROM json_each(?))",
            ids,
            |c: &BootComponent| c.id.as_str(),
        )
        .await
    }

    async fn put_boot_components(&self, components: &[BootComponent]) -> StoreResult<()> {
        let op = "put BOS components";
        for chunk in components.chunks(5000) {
            sqlx::query("INSERT INTO boot_components (id, gen, enabled, doc) SELECT json_extract(value, '$.id'), 1, json_extract(value, '$.enabled'), value FROM json_each(?1) WHERE true ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, enabled = excluded.enabled, gen = boot_components.gen + 1")
                .bind(encode(&chunk))
                .execute(&self.pool)
                .await
                .map_err(backend(op))?;
        }
        Ok(())
    }

    async fn update_boot_components(
        &self,
        components: &[Versioned<BootComponent>],
    ) -> StoreResult<Vec<String>> {
        // One upsert whose update only fires where the generation still matches; the rows
        // it wrote come back, so the rest are the conflicts.
        self.compare_and_set(
            "update BOS components",
            "INSERT INTO boot_components (id, gen, enabled, doc) SELECT json_extract(value, '$.doc.id'), json_extract(value, '$.gen') + 1, json_extract(value, '$.doc.enabled'), json_extract(value, '$.doc') FROM json_each(?1) WHERE true ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, enabled = excluded.enabled, gen = boot_components.gen + 1 WHERE boot_components.gen + 1 = excluded.gen RETURNING id",
            components,
            |c: &BootComponent| c.id.as_str(),
        )
        .await
    }

    async fn delete_boot_component(&self, id: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM boot_components WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend("delete BOS component"))?;
        Ok(r.rows_affected() > 0)
    }

    async fn list_session_templates(&self) -> StoreResult<Vec<SessionTemplate>> {
        self.docs(
            "session templates",
            "SELECT doc FROM session_templates ORDER BY tenant, name",
        )
        .await
    }

    async fn get_session_template(
        &self,
        tenant: &str,
        name: &str,
    ) -> StoreResult<Option<SessionTemplate>> {
        self.keyed_doc(
            "session template",
            "SELECT doc FROM session_templates WHERE tenant = ? AND name = ?",
            tenant,
            name,
        )
        .await
    }

    async fn put_session_template(&self, t: &SessionTemplate) -> StoreResult<()> {
        sqlx::query("INSERT INTO session_templates (tenant, name, doc) VALUES (?, ?, ?) ON CONFLICT (tenant, name) DO UPDATE SET doc = excluded.doc")
            .bind(t.tenant.as_deref().unwrap_or(""))
            .bind(&t.name)
            .bind(encode(t))
            .execute(&self.pool)
            .await
            .map_err(backend("put session template"))?;
        Ok(())
    }

    async fn delete_session_template(&self, tenant: &str, name: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM session_templates WHERE tenant = ? AND name = ?")
            .bind(tenant)
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(backend("delete session template"))?;
        Ok(r.rows_affected() > 0)
    }

    async fn list_sessions(&self) -> StoreResult<Vec<Session>> {
        self.docs("sessions", "SELECT doc FROM sessions ORDER BY tenant, name")
            .await
    }

    async fn get_session(&self, tenant: &str, name: &str) -> StoreResult<Option<Session>> {
        self.keyed_doc(
            "session",
            "SELECT doc FROM sessions WHERE tenant = ? AND name = ?",
            tenant,
            name,
        )
        .await
    }

    async fn insert_session(&self, s: &Session) -> StoreResult<()> {
        let r = sqlx::query("INSERT INTO sessions (tenant, name, doc) VALUES (?, ?, ?)")
            .bind(s.tenant.as_deref().unwrap_or(""))
            .bind(&s.name)
            .bind(encode(s))
            .execute(&self.pool)
            .await;
        match r {
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict {
                what: format!("session {}", s.name),
            }),
            r => r.map(|_| ()).map_err(backend("insert session")),
        }
    }

    async fn update_session(&self, s: &Session) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE sessions SET doc = ? WHERE tenant = ? AND name = ?")
            .bind(encode(s))
            .bind(s.tenant.as_deref().unwrap_or(""))
            .bind(&s.name)
            .execute(&self.pool)
            .await
            .map_err(backend("update session"))?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_sessions(&self, keys: &[(String, String)]) -> StoreResult<u64> {
        let op = "delete sessions";
        let mut tx = self.pool.begin().await.map_err(backend(op))?;
        let mut n = 0;
        for (tenant, name) in keys {
            n += sqlx::query("DELETE FROM sessions WHERE tenant = ? AND name = ?")
                .bind(tenant)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(backend(op))?
                .rows_affected();
        }
        tx.commit().await.map_err(backend(op))?;
        Ok(n)
    }

    async fn save_session_status(
        &self,
        tenant: &str,
        name: &str,
        status: &ExtendedStatus,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET saved_status = ? WHERE tenant = ? AND name = ?")
            .bind(encode(status))
            .bind(tenant)
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(backend("save session status"))?;
        Ok(())
    }

    async fn saved_session_status(
        &self,
        tenant: &str,
        name: &str,
    ) -> StoreResult<Option<ExtendedStatus>> {
        let what = "saved session status";
        let doc: Option<Option<String>> =
            sqlx::query_scalar("SELECT saved_status FROM sessions WHERE tenant = ? AND name = ?")
                .bind(tenant)
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend(what))?;
        doc.flatten().map(|d| decode(what, &d)).transpose()
    }

    async fn put_boot_token(&self, token: &str, artifacts: &BootArtifacts) -> StoreResult<()> {
        sqlx::query("INSERT INTO boot_tokens (token, created, doc) VALUES (?, ?, ?) ON CONFLICT (token) DO UPDATE SET doc = excluded.doc")
            .bind(token)
            .bind(chrono::Utc::now().to_rfc3339())
            .bind(encode(artifacts))
            .execute(&self.pool)
            .await
            .map_err(backend("put boot token"))?;
        Ok(())
    }

    async fn get_boot_token(&self, token: &str) -> StoreResult<Option<BootArtifacts>> {
        let what = "boot token";
        let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM boot_tokens WHERE token = ?")
            .bind(token)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend(what))?;
        doc.map(|d| decode(what, &d)).transpose()
    }

    async fn get_bos_options(
        &self,
    ) -> StoreResult<Option<serde_json::Map<String, serde_json::Value>>> {
        let what = "BOS options";
        let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM bos_options WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend(what))?;
        doc.map(|d| decode(what, &d)).transpose()
    }

    async fn put_bos_options(
        &self,
        options: &serde_json::Map<String, serde_json::Value>,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO bos_options (id, doc) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc")
            .bind(encode(options))
            .execute(&self.pool)
            .await
            .map_err(backend("put BOS options"))?;
        Ok(())
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        self.docs("tenants", "SELECT doc FROM tenants ORDER BY name")
            .await
    }

    async fn get_tenant(&self, name: &str) -> StoreResult<Option<Tenant>> {
        let what = "tenant";
        let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM tenants WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend(what))?;
        doc.map(|d| decode(what, &d)).transpose()
    }

    async fn put_tenant(&self, t: &Tenant) -> StoreResult<()> {
        sqlx::query("INSERT INTO tenants (name, doc) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc")
            .bind(&t.name)
            .bind(encode(t))
            .execute(&self.pool)
            .await
            .map_err(backend("put tenant"))?;
        Ok(())
    }

    async fn delete_tenant(&self, name: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM tenants WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(backend("delete tenant"))?;
        Ok(r.rows_affected() > 0)
    }

    async fn list_cfs_components(&self) -> StoreResult<Vec<Versioned<CfsComponent>>> {
        self.versioned(
            "CFS components",
            "SELECT doc, gen FROM cfs_components ORDER BY id",
        )
        .await
    }

    async fn get_cfs_components(
        &self,
        ids: &[String],
    ) -> StoreResult<Vec<Versioned<CfsComponent>>> {
        self.versioned_by_ids(
            "CFS components",
            "SELECT doc, gen FROM cfs_components WHERE id IN (SELECT value FROM json_each(?))",
            ids,
            |c: &CfsComponent| c.id.as_str(),
        )
        .await
    }

    async fn put_cfs_components(&self, components: &[CfsComponent]) -> StoreResult<()> {
        for chunk in components.chunks(5000) {
            sqlx::query("INSERT INTO cfs_components (id, gen, doc) SELECT json_extract(value, '$.id'), 1, value FROM json_each(?1) WHERE true ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, gen = cfs_components.gen + 1")
                .bind(encode(&chunk))
                .execute(&self.pool)
                .await
                .map_err(backend("put CFS components"))?;
        }
        Ok(())
    }

    async fn update_cfs_components(
        &self,
        components: &[Versioned<CfsComponent>],
    ) -> StoreResult<Vec<String>> {
        // As for BOS components; a new row is generation 0 + 1.
        self.compare_and_set(
            "update CFS components",
            "INSERT INTO cfs_components (id, gen, doc) SELECT json_extract(value, '$.doc.id'), json_extract(value, '$.gen') + 1, json_extract(value, '$.doc') FROM json_each(?1) WHERE true ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, gen = cfs_components.gen + 1 WHERE cfs_components.gen + 1 = excluded.gen RETURNING id",
            components,
            |c: &CfsComponent| c.id.as_str(),
        )
        .await
    }

    async fn delete_cfs_component(&self, id: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM cfs_components WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend("delete CFS component"))?;
        Ok(r.rows_affected() > 0)
    }

    async fn list_cfs_configurations(&self) -> StoreResult<Vec<CfsConfiguration>> {
        self.docs(
            "CFS configurations",
            "SELECT doc FROM cfs_configurations ORDER BY name",
        )
        .await
    }

    async fn get_cfs_configuration(&self, name: &str) -> StoreResult<Option<CfsConfiguration>> {
        self.doc(
            "CFS configuration",
            "SELECT doc FROM cfs_configurations WHERE name = ?",
            name,
        )
        .await
    }

    async fn put_cfs_configuration(&self, c: &CfsConfiguration) -> StoreResult<()> {
        sqlx::query("INSERT INTO cfs_configurations (name, doc) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc")
            .bind(&c.name)
            .bind(encode(c))
            .execute(&self.pool)
            .await
            .map_err(backend("put CFS configuration"))?;
        Ok(())
    }

    async fn delete_cfs_configuration(&self, name: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM cfs_configurations WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(backend("delete CFS configuration"))?;
        Ok(r.rows_affected() > 0)
    }

    async fn list_dhcp_leases(&self) -> StoreResult<Vec<DhcpLease>> {
        self.docs("DHCP leases", "SELECT doc FROM dhcp_leases ORDER BY mac")
            .await
    }

    async fn put_dhcp_lease(&self, lease: &DhcpLease) -> StoreResult<()> {
        sqlx::query("INSERT INTO dhcp_leases (mac, doc) VALUES (?, ?) ON CONFLICT (mac) DO UPDATE SET doc = excluded.doc")
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
            "DELETE FROM dhcp_leases WHERE mac = ?",
            &mac.to_string(),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_passes_the_store_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("rackboot.db"))
            .await
            .unwrap();
        crate::store::conformance::run_all(&store).await;
    }

    #[tokio::test]
    async fn reopening_keeps_records_and_does_not_reapply_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rackboot.db");
        {
            let s = SqliteStore::open(&path).await.unwrap();
            s.put_components(&[Component::new(Xname::parse("x1c0s0b0n0").unwrap())])
                .await
                .unwrap();
            s.pool.close().await;
        }
        let s = SqliteStore::open(&path).await.unwrap();
        assert_eq!(s.list_components().await.unwrap().len(), 1);
    }
}
