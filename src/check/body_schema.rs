//! `body-schema`: the body is valid against its JSON Schema: the step's `schema` (for this
//! status, or for any), else the spec's for the status received, else for an error the
//! service's error envelope. One failure per violation, located by JSON pointer.

use serde_json::Value;

use super::{Check, Context, Failure};

pub struct BodySchema;

const NAME: &str = "body-schema";

impl Check for BodySchema {
    fn name(&self) -> &'static str {
        NAME
    }

    fn verifies(&self) -> &'static str {
        "the body is valid against its JSON Schema: the step's `schema`, else the spec's for the status, else the error envelope's"
    }

    fn run(&self, cx: &Context<'_>) -> Vec<Failure> {
        let Some((answer, body)) = cx.decoded() else {
            return vec![];
        };
        let Some(name) = schema_name(cx, answer.status) else {
            return vec![];
        };
        let service = cx.subject.service.name();
        match cx
            .subject
            .schemas
            .get(service, &cx.subject.operation.operation, name)
        {
            Some(v) => check(name, v, body),
            // Lint rejects unknown names: this is a bug in the spec, not the target's failure.
            None => vec![Failure::new("spec", name, "a schema of that name", "none")],
        }
    }
}

/// The schema the answer is checked against, by name.
fn schema_name<'a>(cx: &'a Context<'_>, status: u16) -> Option<&'a str> {
    let expect = cx.subject.expect;
    expect
        .for_status(status)
        .and_then(|e| e.schema.as_deref())
        .or(expect.schema.as_deref())
        .or(cx.response.and_then(|r| r.schema.as_deref()))
        .or(if super::is_error(status) {
            Some(cx.subject.service.spec.error_envelope.schema.as_str())
        } else {
            None
        })
}

/// Validates a body; one failure per violation, located by JSON pointer.
pub fn check(name: &str, validator: &jsonschema::Validator, body: &Value) -> Vec<Failure> {
    validator
        .iter_errors(body)
        .map(|e| {
            let at = e.instance_path().to_string();
            Failure::new(
                NAME,
                if at.is_empty() { "/".to_string() } else { at },
                format!("a body valid against `{name}`"),
                e.to_string(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::Fixture;
    use serde_json::json;

    #[test]
    fn violations_are_located() {
        let v = jsonschema::validator_for(&json!({"type": "object", "required": ["RequestId"], "properties": {"RequestId": {"type": "string"}}})).unwrap();
        assert!(check("S", &v, &json!({"RequestId": "x"})).is_empty());
        let f = check("S", &v, &json!({"RequestId": 5}));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].at, "/RequestId");
        assert!(f[0].actual.contains("string"), "{}", f[0]);
        let f = check("S", &v, &json!({}));
        assert_eq!(f[0].at, "/");
        assert!(f[0].actual.contains("RequestId"));
    }

    #[test]
    fn the_spec_schema_for_the_status_or_the_step_one() {
        let error = r#"{"error_code": "SMS.0201", "error_msg": "m"}"#;
        assert!(Fixture::huawei(404, error).run(&BodySchema).is_empty());
        let f = Fixture::huawei(404, r#"{"error_code": 5}"#).run(&BodySchema);
        assert!(!f.is_empty());
        assert!(f
            .iter()
            .all(|f| f.expected == "a body valid against `Error`"));
        // The step's schema wins over the spec's.
        let f = Fixture::huawei(404, error)
            .expect(json!({"schema": "GatewayError"}))
            .run(&BodySchema);
        assert!(f[0].actual.contains("request_id"), "{f:?}");
        let f = Fixture::huawei(404, error)
            .expect(json!({"schema": "NoSuchSchema"}))
            .run(&BodySchema);
        assert_eq!(f[0].check, "spec");
    }
}
