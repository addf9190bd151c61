//! Request decoding that fails with problem+json instead of axum's plain-text rejections.
//!
//! [`Body`] reads JSON whatever the Content-Type (curl's `-d` sends a form type, and the
//! upstream Go services never looked), enforcing the configured size limit with a 413.
//! [`Pairs`] keeps repeated query parameters (`?id=a&id=b`), which HSM filters rely on and
//! serde_urlencoded drops. A typed body must be a JSON object at the top: serde would read
//! `[null, null]` as a struct's fields in order, which no upstream service accepts
//! ([`ObjectOnly`]); bodies typed as `Value` take anything and check it themselves.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::{DeserializeOwned, Deserializer, Error as _, Visitor};
use serde_json::Value;

use super::problem::Problem;

pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "request body is larger than the configured limit (max_body_bytes)",
                )
            } else {
                Problem::bad_request(format!("Bad Request: could not read the request body: {e}"))
            }
        })?;
        parse_json(&bytes).map(Body)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::bad_request(
            "Bad Request: the request body is empty; a JSON document is required",
        ));
    }
    let located = |e: serde_path_to_error::Error<serde_json::Error>| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path.is_empty() || path == "." {
            Problem::bad_request(format!("Bad Request: {inner}"))
        } else {
            Problem::bad_request(format!("Bad Request: {path}: {inner}"))
        }
    };
    // Read as T straight from the bytes, for messages that say where (line and column).
    let from_bytes = || {
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize::<_, T>(de).map_err(located)
    };
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return from_bytes();
    };
    match serde_path_to_error::deserialize(ObjectOnly(value)) {
        Ok(v) => Ok(v),
        Err(e) if e.inner().to_string() == NOT_AN_ARRAY => Err(located(e)),
        Err(e) => from_bytes().and(Err(located(e))),
    }
}

const NOT_AN_ARRAY: &str = "the body must be a JSON object, not an array";

/// A JSON document whose top level, if a struct is read from it, must be an object (serde
/// itself reads a struct from an array too, field by field); everything else is the document's
/// own deserializer.
struct ObjectOnly(Value);

impl<'de> Deserializer<'de> for ObjectOnly {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_any(v)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Self::Error> {
        if self.0.is_array() {
            return Err(serde_json::Error::custom(NOT_AN_ARRAY));
        }
        self.0.deserialize_struct(name, fields, v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_option(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_newtype_struct(name, v)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

/// All query parameters in order, repeated keys kept; comma-separated values split.
#[derive(Debug, Default)]
pub struct Pairs(pub Vec<(String, String)>);

impl Pairs {
    pub fn parse(query: Option<&str>) -> Pairs {
        Pairs(
            url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Every value of `key` (case-insensitive key), comma lists split, empties dropped.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|v| !v.is_empty())
            .collect()
    }

    pub fn first(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, Problem> {
        match self.first(key) {
            None => Ok(None),
            Some(v) => parse_bool(key, &v).map(Some),
        }
    }
}

pub fn parse_bool(key: &str, v: &str) -> Result<bool, Problem> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "t" | "yes" => Ok(true),
        "false" | "0" | "f" | "no" => Ok(false),
        _ => Err(Problem::bad_request(format!(
            "invalid value '{v}' for {key}: expected true or false"
        ))),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Pairs {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        Ok(Pairs::parse(parts.uri.query()))
    }
}
