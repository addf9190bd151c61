//! BOS v2 wire types (`specs/bos-openapi.yaml`): what clients send and get back, converted
//! to and from the domain (`model`) explicitly at this edge.
//!
//! Request types refuse unknown fields and, where BOS would refuse a `null`, refuse that
//! too (`api::wire::present`); `null` clears a field only where the contract lets it
//! (`api::wire::nullable`). The type names are those the contract's schemas had when they
//! were the domain types, because serde puts them in the messages clients get back
//! ("expected struct DesiredState"). Responses are written in the field order BOS uses.

mod components;
mod sessions;
mod templates;

pub use components::*;
pub use sessions::*;
pub use templates::*;
