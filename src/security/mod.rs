//! What the appliance keeps secret on disk, and how: the data directory (0700), its key
//! files (0600, created once at first start), secrets sealed in the store, and the control
//! plane's TLS certificate.

pub mod keyfile;
pub mod limits;
pub mod rate;
pub mod seal;
pub mod tls;
