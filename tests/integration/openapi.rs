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
//!
//! Re-copy them to update; do not edit them. `openapi_check_specs_are_fully_understood`
//! fails when a new copy uses something this validator does not implement.
//!
//! This is a deliberately small OpenAPI 3.0 response validator (the `jsonschema` crate is too
//! heavy for the 2-core CI machine). It implements exactly the keywords the two specs use:
//! local `$ref` (to schemas, responses and parameters, including refs to refs), `type`
//! (string, integer, number, boolean, array, object), `nullable`, `properties`, `required`,
//! `additionalProperties` (true / false / schema; absent means true), `items`, `enum`,
//! `minLength`/`maxLength` (in characters), `minimum`/`maximum`, `minItems`/`maxItems`,
//! `minProperties`/`maxProperties`, `allOf`, `anyOf`, `oneOf` (exactly one branch), `pattern`
//! (see [`pattern`]), `readOnly` and `writeOnly`. Annotations (`description`, `example`,
//! `title`, `default`, `format`, `deprecated`, `x-*`) are ignored: `format` in particular is
//! not checked, so `date-time` fields are not held to RFC 3339. Any other keyword is reported
//! as a violation instead of being skipped, so an unsupported construct never passes silently.
//!
//! Response-side semantics: `readOnly` values are allowed; a `writeOnly` value present in a
//! response is a violation (responses must not echo write-only fields), and a `required`
//! property whose schema is `writeOnly` is not required in a response. `nullable: true` admits
//! `null` even where an `enum` is given. `integer` means a JSON integer (`1.0` is not one), as
//! in the Draft 4 validator connexion uses.
//!
//! Use from a test module: `crate::openapi::assert_valid("GET", &path, status.as_u16(),
//! &body)` right after each BOS call (the path as called, prefix and query included), or
//! `Spec::bos().check(..)` to inspect the violations. The `tests` module below also pins
//! where the BOS spec and BOS itself disagree (`openapi_check_known_spec_discrepancies`).

use std::path::Path;
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// A loaded OpenAPI 3 document plus the path templates it declares.
pub struct Spec {
    name: String,
    doc: Value,
    /// Path parts of the `servers` URLs (e.g. `/apis/bos`), stripped from request paths.
    prefixes: Vec<String>,
    templates: Vec<Template>,
}

/// One key of `paths`, split into segments; `None` marks a `{parameter}` segment.
struct Template {
    text: String,
    segments: Vec<Option<String>>,
}

/// Schema keywords that are checked.
const CHECKED: &[&str] = &[
    "$ref",
    "type",
    "nullable",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "allOf",
    "anyOf",
    "oneOf",
    "readOnly",
    "writeOnly",
];

/// Schema keywords that are annotations only.
const IGNORED: &[&str] = &[
    "description",
    "example",
    "title",
    "default",
    "format",
    "deprecated",
    "externalDocs",
];

const TYPES: &[&str] = &["string", "integer", "number", "boolean", "array", "object"];

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

    /// The CFS spec, loaded once and shared by every test.
    pub fn cfs() -> &'static Spec {
        static CFS: OnceLock<Spec> = OnceLock::new();
        CFS.get_or_init(|| Spec::load("cfs-openapi.yaml"))
    }

    /// Parse a spec from YAML text; `name` is only used in messages.
    pub fn from_yaml(name: &str, text: &str) -> Spec {
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(text).unwrap_or_else(|e| panic!("{name}: not YAML: {e}"));
        let doc = yaml_to_json(yaml);
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
        Spec {
            name: name.to_string(),
            doc,
            prefixes,
            templates,
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
        let operation = &self.doc["paths"][template][method.to_ascii_lowercase()];
        if !operation.is_object() {
            return Err(vec![format!("{method_uc} not documented for {template}")]);
        }
        let responses = &operation["responses"];
        let code = status.to_string();
        let range = format!("{}XX", status / 100);
        let Some(response) = [code.as_str(), range.as_str(), "default"]
            .into_iter()
            .find_map(|k| responses.get(k))
        else {
            return Err(vec![format!(
                "status {status} not documented for {method_uc} {template}"
            )]);
        };
        let response = self.resolve(response).map_err(|e| vec![e])?.0;
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
            .find_map(|m| content.get(m))
            .or_else(|| {
                content
                    .iter()
                    .find(|(k, _)| k.ends_with("+json"))
                    .map(|(_, v)| v)
            });
        let Some(media) = media else {
            let types: Vec<&String> = content.keys().collect();
            return Err(vec![format!(
                "status {status} for {method_uc} {template} documents no JSON content, only {types:?}"
            )]);
        };
        match media.get("schema") {
            Some(schema) => self.validate_root(schema, body),
            None => Ok(()),
        }
    }

    /// Validate a value against a named component schema (e.g. `"V2SessionTemplate"`), with
    /// the same response-side rules as [`Spec::check`].
    pub fn check_schema(&self, name: &str, body: &Value) -> Result<(), Vec<String>> {
        if self.doc["components"]["schemas"].get(name).is_none() {
            return Err(vec![format!("{}: no component schema {name}", self.name)]);
        }
        let schema = serde_json::json!({"$ref": format!("#/components/schemas/{}", escape(name))});
        self.validate_root(&schema, body)
    }

    /// Everything in the spec this validator cannot honour: unresolvable `$ref`s, unknown
    /// schema keywords or types, patterns the matcher cannot compile. Empty for a spec that
    /// [`Spec::check`] understands completely.
    pub fn self_check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        self.lint_refs(&self.doc, "", &mut problems);
        let mut schemas = Vec::new();
        if let Some(components) = self.doc["components"]["schemas"].as_object() {
            for (k, s) in components {
                schemas.push((format!("/components/schemas/{}", escape(k)), s));
            }
        }
        collect_schema_keys(&self.doc, "", &mut schemas);
        for (at, schema) in schemas {
            self.lint_schema(schema, &at, &mut problems);
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

    /// Follow a `$ref` chain to its end; also returns the last ref's final segment (the
    /// component name) for messages.
    fn resolve<'a>(&'a self, mut v: &'a Value) -> Result<(&'a Value, Option<&'a str>), String> {
        let mut name = None;
        for _ in 0..64 {
            let Some(r) = v.get("$ref") else {
                return Ok((v, name));
            };
            let r = r.as_str().ok_or("$ref is not a string")?;
            v = r
                .strip_prefix('#')
                .and_then(|p| self.doc.pointer(p))
                .ok_or_else(|| format!("unresolvable $ref {r} (only local refs are supported)"))?;
            name = r.rsplit('/').next();
        }
        Err("$ref chain longer than 64 (a cycle?)".to_string())
    }

    fn validate_root(&self, schema: &Value, body: &Value) -> Result<(), Vec<String>> {
        let mut errs = Vec::new();
        self.validate(schema, body, "", &mut errs);
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    fn validate(&self, schema: &Value, v: &Value, ptr: &str, errs: &mut Vec<String>) {
        let (schema, name) = match self.resolve(schema) {
            Ok(x) => x,
            Err(e) => return errs.push(at(ptr, None, e)),
        };
        let Some(s) = schema.as_object() else {
            return errs.push(at(ptr, name, "schema is not an object"));
        };
        let fail = |errs: &mut Vec<String>, reason: String| errs.push(at(ptr, name, reason));

        for k in s.keys() {
            if !known_keyword(k) {
                fail(errs, format!("unsupported schema keyword `{k}`"));
            }
        }
        if s.get("writeOnly") == Some(&Value::Bool(true)) {
            return fail(
                errs,
                "writeOnly value present in a response (responses must not echo write-only fields)"
                    .to_string(),
            );
        }
        if v.is_null() && s.get("nullable") == Some(&Value::Bool(true)) {
            return;
        }
        if let Some(t) = s.get("type") {
            match t.as_str() {
                Some(t) if TYPES.contains(&t) => {
                    if !type_matches(t, v) {
                        return fail(errs, format!("expected {t}, got {}", describe(v)));
                    }
                }
                _ => return fail(errs, format!("unsupported type {t}")),
            }
        }
        if let Some(allowed) = s.get("enum").and_then(Value::as_array)
            && !allowed.contains(v)
        {
            fail(
                errs,
                format!("{v} is not one of {}", Value::from(allowed.clone())),
            );
        }

        match v {
            Value::String(text) => self.validate_string(s, text, ptr, name, errs),
            Value::Number(_) => {
                let n = v.as_f64().unwrap_or(f64::NAN);
                if let Some(min) = s.get("minimum").and_then(Value::as_f64)
                    && n < min
                {
                    fail(errs, format!("{v} is below the minimum {min}"));
                }
                if let Some(max) = s.get("maximum").and_then(Value::as_f64)
                    && n > max
                {
                    fail(errs, format!("{v} is above the maximum {max}"));
                }
            }
            Value::Array(items) => {
                check_count(s, "minItems", "maxItems", items.len(), "items", &mut |r| {
                    fail(errs, r)
                });
                if let Some(item_schema) = s.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.validate(item_schema, item, &format!("{ptr}/{i}"), errs);
                    }
                }
            }
            Value::Object(obj) => self.validate_object(s, obj, ptr, name, errs),
            Value::Null | Value::Bool(_) => {}
        }

        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            for branch in all {
                self.validate(branch, v, ptr, errs);
            }
        }
        if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
            let results = self.branches(any, v, ptr);
            if results.iter().all(|(_, e)| !e.is_empty()) {
                fail(
                    errs,
                    format!(
                        "matches none of the anyOf branches: {}",
                        summarise(&results)
                    ),
                );
            }
        }
        if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
            let results = self.branches(one, v, ptr);
            let matched: Vec<&str> = results
                .iter()
                .filter(|(_, e)| e.is_empty())
                .map(|(label, _)| label.as_str())
                .collect();
            match matched.len() {
                1 => {}
                0 => fail(
                    errs,
                    format!(
                        "matches none of the oneOf branches: {}",
                        summarise(&results)
                    ),
                ),
                n => fail(
                    errs,
                    format!(
                        "matches {n} oneOf branches ({}), oneOf requires exactly one",
                        matched.join(", ")
                    ),
                ),
            }
        }
    }

    fn validate_string(
        &self,
        s: &Map<String, Value>,
        text: &str,
        ptr: &str,
        name: Option<&str>,
        errs: &mut Vec<String>,
    ) {
        let chars = text.chars().count();
        check_count(s, "minLength", "maxLength", chars, "characters", &mut |r| {
            errs.push(at(ptr, name, r))
        });
        if let Some(p) = s.get("pattern") {
            let Some(p) = p.as_str() else {
                return errs.push(at(ptr, name, "pattern is not a string"));
            };
            match pattern::Regex::new(p) {
                Ok(re) if re.is_match(text) => {}
                Ok(_) => errs.push(at(
                    ptr,
                    name,
                    format!("{} does not match pattern {p}", Value::from(text)),
                )),
                Err(e) => errs.push(at(
                    ptr,
                    name,
                    format!("pattern {p} is beyond the test matcher: {e}"),
                )),
            }
        }
    }

    fn validate_object(
        &self,
        s: &Map<String, Value>,
        obj: &Map<String, Value>,
        ptr: &str,
        name: Option<&str>,
        errs: &mut Vec<String>,
    ) {
        let properties = s.get("properties").and_then(Value::as_object);
        let property = |k: &str| properties.and_then(|p| p.get(k));
        if let Some(required) = s.get("required") {
            let Some(required) = required.as_array() else {
                return errs.push(at(ptr, name, "`required` is not a list"));
            };
            for k in required.iter().filter_map(Value::as_str) {
                // A required writeOnly property is required in requests only.
                let write_only = property(k)
                    .and_then(|p| self.resolve(p).ok())
                    .is_some_and(|(p, _)| p.get("writeOnly") == Some(&Value::Bool(true)));
                if !obj.contains_key(k) && !write_only {
                    errs.push(at(ptr, name, format!("missing required property `{k}`")));
                }
            }
        }
        check_count(
            s,
            "minProperties",
            "maxProperties",
            obj.len(),
            "properties",
            &mut |r| errs.push(at(ptr, name, r)),
        );
        let additional = s.get("additionalProperties");
        for (k, v) in obj {
            let child = format!("{ptr}/{}", escape(k));
            if let Some(p) = property(k) {
                self.validate(p, v, &child, errs);
                continue;
            }
            match additional {
                None | Some(Value::Bool(true)) => {}
                Some(Value::Bool(false)) => errs.push(at(
                    ptr,
                    name,
                    format!("unexpected property `{k}` (additionalProperties: false)"),
                )),
                Some(schema) => self.validate(schema, v, &child, errs),
            }
        }
    }

    /// Validate `v` against each branch separately: (label, violations) per branch.
    fn branches(&self, branches: &[Value], v: &Value, ptr: &str) -> Vec<(String, Vec<String>)> {
        branches
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let label = match b.get("$ref").and_then(Value::as_str) {
                    Some(r) => format!("#{i} {}", r.rsplit('/').next().unwrap_or(r)),
                    None => format!("#{i}"),
                };
                let mut e = Vec::new();
                self.validate(b, v, ptr, &mut e);
                (label, e)
            })
            .collect()
    }

    fn lint_refs(&self, v: &Value, ptr: &str, problems: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if m.contains_key("$ref")
                    && let Err(e) = self.resolve(v)
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

    fn lint_schema(&self, schema: &Value, ptr: &str, problems: &mut Vec<String>) {
        let Some(s) = schema.as_object() else {
            return problems.push(format!("{ptr}: schema is not an object"));
        };
        for (k, v) in s {
            let child = format!("{ptr}/{}", escape(k));
            match k.as_str() {
                _ if !known_keyword(k) => {
                    problems.push(format!("{ptr}: unsupported schema keyword `{k}`"))
                }
                "type" if !v.as_str().is_some_and(|t| TYPES.contains(&t)) => {
                    problems.push(format!("{ptr}: unsupported type {v}"))
                }
                "pattern" => match v.as_str().map(pattern::Regex::new) {
                    Some(Ok(_)) => {}
                    Some(Err(e)) => problems.push(format!("{child}: {e}")),
                    None => problems.push(format!("{child}: not a string")),
                },
                "required" if !v.is_array() => problems.push(format!("{child}: not a list")),
                "properties" => {
                    for (name, p) in v.as_object().into_iter().flatten() {
                        self.lint_schema(p, &format!("{child}/{}", escape(name)), problems);
                    }
                }
                "items" => self.lint_schema(v, &child, problems),
                "additionalProperties" if !v.is_boolean() => self.lint_schema(v, &child, problems),
                "allOf" | "anyOf" | "oneOf" => {
                    for (i, b) in v.as_array().into_iter().flatten().enumerate() {
                        self.lint_schema(b, &format!("{child}/{i}"), problems);
                    }
                }
                _ => {}
            }
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

fn known_keyword(k: &str) -> bool {
    CHECKED.contains(&k) || IGNORED.contains(&k) || k.starts_with("x-")
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}

/// `min`/`max` count limits (`minItems`, `maxLength`, ...).
fn check_count(
    s: &Map<String, Value>,
    min_key: &str,
    max_key: &str,
    n: usize,
    what: &str,
    fail: &mut dyn FnMut(String),
) {
    let n = n as u64;
    if let Some(min) = s.get(min_key).and_then(Value::as_u64)
        && n < min
    {
        fail(format!("{n} {what}, {min_key} is {min}"));
    }
    if let Some(max) = s.get(max_key).and_then(Value::as_u64)
        && n > max
    {
        fail(format!("{n} {what}, {max_key} is {max}"));
    }
}

/// `"<pointer>: <reason>"`, naming the component schema when the check came from one.
fn at(ptr: &str, schema: Option<&str>, reason: impl std::fmt::Display) -> String {
    let ptr = if ptr.is_empty() { "/" } else { ptr };
    match schema {
        Some(name) => format!("{ptr}: {reason} [{name}]"),
        None => format!("{ptr}: {reason}"),
    }
}

fn summarise(results: &[(String, Vec<String>)]) -> String {
    results
        .iter()
        .map(|(label, e)| format!("{label}: {}", e.join("; ")))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A short description of a value for messages.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) if v.is_i64() || v.is_u64() => format!("integer {n}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) if s.chars().count() > 60 => {
            format!(
                "string {}…",
                Value::from(s.chars().take(60).collect::<String>())
            )
        }
        Value::String(_) => format!("string {v}"),
        Value::Array(a) => format!("array of {}", a.len()),
        Value::Object(_) => "object".to_string(),
    }
}

fn is_empty_body(v: &Value) -> bool {
    v.is_null() || v.as_str() == Some("")
}

/// RFC 6901 escaping of one reference token.
fn escape(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
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

/// Every value under a `schema` key (parameters, media types), with its location.
fn collect_schema_keys<'a>(v: &'a Value, ptr: &str, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let at = format!("{ptr}/{}", escape(k));
                if k == "schema" {
                    out.push((at.clone(), child));
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

/// YAML to JSON; mapping keys become strings (`200:` response keys are YAML integers).
fn yaml_to_json(v: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        Y::Number(n) => n.to_string(),
                        Y::Bool(b) => b.to_string(),
                        Y::Null => "null".to_string(),
                        other => panic!("unsupported YAML mapping key {other:?}"),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => yaml_to_json(t.value),
    }
}

/// A tiny backtracking matcher for the `pattern`s the specs use, with ECMA-262 `test()`
/// semantics (search anywhere; `^`/`$` anchor to the whole string). Supported: literals,
/// `.`, escapes (`\d \w \s` and their negations, escaped punctuation, `\n \t \r \f \v`),
/// classes with ranges and negation, `(...)`/`(?:...)` groups, `|`, and the quantifiers
/// `* + ? {n} {n,} {n,m}` (a lazy `?` suffix is accepted: it cannot change whether a string
/// matches). Lookaround, backreferences, `\b` and named groups are rejected with an error,
/// which the validator reports instead of skipping the check.
mod pattern {
    pub struct Regex {
        alts: Vec<Vec<Node>>,
    }

    enum Node {
        Start,
        End,
        Atom(Atom),
        Group(Vec<Vec<Node>>),
        Repeat {
            node: Box<Node>,
            min: usize,
            max: Option<usize>,
        },
    }

    enum Atom {
        Char(char),
        Any,
        Class { negated: bool, items: Vec<Item> },
    }

    enum Item {
        Range(char, char),
        Digit,
        Word,
        Space,
    }

    impl Item {
        fn matches(&self, c: char) -> bool {
            match self {
                Item::Range(lo, hi) => (*lo..=*hi).contains(&c),
                Item::Digit => c.is_ascii_digit(),
                Item::Word => c.is_ascii_alphanumeric() || c == '_',
                Item::Space => c.is_whitespace() || c == '\u{feff}',
            }
        }
    }

    impl Atom {
        fn matches(&self, c: char) -> bool {
            match self {
                Atom::Char(x) => *x == c,
                Atom::Any => !matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}'),
                Atom::Class { negated, items } => items.iter().any(|i| i.matches(c)) != *negated,
            }
        }
    }

    impl Regex {
        pub fn new(pattern: &str) -> Result<Regex, String> {
            let mut p = Parser {
                chars: pattern.chars().collect(),
                pos: 0,
            };
            let alts = p.alternation()?;
            if p.pos < p.chars.len() {
                return Err(format!("unbalanced `)` at {}", p.pos));
            }
            Ok(Regex { alts })
        }

        pub fn is_match(&self, text: &str) -> bool {
            let s: Vec<char> = text.chars().collect();
            (0..=s.len()).any(|start| alternatives(&self.alts, &s, start, &mut |_| true))
        }
    }

    struct Parser {
        chars: Vec<char>,
        pos: usize,
    }

    impl Parser {
        fn peek(&self) -> Option<char> {
            self.chars.get(self.pos).copied()
        }

        fn next(&mut self) -> Option<char> {
            let c = self.peek();
            self.pos += usize::from(c.is_some());
            c
        }

        fn eat(&mut self, c: char) -> bool {
            let hit = self.peek() == Some(c);
            self.pos += usize::from(hit);
            hit
        }

        fn alternation(&mut self) -> Result<Vec<Vec<Node>>, String> {
            let mut alts = vec![self.sequence()?];
            while self.eat('|') {
                alts.push(self.sequence()?);
            }
            Ok(alts)
        }

        fn sequence(&mut self) -> Result<Vec<Node>, String> {
            let mut seq = Vec::new();
            while let Some(c) = self.peek() {
                if c == '|' || c == ')' {
                    break;
                }
                let atom = self.atom()?;
                seq.push(self.quantified(atom)?);
            }
            Ok(seq)
        }

        fn atom(&mut self) -> Result<Node, String> {
            let Some(c) = self.next() else {
                return Err("unexpected end".to_string());
            };
            Ok(match c {
                '^' => Node::Start,
                '$' => Node::End,
                '.' => Node::Atom(Atom::Any),
                '(' => {
                    if self.eat('?') && !self.eat(':') {
                        return Err("only (?:...) groups are supported".to_string());
                    }
                    let alts = self.alternation()?;
                    if !self.eat(')') {
                        return Err("missing `)`".to_string());
                    }
                    Node::Group(alts)
                }
                '[' => Node::Atom(self.class()?),
                '\\' => Node::Atom(self.escape()?),
                '*' | '+' | '?' | '{' => return Err(format!("nothing to repeat before `{c}`")),
                c => Node::Atom(Atom::Char(c)),
            })
        }

        fn escape(&mut self) -> Result<Atom, String> {
            let c = self.next().ok_or("trailing `\\`")?;
            let class = |negated, item| Atom::Class {
                negated,
                items: vec![item],
            };
            Ok(match c {
                'd' => class(false, Item::Digit),
                'D' => class(true, Item::Digit),
                'w' => class(false, Item::Word),
                'W' => class(true, Item::Word),
                's' => class(false, Item::Space),
                'S' => class(true, Item::Space),
                c => Atom::Char(literal_escape(c)?),
            })
        }

        fn class(&mut self) -> Result<Atom, String> {
            let negated = self.eat('^');
            let mut items = Vec::new();
            loop {
                let c = self.next().ok_or("unterminated `[`")?;
                if c == ']' {
                    if items.is_empty() {
                        return Err("empty class `[]`".to_string());
                    }
                    break;
                }
                let lo = if c == '\\' {
                    let e = self.next().ok_or("trailing `\\`")?;
                    match e {
                        'd' => {
                            items.push(Item::Digit);
                            continue;
                        }
                        'w' => {
                            items.push(Item::Word);
                            continue;
                        }
                        's' => {
                            items.push(Item::Space);
                            continue;
                        }
                        e => literal_escape(e)?,
                    }
                } else {
                    c
                };
                let is_range = self.peek() == Some('-')
                    && self.chars.get(self.pos + 1).is_some_and(|n| *n != ']');
                if !is_range {
                    items.push(Item::Range(lo, lo));
                    continue;
                }
                self.pos += 1;
                let hi = match self.next().ok_or("unterminated `[`")? {
                    '\\' => literal_escape(self.next().ok_or("trailing `\\`")?)?,
                    c => c,
                };
                if hi < lo {
                    return Err(format!("range {lo}-{hi} out of order"));
                }
                items.push(Item::Range(lo, hi));
            }
            Ok(Atom::Class { negated, items })
        }

        fn quantified(&mut self, node: Node) -> Result<Node, String> {
            let (min, max) = match self.peek() {
                Some('*') => (0, None),
                Some('+') => (1, None),
                Some('?') => (0, Some(1)),
                Some('{') => {
                    self.pos += 1;
                    let min = self.number().ok_or("`{` without a count")?;
                    let max = if self.eat(',') {
                        self.number()
                    } else {
                        Some(min)
                    };
                    if self.peek() != Some('}') {
                        return Err("malformed `{n,m}`".to_string());
                    }
                    if max.is_some_and(|m| m < min) {
                        return Err("`{n,m}` with m < n".to_string());
                    }
                    (min, max)
                }
                _ => return Ok(node),
            };
            self.pos += 1;
            self.eat('?');
            if matches!(node, Node::Start | Node::End) {
                return Err("quantified anchor".to_string());
            }
            Ok(Node::Repeat {
                node: Box::new(node),
                min,
                max,
            })
        }

        fn number(&mut self) -> Option<usize> {
            let start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
            self.chars[start..self.pos]
                .iter()
                .collect::<String>()
                .parse()
                .ok()
        }
    }

    fn literal_escape(c: char) -> Result<char, String> {
        match c {
            'n' => Ok('\n'),
            't' => Ok('\t'),
            'r' => Ok('\r'),
            'f' => Ok('\u{c}'),
            'v' => Ok('\u{b}'),
            c if !c.is_alphanumeric() => Ok(c),
            c => Err(format!("unsupported escape `\\{c}`")),
        }
    }

    type Cont<'k> = &'k mut dyn FnMut(usize) -> bool;

    fn alternatives(alts: &[Vec<Node>], s: &[char], i: usize, k: Cont) -> bool {
        for seq in alts {
            if sequence(seq, s, i, k) {
                return true;
            }
        }
        false
    }

    /// Does `seq` match at `i` such that the continuation `k` accepts where it ends?
    fn sequence(seq: &[Node], s: &[char], i: usize, k: Cont) -> bool {
        let Some((first, rest)) = seq.split_first() else {
            return k(i);
        };
        match first {
            Node::Start => i == 0 && sequence(rest, s, i, k),
            Node::End => i == s.len() && sequence(rest, s, i, k),
            Node::Atom(a) => i < s.len() && a.matches(s[i]) && sequence(rest, s, i + 1, k),
            Node::Group(alts) => alternatives(alts, s, i, &mut |j| sequence(rest, s, j, k)),
            Node::Repeat { node, min, max } => {
                if let Node::Atom(a) = node.as_ref() {
                    // Single-character repeat: take the longest run, then back off, without
                    // recursing per character.
                    let limit = max.map_or(s.len() - i, |m| m.min(s.len() - i));
                    let run = s[i..i + limit]
                        .iter()
                        .take_while(|c| a.matches(**c))
                        .count();
                    for n in (*min..=run).rev() {
                        if sequence(rest, s, i + n, k) {
                            return true;
                        }
                    }
                    return false;
                }
                let rep = Rep {
                    node,
                    min: *min,
                    max: *max,
                    rest,
                };
                repeat(&rep, 0, s, i, k)
            }
        }
    }

    struct Rep<'a> {
        node: &'a Node,
        min: usize,
        max: Option<usize>,
        rest: &'a [Node],
    }

    /// Greedy repetition of a group: one more iteration if allowed, else the rest. An
    /// iteration that consumes nothing only counts towards the minimum (no endless loops).
    fn repeat(rep: &Rep, count: usize, s: &[char], i: usize, k: Cont) -> bool {
        if rep.max.is_none_or(|m| count < m)
            && sequence(std::slice::from_ref(rep.node), s, i, &mut |j| {
                (j > i || count < rep.min) && repeat(rep, count + 1, s, j, k)
            })
        {
            return true;
        }
        count >= rep.min && sequence(rep.rest, s, i, k)
    }
}

/// The validator's own tests: what it catches, what it accepts, and the places where the
/// BOS spec and BOS's behaviour disagree.
mod tests {
    use serde_json::{Value, json};

    use super::{Spec, assert_valid, pattern::Regex};

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

    #[test]
    fn openapi_check_specs_are_fully_understood() {
        for file in ["bos-openapi.yaml", "cfs-openapi.yaml"] {
            let problems = Spec::load(file).self_check();
            assert!(problems.is_empty(), "{file}:\n{}", problems.join("\n"));
        }
        let demo = Spec::from_yaml("demo", DEMO).self_check();
        assert_eq!(
            demo,
            ["/components/schemas/Lookahead/pattern: only (?:...) groups are supported"]
        );
    }

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
    fn openapi_check_patterns() {
        let name = Regex::new("^[a-zA-Z0-9](?:[-._a-zA-Z0-9]{0,125}[a-zA-Z0-9])?$").unwrap();
        for ok in ["a", "cle-1.0.0", "x3000c0s19b1n0", &"a".repeat(127)] {
            assert!(name.is_match(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a b", "é", &"a".repeat(128)] {
            assert!(!name.is_match(bad), "{bad}");
        }
        let age = Regex::new("^(0|0[mMhHdDwW]|[1-9][0-9]*[mMhHdDwW])$").unwrap();
        for ok in ["0", "0d", "3d", "12H", "100w"] {
            assert!(age.is_match(ok), "{ok}");
        }
        for bad in ["", "01d", "3", "3y", "d", "3d "] {
            assert!(!age.is_match(bad), "{bad}");
        }
        let opt_age = Regex::new("^(?:[0-9]+[mMhHdDwW]){0,1}$").unwrap();
        assert!(opt_age.is_match("") && opt_age.is_match("10m") && !opt_age.is_match("10m5h"));
        let no_space = Regex::new(r"^[^\s;]*$").unwrap();
        assert!(
            no_space.is_match("site.yml") && !no_space.is_match("a b") && !no_space.is_match("a;b")
        );
        let host = Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
            .unwrap();
        assert!(host.is_match("cfs-a.b-c.d") && !host.is_match("a..b") && !host.is_match("A.b"));
        let layer = Regex::new("^[^_]*(_(applied|failed|skipped))?$").unwrap();
        assert!(layer.is_match("abc_applied") && layer.is_match("abc") && !layer.is_match("a_b_c"));
        let level = Regex::new("^([dD][eE][bB][uU][gG]|[iI][nN][fF][oO])$").unwrap();
        assert!(level.is_match("Info") && !level.is_match("information"));
        // Unanchored patterns search anywhere, as ECMA-262 (and JSON Schema) do.
        assert!(Regex::new("b+c").unwrap().is_match("abbbcd"));
        assert!(Regex::new("^(a|ab)(c|bcd)$").unwrap().is_match("abcd"));
        for unsupported in [
            "(?=a)", "(?P<n>a)", r"\1", r"\bword", "a{2", "*a", "[a", "(a",
        ] {
            assert!(Regex::new(unsupported).is_err(), "{unsupported}");
        }
    }

    #[test]
    #[should_panic(expected = "violates the BOS OpenAPI spec:\n  - /: unexpected property `job`")]
    fn openapi_check_assert_valid_panics_with_violations_and_body() {
        let mut s = session();
        s["job"] = json!("boa-4f3c");
        assert_valid("POST", "/apis/bos/v2/sessions", 201, &s);
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
}
