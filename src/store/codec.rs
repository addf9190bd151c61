//! Rows to records and back, the same for every store: documents are JSON text.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{StoreError, StoreResult};
use crate::model::power::Transition;

pub(super) fn encode<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("domain records always serialise")
}

pub(super) fn decode<T: DeserializeOwned>(what: &str, doc: &str) -> StoreResult<T> {
    serde_json::from_str(doc).map_err(|source| StoreError::Corrupt {
        what: what.to_string(),
        source,
    })
}

/// A transition whose abort was requested reads `abort-signaled` until it is done.
pub(super) fn with_abort(mut t: Transition, abort_requested: bool) -> Transition {
    if abort_requested && !t.status.is_done() {
        t.status = crate::model::power::TransitionStatus::AbortSignaled;
    }
    t
}
