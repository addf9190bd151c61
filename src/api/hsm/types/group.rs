//! Wire types of `groups`, `partitions` and `memberships` (camelCase, as upstream).
//!
//! Groups and partitions are one domain type ([`Group`]) and one input shape: a partition's
//! name may arrive as `name` or `label` and a group's likewise, but a partition has no
//! `exclusiveGroup`. On output a group says `label` and a partition says `name`. Output
//! fields are in alphabetical order, the order these objects have always been written in.

use serde::{Deserialize, Serialize};

use super::xnames;
use crate::api::problem::{ApiResult, Problem};
use crate::model::{Group, GroupKind, Xname};

/// `{"ids": […]}`: a group's members.
#[derive(Serialize, Deserialize, Default)]
pub struct MembersWire {
    #[serde(default)]
    ids: Vec<String>,
}

impl From<&[Xname]> for MembersWire {
    fn from(members: &[Xname]) -> Self {
        MembersWire {
            ids: members.iter().map(|m| m.to_string()).collect(),
        }
    }
}

/// A group or partition as POSTed.
#[derive(Deserialize)]
pub struct GroupWire {
    #[serde(alias = "name")]
    label: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(rename = "exclusiveGroup", default)]
    exclusive_group: Option<String>,
    #[serde(default)]
    members: MembersWire,
}

impl GroupWire {
    /// The domain group, for a collection of `kind`.
    pub fn into_group(self, kind: GroupKind) -> ApiResult<Group> {
        if kind == GroupKind::Partition && self.exclusive_group.is_some() {
            return Err(Problem::bad_request("partitions have no exclusiveGroup"));
        }
        Ok(Group {
            label: self.label,
            description: self.description,
            tags: self.tags,
            exclusive_group: self.exclusive_group.filter(|s| !s.is_empty()),
            members: xnames(&self.members.ids)?,
        })
    }
}

#[derive(Serialize)]
pub struct GroupOut {
    description: String,
    #[serde(rename = "exclusiveGroup", skip_serializing_if = "Option::is_none")]
    exclusive_group: Option<String>,
    label: String,
    members: MembersWire,
    tags: Vec<String>,
}

impl From<Group> for GroupOut {
    fn from(g: Group) -> Self {
        GroupOut {
            members: MembersWire::from(g.members.as_slice()),
            description: g.description,
            exclusive_group: g.exclusive_group,
            label: g.label,
            tags: g.tags,
        }
    }
}

#[derive(Serialize)]
pub struct PartitionOut {
    description: String,
    members: MembersWire,
    name: String,
    tags: Vec<String>,
}

impl From<Group> for PartitionOut {
    fn from(g: Group) -> Self {
        PartitionOut {
            members: MembersWire::from(g.members.as_slice()),
            description: g.description,
            name: g.label,
            tags: g.tags,
        }
    }
}

/// `PATCH /groups/{label}` and `/partitions/{name}`.
#[derive(Deserialize)]
pub struct GroupPatch {
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// `POST …/members`.
#[derive(Deserialize)]
pub struct MemberId {
    pub id: String,
}

/// One component's group labels and partition.
#[derive(Serialize)]
pub struct MembershipOut {
    #[serde(rename = "groupLabels")]
    group_labels: Vec<String>,
    id: String,
    #[serde(rename = "partitionName")]
    partition_name: String,
}

impl MembershipOut {
    pub fn new(id: &Xname, groups: &[String], partition: &Option<String>) -> MembershipOut {
        MembershipOut {
            group_labels: groups.to_vec(),
            id: id.to_string(),
            partition_name: partition.clone().unwrap_or_default(),
        }
    }
}
