//! `request-id`: the answer carries a request id where the spec's `request_id` says (a
//! documented platform rule, on every answer whatever its status): a non-empty header, a
//! non-empty string at a body pointer.

use serde_json::Value;

use super::{value, Check, Context, Failure};

pub struct RequestId;

const NAME: &str = "request-id";

impl Check for RequestId {
    fn name(&self) -> &'static str {
        NAME
    }

    fn verifies(&self) -> &'static str {
        "every answer carries a non-empty request id in the header and/or body field the spec's `request_id` names"
    }

    fn run(&self, cx: &Context<'_>) -> Vec<Failure> {
        let Some(answer) = cx.answer() else {
            return vec![];
        };
        let rule = &cx.subject.service.spec.request_id;
        let mut failures = Vec::new();
        if let Some(h) = &rule.header {
            let ok = answer.header_ascii(h).is_some_and(|v| !v.trim().is_empty());
            if !ok {
                failures.push(Failure::new(
                    NAME,
                    format!("header {h}"),
                    "a request id",
                    "none",
                ));
            }
        }
        // An undecodable body is `body-format`'s failure.
        if let (Some(p), Some((_, body))) = (&rule.body, cx.decoded()) {
            failures.extend(in_body(body, p));
        }
        failures
    }
}

/// A failure unless the body has a non-empty string at `pointer`.
fn in_body(body: &Value, pointer: &str) -> Option<Failure> {
    let found = body.pointer(pointer);
    let ok = found
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty());
    (!ok).then(|| {
        Failure::new(
            NAME,
            pointer,
            "a non-empty string",
            found.map(value::brief).unwrap_or_else(|| "absent".into()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::model::Format;
    use crate::check::testing::Fixture;

    #[test]
    fn a_header_id_is_required_where_the_spec_says() {
        assert!(Fixture::huawei(200, "\"ok\"").run(&RequestId).is_empty());
        let f = Fixture::huawei(200, "\"ok\"")
            .header("X-Request-Id", " ")
            .run(&RequestId);
        assert_eq!(
            f[0].to_string(),
            "request-id at header X-Request-Id: expected a request id, got none"
        );
        assert_eq!(
            Fixture::huawei(404, "{}")
                .without("X-Request-Id")
                .run(&RequestId)
                .len(),
            1
        );
    }

    #[test]
    fn a_body_id_is_required_where_the_spec_says() {
        let ok = r#"{"RequestId": "A1"}"#;
        assert!(Fixture::alibaba(200, Format::Json, ok)
            .run(&RequestId)
            .is_empty());
        let xml =
            "<DeleteSourceServerResponse><RequestId>A1</RequestId></DeleteSourceServerResponse>";
        assert!(Fixture::alibaba(200, Format::Xml, xml)
            .run(&RequestId)
            .is_empty());
        let f = Fixture::alibaba(200, Format::Json, r#"{"RequestId": 7}"#).run(&RequestId);
        assert_eq!(
            (f[0].at.as_str(), f[0].actual.as_str()),
            ("/RequestId", "7")
        );
        let f = Fixture::alibaba(404, Format::Json, "{}").run(&RequestId);
        assert_eq!(f[0].actual, "absent");
        // A body that does not decode is not this check's failure.
        assert!(Fixture::alibaba(200, Format::Json, "<x/>")
            .run(&RequestId)
            .is_empty());
    }
}
