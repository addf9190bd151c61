//! Finding the operation and response for a request: path templates, statuses and empty
//! bodies, and how `assert_valid` fails.

use serde_json::{Value, json};

use crate::openapi::{Spec, assert_valid};

use super::{DEMO, options, session, template, violations};

#[test]
fn openapi_check_path_matching() {
    let bos = Spec::bos();
    for (path, template) in [
        (
            "/apis/bos/v2/sessions/abc/status",
            "/v2/sessions/{session_id}/status",
        ),
        (
            "/apis/bos/v2/sessiontemplatetemplate",
            "/v2/sessiontemplatetemplate",
        ),
        ("/apis/bos/v2/sessiontemplates", "/v2/sessiontemplates"),
        (
            "/v2/sessiontemplates/compute?x=1",
            "/v2/sessiontemplates/{session_template_id}",
        ),
        (
            "/apis/bos/v2/sessiontemplatesvalid/compute",
            "/v2/sessiontemplatesvalid/{session_template_id}",
        ),
        ("/apis/bos/v2/components?ids=x1,x2", "/v2/components"),
        ("/apis/bos/v2/", "/v2"),
        ("/apis/bos", "/"),
        ("/", "/"),
    ] {
        assert_eq!(bos.path_template(path), Some(template), "{path}");
    }
    for path in [
        "/apis/bos/v1/session",
        "/apis/bos/v2/sessions/a/b/c",
        "/apis/bosx/v2",
    ] {
        assert_eq!(bos.path_template(path), None, "{path}");
    }
    let demo = Spec::from_yaml("demo", DEMO);
    assert_eq!(
        demo.path_template("/apis/demo/things/special"),
        Some("/things/special")
    );
    assert_eq!(
        demo.path_template("/apis/demo/things/ordinary"),
        Some("/things/{id}")
    );
    // 2XX and default responses.
    assert_eq!(
        demo.check("GET", "/apis/demo/things/special", 201, &json!({})),
        Ok(())
    );
    assert_eq!(
        demo.check("GET", "/apis/demo/things/special", 500, &json!("OOPS!")),
        Ok(())
    );
}

#[test]
fn openapi_check_status_and_empty_bodies() {
    assert_eq!(
        violations("GET", "/apis/bos/v2/sessions/x", 418, &Value::Null),
        ["status 418 not documented for GET /v2/sessions/{session_id}"]
    );
    // BOS answers 201 to session creation, 200 to template creation.
    assert_eq!(
        violations("POST", "/apis/bos/v2/sessions", 200, &session()),
        ["status 200 not documented for POST /v2/sessions"]
    );
    assert_eq!(
        violations("PUT", "/apis/bos/v2/sessiontemplates/t", 201, &template()),
        ["status 201 not documented for PUT /v2/sessiontemplates/{session_template_id}"]
    );
    assert_eq!(
        violations("POST", "/apis/bos/v2/options", 200, &options()),
        ["POST not documented for /v2/options"]
    );
    assert_eq!(
        violations("GET", "/apis/bos/v1/session", 200, &json!([])),
        ["no path in bos-openapi.yaml matches GET /apis/bos/v1/session"]
    );
    // 204: no content, so only an empty body (null, or "" from the test client).
    for empty in [Value::Null, json!("")] {
        assert_valid("DELETE", "/apis/bos/v2/sessions/x", 204, &empty);
        assert_valid(
            "DELETE",
            "/apis/bos/v2/sessions?status=complete",
            204,
            &empty,
        );
    }
    assert_eq!(
        violations("DELETE", "/apis/bos/v2/sessiontemplates/t", 204, &json!({})),
        [
            "status 204 for DELETE /v2/sessiontemplates/{session_template_id} documents no body, got object"
        ]
    );
    // An empty body where a JSON document is documented.
    assert_eq!(
        violations("GET", "/apis/bos/v2/sessions/x", 200, &json!("")),
        ["/: expected object, got string \"\" [V2Session]"]
    );
}

#[test]
#[should_panic(expected = "violates the BOS OpenAPI spec:\n  - /: unexpected property `job`")]
fn openapi_check_assert_valid_panics_with_violations_and_body() {
    let mut s = session();
    s["job"] = json!("boa-4f3c");
    assert_valid("POST", "/apis/bos/v2/sessions", 201, &s);
}
