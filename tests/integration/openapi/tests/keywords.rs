//! Each schema rule the validator enforces: required fields, types, extra properties, enums,
//! lengths, nullable, writeOnly, `oneOf` ambiguity and patterns.

use serde_json::{Value, json};

use crate::openapi::{Pattern, Spec};

use super::{
    DEMO, component, not_found, options, schema_violations, session, template, violations,
};

#[test]
fn openapi_check_missing_required_field() {
    let mut s = session();
    s.as_object_mut().unwrap().remove("template_name");
    assert_eq!(
        violations("GET", "/apis/bos/v2/sessions/reboot-compute-1", 200, &s),
        ["/: missing required property `template_name` [V2Session]"]
    );
    let mut t = template();
    t["boot_sets"]["compute"]
        .as_object_mut()
        .unwrap()
        .remove("path");
    assert_eq!(
        schema_violations("V2SessionTemplate", &t),
        ["/boot_sets/compute: missing required property `path` [V2BootSet]"]
    );
}

#[test]
fn openapi_check_wrong_type() {
    let mut c = component();
    c["enabled"] = json!("false");
    c["retry_policy"] = json!(3.0);
    c["event_stats"]["power_on_attempts"] = json!(-1);
    assert_eq!(
        violations("GET", "/apis/bos/v2/components/x3000c0s19b1n0", 200, &c),
        [
            "/enabled: expected boolean, got string \"false\"",
            "/event_stats/power_on_attempts: -1 is below the minimum 0",
            "/retry_policy: expected integer, got number 3.0",
        ]
    );
    assert_eq!(
        violations(
            "GET",
            "/apis/bos/v2/components",
            200,
            &json!({"components": []})
        ),
        ["/: expected array, got object [V2ComponentArray]"]
    );
}

#[test]
fn openapi_check_extra_property_rejected() {
    let mut s = session();
    s["job"] = json!("boa-4f3c");
    assert_eq!(
        violations("POST", "/apis/bos/v2/sessions", 201, &s),
        ["/: unexpected property `job` (additionalProperties: false) [V2Session]"]
    );
    // BOS keeps a timestamp next to the artifacts internally and must strip it on output.
    let mut c = component();
    c["actual_state"]["boot_artifacts"]["timestamp"] = json!("2025-06-01T12:40:00");
    assert_eq!(
        violations("GET", "/apis/bos/v2/components/x3000c0s19b1n0", 200, &c),
        [
            "/actual_state/boot_artifacts: unexpected property `timestamp` (additionalProperties: false) [V2BootArtifacts]"
        ]
    );
    // V2Options says additionalProperties: true (PATCH echoes unknown keys once).
    let mut o = options();
    o["disable_components_on_completion"] = json!(true);
    assert_eq!(
        Spec::bos().check("PATCH", "/apis/bos/v2/options", 200, &o),
        Ok(())
    );
}

#[test]
fn openapi_check_enum_violation() {
    let mut s = session();
    s["operation"] = json!("configure");
    assert_eq!(
        violations("GET", "/apis/bos/v2/sessions/reboot-compute-1", 200, &s),
        [
            "/operation: \"configure\" is not one of [\"boot\",\"reboot\",\"shutdown\"] [V2SessionOperation]"
        ]
    );
    // The HTTP status text as title (what src/api/problem.rs produces today) is not
    // what BOS clients are promised.
    let mut p = not_found();
    p["title"] = json!("Not Found");
    assert_eq!(
        violations("GET", "/apis/bos/v2/sessiontemplates/nope", 404, &p),
        ["/title: \"Not Found\" is not one of [\"The resource was not found\"]"]
    );
    let mut t = template();
    t["boot_sets"]["compute"]["arch"] = json!("x86_64");
    assert_eq!(
        schema_violations("V2SessionTemplate", &t),
        [
            "/boot_sets/compute/arch: \"x86_64\" is not one of [\"X86\",\"ARM\",\"Other\",\"Unknown\"]"
        ]
    );
}

#[test]
fn openapi_check_max_length_counts_characters() {
    let mut t = template();
    // 127 two-byte characters: 254 bytes, but within maxLength 127.
    t["cfs"]["configuration"] = json!("é".repeat(127));
    assert_eq!(Spec::bos().check_schema("V2SessionTemplate", &t), Ok(()));
    t["cfs"]["configuration"] = json!("a".repeat(128));
    assert_eq!(
        schema_violations("V2SessionTemplate", &t),
        ["/cfs/configuration: 128 characters, maxLength is 127 [CfsConfiguration]"]
    );
    let mut s = session();
    s["name"] = json!("");
    assert_eq!(
        schema_violations("V2Session", &s),
        [
            "/name: 0 characters, minLength is 1 [V2SessionName]",
            "/name: \"\" does not match pattern ^[a-zA-Z0-9](?:[-._a-zA-Z0-9]{0,125}[a-zA-Z0-9])?$ [V2SessionName]",
        ]
    );
}

#[test]
fn openapi_check_nullable() {
    // tenant, limit, end_time and error are nullable ...
    let mut t = template();
    t["tenant"] = Value::Null;
    assert_eq!(Spec::bos().check_schema("V2SessionTemplate", &t), Ok(()));
    let mut s = session();
    s["limit"] = Value::Null;
    assert_eq!(Spec::bos().check_schema("V2Session", &s), Ok(()));
    // ... description, start_time and a component's session are not.
    t["description"] = Value::Null;
    assert_eq!(
        schema_violations("V2SessionTemplate", &t),
        ["/description: expected string, got null [SessionTemplateDescription]"]
    );
    s["status"]["start_time"] = Value::Null;
    assert_eq!(
        schema_violations("V2Session", &s),
        ["/status/start_time: expected string, got null [V2SessionStartTime]"]
    );
    let mut c = component();
    c["session"] = Value::Null;
    let e = schema_violations("V2Component", &c);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("/session: matches none of the oneOf branches: #0 V2SessionName: /session: expected string, got null"),
        "{e:?}"
    );
    // EmptyStringNullable: enum [''] plus nullable admits null.
    assert_eq!(
        Spec::bos().check_schema("EmptyStringNullable", &Value::Null),
        Ok(())
    );
}

#[test]
fn openapi_check_write_only_in_response() {
    // BOS strips boot-set names before storing; echoing one breaks the contract.
    let mut t = template();
    t["boot_sets"]["compute"]["name"] = json!("compute");
    assert_eq!(
        violations(
            "PUT",
            "/apis/bos/v2/sessiontemplates/compute-23.4.0",
            200,
            &t
        ),
        [
            "/boot_sets/compute/name: writeOnly value present in a response (responses must not echo write-only fields) [BootSetName]"
        ]
    );
    // CFS must never return git credentials.
    let cfs = Spec::load("cfs-openapi.yaml");
    let mut source = json!({
        "name": "csm-config",
        "clone_url": "https://vcs.cmn.example/vcs/cray/config-management.git",
        "last_updated": "2025-06-01T12:00:00Z",
        "credentials": {"authentication_method": "password", "secret_name": "cfs-source-csm-config"}
    });
    assert_eq!(
        cfs.check("GET", "/apis/cfs/v3/sources/csm-config", 200, &source),
        Ok(())
    );
    source["credentials"]["password"] = json!("hunter2");
    assert_eq!(
        cfs.check("GET", "/apis/cfs/v3/sources/csm-config", 200, &source),
        Err(vec![
            "/credentials/password: writeOnly value present in a response (responses must not echo write-only fields)".to_string()
        ])
    );
    // A required writeOnly property is not required in a response.
    let demo = Spec::from_yaml("demo", DEMO);
    assert_eq!(demo.check_schema("Account", &json!({"id": "a"})), Ok(()));
    assert_eq!(
        demo.check_schema("Account", &json!({})),
        Err(vec![
            "/: missing required property `id` [Account]".to_string()
        ])
    );
}

#[test]
fn openapi_check_one_of_ambiguity() {
    let demo = Spec::from_yaml("demo", DEMO);
    let get = |body: Value| demo.check("GET", "/apis/demo/things/42", 200, &body);
    // Only the first branch (uppercase, short) / only the second (lowercase, long).
    assert_eq!(get(json!("ABC")), Ok(()));
    assert_eq!(get(json!("abcdefghijklmnop")), Ok(()));
    assert_eq!(
        get(json!("abc")),
        Err(vec![
            "/: matches 2 oneOf branches (#0, #1), oneOf requires exactly one [Ambiguous]"
                .to_string()
        ])
    );
    assert_eq!(
        get(json!("ABCDEFGHIJKLMNOP")),
        Err(vec![
            "/: matches none of the oneOf branches: #0: /: 16 characters, maxLength is 10 \
             | #1: /: \"ABCDEFGHIJKLMNOP\" does not match pattern ^[a-z]+$ [Ambiguous]"
                .to_string()
        ])
    );
    // anyOf is satisfied by any branch, and by several.
    assert_eq!(demo.check_schema("Either", &json!(12)), Ok(()));
    assert_eq!(demo.check_schema("Either", &json!("ten")), Ok(()));
    assert!(demo.check_schema("Either", &json!(9)).is_err());
    // The real oneOf in BOS: a session name or "".
    let mut c = component();
    c["staged_state"]["session"] = json!("-bad-");
    let e = schema_violations("V2Component", &c);
    assert!(
        e.len() == 1
            && e[0].starts_with("/staged_state/session: matches none of the oneOf branches"),
        "{e:?}"
    );
}

#[test]
fn openapi_check_patterns() {
    let name = Pattern::new("^[a-zA-Z0-9](?:[-._a-zA-Z0-9]{0,125}[a-zA-Z0-9])?$").unwrap();
    for ok in ["a", "cle-1.0.0", "x3000c0s19b1n0", &"a".repeat(127)] {
        assert!(name.is_match(ok), "{ok}");
    }
    for bad in ["", "-a", "a-", "a b", "é", &"a".repeat(128)] {
        assert!(!name.is_match(bad), "{bad}");
    }
    let age = Pattern::new("^(0|0[mMhHdDwW]|[1-9][0-9]*[mMhHdDwW])$").unwrap();
    for ok in ["0", "0d", "3d", "12H", "100w"] {
        assert!(age.is_match(ok), "{ok}");
    }
    for bad in ["", "01d", "3", "3y", "d", "3d "] {
        assert!(!age.is_match(bad), "{bad}");
    }
    let opt_age = Pattern::new("^(?:[0-9]+[mMhHdDwW]){0,1}$").unwrap();
    assert!(opt_age.is_match("") && opt_age.is_match("10m") && !opt_age.is_match("10m5h"));
    let no_space = Pattern::new(r"^[^\s;]*$").unwrap();
    assert!(
        no_space.is_match("site.yml") && !no_space.is_match("a b") && !no_space.is_match("a;b")
    );
    let host =
        Pattern::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$").unwrap();
    assert!(host.is_match("cfs-a.b-c.d") && !host.is_match("a..b") && !host.is_match("A.b"));
    let layer = Pattern::new("^[^_]*(_(applied|failed|skipped))?$").unwrap();
    assert!(layer.is_match("abc_applied") && layer.is_match("abc") && !layer.is_match("a_b_c"));
    let level = Pattern::new("^([dD][eE][bB][uU][gG]|[iI][nN][fF][oO])$").unwrap();
    assert!(level.is_match("Info") && !level.is_match("information"));
    // Unanchored patterns search anywhere, as ECMA-262 (and JSON Schema) do.
    assert!(Pattern::new("b+c").unwrap().is_match("abbbcd"));
    assert!(Pattern::new("^(a|ab)(c|bcd)$").unwrap().is_match("abcd"));
    // `\b` is ECMA-262 and the regex crate has it (the hand-written matcher did not).
    let word = Pattern::new(r"\bword").unwrap();
    assert!(word.is_match("a word") && !word.is_match("sword"));
    // Look-around and backreferences (beyond the engine), and what is not ECMA-262.
    for unsupported in ["(?=a)", "(?P<n>a)", r"\1", "a{2", "*a", "[a", "(a"] {
        assert!(Pattern::new(unsupported).is_err(), "{unsupported}");
    }
}
