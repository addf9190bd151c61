//! Violation messages: `"<instance pointer>: <reason> [<component schema>]"`, from the
//! library's structured errors (kind, instance and schema locations), worded as this suite
//! has always worded them, so a failing assertion reads the same whatever the library's
//! own wording becomes.

use jsonschema::ValidationError;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use super::Spec;

impl Spec {
    /// One message per violation, by instance location (the order of the document).
    pub(super) fn messages(&self, errors: &[ValidationError]) -> Vec<String> {
        let mut kept: Vec<&ValidationError> = errors
            .iter()
            .filter(|e| !errors.iter().any(|t| hidden_by_type_mismatch(e, t)))
            .collect();
        kept.sort_by_cached_key(|e| path_key(e.instance_path().as_str()));
        kept.into_iter()
            .flat_map(|e| {
                let at = e.instance_path().as_str();
                let name = component(e.schema_path().as_str());
                self.reasons(e)
                    .into_iter()
                    .map(move |r| at_location(at, name, r))
            })
            .collect()
    }

    fn reasons(&self, e: &ValidationError) -> Vec<String> {
        let v = e.instance();
        let keyword_at = e.schema_path().as_str();
        let schema_at = keyword_at.rsplit_once('/').map_or("", |(s, _)| s);
        let original = |k: &str| self.doc.pointer(&format!("{schema_at}/{k}"));
        let count =
            |n: usize, what: &str, key: &str, limit: u64| format!("{n} {what}, {key} is {limit}");
        let chars = || v.as_str().map_or(0, |s| s.chars().count());
        let len = || match &**v {
            Value::Array(a) => a.len(),
            Value::Object(o) => o.len(),
            _ => 0,
        };
        let reason = match e.kind() {
            ValidationErrorKind::Type { kind } => {
                let expected = match (original("type"), kind) {
                    (Some(Value::String(t)), _) => t.clone(),
                    (_, TypeKind::Single(t)) => t.to_string(),
                    (_, TypeKind::Multiple(ts)) => format!("{ts:?}"),
                };
                format!("expected {expected}, got {}", describe(v))
            }
            ValidationErrorKind::Required { property } => format!(
                "missing required property `{}`",
                property.as_str().unwrap_or_default()
            ),
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                return unexpected
                    .iter()
                    .map(|k| format!("unexpected property `{k}` (additionalProperties: false)"))
                    .collect();
            }
            ValidationErrorKind::Enum { options } => {
                format!("{v} is not one of {}", original("enum").unwrap_or(options))
            }
            ValidationErrorKind::MinLength { limit } => {
                count(chars(), "characters", "minLength", *limit)
            }
            ValidationErrorKind::MaxLength { limit } => {
                count(chars(), "characters", "maxLength", *limit)
            }
            ValidationErrorKind::MinItems { limit } => count(len(), "items", "minItems", *limit),
            ValidationErrorKind::MaxItems { limit } => count(len(), "items", "maxItems", *limit),
            ValidationErrorKind::MinProperties { limit } => {
                count(len(), "properties", "minProperties", *limit)
            }
            ValidationErrorKind::MaxProperties { limit } => {
                count(len(), "properties", "maxProperties", *limit)
            }
            ValidationErrorKind::Minimum { limit } => {
                format!(
                    "{v} is below the minimum {}",
                    limit.as_f64().unwrap_or(f64::NAN)
                )
            }
            ValidationErrorKind::Maximum { limit } => {
                format!(
                    "{v} is above the maximum {}",
                    limit.as_f64().unwrap_or(f64::NAN)
                )
            }
            ValidationErrorKind::Pattern { pattern } => {
                format!("{v} does not match pattern {pattern}")
            }
            ValidationErrorKind::AnyOf { context } => format!(
                "matches none of the anyOf branches: {}",
                self.summarise(keyword_at, context)
            ),
            ValidationErrorKind::OneOfNotValid { context } => format!(
                "matches none of the oneOf branches: {}",
                self.summarise(keyword_at, context)
            ),
            ValidationErrorKind::OneOfMultipleValid { context } => {
                let matched: Vec<String> = (0..context.len())
                    .filter(|&i| context[i].is_empty())
                    .map(|i| self.label(keyword_at, i))
                    .collect();
                format!(
                    "matches {} oneOf branches ({}), oneOf requires exactly one",
                    matched.len(),
                    matched.join(", ")
                )
            }
            ValidationErrorKind::Custom { message, .. } => message.clone(),
            _ => e.to_string(),
        };
        vec![reason]
    }

    /// `#<i>`, plus the component name when the branch is a `$ref`.
    fn label(&self, keyword_at: &str, i: usize) -> String {
        let branch = self.doc.pointer(&format!("{keyword_at}/{i}"));
        match branch.and_then(|b| b.get("$ref")).and_then(Value::as_str) {
            Some(r) => format!("#{i} {}", r.rsplit('/').next().unwrap_or(r)),
            None => format!("#{i}"),
        }
    }

    /// Each branch's violations: `#0 Name: <violation>; <violation> | #1: ...`.
    fn summarise(&self, keyword_at: &str, branches: &[Vec<ValidationError>]) -> String {
        branches
            .iter()
            .enumerate()
            .map(|(i, errors)| {
                format!(
                    "{}: {}",
                    self.label(keyword_at, i),
                    self.messages(errors).join("; ")
                )
            })
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

/// Whether `e` repeats a type mismatch `t` reported for the same schema and value: the
/// other keywords of a schema whose type does not match are not reported.
fn hidden_by_type_mismatch(e: &ValidationError, t: &ValidationError) -> bool {
    if !matches!(t.kind(), ValidationErrorKind::Type { .. }) || std::ptr::eq(e, t) {
        return false;
    }
    let schema = t.evaluation_path().as_str();
    let schema = schema.rsplit_once('/').map_or("", |(s, _)| s);
    e.instance_path().as_str() == t.instance_path().as_str()
        && e.evaluation_path()
            .as_str()
            .strip_prefix(schema)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The component a keyword location sits directly in (`/components/schemas/<name>/<kw>`).
fn component(keyword_at: &str) -> Option<&str> {
    let rest = keyword_at.strip_prefix("/components/schemas/")?;
    let (name, keyword) = rest.split_once('/')?;
    (!keyword.contains('/')).then_some(name)
}

/// Sort key for an instance location: its segments, array indices by number.
fn path_key(ptr: &str) -> Vec<(u64, String)> {
    ptr.split('/')
        .skip(1)
        .map(|s| (s.parse().unwrap_or(u64::MAX), s.to_string()))
        .collect()
}

/// `"<pointer>: <reason>"`, naming the component schema when the check came from one.
fn at_location(ptr: &str, schema: Option<&str>, reason: String) -> String {
    let ptr = if ptr.is_empty() { "/" } else { ptr };
    match schema {
        Some(name) => format!("{ptr}: {reason} [{name}]"),
        None => format!("{ptr}: {reason}"),
    }
}

/// A short description of a value for messages.
pub(super) fn describe(v: &Value) -> String {
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
