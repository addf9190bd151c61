//! Groups and partitions: named sets of components.
//!
//! HSM has two: groups (overlapping, optionally exclusive per `exclusiveGroup`) and
//! partitions (a component is in at most one). They share one shape here and one table
//! in the store; [`GroupKind`] says which rules apply.

use super::Xname;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupKind {
    Group,
    Partition,
}

impl GroupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Group => "group",
            GroupKind::Partition => "partition",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Group {
    pub label: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_group: Option<String>,
    #[serde(default)]
    pub members: Vec<Xname>,
}

/// HSM's `ResourceName`: `[a-z0-9_.-]+` after lower-casing. Returns the normalised name.
pub fn resource_name(field: &str, value: &str) -> Result<String, String> {
    let v = value.trim().to_ascii_lowercase();
    if v.is_empty()
        || v.len() > 255
        || !v
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
    {
        return Err(format!(
            "invalid {field} '{value}': expected letters, digits, '_', '.' or '-'"
        ));
    }
    Ok(v)
}
