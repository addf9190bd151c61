//! The vendored specs themselves: fully understood, unsupported constructs reported, the CFS
//! spec loaded, and where the BOS spec and BOS disagree.

use serde_json::json;

use crate::openapi::Spec;

use super::{DEMO, component, extended_status, schema_violations, violations};

#[test]
fn openapi_check_specs_are_fully_understood() {
    for file in [
        "bos-openapi.yaml",
        "bos-openapi-with-v1.yaml",
        "cfs-openapi.yaml",
    ] {
        let problems = Spec::load(file).self_check();
        assert!(problems.is_empty(), "{file}:\n{}", problems.join("\n"));
    }
    let demo = Spec::from_yaml("demo", DEMO).self_check();
    assert_eq!(
        demo,
        // The regex-crate engine has no look-around: reported, not skipped.
        ["/components/schemas/Lookahead/pattern: \"^(?=a)\" is not a \"regex\""]
    );
}

/// What the library cannot honour is listed by `self_check`, never skipped.
#[test]
fn openapi_check_unsupported_constructs_are_reported() {
    let odd = Spec::from_yaml(
        "odd",
        r#"
openapi: "3.0.3"
info: {title: odd, version: "1"}
paths: {}
components:
  schemas:
    Pet:
      type: object
      discriminator: {propertyName: kind}
      properties:
        kind: {type: "null"}
        owner: {$ref: '#/components/schemas/Nobody'}
      required: owner
"#,
    );
    assert_eq!(
        odd.self_check(),
        [
            "/components/schemas/Pet/properties/kind: unsupported type \"null\"",
            "/components/schemas/Pet/properties/owner: unresolvable $ref #/components/schemas/Nobody (only local refs are supported)",
            "/components/schemas/Pet/required: \"owner\" is not of type \"array\"",
            "/components/schemas/Pet: Pointer '/components/schemas/Nobody' does not exist",
            "/components/schemas/Pet: unsupported schema keyword `discriminator`",
        ]
    );
}

/// Places where the BOS spec and BOS itself (docs/bos.md, Cray-HPE/bos source)
/// disagree. A re-implementation that copies BOS byte for byte fails these checks; the
/// server must pick the spec's side (or the test must not assert_valid that response).
#[test]
fn openapi_check_known_spec_discrepancies() {
    // POST /v2/sessions/{id}/status returns the saved extended status; the spec says
    // it returns the session.
    let e = violations(
        "POST",
        "/apis/bos/v2/sessions/s/status",
        200,
        &extended_status(),
    );
    assert!(
        e.contains(&"/: missing required property `name` [V2Session]".to_string()),
        "{e:?}"
    );
    // /v2/healthz documents 500 with the BadRequest response (title "Bad Request",
    // status 400), so no honest 500 problem can validate.
    let e = violations(
        "GET",
        "/apis/bos/v2/healthz",
        500,
        &json!({"type": "about:blank", "title": "Internal Server Error", "status": 500, "detail": "x"}),
    );
    assert!(
        e.iter()
            .any(|e| e.starts_with("/status: 500 is not one of [400]")),
        "{e:?}"
    );
    // BOS titles its unknown-tenant 400 "Invalid tenant" and its actual-state 409
    // "Actual state can not be updated."; the spec pins "Bad Request" and "The update
    // was not allowed due to a conflict".
    let e = violations(
        "POST",
        "/apis/bos/v2/sessions",
        400,
        &json!({"type": "about:blank", "title": "Invalid tenant", "status": 400, "detail": "Tenant does not exist"}),
    );
    assert_eq!(
        e,
        ["/title: \"Invalid tenant\" is not one of [\"Bad Request\"]"]
    );
    let e = violations(
        "PATCH",
        "/apis/bos/v2/components/x1",
        409,
        &json!({"type": "about:blank", "title": "Actual state can not be updated.", "status": 409, "detail": "x"}),
    );
    assert!(
        e[0].starts_with("/title: \"Actual state can not be updated.\""),
        "{e:?}"
    );
    // BOS treats retry_policy -1 as "unlimited"; the schema's minimum is 0.
    let mut c = component();
    c["retry_policy"] = json!(-1);
    assert_eq!(
        schema_violations("V2Component", &c),
        ["/retry_policy: -1 is below the minimum 0"]
    );
    // Redis down: BOS answers 503 "Unable to connect to the Redis database" from any
    // endpoint, but only /v2/healthz documents a 503.
    assert_eq!(
        violations("GET", "/apis/bos/v2/sessions", 503, &json!({})),
        ["status 503 not documented for GET /v2/sessions"]
    );
    // Invalid query parameters are 400s from connexion, undocumented on GET /v2/sessions.
    assert_eq!(
        violations(
            "GET",
            "/apis/bos/v2/sessions?min_age=yesterday",
            400,
            &json!({})
        ),
        ["status 400 not documented for GET /v2/sessions"]
    );
}

#[test]
fn openapi_check_cfs_spec_loads_and_checks() {
    let cfs = Spec::load("cfs-openapi.yaml");
    assert_eq!(
        cfs.path_template("/apis/cfs/v3/components/x1"),
        Some("/v3/components/{component_id}")
    );
    assert_eq!(
        cfs.check(
            "GET",
            "/apis/cfs/healthz",
            200,
            &json!({"db_status": "ok", "kafka_status": "ok"})
        ),
        Ok(())
    );
    assert_eq!(
        cfs.check(
            "GET",
            "/apis/cfs/versions",
            200,
            &json!({"major": "1", "minor": "0", "patch": "x"})
        ),
        Err(vec![
            "/patch: \"x\" does not match pattern ^(0|[1-9][0-9]*)$".to_string()
        ])
    );
}
