//! What appliances on one PostgreSQL database share: the store itself, the lock that lets
//! one of them act on the rack, and the keys every one of them signs and checks tokens
//! with. Leader election and failover (several replicas) will grow here.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::config::Config;

/// The keys replicas on one database must agree on.
#[derive(Clone)]
pub struct SharedKeys {
    /// Signs artifact tokens.
    pub artifact: Arc<[u8]>,
    /// Signs `cray auth login` tokens.
    pub jwt: [u8; 32],
}

/// The PostgreSQL store, its acting lock and the shared keys (this data directory's key
/// files offered as the first, or the database's taken).
pub(crate) async fn open_postgres(
    config: &Config,
    url: &str,
) -> anyhow::Result<(
    crate::store::PostgresStore,
    crate::store::postgres::DatabaseLock,
    SharedKeys,
)> {
    let shown = crate::store::postgres::redacted(url);
    let key = crate::security::keyfile::load_or_create::<{ crate::security::seal::KEY_LEN }>(
        &config.data_dir.join("seal.key"),
    )?;
    let store = crate::store::PostgresStore::open(
        &crate::store::postgres::PgSettings::new(url),
        crate::security::seal::Sealer::new(&key),
        Duration::from_secs(30),
    )
    .await
    .with_context(|| format!("cannot open the store at {shown}"))?;
    let lock = store
        .lock_for_acting()
        .await
        .with_context(|| format!("cannot act on {shown}"))?;
    let artifact = store
        .shared_secret(
            "artifact-token-key",
            &crate::artifacts::token_key::load_or_create(&config.data_dir)?,
        )
        .await?;
    let jwt_local =
        crate::security::keyfile::load_or_create::<32>(&config.data_dir.join("jwt.key"))?;
    let jwt: [u8; 32] = store
        .shared_secret("jwt-key", &jwt_local)
        .await?
        .try_into()
        .map_err(|_| anyhow::anyhow!("the database's jwt-key is not 32 bytes"))?;
    tracing::info!(store = %shown, "store: PostgreSQL");
    Ok((
        store,
        lock,
        SharedKeys {
            artifact: artifact.into(),
            jwt,
        },
    ))
}
