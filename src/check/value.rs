//! A value at a JSON pointer or a header against a [`ValueCheck`].

use serde_json::Value;

use super::Failure;
use crate::case::model::ValueCheck;
use crate::case::vars::{self, Vars};

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Shows a value briefly, for failure messages.
pub fn brief(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 120 {
        let cut = (0..=120)
            .rev()
            .find(|i| s.is_char_boundary(*i))
            .unwrap_or(0);
        format!("{}…", &s[..cut])
    } else {
        s
    }
}

/// `expected` has its variables already filled in.
pub fn check(
    kind: &'static str,
    at: &str,
    expected: &ValueCheck,
    actual: Option<&Value>,
) -> Option<Failure> {
    let fail = |want: String, got: String| Some(Failure::new(kind, at, want, got));
    let shown = actual
        .map(brief)
        .unwrap_or_else(|| "nothing (absent)".into());
    match (expected, actual) {
        (ValueCheck::Present(true), None) => fail("present".into(), shown),
        (ValueCheck::Present(false), Some(_)) => fail("absent".into(), shown),
        (ValueCheck::Present(_), _) => None,
        (_, None) => fail(describe(expected), shown),
        (ValueCheck::Equals(want), Some(got)) => {
            (want != got).then(|| Failure::new(kind, at, brief(want), shown))
        }
        (ValueCheck::Matches(re), Some(got)) => {
            // Compiled when the case file was read.
            let ok = got.as_str().is_some_and(|s| re.is_match(s));
            (!ok).then(|| {
                Failure::new(
                    kind,
                    at,
                    format!("a string matching /{}/", re.as_str()),
                    shown,
                )
            })
        }
        (ValueCheck::Type(t), Some(got)) => {
            let actual_type = type_name(got);
            let ok = actual_type == t || (t == "number" && actual_type == "integer");
            (!ok).then(|| {
                Failure::new(
                    kind,
                    at,
                    format!("a {t}"),
                    format!("a {actual_type}: {shown}"),
                )
            })
        }
        (ValueCheck::Length(n), Some(got)) => {
            let len = match got {
                Value::String(s) => Some(s.chars().count()),
                Value::Array(a) => Some(a.len()),
                _ => None,
            };
            (len != Some(*n)).then(|| {
                Failure::new(
                    kind,
                    at,
                    format!("length {n}"),
                    format!(
                        "{} ({shown})",
                        len.map_or("no length".to_string(), |l| format!("length {l}"))
                    ),
                )
            })
        }
    }
}

fn describe(c: &ValueCheck) -> String {
    match c {
        ValueCheck::Present(p) => {
            if *p {
                "present".into()
            } else {
                "absent".into()
            }
        }
        ValueCheck::Equals(v) => brief(v),
        ValueCheck::Matches(r) => format!("a string matching /{}/", r.as_str()),
        ValueCheck::Type(t) => format!("a {t}"),
        ValueCheck::Length(n) => format!("length {n}"),
    }
}

/// The check with the case's variables filled in (`equals` values; a `matches` pattern takes
/// none: it is compiled when the file is read).
pub fn render(c: &ValueCheck, vars: &Vars) -> Result<ValueCheck, String> {
    Ok(match c {
        ValueCheck::Equals(v) => ValueCheck::Equals(vars::render_value(v, vars)?),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::pattern::Pattern;
    use serde_json::json;

    #[test]
    fn each_kind_passes_and_fails() {
        let v = json!("abc");
        assert!(check("body", "/a", &ValueCheck::Present(true), Some(&v)).is_none());
        assert_eq!(
            check("body", "/a", &ValueCheck::Present(true), None)
                .unwrap()
                .actual,
            "nothing (absent)"
        );
        assert!(check("body", "/a", &ValueCheck::Present(false), Some(&v)).is_some());
        assert!(check("body", "/a", &ValueCheck::Equals(json!("abc")), Some(&v)).is_none());
        assert_eq!(
            check("body", "/a", &ValueCheck::Equals(json!("x")), Some(&v))
                .unwrap()
                .to_string(),
            "body at /a: expected \"x\", got \"abc\""
        );
        assert!(check(
            "body",
            "/a",
            &ValueCheck::Matches(Pattern::new("^a.c$")),
            Some(&v)
        )
        .is_none());
        assert!(check(
            "body",
            "/a",
            &ValueCheck::Matches(Pattern::new("^z")),
            Some(&v)
        )
        .is_some());
        assert!(check("body", "/a", &ValueCheck::Type("string".into()), Some(&v)).is_none());
        let f = check(
            "body",
            "/a",
            &ValueCheck::Type("string".into()),
            Some(&json!(5)),
        )
        .unwrap();
        assert_eq!(f.actual, "a integer: 5");
        assert!(check(
            "body",
            "/a",
            &ValueCheck::Type("number".into()),
            Some(&json!(5))
        )
        .is_none());
        assert!(check("body", "/a", &ValueCheck::Length(3), Some(&v)).is_none());
        assert!(check("body", "/a", &ValueCheck::Length(2), Some(&v)).is_some());
        assert!(check("body", "/a", &ValueCheck::Type("string".into()), None).is_some());
    }
}
