//! Response validation against the upstream OpenAPI contracts, so "compatible with BOS"
//! is checked against the document real clients (the `cray` CLI, the cms-tools health
//! checks, BOS's own operators) are written against, rather than against our reading of it.
//!
//! The specs are vendored verbatim under `tests/fixtures/specs/`, each with its MIT licence
//! beside it (CI runs in a fresh clone, so nothing may be read from outside the repository):
//! - `bos-openapi.yaml`: Cray-HPE/bos `api/openapi.yaml.in` at v2.50.0 (`889a207f`). Its
//!   `info.version` is the build placeholder `0.0.0-api`, which BOS replaces at build time;
//!   nothing here reads it.
//! - `cfs-openapi.yaml`: Cray-HPE/config-framework-service `api/openapi.yaml` at `d598d694`.
//! - `bos-openapi-with-v1.yaml`: Cray-HPE/bos's last spec with v1 (the parent of `ec3042b7`,
//!   "CASMCMS-7329: Remove BOSv1"), for `/apis/bos/v1`.
//!
//! Re-copy them to update; do not edit them. `openapi_check_specs_are_fully_understood`
//! fails when a new copy uses something this module does not honour.
//!
//! What is ours and what is the library's. The schemas are checked by the `jsonschema` crate
//! as Draft 4 (the dialect connexion, BOS's server, validates with: `integer` means a JSON
//! integer, so `1.0` is not one; `$ref` siblings are ignored), with its `regex`-crate pattern
//! engine (ECMA-262 syntax, no look-around or backreferences: such a pattern is reported, not
//! skipped) and `format` not asserted (`date-time` fields are not held to RFC 3339). This
//! module keeps only what is OpenAPI rather than JSON Schema:
//! - finding the operation and response for a request (path templates, the `servers` prefix,
//!   `NXX` and `default` responses, response `$ref`s, bodies documented as absent);
//! - a pre-pass turning OpenAPI 3.0 schema objects into Draft 4 in place (so every location
//!   stays where it was): `nullable: true` adds `null` to `type` and `enum`; a `writeOnly`
//!   schema becomes one that rejects any value, since responses must not echo write-only
//!   fields, and a `required` property whose schema is `writeOnly` is required in requests
//!   only; `readOnly` values are allowed (responses are what is checked);
//! - the messages: `"<instance pointer>: <reason> [<component schema>]"`, one per violation,
//!   with the component named when the failing keyword sits directly in one; a type mismatch
//!   is the only violation reported for the schema it fails. The wording is the one this
//!   suite's assertions have always used, independent of the library's own.
//! - reading a Swagger 2.0 document (BSS, HSM, CAPMC) as OpenAPI 3.0 (`swagger2`).
//!
//! `Spec::self_check` lists what this cannot honour (a keyword outside OpenAPI 3.0's subset
//! of Draft 4 such as `discriminator`, a type that is not one of the six, a `$ref` that does
//! not resolve, a schema the Draft 4 meta-schema rejects, a pattern the engine cannot
//! compile), so an unsupported construct never passes silently.
//!
//! Use from a test module: `crate::openapi::assert_valid("GET", &path, status.as_u16(),
//! &body)` right after each BOS call (the path as called, prefix and query included), or
//! `Spec::bos().check(..)` to inspect the violations. The [`tests`] module also pins where
//! the BOS spec and BOS itself disagree (`openapi_check_known_spec_discrepancies`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{ValidationError, Validator};
use serde_json::Value;

mod draft4;
mod messages;
mod swagger2;
mod tests;

pub use draft4::Pattern;
use draft4::{lint_keywords, options, to_draft4};
use messages::describe;

/// A loaded OpenAPI 3 document plus the path templates it declares.
pub struct Spec {
    name: String,
    /// The document as vendored (YAML read as JSON).
    doc: Value,
    /// The same document with its schemas rewritten into Draft 4 (see the module comment).
    schemas: Value,
    /// Path parts of the `servers` URLs (e.g. `/apis/bos`), stripped from request paths.
    prefixes: Vec<String>,
    templates: Vec<Template>,
    /// Compiled validators by the pointer of the schema they check.
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

/// One key of `paths`, split into segments; `None` marks a `{parameter}` segment.
struct Template {
    text: String,
    segments: Vec<Option<String>>,
}

impl Spec {
    /// Load a spec from `tests/fixtures/specs/<file>` (relative to `CARGO_MANIFEST_DIR`).
    pub fn load(file: &str) -> Spec {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/specs")
            .join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        Spec::from_yaml(file, &text)
    }

    /// The BOS spec, loaded once and shared by every test.
    pub fn bos() -> &'static Spec {
        static BOS: OnceLock<Spec> = OnceLock::new();
        BOS.get_or_init(|| Spec::load("bos-openapi.yaml"))
    }

    /// The BOS spec that still had v1, loaded once and shared by every test.
    pub fn bos_v1() -> &'static Spec {
        static BOS_V1: OnceLock<Spec> = OnceLock::new();
        BOS_V1.get_or_init(|| Spec::load("bos-openapi-with-v1.yaml"))
    }

    /// The CFS spec, loaded once and shared by every test.
    pub fn cfs() -> &'static Spec {
        static CFS: OnceLock<Spec> = OnceLock::new();
        CFS.get_or_init(|| Spec::load("cfs-openapi.yaml"))
    }

    /// Parse a spec from YAML text; `name` is only used in messages.
    pub fn from_yaml(name: &str, text: &str) -> Spec {
        // `200:` response keys are YAML integers; read as map keys, they become strings.
        let doc: Value =
            yaml_serde::from_str(text).unwrap_or_else(|e| panic!("{name}: not YAML: {e}"));
        let doc = if swagger2::is_swagger2(&doc) {
            swagger2::to_openapi3(doc)
        } else {
            doc
        };
        assert!(
            doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
            "{name}: not an OpenAPI 3 document"
        );
        let prefixes = doc["servers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["url"].as_str())
            .filter_map(url_path)
            .collect();
        let templates = doc["paths"]
            .as_object()
            .map(|paths| paths.keys().map(|k| Template::parse(k)).collect())
            .unwrap_or_default();
        let mut schemas = doc.clone();
        for at in schema_locations(&doc) {
            if let Some(s) = schemas.pointer_mut(&at) {
                to_draft4(&doc, s);
            }
        }
        Spec {
            name: name.to_string(),
            doc,
            schemas,
            prefixes,
            templates,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The spec path template a concrete request path falls under. The path may carry the
    /// gateway prefix (`/apis/bos`), a query string and a trailing slash. When several
    /// templates match, the one with a literal segment where the others have a parameter
    /// (leftmost difference first) wins.
    pub fn path_template(&self, path: &str) -> Option<&str> {
        let normalised = self.normalise(path);
        let segments = split_segments(&normalised);
        self.templates
            .iter()
            .filter(|t| t.matches(&segments))
            .min_by_key(|t| t.rank())
            .map(|t| t.text.as_str())
    }

    /// Validate a response body. `path` is the concrete request path, with or without the
    /// gateway prefix and query string. Picks the response documented for `status` (else
    /// `NXX`, else `default`) and its `application/json` or `application/problem+json`
    /// content. A response documented without content only accepts an empty body (`null`,
    /// or `""` as the test client reports an empty body). Every violation is returned, each
    /// as a JSON-pointer-ish location and a reason.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), Vec<String>> {
        let method_uc = method.to_ascii_uppercase();
        let Some(template) = self.path_template(path) else {
            return Err(vec![format!(
                "no path in {} matches {method_uc} {path}",
                self.name
            )]);
        };
        let operation = format!(
            "/paths/{}/{}",
            escape(template),
            method.to_ascii_lowercase()
        );
        if !self.doc.pointer(&operation).is_some_and(Value::is_object) {
            return Err(vec![format!("{method_uc} not documented for {template}")]);
        }
        let responses = &self.doc.pointer(&operation).unwrap()["responses"];
        let code = status.to_string();
        let range = format!("{}XX", status / 100);
        let Some(key) = [code.as_str(), range.as_str(), "default"]
            .into_iter()
            .find(|k| responses.get(k).is_some())
        else {
            return Err(vec![format!(
                "status {status} not documented for {method_uc} {template}"
            )]);
        };
        let at = self
            .follow(format!("{operation}/responses/{key}"))
            .map_err(|e| vec![e])?;
        let response = self.doc.pointer(&at).unwrap_or(&Value::Null);
        let content = response["content"].as_object().filter(|c| !c.is_empty());
        let Some(content) = content else {
            return if is_empty_body(body) {
                Ok(())
            } else {
                Err(vec![format!(
                    "status {status} for {method_uc} {template} documents no body, got {}",
                    describe(body)
                )])
            };
        };
        let media = ["application/json", "application/problem+json"]
            .into_iter()
            .find(|m| content.contains_key(*m))
            .or_else(|| {
                content
                    .keys()
                    .find(|k| k.ends_with("+json"))
                    .map(String::as_str)
            });
        let Some(media) = media else {
            let types: Vec<&String> = content.keys().collect();
            return Err(vec![format!(
                "status {status} for {method_uc} {template} documents no JSON content, only {types:?}"
            )]);
        };
        if content[media].get("schema").is_none() {
            return Ok(());
        }
        self.validate(&format!("{at}/content/{}/schema", escape(media)), body)
    }

    /// Validate a value against a named component schema (e.g. `"V2SessionTemplate"`), with
    /// the same response-side rules as [`Spec::check`].
    pub fn check_schema(&self, name: &str, body: &Value) -> Result<(), Vec<String>> {
        if self.doc["components"]["schemas"].get(name).is_none() {
            return Err(vec![format!("{}: no component schema {name}", self.name)]);
        }
        self.validate(&format!("/components/schemas/{}", escape(name)), body)
    }

    /// Everything in the spec this module cannot honour (see the module comment). Empty for
    /// a spec that [`Spec::check`] understands completely.
    pub fn self_check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        self.lint_refs(&self.doc, "", &mut problems);
        let meta = jsonschema::draft4::meta::validator();
        for at in schema_locations(&self.doc) {
            if let Some(schema) = self.doc.pointer(&at) {
                lint_keywords(schema, &at, &mut problems);
            }
            let Some(schema) = self.schemas.pointer(&at) else {
                continue;
            };
            problems.extend(
                meta.iter_errors(schema)
                    .map(|e| format!("{at}{}: {e}", e.instance_path())),
            );
            if let Err(e) = self.validator(&at) {
                problems.push(e);
            }
        }
        problems.sort();
        problems.dedup();
        problems
    }

    fn normalise(&self, path: &str) -> String {
        let mut p = path.split(['?', '#']).next().unwrap_or_default();
        for prefix in &self.prefixes {
            if let Some(rest) = p.strip_prefix(prefix.as_str())
                && (rest.is_empty() || rest.starts_with('/'))
            {
                p = rest;
                break;
            }
        }
        format!("/{}", p.trim_start_matches('/'))
    }

    /// Follow a chain of local `$ref`s from the value at `at`; the pointer where it ends.
    fn follow(&self, mut at: String) -> Result<String, String> {
        for _ in 0..64 {
            let v = self.doc.pointer(&at).unwrap_or(&Value::Null);
            let Some(r) = v.get("$ref") else {
                return Ok(at);
            };
            let r = r.as_str().ok_or("$ref is not a string")?;
            at = r
                .strip_prefix('#')
                .filter(|p| self.doc.pointer(p).is_some())
                .ok_or_else(|| format!("unresolvable $ref {r} (only local refs are supported)"))?
                .to_string();
        }
        Err("$ref chain longer than 64 (a cycle?)".to_string())
    }

    /// The validator for the schema at `at` in the rewritten document (built once).
    fn validator(&self, at: &str) -> Result<Arc<Validator>, String> {
        let mut cache = self.validators.lock().unwrap();
        if let Some(v) = cache.get(at) {
            return Ok(v.clone());
        }
        // The whole document is the root, so `#/components/...` refs resolve; Draft 4 ignores
        // the siblings of the root's `$ref`.
        let mut root = self.schemas.clone();
        root["$ref"] = Value::String(format!("#{}", fragment(at)));
        let v = Arc::new(
            options()
                .build(&root)
                .map_err(|e| format!("{}: {e}", location(&e, at)))?,
        );
        cache.insert(at.to_string(), v.clone());
        Ok(v)
    }

    fn validate(&self, at: &str, body: &Value) -> Result<(), Vec<String>> {
        let validator = self.validator(at).map_err(|e| vec![e])?;
        let errors: Vec<ValidationError> = validator.iter_errors(body).collect();
        let messages = self.messages(&errors);
        if messages.is_empty() {
            Ok(())
        } else {
            Err(messages)
        }
    }

    fn lint_refs(&self, v: &Value, ptr: &str, problems: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if m.contains_key("$ref")
                    && let Err(e) = self.follow(ptr.to_string())
                {
                    problems.push(format!("{ptr}: {e}"));
                }
                for (k, child) in m {
                    self.lint_refs(child, &format!("{ptr}/{}", escape(k)), problems);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    self.lint_refs(child, &format!("{ptr}/{i}"), problems);
                }
            }
            _ => {}
        }
    }
}

impl Template {
    fn parse(text: &str) -> Template {
        let segments = split_segments(text)
            .into_iter()
            .map(|s| {
                let param = s.starts_with('{') && s.ends_with('}');
                (!param).then(|| s.to_string())
            })
            .collect();
        Template {
            text: text.to_string(),
            segments,
        }
    }

    fn matches(&self, segments: &[&str]) -> bool {
        self.segments.len() == segments.len()
            && self
                .segments
                .iter()
                .zip(segments)
                .all(|(t, s)| t.as_deref().is_none_or(|lit| lit == *s))
    }

    /// Literal segments sort before parameters, leftmost first.
    fn rank(&self) -> Vec<bool> {
        self.segments.iter().map(Option::is_none).collect()
    }
}

/// Panics with every violation and the pretty-printed body when a BOS response does not
/// validate against the BOS spec.
pub fn assert_valid(method: &str, path: &str, status: u16, body: &Value) {
    if let Err(errs) = Spec::bos().check(method, path, status, body) {
        panic!(
            "{} {path} answered {status} with a body that violates the BOS OpenAPI spec:\n  - {}\nbody:\n{}",
            method.to_ascii_uppercase(),
            errs.join("\n  - "),
            serde_json::to_string_pretty(body).unwrap_or_default()
        );
    }
}

/// The same for a BOS v1 response against the last BOS spec with v1.
pub fn assert_bos_v1_valid(method: &str, path: &str, status: u16, body: &Value) {
    if let Err(errs) = Spec::bos_v1().check(method, path, status, body) {
        panic!(
            "{} {path} answered {status} with a body that violates the BOS v1 OpenAPI spec:\n  - {}\nbody:\n{}",
            method.to_ascii_uppercase(),
            errs.join("\n  - "),
            serde_json::to_string_pretty(body).unwrap_or_default()
        );
    }
}

/// The same for a CFS response against the CFS spec.
pub fn assert_cfs_valid(method: &str, path: &str, status: u16, body: &Value) {
    if let Err(errs) = Spec::cfs().check(method, path, status, body) {
        panic!(
            "{} {path} answered {status} with a body that violates the CFS OpenAPI spec:\n  - {}\nbody:\n{}",
            method.to_ascii_uppercase(),
            errs.join("\n  - "),
            serde_json::to_string_pretty(body).unwrap_or_default()
        );
    }
}

/// Where a build error points: in the schema document, else the schema being built.
fn location(e: &ValidationError, at: &str) -> String {
    let p = e.instance_path().as_str();
    if p.is_empty() {
        at.to_string()
    } else {
        p.to_string()
    }
}

fn is_empty_body(v: &Value) -> bool {
    v.is_null() || v.as_str() == Some("")
}

/// RFC 6901 escaping of one reference token.
fn escape(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

/// A JSON pointer as a URI fragment (`{param}` path keys hold characters a URI may not).
fn fragment(ptr: &str) -> String {
    let mut out = String::with_capacity(ptr.len());
    for b in ptr.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn split_segments(path: &str) -> Vec<&str> {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed
        .strip_prefix('/')
        .unwrap_or(trimmed)
        .split('/')
        .collect()
}

/// The path part of a server URL, if it has a non-empty one.
fn url_path(url: &str) -> Option<String> {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map(|i| &after_scheme[i..])?;
    let path = path.trim_end_matches('/');
    (!path.is_empty()).then(|| path.to_string())
}

/// Every schema in the document: the component schemas, and each value under a `schema`
/// key (parameters, media types).
fn schema_locations(doc: &Value) -> Vec<String> {
    let mut out: Vec<String> = doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| format!("/components/schemas/{}", escape(k)))
        .collect();
    collect_schema_keys(doc, "", &mut out);
    out
}

fn collect_schema_keys(v: &Value, ptr: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let at = format!("{ptr}/{}", escape(k));
                if k == "schema" {
                    out.push(at.clone());
                }
                collect_schema_keys(child, &at, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_schema_keys(child, &format!("{ptr}/{i}"), out);
            }
        }
        _ => {}
    }
}
