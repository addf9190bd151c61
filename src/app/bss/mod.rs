//! Boot Script Service use cases: boot parameters, boot scripts, hosts, history.
//!
//! BSS is where a node's boot intent is written (boot parameters, by admins and by the BOS
//! operators) and where a booting node reads it back (its iPXE script, on every boot). The
//! writes go through the store and drop the boot read model; the reads are answered from
//! that read model only, so the boot plane never waits on the store. One file each for the
//! parameter writes and lookups, the script, and the host views.

mod hosts;
mod params;
mod script;

pub use hosts::HostView;
pub use params::{BootParamsEntry, BootParamsRequest};
pub use script::{BootscriptQuery, ScriptKind};
