//! CFS sessions (`/v2/sessions`, `/v3/sessions`, every method): the built-in CFS runs no
//! Ansible, so there are no sessions to create, list or delete. Every call is answered with
//! a 501 problem that says so and says what to do instead, rather than a bare 404 that
//! reads like a typo in the path, or an empty list that reads like nothing ran yet.

use axum::extract::State;
use axum::http::StatusCode;

use super::{R, S, cfs};
use crate::api::problem::Problem;

pub const NO_SESSIONS: &str = "the built-in CFS runs no Ansible sessions: whoever configures a node \
(an Ansible run of your own, or the node itself) reports each layer it applied with \
PATCH /apis/cfs/v3/components/{xname} {\"state_append\": {\"clone_url\", \"playbook\", \"commit\", \
\"status\"}} (v2: \"stateAppend\", the status as a _failed or _skipped commit suffix), and BOS \
reads the component's configuration status. To have CFS sessions run the configuration, \
use a CSM CFS: set cfs = external and cfs_url = its base URL \
(e.g. https://api-gw-service-nmn.local/apis/cfs)";

pub async fn none(State(app): S) -> R<()> {
    cfs(&app)?;
    Err(Problem::new(StatusCode::NOT_IMPLEMENTED, NO_SESSIONS))
}
