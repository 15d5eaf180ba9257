//! Checks of one answer against a step's expectations: one file per kind. Each check returns
//! the [`Failure`]s it finds; an empty list is a pass.

pub mod body;
pub mod content_type;
pub mod request_id;
pub mod schema;
pub mod status;
pub mod value;
pub mod xml;

use serde::{Deserialize, Serialize};

/// One thing that differed: what was checked, where, what was expected and what came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// `status`, `error code`, `schema`, `header`, `body`, `xml`, `request id`, `transport`, …
    pub check: String,
    /// JSON pointer, element path or header name; empty when the whole answer.
    pub at: String,
    pub expected: String,
    pub actual: String,
}

impl Failure {
    pub fn new(
        check: &str,
        at: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Failure {
        Failure {
            check: check.to_string(),
            at: at.into(),
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.at.is_empty() {
            write!(
                f,
                "{}: expected {}, got {}",
                self.check, self.expected, self.actual
            )
        } else {
            write!(
                f,
                "{} at {}: expected {}, got {}",
                self.check, self.at, self.expected, self.actual
            )
        }
    }
}
