//! `headers`: the answer's headers against the step's `headers` checks (and those of its
//! `by_status` entry for the status received). Values may use `${var}`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{value, Check, Context, Failure, Received};
use crate::case::model::ValueCheck;

pub struct Headers;

const NAME: &str = "headers";

impl Check for Headers {
    fn name(&self) -> &'static str {
        NAME
    }

    fn verifies(&self) -> &'static str {
        "each header the step's `headers` (and `by_status`) names is present/absent/equal/matching/typed as it says"
    }

    fn run(&self, cx: &Context<'_>) -> Vec<Failure> {
        // Run with the step's expectations, on an answer whose body could be read.
        let Some((answer, _)) = cx.decoded() else {
            return vec![];
        };
        let by_status = cx.subject.expect.for_status(answer.status);
        let mut failures = Vec::new();
        for checks in by_status.map(|e| &e.headers).into_iter() {
            failures.extend(check_all(cx, answer, checks));
        }
        failures.extend(check_all(cx, answer, &cx.subject.expect.headers));
        failures
    }
}

fn check_all(
    cx: &Context<'_>,
    answer: Received<'_>,
    checks: &BTreeMap<String, ValueCheck>,
) -> Vec<Failure> {
    let mut failures = Vec::new();
    for (name, check) in checks {
        let got = answer.header_text(name).map(Value::String);
        match value::render(check, cx.subject.vars) {
            Ok(c) => failures.extend(value::check(NAME, name, &c, got.as_ref())),
            Err(e) => failures.push(Failure::new(
                "case",
                format!("expect/headers/{name}"),
                "a value",
                e,
            )),
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::Fixture;
    use serde_json::json;

    #[test]
    fn header_values_as_the_step_says() {
        let body = r#"{"error_code": "x", "error_msg": "m"}"#;
        let expect = json!({"headers": {"X-Request-Id": {"matches": "^req-"}}});
        assert!(Fixture::huawei(404, body)
            .expect(expect.clone())
            .run(&Headers)
            .is_empty());
        let f = Fixture::huawei(404, body)
            .header("X-Request-Id", "other")
            .expect(expect)
            .run(&Headers);
        assert_eq!(
            f[0].to_string(),
            "headers at X-Request-Id: expected a string matching /^req-/, got \"other\""
        );
        let by_status =
            json!({"by_status": {"404": {"headers": {"Retry-After": {"present": true}}}}});
        let f = Fixture::huawei(404, body)
            .expect(by_status.clone())
            .run(&Headers);
        assert_eq!(f[0].actual, "nothing (absent)");
        assert!(Fixture::huawei(400, body)
            .expect(by_status)
            .run(&Headers)
            .is_empty());
    }
}
