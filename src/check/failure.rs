//! A failure of a check (or of the runner: `transport`, `deadline`, `teardown`, `case`, …):
//! which, where, what was expected and what came.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One thing that differed.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The check's name (see `conform checks`), or the runner's condition.
    pub check: Cow<'static, str>,
    /// The follow-up step whose answer failed, by name; `None` for the case's first step.
    pub step: Option<String>,
    /// JSON pointer, element path or header name; empty when the whole answer.
    pub at: String,
    pub expected: String,
    pub actual: String,
}

impl Failure {
    pub fn new(
        check: &'static str,
        at: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Failure {
        Failure {
            check: Cow::Borrowed(check),
            step: None,
            at: at.into(),
            expected: expected.into(),
            actual: actual.into(),
        }
    }

    /// The failure as seen in a follow-up step.
    pub fn in_step(mut self, step: &str) -> Failure {
        self.step = Some(step.to_string());
        self
    }

    /// The `check` field of reports: the name, after the step's when in a follow-up step.
    pub fn label(&self) -> String {
        match &self.step {
            Some(step) => format!("step `{step}`: {}", self.check),
            None => self.check.to_string(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let label = self.label();
        if self.at.is_empty() {
            write!(
                f,
                "{label}: expected {}, got {}",
                self.expected, self.actual
            )
        } else {
            write!(
                f,
                "{label} at {}: expected {}, got {}",
                self.at, self.expected, self.actual
            )
        }
    }
}

/// A failure in reports: the step folded into `check`, as `schemas/report.schema.json` has it.
#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    check: Cow<'a, str>,
    at: Cow<'a, str>,
    expected: Cow<'a, str>,
    actual: Cow<'a, str>,
}

impl Serialize for Failure {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Wire {
            check: Cow::Owned(self.label()),
            at: Cow::Borrowed(&self.at),
            expected: Cow::Borrowed(&self.expected),
            actual: Cow::Borrowed(&self.actual),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Failure {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Failure, D::Error> {
        let w = Wire::deserialize(d)?;
        let (step, check) = split_label(&w.check);
        Ok(Failure {
            check: Cow::Owned(check.to_string()),
            step: step.map(str::to_string),
            at: w.at.into_owned(),
            expected: w.expected.into_owned(),
            actual: w.actual.into_owned(),
        })
    }
}

/// `step `name`: check` → (Some(name), check).
fn split_label(label: &str) -> (Option<&str>, &str) {
    label
        .strip_prefix("step `")
        .and_then(|rest| rest.split_once("`: "))
        .map_or((None, label), |(step, check)| (Some(step), check))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_is_shown_in_the_check_field_and_read_back() {
        let f = Failure::new("error-code", "/Code", "\"A\"", "\"B\"").in_step("probe");
        assert_eq!(
            f.to_string(),
            "step `probe`: error-code at /Code: expected \"A\", got \"B\""
        );
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["check"], "step `probe`: error-code");
        let back: Failure = serde_json::from_value(json).unwrap();
        assert_eq!(back, f);
        let plain = Failure::new("status", "", "200", "404");
        assert_eq!(plain.to_string(), "status: expected 200, got 404");
        let back: Failure = serde_json::from_value(serde_json::to_value(&plain).unwrap()).unwrap();
        assert_eq!(back, plain);
    }
}
