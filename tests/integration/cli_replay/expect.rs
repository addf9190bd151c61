//! What the replay expects beyond "a success the upstream spec describes", one line per
//! exception with its reason: errata where the vendored spec is wrong about the upstream
//! service, requests expected to fail, requests not served yet, spec checks
//! made against a component because the spec's own answer schema cannot match, and
//! differences already known and being fixed elsewhere. Each list is held to being true: an
//! expected failure that succeeds, an unserved path that answers, or a known difference that
//! is gone fails the replay until the line is removed.

use super::{Answer, Request};

/// Where a vendored spec is wrong about the service it describes: (file, JSON pointer in the
/// vendored document, the value the service's own code implies, why). Applied when the spec
/// is loaded; an erratum the spec has caught up with fails the load. The same decisions as the
/// contract run's rules (`tests/contract/rules.yaml` on branch `contracts`).
pub const ERRATA: &[(&str, &str, &str, &str)] = &[
    (
        "hsm-smd-cray-hpe-swagger_v2.yaml",
        "/definitions/Response_1.0.0/properties/code",
        r#"{"type": "integer"}"#,
        "HSM's Response `code` is a Go int: deletes answer {\"code\": 0, ...}; the spec says string",
    ),
    (
        "hsm-smd-cray-hpe-swagger_v2.yaml",
        "/definitions/ResourceName/pattern",
        r#""^[0-9a-z_\\-.]{1,}$""#,
        "HSM group labels are letters, digits, '_', '.' and '-', kept lower case (`cray hsm \
         groups create --label T` makes \"t\"); the spec's pattern allows hex digits only",
    ),
    (
        "hsm-smd-cray-hpe-swagger_v2.yaml",
        "/definitions/UUID.1.0.0/pattern",
        r#""^$|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})""#,
        "a RedfishEndpoint not yet discovered has UUID \"\" in HSM (a Go string without \
         omitempty); the spec's pattern has no empty form",
    ),
    (
        "hsm-smd-cray-hpe-swagger_v2.yaml",
        "/definitions/RedfishEndpoint.1.0.0_RedfishEndpoint/properties/MACAddr/pattern",
        r#""^$|^([0-9A-Fa-f]{2}[:-]){5}([0-9A-Fa-f]{2})$""#,
        "a RedfishEndpoint whose BMC MAC is not known has MACAddr \"\" in HSM; the spec's \
         pattern has no empty form",
    ),
];

/// Entries expected to fail: (command, status, why).
pub const EXPECTED_FAILURES: &[(&str, u16, &str)] = &[(
    "cray cfs v3 configurations describe T-del --format json",
    404,
    "the capture's previous command deleted T-del: describing it must say it is gone",
)];

/// Paths not served yet: (prefix, why). Such a request must answer 404. (Keycloak's token
/// endpoint is served since issue 18: `replay::cli_replay_over_https_after_cray_auth_login`.)
pub const UNSERVED: &[(&str, &str)] = &[];

/// Why a path is expected not to be served, if it is.
pub fn unserved(path: &str) -> Option<&'static str> {
    UNSERVED
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix))
        .map(|(_, why)| *why)
}

/// The status and reason of an entry expected to fail.
pub fn failure(command: &str) -> Option<(u16, &'static str)> {
    EXPECTED_FAILURES
        .iter()
        .find(|(c, _, _)| *c == command)
        .map(|(_, status, why)| (*status, *why))
}

/// Differences from the upstream contract that are known and being fixed elsewhere:
/// (command, text of the violation or status problem, why it is left here).
pub const KNOWN: &[(&str, &str, &str)] = &[];

/// Split problems into those not known, and the known lines that no problem matched (stale).
pub fn triage(problems: Vec<String>) -> (Vec<String>, Vec<String>) {
    let mut used = vec![false; KNOWN.len()];
    let unknown = problems
        .into_iter()
        .filter(|p| {
            let hit = KNOWN
                .iter()
                .position(|(c, needle, _)| p.starts_with(&format!("`{c}`")) && p.contains(needle));
            if let Some(i) = hit {
                used[i] = true;
            }
            hit.is_none()
        })
        .collect();
    let stale = KNOWN
        .iter()
        .zip(used)
        .filter(|(_, used)| !used)
        .map(|((c, needle, why), _)| format!("`{c}`: known difference {needle:?} ({why}) no longer seen: remove it from cli_replay/expect.rs"))
        .collect();
    (unknown, stale)
}

/// Whether an answer is final (a describe is rerun until it is).
pub type Done = fn(&Answer) -> bool;

/// For describes an admin reruns until done: when the answer is final.
pub fn settled(command: &str) -> Option<Done> {
    if command.starts_with("cray bos v2 sessions describe ") {
        return Some(|a| a.status != 200 || a.body["status"]["status"] == "complete");
    }
    if command.starts_with("cray power transition describe ") {
        return Some(|a| {
            a.status != 200
                || ["completed", "aborted"]
                    .contains(&a.body["transitionStatus"].as_str().unwrap_or(""))
        });
    }
    None
}

/// After a BOS v1 session create, the v1 CLI's `cray bos v1 session describe ID`
/// (`GET /apis/bos/v1/session/{id}`, the id from the `session` link) until it is complete:
/// the capture has no describe for v1 sessions, and the next command must not race it.
pub fn wait_after(command: &str, a: &Answer) -> Option<(Request, Done)> {
    if !command.starts_with("cray bos v1 session create ") || a.status != 201 {
        return None;
    }
    let href = a.body["links"][0]["href"].as_str()?;
    let id = href.rsplit('/').next()?;
    let describe = Request {
        method: "GET".into(),
        path: format!("/apis/bos/v1/session/{id}"),
        body: None,
    };
    Some((describe, |a| a.status != 200 || a.body["complete"] == true))
}

/// Answers checked against a named component instead of the operation's response schema,
/// where the spec's answer cannot match any body: the v1 session details are `oneOf` two
/// identical open schemas (V1SessionDetails, V1SessionDetailsByTemplateUuid), so every body
/// matches both and none matches exactly one.
pub fn checked_as_component(req: &Request, a: &Answer) -> Option<&'static str> {
    let p = req.path.split('?').next().unwrap_or_default();
    let details = req.method == "GET"
        && a.status == 200
        && p.strip_prefix("/apis/bos/v1/session/")
            .is_some_and(|id| !id.is_empty() && !id.contains('/'));
    details.then_some("V1SessionDetails")
}
