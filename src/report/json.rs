//! The JSON report: the run's target, counts and every trial with its failures.

use serde::Serialize;

use crate::run::{Summary, TrialResult};

#[derive(Serialize)]
struct Report<'a> {
    conform: &'static str,
    target: &'a str,
    summary: Summary,
    /// The signal that interrupted the run; `null` when it ran to its end.
    interrupted: Option<&'a str>,
    duration_ms: u128,
    trials: &'a [TrialResult],
}

pub fn render(target: &str, results: &[TrialResult], elapsed: std::time::Duration) -> String {
    render_run(target, results, elapsed, None)
}

/// [`render`] of a run that `interrupted` (a signal's name) may have cut short.
pub fn render_run(
    target: &str,
    results: &[TrialResult],
    elapsed: std::time::Duration,
    interrupted: Option<&str>,
) -> String {
    let report = Report {
        conform: env!("CARGO_PKG_VERSION"),
        target,
        summary: Summary::of(results),
        interrupted,
        duration_ms: elapsed.as_millis(),
        trials: results,
    };
    serde_json::to_string_pretty(&report).expect("the report serializes")
}
