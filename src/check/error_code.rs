//! `error-code`: the error code, read with the service's error-envelope rule, is the step's
//! `error_code` (one code, or one of an `any_of`), and for an answer of a status in `by_status`
//! also that status's `error_code`. Codes may use `${var}`.

use serde_json::Value;

use super::{value, Check, Context, Failure};
use crate::case::model::{CodeExpect, ValueCheck};
use crate::case::vars::{self, Vars};

pub struct ErrorCode;

const NAME: &str = "error-code";

impl Check for ErrorCode {
    fn name(&self) -> &'static str {
        NAME
    }

    fn verifies(&self) -> &'static str {
        "the error code at the service's envelope pointer is the step's `error_code` (and its `by_status` one)"
    }

    fn run(&self, cx: &Context<'_>) -> Vec<Failure> {
        let Some((answer, body)) = cx.decoded() else {
            return vec![];
        };
        let pointer = &cx.subject.service.spec.error_envelope.code;
        let mut failures = Vec::new();
        if let Some(code) = &cx.subject.expect.error_code {
            failures.extend(check(code, body, pointer, cx.subject.vars));
        }
        let status = answer.status;
        if let Some(code) = cx
            .subject
            .expect
            .for_status(status)
            .and_then(|e| e.error_code.as_ref())
        {
            failures.extend(check(code, body, pointer, cx.subject.vars).map(|mut f| {
                f.expected = format!("{} (by_status {status})", f.expected);
                f
            }));
        }
        failures
    }
}

/// The error code at `pointer` against the expected one(s), variables filled in.
pub fn check(expected: &CodeExpect, body: &Value, pointer: &str, vars: &Vars) -> Option<Failure> {
    let mut wanted = Vec::new();
    for code in expected.codes() {
        match vars::render(code, vars) {
            Ok(want) => wanted.push(Value::String(want)),
            Err(e) => return Some(Failure::new("case", "expect/error_code", "a value", e)),
        }
    }
    let actual = body.pointer(pointer);
    if wanted.len() == 1 {
        let want = ValueCheck::Equals(wanted.swap_remove(0));
        return value::check(NAME, pointer, &want, actual);
    }
    if actual.is_some_and(|a| wanted.contains(a)) {
        return None;
    }
    Some(Failure::new(
        NAME,
        pointer,
        format!("one of {}", Value::Array(wanted)),
        actual.map(value::brief).unwrap_or_else(|| "absent".into()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::Fixture;
    use serde_json::json;

    fn any_of(codes: &[&str]) -> CodeExpect {
        CodeExpect::AnyOf {
            any_of: codes.iter().map(|c| c.to_string()).collect(),
            why: "w".into(),
        }
    }

    #[test]
    fn any_of_accepts_each_listed_code_and_nothing_else() {
        let want = any_of(&["InvalidAction.NotFound", "InvalidApi.NotFound"]);
        let vars = Vars::new();
        for code in ["InvalidAction.NotFound", "InvalidApi.NotFound"] {
            let body = json!({"Code": code});
            assert!(check(&want, &body, "/Code", &vars).is_none());
        }
        let body = json!({"Code": "InvalidSourceId.NotFound"});
        let f = check(&want, &body, "/Code", &vars).expect("a failure");
        assert_eq!(f.at, "/Code");
        assert_eq!(
            f.expected,
            r#"one of ["InvalidAction.NotFound","InvalidApi.NotFound"]"#
        );
        assert_eq!(f.actual, r#""InvalidSourceId.NotFound""#);
        let f = check(&want, &json!({}), "/Code", &vars).expect("absent");
        assert_eq!(f.actual, "absent");
    }

    #[test]
    fn on_an_answer_with_by_status() {
        let body = r#"{"error_code": "APIGW.0301", "error_msg": "m"}"#;
        let expect =
            json!({"error_code": "APIGW.0301", "by_status": {"401": {"error_code": "APIGW.0301"}}});
        assert!(Fixture::huawei(401, body)
            .expect(expect.clone())
            .run(&ErrorCode)
            .is_empty());
        let other = r#"{"error_code": "SMS.9999", "error_msg": "m"}"#;
        let f = Fixture::huawei(401, other).expect(expect).run(&ErrorCode);
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[0].to_string(),
            "error-code at /error_code: expected \"APIGW.0301\", got \"SMS.9999\""
        );
        assert_eq!(f[1].expected, "\"APIGW.0301\" (by_status 401)");
        let mut with_var = Fixture::huawei(404, other).expect(json!({"error_code": "${code}"}));
        with_var.vars.insert("code".into(), json!("SMS.9999"));
        assert!(with_var.run(&ErrorCode).is_empty());
    }
}
