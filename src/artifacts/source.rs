//! [`ArtifactSource`]: read and write `s3://bucket/key` objects, from S3 or a local directory.
//!
//! Both are object_store backends behind one implementation: S3 (any endpoint: Ceph RGW,
//! MinIO, AWS; path-style or virtual-hosted; an optional CA) or a local directory whose
//! top-level directories are the buckets. Errors say which source and what went wrong, so a
//! 502 to a node or a failed import names the endpoint and the cause.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as StorePath;
use object_store::{GetOptions, ObjectStore, ObjectStoreExt, PutPayload};

use super::ObjectRef;

/// Where artifacts come from (validated configuration).
#[derive(Clone, PartialEq, Eq)]
pub enum SourceConfig {
    /// A directory whose top-level directories are buckets.
    Local { root: PathBuf },
    S3 {
        endpoint: String,
        region: String,
        access_key: String,
        secret_key: String,
        /// Path-style requests (`endpoint/bucket/key`), as most on-premises S3 servers want.
        path_style: bool,
        /// PEM of a CA to trust for the endpoint.
        ca_pem: Option<String>,
    },
}

impl std::fmt::Debug for SourceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceConfig::Local { root } => write!(f, "Local({})", root.display()),
            SourceConfig::S3 {
                endpoint, region, ..
            } => write!(f, "S3({endpoint}, {region})"),
        }
    }
}

/// What is known about an object without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub size: u64,
    pub etag: Option<String>,
    pub last_modified: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("{object} not found in {source_name}")]
    NotFound { source_name: String, object: String },
    #[error("{source_name} refused access to {object}: {cause}")]
    Denied {
        source_name: String,
        object: String,
        cause: String,
    },
    #[error("cannot read {object} from {source_name}: {cause}")]
    Unavailable {
        source_name: String,
        object: String,
        cause: String,
    },
    #[error("invalid artifact source {source_name}: {cause}")]
    Config { source_name: String, cause: String },
}

/// A stream of an object's bytes; an error mid-stream names the object.
pub type ByteStream = BoxStream<'static, Result<Bytes, SourceError>>;

#[async_trait]
pub trait ArtifactSource: Send + Sync + 'static {
    /// A human name for messages: `S3 http://10.0.0.5:9000` or `local directory /var/…`.
    fn name(&self) -> &str;
    async fn head(&self, obj: &ObjectRef) -> Result<ObjectMeta, SourceError>;
    /// The whole object, streamed.
    async fn get(&self, obj: &ObjectRef) -> Result<(ObjectMeta, ByteStream), SourceError>;
    async fn put(&self, obj: &ObjectRef, data: Bytes) -> Result<ObjectMeta, SourceError>;
    /// Write an object of any size from a stream (multipart); nothing is left behind if
    /// the stream fails.
    async fn put_stream(
        &self,
        obj: &ObjectRef,
        data: BoxStream<'static, Result<Bytes, String>>,
    ) -> Result<ObjectMeta, SourceError>;
    async fn delete(&self, obj: &ObjectRef) -> Result<(), SourceError>;
    /// Keys under `prefix` in `bucket`.
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError>;
}

/// Open the configured source.
pub fn open_source(cfg: &SourceConfig) -> Result<Arc<dyn ArtifactSource>, SourceError> {
    let name = match cfg {
        SourceConfig::Local { root } => format!("local directory {}", root.display()),
        SourceConfig::S3 { endpoint, .. } => format!("S3 {endpoint}"),
    };
    if let SourceConfig::Local { root } = cfg {
        std::fs::create_dir_all(root).map_err(|e| SourceError::Config {
            source_name: name.clone(),
            cause: e.to_string(),
        })?;
    }
    if let SourceConfig::S3 {
        ca_pem: Some(pem), ..
    } = cfg
    {
        object_store::Certificate::from_pem(pem.as_bytes()).map_err(|e| SourceError::Config {
            source_name: name.clone(),
            cause: format!("CA certificate: {e}"),
        })?;
    }
    Ok(Arc::new(StoreSource {
        cfg: cfg.clone(),
        name,
        buckets: Mutex::new(HashMap::new()),
    }))
}

struct StoreSource {
    cfg: SourceConfig,
    name: String,
    buckets: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl StoreSource {
    fn store(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, SourceError> {
        let mut buckets = self.buckets.lock().expect("bucket cache lock");
        if let Some(s) = buckets.get(bucket) {
            return Ok(s.clone());
        }
        let config = |e: object_store::Error| SourceError::Config {
            source_name: self.name.clone(),
            cause: e.to_string(),
        };
        let store: Arc<dyn ObjectStore> = match &self.cfg {
            SourceConfig::Local { root } => {
                let dir = root.join(bucket);
                std::fs::create_dir_all(&dir).map_err(|e| SourceError::Config {
                    source_name: self.name.clone(),
                    cause: format!("{}: {e}", dir.display()),
                })?;
                Arc::new(
                    object_store::local::LocalFileSystem::new_with_prefix(&dir).map_err(config)?,
                )
            }
            SourceConfig::S3 {
                endpoint,
                region,
                access_key,
                secret_key,
                path_style,
                ca_pem,
            } => {
                let mut opts = object_store::ClientOptions::new()
                    .with_allow_http(endpoint.starts_with("http://"))
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(300));
                if let Some(pem) = ca_pem {
                    opts = opts.with_root_certificate(
                        object_store::Certificate::from_pem(pem.as_bytes()).map_err(config)?,
                    );
                }
                let retry = object_store::RetryConfig {
                    max_retries: 2,
                    ..Default::default()
                };
                Arc::new(
                    object_store::aws::AmazonS3Builder::new()
                        .with_endpoint(endpoint)
                        .with_region(region)
                        .with_access_key_id(access_key)
                        .with_secret_access_key(secret_key)
                        .with_bucket_name(bucket)
                        .with_virtual_hosted_style_request(!path_style)
                        .with_client_options(opts)
                        .with_retry(retry)
                        .build()
                        .map_err(config)?,
                )
            }
        };
        buckets.insert(bucket.to_string(), store.clone());
        Ok(store)
    }

    fn error(&self, obj: &ObjectRef, e: object_store::Error) -> SourceError {
        let object = obj.to_string();
        match e {
            object_store::Error::NotFound { .. } => SourceError::NotFound {
                source_name: self.name.clone(),
                object,
            },
            other => {
                let cause = crate::errors::chain(&other);
                let lower = cause.to_ascii_lowercase();
                if lower.contains("403")
                    || lower.contains("forbidden")
                    || lower.contains("accessdenied")
                    || lower.contains("signaturedoesnotmatch")
                    || lower.contains("invalidaccesskeyid")
                {
                    SourceError::Denied {
                        source_name: self.name.clone(),
                        object,
                        cause,
                    }
                } else {
                    SourceError::Unavailable {
                        source_name: self.name.clone(),
                        object,
                        cause,
                    }
                }
            }
        }
    }
}

fn meta(m: &object_store::ObjectMeta) -> ObjectMeta {
    ObjectMeta {
        size: m.size,
        etag: m.e_tag.clone(),
        last_modified: m.last_modified,
    }
}

#[async_trait]
impl ArtifactSource for StoreSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn head(&self, obj: &ObjectRef) -> Result<ObjectMeta, SourceError> {
        let store = self.store(&obj.bucket)?;
        let m = store
            .head(&StorePath::from(obj.key.as_str()))
            .await
            .map_err(|e| self.error(obj, e))?;
        Ok(meta(&m))
    }

    async fn get(&self, obj: &ObjectRef) -> Result<(ObjectMeta, ByteStream), SourceError> {
        let store = self.store(&obj.bucket)?;
        let r = store
            .get_opts(&StorePath::from(obj.key.as_str()), GetOptions::default())
            .await
            .map_err(|e| self.error(obj, e))?;
        let m = meta(&r.meta);
        let (name, object) = (self.name.clone(), obj.to_string());
        let stream = r
            .into_stream()
            .map_err(move |e| SourceError::Unavailable {
                source_name: name.clone(),
                object: object.clone(),
                cause: crate::errors::chain(&e),
            })
            .boxed();
        Ok((m, stream))
    }

    async fn put(&self, obj: &ObjectRef, data: Bytes) -> Result<ObjectMeta, SourceError> {
        let store = self.store(&obj.bucket)?;
        let path = StorePath::from(obj.key.as_str());
        store
            .put(&path, PutPayload::from_bytes(data))
            .await
            .map_err(|e| self.error(obj, e))?;
        let m = store.head(&path).await.map_err(|e| self.error(obj, e))?;
        Ok(meta(&m))
    }

    async fn put_stream(
        &self,
        obj: &ObjectRef,
        mut data: BoxStream<'static, Result<Bytes, String>>,
    ) -> Result<ObjectMeta, SourceError> {
        let store = self.store(&obj.bucket)?;
        let path = StorePath::from(obj.key.as_str());
        let upload = store
            .put_multipart(&path)
            .await
            .map_err(|e| self.error(obj, e))?;
        let mut w = object_store::WriteMultipart::new_with_chunk_size(upload, 8 << 20);
        while let Some(chunk) = data.next().await {
            match chunk {
                Ok(b) => {
                    w.wait_for_capacity(4)
                        .await
                        .map_err(|e| self.error(obj, e))?;
                    w.put(b);
                }
                Err(cause) => {
                    let _ = w.abort().await;
                    return Err(SourceError::Unavailable {
                        source_name: "the upload".into(),
                        object: obj.to_string(),
                        cause,
                    });
                }
            }
        }
        w.finish().await.map_err(|e| self.error(obj, e))?;
        let m = store.head(&path).await.map_err(|e| self.error(obj, e))?;
        Ok(meta(&m))
    }

    async fn delete(&self, obj: &ObjectRef) -> Result<(), SourceError> {
        let store = self.store(&obj.bucket)?;
        store
            .delete(&StorePath::from(obj.key.as_str()))
            .await
            .map_err(|e| self.error(obj, e))
    }

    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        let store = self.store(bucket)?;
        let p = (!prefix.is_empty()).then(|| StorePath::from(prefix));
        let obj = ObjectRef {
            bucket: bucket.to_string(),
            key: prefix.to_string(),
        };
        let mut keys: Vec<String> = store
            .list(p.as_ref())
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
            .map_err(|e| self.error(&obj, e))?;
        keys.sort();
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_local_source_round_trips_and_names_missing_objects() {
        let dir = tempfile::tempdir().unwrap();
        let src = open_source(&SourceConfig::Local {
            root: dir.path().to_path_buf(),
        })
        .unwrap();
        let k = ObjectRef::parse("s3://boot-images/img1/kernel").unwrap();
        let m = src
            .put(&k, Bytes::from_static(b"kernel bytes"))
            .await
            .unwrap();
        assert_eq!(m.size, 12);
        assert!(dir.path().join("boot-images/img1/kernel").is_file());
        assert_eq!(src.head(&k).await.unwrap().size, 12);
        let (_, stream) = src.get(&k).await.unwrap();
        let body: Vec<Bytes> = stream.try_collect().await.unwrap();
        assert_eq!(body.concat(), b"kernel bytes");
        assert_eq!(
            src.list("boot-images", "img1").await.unwrap(),
            ["img1/kernel"]
        );
        src.delete(&k).await.unwrap();
        let e = src.head(&k).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "s3://boot-images/img1/kernel not found in local directory {}",
                dir.path().display()
            )
        );
    }
}
