//! Issue 18's guarantees, each against a real appliance in the production shape (HTTPS
//! control plane, authentication on) unless a test says otherwise: the route table with
//! every role (`routes`), tokens and logins that stop at once (`tokens`), site-issuer JWTs
//! (`oidc`), the boot plane's narrow surface (`boot_plane`), secrets at rest and in logs
//! (`secrets`), slow and idle clients (`limits`).

mod boot_plane;
mod limits;
mod oidc;
mod routes;
mod secrets;
mod tokens;
