//! HSM wire types: what `/apis/smd/hsm/v2` reads and writes, kept apart from `model`.
//!
//! Every type here meets its domain type through an explicit conversion at this edge:
//! `From` for what the API answers with, `TryFrom` (or a named `into_…`/`apply` where the
//! conversion needs more than the body) for what it accepts. Conversions validate and
//! canonicalise, so a bad xname, MAC, NID or enumeration value is a 400 naming the field,
//! and nothing behind the handlers sees HSM's PascalCase (camelCase for groups and
//! partitions, as upstream). The field parsers below are the one place request strings
//! become domain values; nothing here reads the store or knows a route.
//!
//! Two things about the bytes are part of the contract and easy to break: serde names an
//! input type in its messages (`expected struct PostArray`), and those messages are the
//! detail of a 400, so input types keep their names; and lists that HSM has always written
//! through a JSON map keep their members' keys sorted ([`sorted_keys`]).

pub mod component;
pub mod endpoint;
pub mod group;
pub mod interface;

use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};

pub use component::ComponentOut;

use crate::api::problem::{ApiResult, Problem};
use crate::model::component::{canonical, canonical_open};
use crate::model::{Mac, Xname};

/// HSM's `{"code": 0, "message": …}` answer (deletes, readiness).
#[derive(Serialize)]
pub struct Message {
    pub code: i32,
    pub message: String,
}

/// One entry of the `[{"URI": …}]` answer to a create.
#[derive(Serialize)]
pub struct ResourceUri {
    #[serde(rename = "URI")]
    pub uri: String,
}

/// Serialise `v` with every object's keys in sorted order (as a `serde_json::Value` is),
/// for the lists whose members have always been written that way.
pub fn sorted_keys<T: Serialize, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    serde_json::to_value(v)
        .map_err(serde::ser::Error::custom)?
        .serialize(s)
}

pub fn xname(s: &str) -> ApiResult<Xname> {
    Xname::parse(s).map_err(|e| Problem::bad_request(e.to_string()))
}

/// An xname in the path of a lookup (GET or DELETE one): a malformed one names nothing, so it
/// is a 404 as HSM answers, where a write with one is a 400.
pub fn lookup_xname(s: &str) -> ApiResult<Xname> {
    Xname::parse(s).map_err(|e| Problem::not_found(format!("no such component: {e}")))
}

/// Every value parsed as an xname (query filters, ID lists).
pub fn xnames(values: &[String]) -> ApiResult<Vec<Xname>> {
    values.iter().map(|s| xname(s)).collect()
}

pub fn mac(s: &str) -> ApiResult<Mac> {
    Mac::parse(s).map_err(|e| Problem::bad_request(e.to_string()))
}

pub fn nid(s: &str) -> ApiResult<i64> {
    let n = s.trim().parse::<i64>().map_err(|_| {
        Problem::bad_request(format!(
            "invalid NID '{s}': expected a non-negative integer"
        ))
    })?;
    if n < 0 {
        return Err(Problem::bad_request(format!(
            "invalid NID '{s}': expected a non-negative integer"
        )));
    }
    Ok(n)
}

/// A NID given as a number in a body: HSM's NIDs are non-negative.
pub fn body_nid(n: i64) -> ApiResult<i64> {
    if n < 0 {
        return Err(Problem::bad_request(format!(
            "invalid NID {n}: NIDs are non-negative integers"
        )));
    }
    Ok(n)
}

pub fn bad(e: impl std::fmt::Display) -> Problem {
    Problem::bad_request(e.to_string())
}

/// A body read as JSON first and decoded as `T` second (HSM's plain serde message, not
/// the path-annotated one of [`crate::api::extract::Body`]).
pub fn from_value<T: DeserializeOwned>(v: serde_json::Value) -> ApiResult<T> {
    serde_json::from_value(v).map_err(|e| Problem::bad_request(format!("Bad Request: {e}")))
}

/// Whether an enumeration admits values beyond HSM's list (Role and SubRole do).
#[derive(Clone, Copy, PartialEq)]
pub enum Vocabulary {
    Closed,
    Open,
}

/// One value in HSM's canonical spelling.
pub fn canon(
    field: &'static str,
    v: &str,
    allowed: &'static [&'static str],
    vocabulary: Vocabulary,
) -> ApiResult<String> {
    match vocabulary {
        Vocabulary::Closed => canonical(field, v, allowed),
        Vocabulary::Open => canonical_open(field, v, allowed),
    }
    .map_err(bad)
}

/// An optional enumeration field in HSM's canonical spelling; empty means unset.
pub fn opt_canon(
    field: &'static str,
    v: Option<String>,
    allowed: &'static [&'static str],
    vocabulary: Vocabulary,
) -> ApiResult<Option<String>> {
    v.filter(|s| !s.is_empty())
        .map(|s| canon(field, &s, allowed, vocabulary))
        .transpose()
}

/// A filter's values in HSM's canonical spelling.
pub fn canon_all(
    field: &'static str,
    vals: Vec<String>,
    allowed: &'static [&'static str],
    vocabulary: Vocabulary,
) -> ApiResult<Vec<String>> {
    vals.iter()
        .map(|v| canon(field, v, allowed, vocabulary))
        .collect()
}
