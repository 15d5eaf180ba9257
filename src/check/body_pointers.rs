//! `body-pointers`: values at JSON pointers of the body (XML mapped to JSON first) against the
//! step's `body` checks (and those of its `by_status` entry for the status received). Values
//! may use `${var}`.

use std::collections::BTreeMap;

use super::{pointer_get, value, Check, Context, Failure};
use crate::case::model::ValueCheck;

pub struct BodyPointers;

const NAME: &str = "body-pointers";

impl Check for BodyPointers {
    fn name(&self) -> &'static str {
        NAME
    }

    fn verifies(&self) -> &'static str {
        "each body value the step's `body` (and `by_status`) names by JSON pointer is present/absent/equal/matching/typed as it says"
    }

    fn run(&self, cx: &Context<'_>) -> Vec<Failure> {
        let Some((answer, body)) = cx.decoded() else {
            return vec![];
        };
        let by_status = cx.subject.expect.for_status(answer.status);
        let mut failures = Vec::new();
        for checks in by_status.map(|e| &e.body).into_iter() {
            failures.extend(check_all(cx, body, checks));
        }
        failures.extend(check_all(cx, body, &cx.subject.expect.body));
        failures
    }
}

fn check_all(
    cx: &Context<'_>,
    body: &serde_json::Value,
    checks: &BTreeMap<String, ValueCheck>,
) -> Vec<Failure> {
    let mut failures = Vec::new();
    for (pointer, check) in checks {
        match value::render(check, cx.subject.vars) {
            Ok(c) => failures.extend(value::check(NAME, pointer, &c, pointer_get(body, pointer))),
            Err(e) => failures.push(Failure::new(
                "case",
                format!("expect/body{pointer}"),
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
    use crate::case::model::Format;
    use crate::check::testing::Fixture;
    use serde_json::json;

    #[test]
    fn body_values_as_the_step_says() {
        let body = r#"{"RequestId": "A", "Code": "C", "Message": "no such server"}"#;
        let expect =
            json!({"body": {"/Message": {"matches": "^no such"}, "/HostId": {"present": false}}});
        assert!(Fixture::alibaba(404, Format::Json, body)
            .expect(expect.clone())
            .run(&BodyPointers)
            .is_empty());
        let other = r#"{"RequestId": "A", "Code": "C", "Message": "oops", "HostId": "h"}"#;
        let f = Fixture::alibaba(404, Format::Json, other)
            .expect(expect)
            .run(&BodyPointers);
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[0].to_string(),
            "body-pointers at /HostId: expected absent, got \"h\""
        );
        assert_eq!(f[1].at, "/Message");
        // Variables are filled in.
        let mut with_var = Fixture::alibaba(404, Format::Json, body)
            .expect(json!({"body": {"/RequestId": {"equals": "${id}"}}}));
        with_var.vars.insert("id".into(), json!("B"));
        assert_eq!(with_var.run(&BodyPointers)[0].expected, "\"B\"");
    }
}
