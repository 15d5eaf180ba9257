//! `${name}` templates in case files: provider-state values, captures, and the builtins
//! `${unique}` (a fresh id) and `${unique:N}` (a fresh id of exactly N characters).

use std::collections::BTreeMap;

use serde_json::Value;

/// The string the harness signed for a step's request (no secret in it): set for the step's
/// own expectations only, so a case can check that a server's mismatch error names it.
pub const STRING_TO_SIGN: &str = "string_to_sign";

/// Variables of one running case.
pub type Vars = BTreeMap<String, Value>;

/// The variable names a template refers to, in order (builtins included).
pub fn names(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push(&after[..end]);
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// Why a template cannot be filled: an unset variable, an unclosed `${`, a bad `unique:` length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

/// The message alone, where a failure or diagnostic takes text.
impl From<TemplateError> for String {
    fn from(e: TemplateError) -> String {
        e.0
    }
}

/// The longest `${unique:N}`: longer than any id limit the APIs document (lint refuses more).
pub const MAX_UNIQUE: usize = 4096;

/// The length of a `unique:N` name, checked against [`MAX_UNIQUE`].
fn unique_length(name: &str, n: &str) -> Result<usize, TemplateError> {
    match n.parse::<u64>() {
        Ok(len) if len <= MAX_UNIQUE as u64 => Ok(len as usize),
        Ok(_) => Err(TemplateError(format!(
            "`${{{name}}}`: the length after `unique:` is at most {MAX_UNIQUE}"
        ))),
        Err(_) => Err(TemplateError(format!(
            "`${{{name}}}`: the length after `unique:` must be a whole number"
        ))),
    }
}

/// Whether a variable name is a builtin; `Err` for a malformed or too long `unique:` length.
pub fn is_builtin(name: &str) -> Result<bool, TemplateError> {
    if name == "unique" {
        return Ok(true);
    }
    if let Some(n) = name.strip_prefix("unique:") {
        return unique_length(name, n).map(|_| true);
    }
    Ok(false)
}

/// A fresh id: lowercase hex, `len` characters (32 when not given).
pub fn unique(len: usize) -> String {
    let mut s = String::with_capacity(len);
    while s.len() < len {
        s.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    s.truncate(len);
    s
}

/// Fills a template. A template that is exactly one variable keeps the variable's JSON type
/// (so `Force: ${force}` can be a boolean); otherwise values are spliced in as text.
pub fn render_value(template: &Value, vars: &Vars) -> Result<Value, TemplateError> {
    match template {
        Value::String(s) => {
            let refs = names(s);
            if refs.len() == 1 && s.len() == refs[0].len() + 3 {
                return lookup(refs[0], vars);
            }
            render(s, vars).map(Value::String)
        }
        Value::Array(items) => items
            .iter()
            .map(|v| render_value(v, vars))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                out.insert(k.clone(), render_value(v, vars)?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

/// Fills a string template.
pub fn render(template: &str, vars: &Vars) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(TemplateError(format!("unclosed `${{` in `{template}`")));
        };
        out.push_str(&text_of(&lookup(&after[..end], vars)?));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn lookup(name: &str, vars: &Vars) -> Result<Value, TemplateError> {
    if name == "unique" {
        return Ok(Value::String(unique(32)));
    }
    if let Some(n) = name.strip_prefix("unique:") {
        return Ok(Value::String(unique(unique_length(name, n)?)));
    }
    vars.get(name)
        .cloned()
        .ok_or_else(|| TemplateError(format!("variable `{name}` is not set")))
}

/// A value as it goes into a URL, header or text.
pub fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_rendering() {
        assert_eq!(names("a ${x} b ${unique:3}"), vec!["x", "unique:3"]);
        let mut vars = Vars::new();
        vars.insert("x".into(), json!("s-1"));
        vars.insert("b".into(), json!(true));
        assert_eq!(render("id=${x}", &vars).unwrap(), "id=s-1");
        assert_eq!(render_value(&json!("${b}"), &vars).unwrap(), json!(true));
        assert_eq!(render_value(&json!("${x}x"), &vars).unwrap(), json!("s-1x"));
        assert_eq!(render("${unique:37}", &vars).unwrap().len(), 37);
        assert_eq!(render("${unique:0}", &vars).unwrap(), "");
        assert!(render("${nope}", &vars).unwrap_err().0.contains("`nope`"));
        assert!(is_builtin("unique:x").is_err());
        assert_eq!(render("${unique:4096}", &vars).unwrap().len(), 4096);
        for huge in [
            "unique:4097",
            "unique:10000000000",
            "unique:18446744073709551615",
            "unique:99999999999999999999999",
        ] {
            assert!(
                is_builtin(huge).unwrap_err().0.contains("at most 4096")
                    || is_builtin(huge).unwrap_err().0.contains("whole number"),
                "{huge}"
            );
            assert!(render(&format!("${{{huge}}}"), &vars).is_err(), "{huge}");
        }
        assert!(!is_builtin("SourceId").unwrap());
    }
}
