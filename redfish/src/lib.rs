//! A tolerant Redfish client for the few calls a boot appliance needs, and (feature `sim`)
//! SimBmc, a simulated Redfish service for tests and benchmarks.
//!
//! Why hand-written: generated Redfish models either drop `@odata.id`/`Id`/`Name` when
//! reading or fail a whole document on one unknown enum value (the comparison is in
//! [`model`]'s opening comment). Real BMCs send vendor fields, empty strings and values newer
//! than any schema, so every model here reads what it needs and ignores the rest. The client
//! and the simulator share no model structs, so a bug in one cannot hide in the other.
//!
//! Layout: `model` (read models), `client` (pool, transport, sessions, the retry policy,
//! and the operations), `tls` (trust modes and certificate pinning), `error`, and `sim`.

pub mod client;
pub mod error;
pub mod model;
pub mod tls;

#[cfg(feature = "sim")]
pub mod sim;

pub use client::{
    AuthMode, Bmc, BmcConfig, BootApplied, BootOutcome, BootOverride, BootWhen, Discovery,
    ManagerInfo, Pool, PowerReading, Problem, RESTART_MARKERS, SystemInfo,
};
pub use error::{Error, Result};
pub use model::PowerState;
pub use tls::TlsTrust;
