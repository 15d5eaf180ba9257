//! The JUnit XML report: one test suite per operation, one test case per trial, failures with
//! their messages; what common CI systems read.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::run::{Outcome, TrialResult};

pub fn render(results: &[TrialResult], elapsed: std::time::Duration) -> Result<String, String> {
    render_run(results, elapsed, None)
}

/// [`render`] of a run that `interrupted` (a signal's name) may have cut short: an interrupted
/// run carries one more failing test case, `conform::run`, that says so.
pub fn render_run(
    results: &[TrialResult],
    elapsed: std::time::Duration,
    interrupted: Option<&str>,
) -> Result<String, String> {
    let mut report = Report::new("conform");
    report.set_time(elapsed);
    let mut suites: Vec<TestSuite> = Vec::new();
    for r in results {
        let suite_name = format!("{}::{}", r.service, r.operation);
        let idx = match suites.iter().position(|s| s.name.as_str() == suite_name) {
            Some(i) => i,
            None => {
                suites.push(TestSuite::new(suite_name));
                suites.len() - 1
            }
        };
        let name = match r.format {
            Some(f) => format!("{}::{}", r.case, f.as_str()),
            None => r.case.clone(),
        };
        let status = match &r.outcome {
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
                detail.push(format!("clause: {}", r.clause));
                if let Some(resp) = &r.response {
                    detail.push(format!("answer:\n{resp}"));
                }
                s.set_description(detail.join("\n"));
                s
            }
        };
        let mut tc = TestCase::new(name, status);
        tc.set_classname(format!("{}::{}", r.service, r.operation));
        tc.set_time(r.duration);
        suites[idx].add_test_case(tc);
    }
    if let Some(signal) = interrupted {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
        s.set_message(crate::report::terminal::interrupted_words(signal, results));
        let mut suite = TestSuite::new("conform::run");
        suite.add_test_case(TestCase::new("interrupted", s));
        suites.push(suite);
    }
    report.add_test_suites(suites);
    report
        .to_string()
        .map_err(|e| format!("cannot write the JUnit report: {e}"))
}
