//! The JUnit XML report: one test suite per operation, one test case per trial, failures with
//! their messages, skips with their reasons; what common CI systems read.

use quick_junit::{
    NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};

use super::{RenderError, RunReport};
use crate::run::{Outcome, TrialResult};

/// The report of a run that ends now.
pub fn render(
    results: &[TrialResult],
    elapsed: std::time::Duration,
) -> Result<String, RenderError> {
    render_run(&RunReport::ending_now("", results, elapsed))
}

/// The JUnit report of the run, written to `path` when it finishes.
pub fn reporter(path: std::path::PathBuf) -> super::FileReporter {
    super::FileReporter::new(path, render_run)
}

/// The most earlier attempts a JUnit test case lists.
const MAX_RERUNS_SHOWN: u32 = 100;

/// A trial that ran more than once (`--retries`): one rerun per earlier attempt, each failed on
/// a transport error or throttling (`flakyFailure` under a pass, `rerunFailure` under a failure).
/// At most [`MAX_RERUNS_SHOWN`] of them: a report read back by `conform merge` may claim any count.
fn reruns(r: &TrialResult) -> Vec<TestRerun> {
    (1..r.attempts.min(MAX_RERUNS_SHOWN + 1))
        .map(|attempt| {
            let mut rerun = TestRerun::new(NonSuccessKind::Failure);
            rerun.set_message(format!(
                "attempt {attempt} failed on a transport error or throttling"
            ));
            rerun
        })
        .collect()
}

fn status(r: &TrialResult) -> TestCaseStatus {
    let mut status = outcome_status(r);
    status.add_reruns(reruns(r));
    status
}

fn outcome_status(r: &TrialResult) -> TestCaseStatus {
    match &r.outcome {
        Outcome::Pass => TestCaseStatus::success(),
        Outcome::Skip(why) => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(why.as_str());
            s
        }
        Outcome::Fail => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let first = r
                .failures
                .first()
                .map(|f| f.to_string())
                .unwrap_or_else(|| "failed".into());
            s.set_message(first);
            let mut detail: Vec<String> = r.failures.iter().map(|f| f.to_string()).collect();
            detail.push(match super::source_link(r) {
                Some(url) => format!("clause: {} ({url})", r.clause),
                None => format!("clause: {}", r.clause),
            });
            if let Some(resp) = &r.response {
                detail.push(format!("answer:\n{resp}"));
            }
            s.set_description(detail.join("\n"));
            s
        }
    }
}

fn test_case(r: &TrialResult) -> TestCase {
    let name = match r.format {
        Some(f) => format!("{}::{}", r.case, f.as_str()),
        None => r.case.clone(),
    };
    let mut tc = TestCase::new(name, status(r));
    tc.set_classname(format!("{}::{}", r.service, r.operation));
    tc.set_time(r.duration);
    if let Some(url) = super::source_link(r) {
        tc.add_property(Property::new("conform.source_url", url));
    }
    tc
}

/// The suite every report's test suites share: start time and the run's properties.
fn new_suite(name: String, run: &RunReport) -> TestSuite {
    let mut suite = TestSuite::new(name);
    suite.set_timestamp(run.started_at);
    suite.add_properties([
        Property::new("conform.version", env!("CARGO_PKG_VERSION")),
        Property::new("conform.target", run.target),
    ]);
    suite
}

/// The report of `run`: an interrupted run carries one more failing test case,
/// `conform::run/interrupted`, that says so.
pub fn render_run(run: &RunReport) -> Result<String, RenderError> {
    let mut report = Report::new("conform");
    report.set_time(run.elapsed);
    report.set_timestamp(run.started_at);
    let mut suites: Vec<TestSuite> = Vec::new();
    for r in run.results {
        let suite_name = format!("{}::{}", r.service, r.operation);
        let idx = match suites.iter().position(|s| s.name.as_str() == suite_name) {
            Some(i) => i,
            None => {
                suites.push(new_suite(suite_name, run));
                suites.len() - 1
            }
        };
        suites[idx].add_test_case(test_case(r));
        // Trials run side by side: a suite's time is the sum of its trials' times.
        // Saturating: a report read back by `conform merge` may carry any duration.
        let time = suites[idx]
            .time
            .unwrap_or_default()
            .saturating_add(r.duration);
        suites[idx].set_time(time);
    }
    if let Some(signal) = run.interrupted {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
        s.set_message(crate::report::terminal::interrupted_words(
            signal,
            run.results,
        ));
        let mut suite = new_suite("conform::run".into(), run);
        suite.add_test_case(TestCase::new("interrupted", s));
        suites.push(suite);
    }
    report.add_test_suites(suites);
    report.to_string().map_err(RenderError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn a_report_read_back_with_absurd_numbers_still_renders() {
        // What `conform merge` may read from another machine's (or anyone's) JSON report.
        let mut results = sample::results();
        for r in &mut results {
            r.attempts = u32::MAX;
            r.duration = std::time::Duration::MAX / 2;
        }
        let xml = render_run(&sample::report(&results)).expect("renders");
        let reruns = xml.matches("<flakyFailure").count() + xml.matches("<rerunFailure").count();
        assert!(
            reruns > 0 && reruns <= 3 * MAX_RERUNS_SHOWN as usize,
            "{reruns}"
        );
    }

    #[test]
    fn suites_carry_times_properties_and_skip_reasons() {
        let results = sample::results();
        let xml = render_run(&sample::report(&results)).expect("renders");
        for want in [
            r#"<testsuites name="conform" tests="3" failures="1" errors="0" timestamp="2026-01-02T03:04:05.000+00:00" time="1.500">"#,
            r#"<testsuite name="s::Op" tests="3" disabled="1" errors="0" failures="1" timestamp="2026-01-02T03:04:05.000+00:00" time="0.009">"#,
            r#"<property name="conform.version" value=""#,
            r#"<property name="conform.target" value="http://127.0.0.1:8080/"/>"#,
            r#"<skipped message="no provider state"/>"#,
            r#"<failure message="status: expected 200, got 404">"#,
        ] {
            assert!(xml.contains(want), "no `{want}` in\n{xml}");
        }
    }

    #[test]
    fn a_retried_trial_has_its_earlier_attempts() {
        let mut flaky = sample::result("flaky", Outcome::Pass);
        (flaky.attempts, flaky.flaky) = (2, true);
        let mut failed = sample::result("failed", Outcome::Fail);
        failed.attempts = 3;
        let results = [flaky, failed, sample::result("once", Outcome::Pass)];
        let xml = render_run(&sample::report(&results)).expect("renders");
        let note = "failed on a transport error or throttling";
        assert_eq!(xml.matches("<flakyFailure").count(), 1, "{xml}");
        assert!(
            xml.contains(&format!(r#"<flakyFailure message="attempt 1 {note}""#)),
            "{xml}"
        );
        assert_eq!(xml.matches("<rerunFailure").count(), 2, "{xml}");
        assert!(
            xml.contains(&format!(r#"<rerunFailure message="attempt 2 {note}""#)),
            "{xml}"
        );
    }
}
