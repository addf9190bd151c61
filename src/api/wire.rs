//! Serde helpers for request bodies, shared by the contracts' wire types.
//!
//! Upstream services decode a PATCH by merging JSON, so a field sent as `null` either
//! clears it (where the contract allows null) or is refused. `Option<T>` alone cannot say
//! which: [`present`] refuses `null` for a field that may be absent, and [`nullable`]
//! keeps `null` apart from absence (`Some(None)`).

use serde::{Deserialize, Deserializer};

/// An optional field that, when sent, must hold a value (`null` is refused).
pub fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// An optional field where `null` means "clear it": absent is `None`, `null` is
/// `Some(None)`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Decode a request document, prefixing serde's message with what it was (`component
/// patch: unknown field ...`).
pub fn decode<T: serde::de::DeserializeOwned>(
    v: serde_json::Value,
    what: &str,
) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| format!("{what}: {e}"))
}
