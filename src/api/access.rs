//! Who may call what: the route table every request is checked against, and the
//! middleware that checks it.
//!
//! Each route template (as axum matched it) is listed with the access its reads
//! (GET/HEAD) need and the access its other methods need; a few methods are listed on their
//! own first (POST queries that only read, power actions among admin writes). A route
//! missing from the table is refused for everyone, even under `--no-auth`, with a 500 that
//! names it — so a route added without a classification fails every test that calls it,
//! and `tests/integration/access.rs` walks the table with every role.
//!
//! The web console's routes (`/`, `/console/...`) take the console's login cookie as well as
//! a bearer token, send a browser without a login to the login page instead of a 401, refuse
//! another site's form before anything runs, and hand the page the form token it must check
//! (`console::auth`).
//!
//! Classes: `Public` (health, readiness, the login endpoint), `Boot` (what iPXE and
//! booting nodes fetch anonymously: scripts, iPXE binaries, artifacts under their
//! per-node tokens), and a least role: read-only, operator or admin.

use std::sync::Arc;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::App;
use crate::auth::{Principal, Role};
use crate::model::identity::AuditRecord;

use super::problem::Problem;
use crate::console::auth as console;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    Boot,
    Least(Role),
}

const PUBLIC: Access = Access::Public;
const BOOT: Access = Access::Boot;
const READ: Access = Access::Least(Role::ReadOnly);
const OPERATE: Access = Access::Least(Role::Operator);
const ADMIN: Access = Access::Least(Role::Admin);
/// A template that has no methods of that kind (axum answers 405 before access matters).
const NONE: Access = Access::Least(Role::Admin);

/// One method on one template, checked before [`ROUTES`].
pub const METHODS: &[(&str, &str, Access)] = &[
    (
        "POST",
        "/keycloak/realms/shasta/protocol/openid-connect/token",
        PUBLIC,
    ),
    ("POST", "/apis/smd/hsm/v2/State/Components/Query", READ),
    ("POST", "/apis/smd/hsm/v2/locks/status", READ),
    ("POST", "/apis/smd/hsm/v2/Inventory/Discover", OPERATE),
    ("POST", "/apis/power-control/v1/power-status", READ),
    ("POST", "/apis/capmc/capmc/v1/get_xname_status", READ),
    ("POST", "/apis/capmc/capmc/v1/get_power_cap", READ),
    (
        "POST",
        "/apis/capmc/capmc/v1/get_power_cap_capabilities",
        READ,
    ),
    ("POST", "/apis/rackboot/v1/tokens", READ),
    ("DELETE", "/apis/rackboot/v1/tokens/{id}", READ),
];

/// Template → (reads, other methods).
pub const ROUTES: &[(&str, Access, Access)] = &[
    ("/healthz", PUBLIC, NONE),
    ("/readyz", PUBLIC, NONE),
    ("/metrics", READ, NONE),
    (
        "/keycloak/realms/shasta/protocol/openid-connect/token",
        NONE,
        PUBLIC,
    ),
    // Boot plane: anonymous by necessity (iPXE has no credentials).
    ("/boot/v1/bootscript", BOOT, NONE),
    ("/apis/bss/boot/v1/bootscript", BOOT, NONE),
    ("/ipxe/{*file}", BOOT, NONE),
    ("/artifacts/{token}/{name}", BOOT, NONE),
    // BSS
    ("/boot/v1/bootparameters", READ, ADMIN),
    ("/boot/v1/hosts", READ, ADMIN),
    ("/boot/v1/dumpstate", READ, NONE),
    ("/boot/v1/endpoint-history", READ, NONE),
    ("/boot/v1/service/status", READ, NONE),
    ("/boot/v1/service/version", READ, NONE),
    ("/boot/v1/service/hsm", READ, NONE),
    ("/boot/v1/service/storage", READ, NONE),
    ("/boot/v1/service/storage/status", READ, NONE),
    ("/boot/v1/service/status/all", READ, NONE),
    ("/apis/bss/boot/v1/bootparameters", READ, ADMIN),
    ("/apis/bss/boot/v1/hosts", READ, ADMIN),
    ("/apis/bss/boot/v1/dumpstate", READ, NONE),
    ("/apis/bss/boot/v1/endpoint-history", READ, NONE),
    ("/apis/bss/boot/v1/service/status", READ, NONE),
    ("/apis/bss/boot/v1/service/version", READ, NONE),
    ("/apis/bss/boot/v1/service/hsm", READ, NONE),
    ("/apis/bss/boot/v1/service/storage", READ, NONE),
    ("/apis/bss/boot/v1/service/storage/status", READ, NONE),
    ("/apis/bss/boot/v1/service/status/all", READ, NONE),
    // HSM: inventory is admin's.
    ("/apis/smd/hsm/v2/service/ready", READ, NONE),
    ("/apis/smd/hsm/v2/service/liveness", READ, NONE),
    ("/apis/smd/hsm/v2/service/values", READ, NONE),
    ("/apis/smd/hsm/v2/service/values/{kind}", READ, NONE),
    ("/apis/smd/hsm/v2/State/Components", READ, ADMIN),
    ("/apis/smd/hsm/v2/State/Components/Query", READ, READ),
    ("/apis/smd/hsm/v2/State/Components/ByNID/{nid}", READ, NONE),
    ("/apis/smd/hsm/v2/State/Components/BulkNID", NONE, ADMIN),
    (
        "/apis/smd/hsm/v2/State/Components/BulkStateData",
        NONE,
        ADMIN,
    ),
    (
        "/apis/smd/hsm/v2/State/Components/BulkFlagOnly",
        NONE,
        ADMIN,
    ),
    ("/apis/smd/hsm/v2/State/Components/BulkEnabled", NONE, ADMIN),
    (
        "/apis/smd/hsm/v2/State/Components/BulkSoftwareStatus",
        NONE,
        ADMIN,
    ),
    ("/apis/smd/hsm/v2/State/Components/BulkRole", NONE, ADMIN),
    ("/apis/smd/hsm/v2/State/Components/{xname}", READ, ADMIN),
    (
        "/apis/smd/hsm/v2/State/Components/{xname}/{field}",
        NONE,
        ADMIN,
    ),
    ("/apis/smd/hsm/v2/Inventory/EthernetInterfaces", READ, ADMIN),
    (
        "/apis/smd/hsm/v2/Inventory/EthernetInterfaces/{id}",
        READ,
        ADMIN,
    ),
    ("/apis/smd/hsm/v2/Inventory/RedfishEndpoints", READ, ADMIN),
    (
        "/apis/smd/hsm/v2/Inventory/RedfishEndpoints/{xname}",
        READ,
        ADMIN,
    ),
    ("/apis/smd/hsm/v2/Inventory/ComponentEndpoints", READ, NONE),
    (
        "/apis/smd/hsm/v2/Inventory/ComponentEndpoints/{xname}",
        READ,
        NONE,
    ),
    ("/apis/smd/hsm/v2/Inventory/Discover", NONE, OPERATE),
    ("/apis/smd/hsm/v2/groups", READ, ADMIN),
    ("/apis/smd/hsm/v2/groups/labels", READ, NONE),
    ("/apis/smd/hsm/v2/groups/{label}", READ, ADMIN),
    ("/apis/smd/hsm/v2/groups/{label}/members", READ, ADMIN),
    (
        "/apis/smd/hsm/v2/groups/{label}/members/{xname}",
        NONE,
        ADMIN,
    ),
    ("/apis/smd/hsm/v2/partitions", READ, ADMIN),
    ("/apis/smd/hsm/v2/partitions/names", READ, NONE),
    ("/apis/smd/hsm/v2/partitions/{name}", READ, ADMIN),
    ("/apis/smd/hsm/v2/partitions/{name}/members", READ, ADMIN),
    (
        "/apis/smd/hsm/v2/partitions/{name}/members/{xname}",
        NONE,
        ADMIN,
    ),
    ("/apis/smd/hsm/v2/memberships", READ, NONE),
    ("/apis/smd/hsm/v2/memberships/{xname}", READ, NONE),
    ("/apis/smd/hsm/v2/locks/status", READ, READ),
    // PCS and CAPMC: power is the operator's.
    ("/apis/power-control/v1/transitions", READ, OPERATE),
    ("/apis/power-control/v1/transitions/{id}", READ, OPERATE),
    ("/apis/power-control/v1/power-status", READ, READ),
    ("/apis/power-control/v1/liveness", READ, NONE),
    ("/apis/power-control/v1/readiness", READ, NONE),
    ("/apis/power-control/v1/health", READ, NONE),
    ("/apis/capmc/capmc/v1/xname_on", NONE, OPERATE),
    ("/apis/capmc/capmc/v1/xname_off", NONE, OPERATE),
    ("/apis/capmc/capmc/v1/xname_reinit", NONE, OPERATE),
    ("/apis/capmc/capmc/v1/get_xname_status", NONE, READ),
    ("/apis/capmc/capmc/v1/get_power_cap", NONE, READ),
    (
        "/apis/capmc/capmc/v1/get_power_cap_capabilities",
        NONE,
        READ,
    ),
    ("/apis/capmc/capmc/v1/set_power_cap", NONE, ADMIN),
    ("/apis/capmc/capmc/v1/health", READ, NONE),
    ("/apis/capmc/capmc/v1/liveness", READ, NONE),
    ("/apis/capmc/capmc/v1/readiness", READ, NONE),
    // BOS: sessions and components are the operator's; templates and options admin's
    // (a template chooses what nodes boot).
    ("/apis/bos", READ, NONE),
    ("/apis/bos/v2", READ, NONE),
    ("/apis/bos/v2/", READ, NONE),
    ("/apis/bos/v2/version", READ, NONE),
    ("/apis/bos/v2/healthz", READ, NONE),
    ("/apis/bos/v2/sessiontemplates", READ, ADMIN),
    ("/apis/bos/v2/sessiontemplates/{id}", READ, ADMIN),
    ("/apis/bos/v2/sessiontemplatesvalid/{id}", READ, NONE),
    ("/apis/bos/v2/sessiontemplatetemplate", READ, NONE),
    ("/apis/bos/v2/sessions", READ, OPERATE),
    ("/apis/bos/v2/sessions/{id}", READ, OPERATE),
    ("/apis/bos/v2/sessions/{id}/status", READ, OPERATE),
    ("/apis/bos/v2/components", READ, OPERATE),
    ("/apis/bos/v2/components/{id}", READ, OPERATE),
    ("/apis/bos/v2/applystaged", NONE, OPERATE),
    ("/apis/bos/v2/options", READ, ADMIN),
    ("/apis/bos/v1", READ, NONE),
    ("/apis/bos/v1/", READ, NONE),
    ("/apis/bos/v1/version", READ, NONE),
    ("/apis/bos/v1/healthz", READ, NONE),
    ("/apis/bos/v1/sessiontemplate", READ, ADMIN),
    ("/apis/bos/v1/sessiontemplate/{id}", READ, ADMIN),
    ("/apis/bos/v1/sessiontemplatetemplate", READ, NONE),
    ("/apis/bos/v1/session", READ, OPERATE),
    ("/apis/bos/v1/session/{id}", READ, OPERATE),
    ("/apis/bos/v1/session/{id}/status", READ, NONE),
    ("/apis/bos/v1/session/{id}/status/{bs}", READ, NONE),
    ("/apis/bos/v1/session/{id}/status/{bs}/{phase}", READ, NONE),
    (
        "/apis/bos/v1/session/{id}/status/{bs}/{phase}/{category}",
        READ,
        NONE,
    ),
    // CFS: components (enable, state) are the operator's; configurations and options admin's.
    ("/apis/cfs", READ, NONE),
    ("/apis/cfs/v3", READ, NONE),
    ("/apis/cfs/v3/components", READ, OPERATE),
    ("/apis/cfs/v3/components/{id}", READ, OPERATE),
    ("/apis/cfs/v3/configurations", READ, ADMIN),
    ("/apis/cfs/v3/configurations/{name}", READ, ADMIN),
    ("/apis/cfs/v3/sessions", READ, OPERATE),
    ("/apis/cfs/v3/sessions/{name}", READ, OPERATE),
    ("/apis/cfs/v2", READ, NONE),
    ("/apis/cfs/v2/options", READ, ADMIN),
    ("/apis/cfs/v2/components", READ, OPERATE),
    ("/apis/cfs/v2/components/{id}", READ, OPERATE),
    ("/apis/cfs/v2/configurations", READ, ADMIN),
    ("/apis/cfs/v2/configurations/{name}", READ, ADMIN),
    ("/apis/cfs/v2/sessions", READ, OPERATE),
    ("/apis/cfs/v2/sessions/{name}", READ, OPERATE),
    // rackboot's own API.
    ("/apis/rackboot/v1/operators", READ, NONE),
    ("/apis/rackboot/v1/bmcs/health", READ, NONE),
    ("/apis/rackboot/v1/cluster", READ, NONE),
    ("/apis/rackboot/v1/tenants", READ, NONE),
    ("/apis/rackboot/v1/tenants/{name}", READ, ADMIN),
    ("/apis/rackboot/v1/dhcp/leases", READ, NONE),
    ("/apis/rackboot/v1/nodes/{xname}/timeline", READ, NONE),
    ("/apis/rackboot/v1/manifest", READ, NONE),
    ("/apis/rackboot/v1/images", READ, NONE),
    ("/apis/rackboot/v1/images/{name}", READ, ADMIN),
    ("/apis/rackboot/v1/images/{name}/{artifact}", NONE, ADMIN),
    ("/apis/rackboot/v1/whoami", READ, NONE),
    ("/apis/rackboot/v1/users", ADMIN, ADMIN),
    ("/apis/rackboot/v1/users/{name}", ADMIN, ADMIN),
    ("/apis/rackboot/v1/tokens", READ, READ),
    ("/apis/rackboot/v1/tokens/{id}", READ, READ),
    ("/apis/rackboot/v1/audit", ADMIN, NONE),
    // The web console: its pages are reads, its actions the role of their API twins.
    ("/", READ, NONE),
    ("/console/login", PUBLIC, PUBLIC),
    ("/console/logout", NONE, READ),
    ("/console/assets/{file}", PUBLIC, NONE),
    ("/console/events", READ, NONE),
    ("/console/sessions", READ, OPERATE),
    ("/console/sessions/new", READ, NONE),
    ("/console/sessions/{name}", READ, NONE),
    ("/console/sessions/{name}/stop", NONE, OPERATE),
    ("/console/sessions/{name}/delete", NONE, OPERATE),
    ("/console/nodes/{xname}", READ, NONE),
    ("/console/nodes/{xname}/power", NONE, OPERATE),
    ("/console/bmcs", READ, NONE),
    ("/console/images", READ, NONE),
];

/// What `method` on `template` needs, or `None` when the template is not classified.
pub fn access(method: &Method, template: &str) -> Option<Access> {
    if let Some((_, _, a)) = METHODS
        .iter()
        .find(|(m, t, _)| *t == template && *m == method.as_str())
    {
        return Some(*a);
    }
    let (_, read, write) = ROUTES.iter().find(|(t, _, _)| *t == template)?;
    Some(if method == Method::GET || method == Method::HEAD {
        *read
    } else {
        *write
    })
}

/// The boot plane's per-address request limit (`boot_rate_limit`): over it, a 429 with
/// `Retry-After`.
pub async fn boot_rate(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let ip = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(ip) = ip
        && !app.admit_boot_request(ip)
    {
        metrics::counter!("rackboot_boot_requests_limited_total").increment(1);
        let mut r = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("{ip} is asking the boot plane faster than its limit (boot_rate_limit); try again in a second"),
        )
        .into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        return r;
    }
    next.run(req).await
}

fn bearer(req: &Request) -> Option<&str> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

fn challenge(detail: String) -> Response {
    let mut r = Problem::new(StatusCode::UNAUTHORIZED, detail).into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer realm=\"rackboot\""),
    );
    r
}

/// Authenticate, authorise against the table, run the handler, and record the call in the
/// audit trail when it changes something (refused attempts of known callers too; anonymous
/// ones are not recorded, so nobody can fill the trail without credentials).
pub async fn authorize(State(app): State<Arc<App>>, mut req: Request, next: Next) -> Response {
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let Some(template) = template else {
        // No route matched: the fallback answers 404 (or 405) and reveals nothing.
        return next.run(req).await;
    };
    let method = req.method().clone();
    let changes = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let console = console::is_console(&template);
    // Another site's form is refused before anything else, the login form included.
    if console
        && changes
        && let Err(refused) = console::same_origin(req.headers())
    {
        return refused.into_response();
    }
    let Some(need) = access(&method, &template) else {
        tracing::error!(%method, %template, "a route has no access classification; refused");
        return Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{method} {template} has no access classification (api::access); it is refused until it has one"),
        )
        .into_response();
    };
    let Access::Least(role) = need else {
        if need == Access::Boot {
            return boot_rate(State(app), req, next).await;
        }
        return next.run(req).await;
    };
    let identity = app.identity().clone();
    let client = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let path = req.uri().path().to_string();
    // A browser on the console may hold its login in the console cookie (never taken
    // elsewhere); a page without a login goes to the login page.
    let back = if changes {
        "/".to_string()
    } else {
        req.uri()
            .path_and_query()
            .map_or("/".to_string(), |p| p.as_str().to_string())
    };
    let to_login = || {
        let mut r = console::to_login(&back);
        r.headers_mut()
            .insert(header::SET_COOKIE, console::clear_cookie());
        r
    };
    let (p, csrf) = if identity.no_auth {
        (Principal::no_auth(), console::Csrf::for_cookie(""))
    } else {
        let (token, csrf) = match bearer(&req) {
            Some(t) => (t.to_string(), console::Csrf(None)),
            None => match console
                .then(|| console::cookie_token(req.headers()))
                .flatten()
            {
                Some(c) => {
                    let csrf = console::Csrf::for_cookie(&c);
                    (c, csrf)
                }
                None if console => return to_login(),
                None => {
                    return challenge(format!(
                        "{method} {path} needs a bearer token (an API token, or a login from {})",
                        super::login::TOKEN_PATH
                    ));
                }
            },
        };
        match identity.authenticate(&token).await {
            Ok(p) => (p, csrf),
            Err(crate::app::AppError::Unauthorized(_)) if console && csrf.0.is_some() => {
                return to_login();
            }
            Err(crate::app::AppError::Unauthorized(why)) => return challenge(why),
            // The store failed, not the caller: a 500 that says so (and logs why).
            Err(e) => return Problem::from(e).into_response(),
        }
    };
    let audit = |status: StatusCode| AuditRecord {
        time: chrono::Utc::now(),
        who: p.name.clone(),
        role: Some(p.role),
        credential: p.credential.to_string(),
        method: method.to_string(),
        path: path.clone(),
        client: client.clone(),
        status: status.as_u16(),
    };
    if p.role < role {
        let refused = Problem::new(
            StatusCode::FORBIDDEN,
            format!(
                "{method} {path} needs the {role} role; {} is {}",
                p.name, p.role
            ),
        );
        if changes {
            identity.record(audit(StatusCode::FORBIDDEN)).await;
        }
        return refused.into_response();
    }
    req.extensions_mut().insert(p.clone());
    if console {
        req.extensions_mut().insert(csrf);
    }
    let resp = next.run(req).await;
    if changes {
        identity.record(audit(resp.status())).await;
    }
    resp
}
