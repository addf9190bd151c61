//! The OpenAPI 3.0 → JSON Schema Draft 4 pre-pass and the validator's settings (see the
//! parent module's comment for the rules and why Draft 4). The rewrite is in place, so a
//! schema location in the rewritten document is the same location in the vendored one.

use jsonschema::{Draft, Keyword, PatternOptions, ValidationError, ValidationOptions, Validator};
use serde_json::{Value, json};

use super::escape;

/// The keyword a `writeOnly` schema is rewritten to: it rejects any value.
const WRITE_ONLY: &str = "x-rackboot-write-only";
const WRITE_ONLY_REASON: &str =
    "writeOnly value present in a response (responses must not echo write-only fields)";

/// OpenAPI 3.0's schema keywords: its subset of Draft 4, its own, and annotations.
const KEYWORDS: &[&str] = &[
    "$ref",
    "type",
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
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "nullable",
    "readOnly",
    "writeOnly",
    "description",
    "example",
    "title",
    "default",
    "format",
    "deprecated",
    "externalDocs",
];

const TYPES: &[&str] = &["string", "integer", "number", "boolean", "array", "object"];

/// The validator settings (see the module comment).
pub(super) fn options() -> ValidationOptions<'static> {
    jsonschema::options()
        .with_draft(Draft::Draft4)
        .should_validate_formats(false)
        .with_pattern_options(PatternOptions::regex())
        .with_keyword(WRITE_ONLY, |_, _, _| Ok(Box::new(WriteOnly)))
}

/// The rewritten `writeOnly` schema: present in a response at all is a violation.
struct WriteOnly;

impl<'i> Keyword<'i> for WriteOnly {
    fn validate(&self, _: &'i Value) -> Result<(), ValidationError<'i>> {
        Err(ValidationError::custom(WRITE_ONLY_REASON))
    }

    fn is_valid(&self, _: &'i Value) -> bool {
        false
    }
}

/// The OpenAPI 3.0 → Draft 4 pre-pass on one schema and its subschemas, in place.
/// `doc` is the original document, for resolving the `$ref`s of `required` properties.
pub(super) fn to_draft4(doc: &Value, schema: &mut Value) {
    let Some(s) = schema.as_object_mut() else {
        return;
    };
    if s.get("writeOnly") == Some(&Value::Bool(true)) {
        *schema = json!({ WRITE_ONLY: true });
        return;
    }
    if s.remove("nullable") == Some(Value::Bool(true)) {
        if let Some(Value::String(t)) = s.get("type") {
            s["type"] = json!([t, "null"]);
        }
        if let Some(Value::Array(allowed)) = s.get_mut("enum") {
            allowed.push(Value::Null);
        }
    }
    if let (Some(Value::Array(required)), Some(properties)) = (
        s.get("required"),
        s.get("properties").and_then(Value::as_object),
    ) {
        let kept: Vec<Value> = required
            .iter()
            .filter(|k| {
                let p = k.as_str().and_then(|k| properties.get(k));
                !p.is_some_and(|p| is_write_only(doc, p))
            })
            .cloned()
            .collect();
        if kept.is_empty() {
            s.remove("required");
        } else {
            s["required"] = Value::Array(kept);
        }
    }
    for (k, v) in s.iter_mut() {
        match (k.as_str(), v) {
            ("properties", Value::Object(props)) => {
                props.values_mut().for_each(|p| to_draft4(doc, p));
            }
            ("items" | "additionalProperties" | "not", v) => to_draft4(doc, v),
            ("allOf" | "anyOf" | "oneOf", Value::Array(branches)) => {
                branches.iter_mut().for_each(|b| to_draft4(doc, b));
            }
            _ => {}
        }
    }
}

/// Whether a property schema is `writeOnly` once its `$ref` chain is followed.
fn is_write_only<'a>(doc: &'a Value, mut schema: &'a Value) -> bool {
    for _ in 0..64 {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.strip_prefix('#').and_then(|p| doc.pointer(p)) {
                Some(target) => schema = target,
                None => return false,
            },
            None => return schema.get("writeOnly") == Some(&Value::Bool(true)),
        }
    }
    false
}

/// Unknown keywords and types in a schema and its subschemas.
pub(super) fn lint_keywords(schema: &Value, ptr: &str, problems: &mut Vec<String>) {
    let Some(s) = schema.as_object() else {
        return problems.push(format!("{ptr}: schema is not an object"));
    };
    for (k, v) in s {
        let child = format!("{ptr}/{}", escape(k));
        match k.as_str() {
            _ if !KEYWORDS.contains(&k.as_str()) && !k.starts_with("x-") => {
                problems.push(format!("{ptr}: unsupported schema keyword `{k}`"))
            }
            "type" if !v.as_str().is_some_and(|t| TYPES.contains(&t)) => {
                problems.push(format!("{ptr}: unsupported type {v}"))
            }
            "properties" => {
                for (name, p) in v.as_object().into_iter().flatten() {
                    lint_keywords(p, &format!("{child}/{}", escape(name)), problems);
                }
            }
            "items" | "not" => lint_keywords(v, &child, problems),
            "additionalProperties" if !v.is_boolean() => lint_keywords(v, &child, problems),
            "allOf" | "anyOf" | "oneOf" => {
                for (i, b) in v.as_array().into_iter().flatten().enumerate() {
                    lint_keywords(b, &format!("{child}/{i}"), problems);
                }
            }
            _ => {}
        }
    }
}

/// A `pattern` compiled the way the validator compiles one, for testing what it accepts.
pub struct Pattern(Validator);

impl Pattern {
    pub fn new(pattern: &str) -> Result<Pattern, String> {
        options()
            .build(&json!({"type": "string", "pattern": pattern}))
            .map(Pattern)
            .map_err(|e| e.to_string())
    }

    /// ECMA-262 `test()` semantics, as JSON Schema's: a match anywhere unless anchored.
    pub fn is_match(&self, text: &str) -> bool {
        self.0.is_valid(&Value::from(text))
    }
}
