//! Valid BOS answers, one per operation, pass the validator.

use serde_json::json;

use crate::openapi::{Spec, assert_valid};

use super::{component, extended_status, not_found, options, session, template, version};

#[test]
fn openapi_check_valid_bos_examples_pass() {
    let t = template();
    assert_valid(
        "PUT",
        "/apis/bos/v2/sessiontemplates/compute-23.4.0",
        200,
        &t,
    );
    assert_valid(
        "GET",
        "/apis/bos/v2/sessiontemplates/compute-23.4.0",
        200,
        &t,
    );
    assert_valid(
        "PATCH",
        "/apis/bos/v2/sessiontemplates/compute-23.4.0",
        200,
        &t,
    );
    assert_valid("get", "/apis/bos/v2/sessiontemplates", 200, &json!([t]));
    assert_eq!(Spec::bos().check_schema("V2SessionTemplate", &t), Ok(()));
    // The skeleton from /v2/sessiontemplatetemplate (no boot-set names, top-level cfs).
    let skeleton = json!({
        "boot_sets": {"name_your_boot_set": {
            "type": "s3",
            "etag": "boot-image-s3-etag",
            "kernel_parameters": "your-kernel-parameters",
            "cfs": {"configuration": "bootset-specific-cfs-override"},
            "node_list": ["xname1", "xname2", "xname3"],
            "path": "s3://boot-images/boot-image-ims-id/manifest.json",
            "rootfs_provider": "sbps",
            "rootfs_provider_passthrough": "sbps:v1:iqn.2023-06.csm.iscsi:_sbps-hsn._tcp.my-system.my-site-domain:300"
        }},
        "cfs": {"configuration": "default-sessiontemplate-cfs-config"},
        "enable_cfs": true
    });
    assert_valid(
        "GET",
        "/apis/bos/v2/sessiontemplatetemplate",
        200,
        &skeleton,
    );
    assert_valid(
        "GET",
        "/apis/bos/v2/sessiontemplatesvalid/compute-23.4.0",
        200,
        &json!("Valid"),
    );

    let mut s = session();
    assert_valid("POST", "/apis/bos/v2/sessions", 201, &s);
    assert_valid("GET", "/apis/bos/v2/sessions/reboot-compute-1", 200, &s);
    s["tenant"] = json!("vcluster-blue");
    s["status"] = json!({
        "status": "complete",
        "start_time": "2025-06-01T12:34:56",
        "end_time": "2025-06-01T12:51:03",
        "error": "No nodes were found to act upon."
    });
    assert_valid(
        "GET",
        "/apis/bos/v2/sessions?status=complete&min_age=1d",
        200,
        &json!([s]),
    );
    assert_eq!(Spec::bos().check_schema("V2Session", &s), Ok(()));

    let st = extended_status();
    assert_valid(
        "GET",
        "/apis/bos/v2/sessions/reboot-compute-1/status",
        200,
        &st,
    );
    assert_eq!(
        Spec::bos().check_schema("V2SessionExtendedStatus", &st),
        Ok(())
    );

    let c = component();
    assert_valid("GET", "/apis/bos/v2/components/x3000c0s19b1n0", 200, &c);
    assert_valid("PATCH", "/apis/bos/v2/components/x3000c0s19b1n0", 200, &c);
    // What discovery creates: empty states, staged_state {}.
    let discovered = json!({
        "id": "x3000c0s20b1n0",
        "actual_state": {"boot_artifacts": {"kernel": "", "kernel_parameters": "", "initrd": ""}, "bss_token": ""},
        "desired_state": {"boot_artifacts": {"kernel": "", "kernel_parameters": "", "initrd": ""}, "configuration": "", "bss_token": ""},
        "staged_state": {},
        "last_action": {"action": "newly_discovered", "failed": false},
        "status": {"status": "stable"},
        "enabled": false,
        "error": "",
        "session": ""
    });
    assert_valid(
        "GET",
        "/apis/bos/v2/components?enabled=true&page_size=10",
        200,
        &json!([c, discovered]),
    );
    assert_valid(
        "POST",
        "/apis/bos/v2/applystaged",
        200,
        &json!({"succeeded": [], "failed": [], "ignored": ["x3000c0s19b1n0"]}),
    );

    let o = options();
    assert_valid("GET", "/apis/bos/v2/options", 200, &o);
    assert_valid("PATCH", "/apis/bos/v2/options", 200, &o);
    assert_eq!(Spec::bos().check_schema("V2Options", &o), Ok(()));

    let v = version();
    assert_valid("GET", "/apis/bos/v2", 200, &v);
    assert_valid("GET", "/apis/bos/v2/version", 200, &v);
    assert_valid("GET", "/apis/bos/", 200, &json!([v]));
    assert_valid(
        "GET",
        "/apis/bos/v2/healthz",
        200,
        &json!({"dbStatus": "ok", "apiStatus": "ok"}),
    );
    assert_valid(
        "GET",
        "/v2/healthz",
        200,
        &json!({"dbStatus": "not_available", "apiStatus": "ok"}),
    );

    assert_valid("GET", "/apis/bos/v2/sessions/nope", 404, &not_found());
    assert_valid(
        "POST",
        "/apis/bos/v2/sessions",
        409,
        &json!({
            "type": "about:blank",
            "title": "The resource to be created already exists",
            "status": 409,
            "detail": "Session 'reboot-compute-1' already exists"
        }),
    );
    assert_valid(
        "POST",
        "/apis/bos/v2/sessions",
        400,
        &json!({"type": "about:blank", "title": "Bad Request", "status": 400, "detail": "Session Template Name invalid: nope"}),
    );
}
