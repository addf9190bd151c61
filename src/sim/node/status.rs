//! What a simulated node says about itself: where it is ([`NodePhase`]) and what it has
//! done ([`SimNodeStatus`]).
//!
//! Failures are status, not logs or panics: every failure is counted with its text kept,
//! and tests, the demo and benchmarks read a snapshot or await a condition on it (the node
//! publishes it on a `watch` channel). Counters only grow, so a waiter can ask for "the
//! n-th boot" without racing the node.

/// Where a node is now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NodePhase {
    /// Its host is not On.
    #[default]
    Off,
    /// Fetching its script or artifacts.
    Booting,
    /// Booted (artifacts fetched); reporting, if it does, may still be going on.
    Up,
    /// On, doing nothing ([`Behaviour::NeverBoots`](super::Behaviour::NeverBoots)).
    Hung,
    /// Gave up this power-on after [`Pacing::script_tries`](super::Pacing::script_tries) attempts.
    Failed,
}

/// What a node has done since it was spawned. Counters only grow; `last_*` keep the newest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimNodeStatus {
    pub phase: NodePhase,
    /// Power-ons this node reacted to (NeverBoots ones included).
    pub power_ons: u64,
    /// Boots begun (the first script request of a power-on).
    pub boots_started: u64,
    /// Boots that reached [`NodePhase::Up`].
    pub boots_completed: u64,
    /// Boots dropped because the power changed first.
    pub boots_cancelled: u64,
    /// Scripts received (200 answers), chain-only ones included.
    pub scripts_fetched: u64,
    /// Chain-only or unusable script answers that sent the node round again.
    pub script_retries: u64,
    /// Artifacts read to the end with a 2xx.
    pub artifacts_fetched: u64,
    /// Body bytes read from artifact URLs (partial reads of cancelled fetches included).
    pub bytes_fetched: u64,
    /// `xname=` from the last booted kernel command line.
    pub xname: Option<String>,
    /// `bss_referral_token=` from the last booted kernel command line.
    pub token: Option<String>,
    /// Report PATCHes sent (attempts, whatever the answer).
    pub reports_sent: u64,
    /// Report PATCHes answered 2xx.
    pub reports_ok: u64,
    /// HTTP status of the newest report answer.
    pub last_report_status: Option<u16>,
    /// The token the newest report carried.
    pub last_reported_token: Option<String>,
    /// Configuration layers reported applied (`state_append` answered 2xx).
    pub layers_applied: u64,
    /// Configuration layers reported failed.
    pub layers_failed: u64,
    /// The CFS `configuration_status` the agent last read.
    pub configuration_status: Option<String>,
    pub errors: u64,
    /// The newest failure, kept after later successes.
    pub last_error: Option<String>,
}
