//! `content-type`: the Content-Type of an answer against the spec's documented
//! `content_types` (run on every answer, like the request-id and schema checks). Only rules with
//! a documented source and an `equals` or `not_equals` assert anything; the rest only tell the
//! emulator what to send.

use super::{Check, Context, Failure};
use crate::case::model::Format;
use crate::spec::model::{AnswerKind, ContentTypeRule, Provenance};

pub struct ContentType;

const NAME: &str = "content-type";

impl Check for ContentType {
    fn name(&self) -> &'static str {
        NAME
    }

    fn verifies(&self) -> &'static str {
        "the Content-Type header is what the spec's documented `content_types` rules say for the body format and status"
    }

    /// Huawei answers are JSON.
    fn run(&self, cx: &Context<'_>) -> Vec<Failure> {
        let Some(answer) = cx.answer() else {
            return vec![];
        };
        check(
            &cx.subject.service.spec.content_types,
            cx.format.unwrap_or(Format::Json),
            answer.status,
            answer
                .header_text(reqwest::header::CONTENT_TYPE.as_str())
                .as_deref(),
        )
    }
}

/// Failures of the answer's `Content-Type` (`None`: absent) for a body of `format` and an
/// answer of `status`.
pub fn check(
    rules: &[ContentTypeRule],
    format: Format,
    status: u16,
    header: Option<&str>,
) -> Vec<Failure> {
    let kind = AnswerKind::of(status);
    let mut failures = Vec::new();
    let documented =
        |r: &&ContentTypeRule| Provenance::of(&r.source).is_some_and(Provenance::is_documented);
    let shown = |h: Option<&str>| h.map_or("none".to_string(), |v| format!("`{v}`"));
    let at = format!(
        "header Content-Type ({} {})",
        format.as_str(),
        kind.as_str()
    );
    for rule in rules
        .iter()
        .filter(|r| r.applies(format.as_str(), kind))
        .filter(documented)
    {
        if let Some(want) = &rule.equals {
            if header != Some(want.as_str()) {
                failures.push(Failure::new(
                    NAME,
                    &at,
                    format!("exactly `{want}` ({})", rule.source),
                    shown(header),
                ));
            }
        }
        if let Some(not) = &rule.not_equals {
            if header == Some(not.as_str()) {
                failures.push(Failure::new(
                    NAME,
                    &at,
                    format!("anything but `{not}` ({})", rule.source),
                    shown(header),
                ));
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        format: &str,
        answers: AnswerKind,
        equals: Option<&str>,
        not: Option<&str>,
        source: &str,
    ) -> ContentTypeRule {
        ContentTypeRule {
            format: format.into(),
            answers,
            sends: None,
            equals: equals.map(str::to_string),
            not_equals: not.map(str::to_string),
            source: source.into(),
        }
    }

    #[test]
    fn documented_rules_are_asserted_by_format_and_kind() {
        const XML: &str = "text/xml;charset=utf-8";
        let rules = [
            rule("XML", AnswerKind::Error, Some(XML), None, "notes:x#y"),
            rule("JSON", AnswerKind::Error, None, Some(XML), "notes:x#y"),
            rule(
                "JSON",
                AnswerKind::Success,
                Some("application/json"),
                None,
                "assumed:ours",
            ),
        ];
        assert!(check(&rules, Format::Xml, 400, Some(XML)).is_empty());
        let f = check(&rules, Format::Xml, 404, Some("text/xml; charset=UTF-8"));
        assert_eq!(f.len(), 1);
        assert!(
            f[0].expected
                .starts_with("exactly `text/xml;charset=utf-8`"),
            "{f:?}"
        );
        assert_eq!(check(&rules, Format::Xml, 500, None)[0].actual, "none");
        // Success answers of XML: no rule.
        assert!(check(&rules, Format::Xml, 200, Some("text/plain")).is_empty());
        assert!(check(&rules, Format::Json, 400, Some("application/json")).is_empty());
        assert!(check(&rules, Format::Json, 400, None).is_empty());
        assert_eq!(check(&rules, Format::Json, 400, Some(XML)).len(), 1);
        // An assumed rule asserts nothing.
        assert!(check(&rules, Format::Json, 200, Some("text/html")).is_empty());
    }

    #[test]
    fn on_an_answer() {
        use crate::check::testing::Fixture;
        let body = "<Error><RequestId>A</RequestId><Code>C</Code></Error>";
        let xml = Fixture::alibaba(404, Format::Xml, body);
        assert!(xml
            .header("Content-Type", "text/xml;charset=utf-8")
            .run(&ContentType)
            .is_empty());
        let f = Fixture::alibaba(404, Format::Xml, body)
            .header("Content-Type", "application/xml")
            .run(&ContentType);
        assert_eq!(f[0].check, "content-type");
        assert_eq!(f[0].at, "header Content-Type (xml error)");
    }
}
