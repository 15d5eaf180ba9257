//! Schema violations as a person wants them: an unknown field at its key with the closest
//! valid name, an enum value with the valid ones, an `anyOf`/`oneOf` with what each
//! alternative expected.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::ValidationError;
use serde_json::Value;

use crate::diag::{suggest, Diagnostic};
use crate::located::{escape_pointer, Located};

/// The located diagnostics of one violation (one per unknown field).
pub(super) fn diagnostics_of(doc: &Located, err: &ValidationError) -> Vec<Diagnostic> {
    let pointer = err.instance_path().to_string();
    match err.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let known = sibling_properties(err);
            unexpected
                .iter()
                .map(|name| {
                    let at = format!("{pointer}/{}", escape_pointer(name));
                    let d = doc.error_at_key(&at, format!("unknown field `{name}`"));
                    let hint = suggest(name, known.iter().map(String::as_str));
                    match hint {
                        Some(h) => d.with_hint(h),
                        None => d,
                    }
                })
                .collect()
        }
        ValidationErrorKind::Enum { options } => {
            let names: Vec<String> = options
                .as_array()
                .map(|o| o.iter().map(plain).collect())
                .unwrap_or_default();
            let d = doc.error_at(&pointer, err.to_string());
            let d = match suggest(&plain(err.instance()), names.iter().map(String::as_str)) {
                Some(h) => d.with_hint(h),
                None => d,
            };
            vec![d]
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            vec![match alternatives_hint(&pointer, context) {
                Some(h) => doc
                    .error_at(
                        &pointer,
                        format!("{} is none of the forms allowed here", err.instance()),
                    )
                    .with_hint(h),
                None => doc.error_at(&pointer, err.to_string()),
            }]
        }
        _ => vec![doc.error_at(&pointer, err.to_string())],
    }
}

/// Each unknown field that misspells a known one: (the mapping's pointer, as written, as meant).
pub(super) fn misspellings(err: &ValidationError) -> Vec<(String, String, String)> {
    let ValidationErrorKind::AdditionalProperties { unexpected } = err.kind() else {
        return Vec::new();
    };
    let known = sibling_properties(err);
    let at = err.instance_path().to_string();
    unexpected
        .iter()
        .filter_map(|u| {
            let meant = crate::diag::closest(u, known.iter().map(String::as_str))?;
            Some((at.clone(), u.clone(), meant.to_string()))
        })
        .collect()
}

/// A value as a case file writes it: a string without quotes.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The `properties` of the schema object whose `additionalProperties` refused a field.
fn sibling_properties(err: &ValidationError) -> Vec<String> {
    let keyword = err.schema_path().to_string();
    let Some(object) = keyword.rsplit_once('/').map(|(parent, _)| parent) else {
        return Vec::new();
    };
    let root = err
        .absolute_keyword_location()
        .and_then(|uri| uri.as_str().split('#').next().map(str::to_string))
        .and_then(|base| super::schema_by_id(&base));
    root.and_then(|r| r.pointer(object))
        .and_then(|o| o.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// What each alternative expected of the value itself: `expected integer or object`.
fn alternatives_hint(pointer: &str, context: &[Vec<ValidationError<'static>>]) -> Option<String> {
    let mut expected: Vec<String> = Vec::new();
    for branch in context {
        for e in branch {
            if e.instance_path().to_string() != pointer {
                continue;
            }
            let what = match e.kind() {
                ValidationErrorKind::Type {
                    kind: TypeKind::Single(t),
                } => t.to_string(),
                ValidationErrorKind::Type {
                    kind: TypeKind::Multiple(ts),
                } => ts
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
                ValidationErrorKind::Enum { options } => format!("one of {options}"),
                ValidationErrorKind::Constant { expected_value } => expected_value.to_string(),
                _ => continue,
            };
            if !expected.contains(&what) {
                expected.push(what);
            }
        }
    }
    (!expected.is_empty()).then(|| format!("expected {}", expected.join(", or ")))
}

/// Whether `err` is a missing required property that an unknown field of the same object
/// misspells (`expcet` for `expect`; `meant` holds each misspelling's object pointer and the key
/// meant): the misspelling says it all, at its key.
pub(super) fn is_misspelt_required(
    err: &ValidationError,
    meant: &std::collections::HashSet<(String, String)>,
) -> bool {
    let ValidationErrorKind::Required { property } = err.kind() else {
        return false;
    };
    property
        .as_str()
        .is_some_and(|p| meant.contains(&(err.instance_path().to_string(), p.to_string())))
}
