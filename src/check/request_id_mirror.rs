//! `request-id-mirror`: a request id carried twice (Huawei gateway errors: the `X-Request-Id`
//! header and the body's `request_id`, the spec's `request_id.mirror`) is the same id.

use serde_json::Value;

use super::{Check, Context, Failure};

pub struct RequestIdMirror;

const NAME: &str = "request-id-mirror";

impl Check for RequestIdMirror {
    fn name(&self) -> &'static str {
        NAME
    }

    fn verifies(&self) -> &'static str {
        "where the body repeats the request id (`request_id.mirror`), it is the header's id"
    }

    fn run(&self, cx: &Context<'_>) -> Vec<Failure> {
        let rule = &cx.subject.service.spec.request_id;
        let (Some(name), Some(pointer), Some((answer, body))) =
            (&rule.header, &rule.mirror, cx.decoded())
        else {
            return vec![];
        };
        let header = answer.header_ascii(name);
        check_mirror(name, header, body, pointer)
            .into_iter()
            .collect()
    }
}

/// A failure when the body has a value at `pointer` and the header has another one. Either
/// absent is not this check's business (`request-id` sees a missing header).
pub fn check_mirror(
    header_name: &str,
    header: Option<&str>,
    body: &Value,
    pointer: &str,
) -> Option<Failure> {
    let in_body = body.pointer(pointer)?;
    let header = header?;
    if in_body.as_str() == Some(header) {
        return None;
    }
    Some(Failure::new(
        NAME,
        format!("body {pointer}"),
        format!("the {header_name} header's id `{header}`"),
        super::value::brief(in_body),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::Fixture;
    use serde_json::json;

    #[test]
    fn header_and_body_agree() {
        let body = json!({"error_code": "APIGW.0301", "request_id": "abc"});
        assert!(check_mirror("X-Request-Id", Some("abc"), &body, "/request_id").is_none());
        let f = check_mirror("X-Request-Id", Some("def"), &body, "/request_id").unwrap();
        assert_eq!(f.at, "body /request_id");
        assert!(check_mirror("X-Request-Id", None, &body, "/request_id").is_none());
        assert!(check_mirror("X-Request-Id", Some("abc"), &json!({}), "/request_id").is_none());
        assert!(check_mirror(
            "X-Request-Id",
            Some("1"),
            &json!({"request_id": 1}),
            "/request_id"
        )
        .is_some());
    }

    #[test]
    fn on_an_answer() {
        let body = r#"{"error_code": "APIGW.0301", "error_msg": "m", "request_id": "req-1"}"#;
        assert!(Fixture::huawei(401, body).run(&RequestIdMirror).is_empty());
        let f = Fixture::huawei(401, body)
            .header("X-Request-Id", "req-2")
            .run(&RequestIdMirror);
        assert_eq!(
            f[0].to_string(),
            "request-id-mirror at body /request_id: expected the X-Request-Id header's id `req-2`, got \"req-1\""
        );
    }
}
