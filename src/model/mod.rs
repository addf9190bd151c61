//! Domain types and their invariants.
//!
//! Everything here is plain data plus the rules that make it valid: an [`Xname`] is
//! always normalised, a [`Mac`] is always six bytes, a boot-parameter value can always be
//! placed into an iPXE script without changing the script's meaning. The model knows
//! nothing about HTTP, SQL or tokio: the API converts wire types into these at its edge,
//! and the store persists them. The BOS and CFS records derive no serde: their wire forms
//! are `api::bos::types` and `api::cfs::types`, their rows `store::records`, each converted
//! explicitly; only the names of their state machines (enums in `bos_state`, `cfs`)
//! serialise, as the one string the contracts spell them with (`names`). The inventory and
//! power types' serde derives are still their storage document form (snake_case); the
//! upstream wire shapes (PascalCase HSM, PCS) live in `api`.

pub mod boot_component;
pub mod boot_event;
pub mod boot_plan;
pub mod bootparams;
pub mod bos_state;
pub mod bos_v1;
pub mod bos_v1_status;
pub mod cfs;
pub mod component;
pub mod component_endpoint;
pub mod component_patch;
pub mod dhcp;
pub mod ethernet;
pub mod group;
pub mod identity;
pub mod limit;
pub mod mac;
pub mod names;
pub mod options;
pub mod power;
pub mod rack;
pub mod redfish_endpoint;
pub mod session;
pub mod template;
pub mod template_patch;
pub mod tenant;
pub mod xname;

pub use boot_component::{BootArtifacts, BootComponent};
pub use boot_event::BootEvent;
pub use bootparams::{BootParams, HostKey, ImageKind, ImageParams, ScriptValueError};
pub use bos_state::{Action, Operation, Phase, SessionStatus, Status};
pub use component::{Component, ComponentError};
pub use component_endpoint::ComponentEndpoint;
pub use ethernet::{EthernetInterface, IpMapping};
pub use group::{Group, GroupKind};
pub use mac::{Mac, MacError};
pub use redfish_endpoint::{BmcTrust, DiscoveryInfo, RedfishEndpoint, TlsPolicy};
pub use session::{ExtendedStatus, NewSession, Session};
pub use template::SessionTemplate;
pub use tenant::Tenant;
pub use xname::{Xname, XnameError, XnameKind};
