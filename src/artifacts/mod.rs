//! The boot-artifact plane: where kernels, initrds and root filesystems come from.
//!
//! Artifacts are named `s3://bucket/key` everywhere (boot parameters, manifests), whatever
//! the source: [`ArtifactSource`] resolves a name against S3 (any endpoint) or a local
//! directory (where a bucket is a top-level directory), both through object_store. Nodes
//! never see these names or any credential; they fetch `/artifacts/<token>/<name>` from the
//! appliance.

pub mod cache;
pub mod links;
pub mod manifest;
pub mod source;
pub mod token_key;

pub use source::{ArtifactSource, ObjectMeta, SourceConfig, SourceError, open_source};

/// A validated `s3://bucket/key` reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    #[error("'{0}' is not an s3://bucket/key reference")]
    NotS3(String),
    #[error("'{raw}': {why}")]
    Invalid { raw: String, why: &'static str },
}

impl ObjectRef {
    pub fn parse(raw: &str) -> Result<ObjectRef, RefError> {
        let rest = raw
            .strip_prefix("s3://")
            .ok_or_else(|| RefError::NotS3(raw.to_string()))?;
        let (bucket, key) = rest.split_once('/').ok_or(RefError::Invalid {
            raw: raw.to_string(),
            why: "no key after the bucket",
        })?;
        ObjectRef::new(bucket, key).map_err(|why| RefError::Invalid {
            raw: raw.to_string(),
            why,
        })
    }

    /// Check a bucket and key: bucket names as S3 allows them; keys relative, without
    /// `..`, `.` or empty segments and without control characters (a key is also a path
    /// under a local source's root).
    pub fn new(bucket: &str, key: &str) -> Result<ObjectRef, &'static str> {
        if bucket.is_empty()
            || bucket.len() > 63
            || !bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            || bucket.starts_with('.')
            || bucket.contains("..")
        {
            return Err("the bucket must be 1-63 lower-case letters, digits, '-' or '.'");
        }
        if key.is_empty() {
            return Err("the key is empty");
        }
        if key.starts_with('/') {
            return Err("the key must be relative (no leading '/')");
        }
        if key
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        {
            return Err("the key must not contain '..', '.' or empty path segments");
        }
        if key.chars().any(|c| c.is_control() || c == '\\') {
            return Err("the key must not contain control characters or '\\'");
        }
        Ok(ObjectRef {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_and_refuse_escapes() {
        let r = ObjectRef::parse("s3://boot-images/abc/kernel").unwrap();
        assert_eq!(
            (r.bucket.as_str(), r.key.as_str()),
            ("boot-images", "abc/kernel")
        );
        assert_eq!(r.to_string(), "s3://boot-images/abc/kernel");
        for bad in [
            "http://x/y",
            "s3://bucket",
            "s3://bucket/",
            "s3:///key",
            "s3://Bucket/key",
            "s3://b/../etc/passwd",
            "s3://b/a/../../x",
            "s3://b//abs",
            "s3://b/a/./b",
            "s3://../x",
        ] {
            assert!(ObjectRef::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
