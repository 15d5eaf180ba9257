//! `body-format`: the body is of the kind the spec's response for the status says (JSON; XML or
//! JSON by the Alibaba `Format` asked for; text; empty). The body-reading checks after it run
//! only on a body that could be read.

use super::{Check, Context, Failure};

pub struct BodyFormat;

pub(crate) const NAME: &str = "body-format";

impl Check for BodyFormat {
    fn name(&self) -> &'static str {
        NAME
    }

    fn verifies(&self) -> &'static str {
        "the body reads as the spec's response says: JSON, XML (Alibaba `Format=XML`), text or empty"
    }

    fn run(&self, cx: &Context<'_>) -> Vec<Failure> {
        match &cx.body {
            Some(Err(f)) => vec![f.clone()],
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::model::Format;
    use crate::check::testing::Fixture;

    #[test]
    fn the_body_reads_as_the_spec_says() {
        assert!(Fixture::huawei(404, r#"{"error_code": "x"}"#)
            .run(&BodyFormat)
            .is_empty());
        let f = Fixture::huawei(404, "<html/>").run(&BodyFormat);
        assert_eq!(f[0].expected, "a JSON document");
        let xml = "<Error><Code>x</Code></Error>";
        assert!(Fixture::alibaba(404, Format::Xml, xml)
            .run(&BodyFormat)
            .is_empty());
        let f = Fixture::alibaba(404, Format::Xml, r#"{"Code": "x"}"#).run(&BodyFormat);
        assert_eq!(f[0].expected, "an XML document");
    }
}
