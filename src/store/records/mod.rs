//! Stored rows: the JSON documents the store writes, apart from the wire and the domain.
//!
//! BOS and CFS records are their own types, converted to and from the domain explicitly,
//! so an API change can never make stored rows undecodable and a stored row never decides
//! what a client may send. They are tolerant on purpose: every field has a default and
//! unknown fields are ignored (a row written by a newer version still reads), while the
//! wire types refuse what the contract does not allow. The documents keep the shape they
//! have always had on disk, so existing databases read unchanged.

pub mod bos;
pub mod cfs;
pub mod sessions;

/// `Option<T>` of a name stored as its text, the empty string meaning none.
pub(crate) mod empty_is_none {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(t) => t.serialize(s),
            None => s.serialize_str(""),
        }
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            return Ok(None);
        }
        T::deserialize(serde::de::value::StringDeserializer::<D::Error>::new(s)).map(Some)
    }
}
