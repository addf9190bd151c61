//! The validator's own tests: what it catches, what it accepts, and the places where the
//! BOS spec and BOS's behaviour disagree (`openapi_check_known_spec_discrepancies`).
//!
//! The example bodies, the violation helpers and the made-up `DEMO` spec are here; the tests
//! are in the topic modules below.

use serde_json::{Value, json};

use super::Spec;

mod examples;
mod keywords;
mod matching;
mod specs;

const S3: &str = "s3://boot-images/9e3c75e1-ac42-42c7-873c-e758048897d6";

fn template() -> Value {
    json!({
        "name": "compute-23.4.0",
        "tenant": null,
        "description": "Compute nodes",
        "enable_cfs": true,
        "cfs": {"configuration": "compute-23.4.0"},
        "boot_sets": {
            "compute": {
                "path": format!("{S3}/manifest.json"),
                "type": "s3",
                "etag": "1cc4eef4f407bd8a62d7d66ee4b9e9c8",
                "kernel_parameters": "console=ttyS0,115200 ip=dhcp spire_join_token=${SPIRE_JOIN_TOKEN}",
                "node_list": ["x3000c0s19b1n0", "x3000c0s19b2n0"],
                "node_roles_groups": ["Compute"],
                "node_groups": ["blue"],
                "arch": "X86",
                "rootfs_provider": "sbps",
                "rootfs_provider_passthrough": "sbps:v1:iqn.2023-06.csm.iscsi:_sbps-hsn._tcp.my-system.my-site-domain:300",
                "cfs": {"configuration": "compute-gpu-23.4.0"}
            }
        }
    })
}

fn session() -> Value {
    json!({
        "name": "reboot-compute-1",
        "operation": "reboot",
        "template_name": "compute-23.4.0",
        "limit": "",
        "stage": false,
        "components": "x3000c0s19b1n0,x3000c0s19b2n0",
        "include_disabled": false,
        "status": {
            "status": "running",
            "start_time": "2025-06-01T12:34:56",
            "end_time": null,
            "error": null
        }
    })
}

fn extended_status() -> Value {
    json!({
        "status": "complete",
        "managed_components_count": 3,
        "phases": {
            "percent_complete": 100.0,
            "percent_powering_on": 0,
            "percent_powering_off": 0,
            "percent_configuring": 0
        },
        "percent_successful": 66.67,
        "percent_failed": 33.33,
        "percent_staged": 0,
        "error_summary": {
            "The retry limit has been hit for this component, but no services have reported specific errors":
                {"count": 1, "list": "x3000c0s19b2n0"}
        },
        "timing": {
            "start_time": "2025-06-01T12:34:56",
            "end_time": "2025-06-01T12:51:03",
            "duration": "0:16:07"
        }
    })
}

fn component() -> Value {
    let artifacts = json!({
        "kernel": format!("{S3}/kernel"),
        "kernel_parameters": "console=ttyS0,115200 ip=dhcp bos_update_frequency=4h",
        "initrd": format!("{S3}/initrd")
    });
    json!({
        "id": "x3000c0s19b1n0",
        "actual_state": {
            "boot_artifacts": artifacts,
            "bss_token": "6c9a6b8e-1e0b-4b8a-9c3a-8e0f2d0c1b7a",
            "last_updated": "2025-06-01T12:45:00"
        },
        "desired_state": {
            "boot_artifacts": artifacts,
            "configuration": "compute-23.4.0",
            "bss_token": "6c9a6b8e-1e0b-4b8a-9c3a-8e0f2d0c1b7a",
            "last_updated": "2025-06-01T12:35:10"
        },
        "staged_state": {
            "boot_artifacts": {"kernel": "", "kernel_parameters": "", "initrd": ""},
            "configuration": "",
            "session": "",
            "last_updated": "2025-06-01T12:35:10"
        },
        "last_action": {"action": "powering_on", "failed": false, "last_updated": "2025-06-01T12:40:00"},
        "event_stats": {
            "power_on_attempts": 1,
            "power_off_graceful_attempts": 1,
            "power_off_forceful_attempts": 0
        },
        "status": {"phase": "", "status": "stable", "status_override": ""},
        "enabled": false,
        "error": "",
        "session": "reboot-compute-1",
        "retry_policy": 3
    })
}

fn options() -> Value {
    json!({
        "bss_read_timeout": 20,
        "cfs_read_timeout": 20,
        "hsm_read_timeout": 20,
        "ims_read_timeout": 20,
        "pcs_read_timeout": 20,
        "cleanup_completed_session_ttl": "7d",
        "clear_stage": false,
        "component_actual_state_ttl": "4h",
        "default_retry_policy": 3,
        "discovery_frequency": 300,
        "ims_errors_fatal": false,
        "ims_images_must_exist": false,
        "logging_level": "INFO",
        "max_boot_wait_time": 1200,
        "max_component_batch_size": 2800,
        "max_power_off_wait_time": 300,
        "max_power_on_wait_time": 120,
        "polling_frequency": 15,
        "reject_nids": false,
        "session_limit_required": false
    })
}

fn version() -> Value {
    json!({
        "major": "2",
        "minor": "50",
        "patch": "0",
        "links": [
            {"rel": "self", "href": "https://api-gw-service-nmn.local/apis/bos/v2"},
            {"rel": "versions", "href": "https://api-gw-service-nmn.local/apis/bos"}
        ]
    })
}

fn not_found() -> Value {
    json!({
        "type": "about:blank",
        "title": "The resource was not found",
        "status": 404,
        "detail": "Session 'nope' does not exist"
    })
}

/// Violations for `body` as a response, or a panic if it unexpectedly validates.
fn violations(method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
    match Spec::bos().check(method, path, status, body) {
        Ok(()) => panic!("{method} {path} {status} should not validate:\n{body:#}"),
        Err(e) => e,
    }
}

fn schema_violations(name: &str, body: &Value) -> Vec<String> {
    match Spec::bos().check_schema(name, body) {
        Ok(()) => panic!("{name} should not validate:\n{body:#}"),
        Err(e) => e,
    }
}

/// A made-up spec for what the BOS spec cannot show: an ambiguous `oneOf`, `anyOf`,
/// literal-versus-parameter path precedence, refs to refs, required writeOnly fields.
const DEMO: &str = r#"
openapi: "3.0.3"
info: {title: demo, version: "1"}
servers:
  - url: https://gateway.example/apis/demo/
paths:
  /things/{id}:
    get:
      responses:
        200: {$ref: '#/components/responses/Thing'}
  /things/special:
    get:
      responses:
        2XX: {description: any success, content: {application/json: {schema: {type: object}}}}
        default: {$ref: '#/components/responses/Thing'}
components:
  responses:
    Thing: {$ref: '#/components/responses/ThingInner'}
    ThingInner:
      description: a ref whose target is itself a ref
      content: {application/json: {schema: {$ref: '#/components/schemas/Alias'}}}
  schemas:
    Alias: {$ref: '#/components/schemas/Ambiguous'}
    Ambiguous:
      oneOf:
        - {type: string, maxLength: 10}
        - {type: string, pattern: '^[a-z]+$'}
    Either:
      anyOf:
        - {type: integer, minimum: 10}
        - {type: string, enum: [ten]}
    Account:
      type: object
      required: [id, password]
      properties:
        id: {type: string}
        password: {type: string, writeOnly: true}
      additionalProperties: false
    Lookahead: {type: string, pattern: '^(?=a)'}
"#;
