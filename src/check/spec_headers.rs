//! `spec-headers`: the headers the spec's response lists for the status received are present.

use super::{Check, Context, Failure};

pub struct SpecHeaders;

const NAME: &str = "spec-headers";

impl Check for SpecHeaders {
    fn name(&self) -> &'static str {
        NAME
    }

    fn verifies(&self) -> &'static str {
        "every header the spec's response lists for the status received is present"
    }

    fn run(&self, cx: &Context<'_>) -> Vec<Failure> {
        // Run with the step's expectations, on an answer whose body could be read.
        let Some((answer, _)) = cx.decoded() else {
            return vec![];
        };
        let listed = cx
            .response
            .map(|r| r.headers.as_slice())
            .unwrap_or_default();
        listed
            .iter()
            .filter(|h| !answer.headers.contains_key(h.as_str()))
            .map(|h| {
                Failure::new(
                    NAME,
                    h.as_str(),
                    "present (the spec lists it for this status)",
                    "absent",
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::Fixture;

    #[test]
    fn listed_headers_are_present() {
        let body = r#"{"error_code": "SMS.0201", "error_msg": "m"}"#;
        assert!(Fixture::huawei(404, body).run(&SpecHeaders).is_empty());
        let f = Fixture::huawei(404, body)
            .without("X-Request-Id")
            .run(&SpecHeaders);
        assert_eq!(
            f[0].to_string(),
            "spec-headers at X-Request-Id: expected present (the spec lists it for this status), got absent"
        );
    }
}
