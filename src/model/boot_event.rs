//! One event on a node's boot timeline: a script or artifact fetch, a TFTP transfer, a
//! power call, a report. Plain data, recorded by the boot plane and the operators and kept
//! by the in-memory timeline (`app::timeline`); served at
//! `/apis/rackboot/v1/nodes/{xname}/timeline`.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BootEvent {
    pub time: DateTime<Utc>,
    /// `bootscript`, `kernel`, `initrd`, `rootfs`, …
    pub what: String,
    pub bytes: u64,
    pub duration_ms: u64,
    pub client: Option<String>,
    /// `complete`, `partial` (a Range request), `aborted` (the client went away) or `failed`.
    pub outcome: String,
    /// The artifact token used, for artifact fetches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The file, for TFTP transfers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// How many more times the same fetch followed at once (a script fetched again by the
    /// same client under the same token is counted here, not kept as another event).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub repeats: u32,
    /// When the last of those repeats happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_time: Option<DateTime<Utc>>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl BootEvent {
    /// Whether `next` repeats this event: the same script fetch, by the same client, under
    /// the same token, with the same outcome. Only boot scripts fold: artifact fetches are
    /// boot evidence and each one counts.
    pub fn repeated_by(&self, next: &BootEvent) -> bool {
        self.what == "bootscript"
            && next.what == self.what
            && next.client == self.client
            && next.token == self.token
            && next.outcome == self.outcome
            && next.bytes == self.bytes
    }
}
