//! What the operators need from the rest of the appliance, as narrow traits.
//!
//! Operators never hold the use-case layer (`app::App`): they depend on these seams, the
//! store, the power driver, the configuration handoff and a clock. The appliance's `App`
//! implements them (`app/ports.rs`); an operator test can implement them too, or use the
//! real `App` over a temporary store. Keeping them narrow keeps the dependency one way:
//! `app` knows these traits, operators know nothing of `app`.

use async_trait::async_trait;

use crate::model::template::BootSet;
use crate::model::{BootArtifacts, BootEvent, Session, Xname};

/// Writing boot parameters to the Boot Script Service, and resolving a boot set to the
/// artifacts its nodes should boot.
#[async_trait]
pub trait BootParamsWriter: Send + Sync + 'static {
    /// Write `artifacts` as the boot parameters of `hosts` (one write); returns the
    /// referral token BSS minted for it. The error says what failed, for the node's record.
    async fn write_boot_params(
        &self,
        hosts: &[String],
        artifacts: &BootArtifacts,
    ) -> Result<String, String>;

    /// The boot artifacts of a boot set (its manifest's kernel and initrd and the kernel
    /// parameters in BOS's order).
    async fn boot_set_artifacts(
        &self,
        boot_set: &BootSet,
        update_frequency: &str,
    ) -> Result<BootArtifacts, String>;
}

/// A node's boot timeline: what it fetched, and the events operators add (power calls,
/// proven boots).
pub trait BootEvents: Send + Sync + 'static {
    fn record(&self, node: &Xname, event: BootEvent);
    /// The node's events, oldest first.
    fn events(&self, node: &Xname) -> Vec<BootEvent>;
    /// The artifact token the node's fetches carry while it boots the boot parameters of
    /// `referral` (how its fetches are matched to what it should boot).
    fn artifact_token(&self, node: &Xname, referral: &str) -> String;
}

/// Saving a BOS session's extended status (when it completes or fails setup).
#[async_trait]
pub trait SessionStatusSaver: Send + Sync + 'static {
    async fn save_session_status(&self, session: &Session) -> Result<(), String>;
}
