//! One error type for everything that can go wrong talking to a BMC.
//!
//! Every variant names the BMC (its `host:port`) and, where it helps, the operation and the
//! BMC's own message, because these errors end up in front of an admin as a per-node result
//! ("authentication failed for 10.1.0.7:443") and must be actionable without logs.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("cannot reach BMC {bmc}: {cause}")]
    Unreachable { bmc: String, cause: String },
    #[error("BMC {bmc} did not answer {op} within {secs} s")]
    Timeout { bmc: String, op: String, secs: u64 },
    #[error("authentication failed for {bmc}")]
    Auth { bmc: String },
    #[error(
        "the TLS certificate of BMC {bmc} is not trusted ({cause}); trust it with its CA certificate (--ca FILE) or pin it (--pin {fingerprint})"
    )]
    Untrusted {
        bmc: String,
        cause: String,
        /// SHA-256 of the certificate the BMC presented (lower-case hex), or `<sha256>`
        /// when it could not be read.
        fingerprint: String,
    },
    #[error(
        "the TLS certificate of BMC {bmc} is not the pinned one: it presents SHA-256 {presented}, the pin is {pinned}"
    )]
    CertificateChanged {
        bmc: String,
        /// The pinned SHA-256 (lower-case hex).
        pinned: String,
        /// SHA-256 of the certificate the BMC presents now.
        presented: String,
    },
    #[error("BMC {bmc} answered {op} with HTTP {status}: {message}")]
    Http {
        bmc: String,
        op: String,
        status: u16,
        message: String,
    },
    #[error("BMC {bmc} sent an unreadable answer to {op}: {cause}")]
    Decode {
        bmc: String,
        op: String,
        cause: String,
    },
    #[error("BMC {bmc} does not allow reset type {requested} on {system} (it allows: {})", allowed_list(.allowed))]
    ResetNotAllowed {
        bmc: String,
        system: String,
        requested: String,
        allowed: Vec<String>,
    },
    #[error(
        "BMC {bmc} accepted the boot override for {system} but did not keep it: wanted {wanted}, it reads back {found}"
    )]
    OverrideNotKept {
        bmc: String,
        system: String,
        wanted: String,
        found: String,
    },
    #[error("BMC {bmc}: {what}")]
    Unsupported { bmc: String, what: String },
    #[error("invalid BMC configuration for {bmc}: {what}")]
    Config { bmc: String, what: String },
}

fn allowed_list(allowed: &[String]) -> String {
    if allowed.is_empty() {
        "none advertised".to_string()
    } else {
        allowed.join(", ")
    }
}

impl Error {
    /// The BMC (host:port) the error is about.
    pub fn bmc(&self) -> &str {
        match self {
            Error::Unreachable { bmc, .. }
            | Error::Timeout { bmc, .. }
            | Error::Auth { bmc }
            | Error::Untrusted { bmc, .. }
            | Error::CertificateChanged { bmc, .. }
            | Error::Http { bmc, .. }
            | Error::Decode { bmc, .. }
            | Error::ResetNotAllowed { bmc, .. }
            | Error::OverrideNotKept { bmc, .. }
            | Error::Unsupported { bmc, .. }
            | Error::Config { bmc, .. } => bmc,
        }
    }

    /// Whether the BMC could not be talked to at all (as opposed to answering "no").
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Error::Unreachable { .. }
                | Error::Timeout { .. }
                | Error::Untrusted { .. }
                | Error::CertificateChanged { .. }
        )
    }
}

pub type Result<T> = std::result::Result<T, Error>;
