//! `xml-root`: an XML answer's root element is the one the spec names (the response's
//! `xml_root`, or the error envelope's for an error answer).

use super::body::Decoded;
use super::{Check, Context, Failure};

pub struct XmlRoot;

const NAME: &str = "xml-root";

impl Check for XmlRoot {
    fn name(&self) -> &'static str {
        NAME
    }

    fn verifies(&self) -> &'static str {
        "an XML body's root element is the spec's `xml_root` for the status (the error envelope's for errors)"
    }

    fn run(&self, cx: &Context<'_>) -> Vec<Failure> {
        let (Some(Ok(decoded)), Some(answer)) = (&cx.body, cx.answer()) else {
            return vec![];
        };
        let envelope_root = cx.subject.service.spec.error_envelope.xml_root.as_deref();
        let expected =
            cx.response
                .and_then(|r| r.xml_root.as_deref())
                .or(if super::is_error(answer.status) {
                    envelope_root
                } else {
                    None
                });
        check_root(decoded, expected).into_iter().collect()
    }
}

/// Checks the XML root element name (a JSON body has none to check).
pub fn check_root(decoded: &Decoded, expected: Option<&str>) -> Option<Failure> {
    match (&decoded.xml_root, expected) {
        (Some(root), Some(want)) if root != want => Some(Failure::new(
            NAME,
            "/",
            format!("root element <{want}>"),
            format!("<{root}>"),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::model::Format;
    use crate::check::testing::Fixture;
    use serde_json::json;

    #[test]
    fn root_by_name() {
        let d = Decoded {
            value: json!({}),
            xml_root: Some("Wrong".into()),
        };
        assert_eq!(
            check_root(&d, Some("Error")).unwrap().to_string(),
            "xml-root at /: expected root element <Error>, got <Wrong>"
        );
        assert!(check_root(&d, Some("Wrong")).is_none());
    }

    #[test]
    fn on_an_answer() {
        let error = "<Error><RequestId>A</RequestId><Code>C</Code></Error>";
        assert!(Fixture::alibaba(404, Format::Xml, error)
            .run(&XmlRoot)
            .is_empty());
        let f = Fixture::alibaba(404, Format::Xml, "<Oops><Code>C</Code></Oops>").run(&XmlRoot);
        assert_eq!(f[0].expected, "root element <Error>");
        // JSON has no root to check.
        assert!(Fixture::alibaba(404, Format::Json, r#"{"Code": "C"}"#)
            .run(&XmlRoot)
            .is_empty());
    }
}
