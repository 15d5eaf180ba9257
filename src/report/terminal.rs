//! The terminal: one line per case as it finishes, details under each failure, a summary.

use crate::run::{Outcome, Summary, TrialResult};

fn ms(d: std::time::Duration) -> String {
    format!("{:>7.1} ms", d.as_secs_f64() * 1000.0)
}

/// The line of one trial, plus the details of a failure.
pub fn line(r: &TrialResult) -> String {
    match &r.outcome {
        Outcome::Pass => format!("pass  {}  {}", ms(r.duration), r.id),
        Outcome::Skip(why) => format!("skip  {}  {}  ({why})", ms(r.duration), r.id),
        Outcome::Fail => {
            let mut s = format!("FAIL  {}  {}\n", ms(r.duration), r.id);
            s.push_str(&format!("      clause: {}", r.clause));
            if let Some(url) = crate::report::source_link(r) {
                s.push_str(&format!(" ({url})"));
            }
            s.push('\n');
            for f in &r.failures {
                s.push_str(&format!("      - {f}\n"));
            }
            if let Some(resp) = &r.response {
                s.push_str("      answer:\n");
                for l in resp.lines() {
                    s.push_str(&format!("        {l}\n"));
                }
            }
            s.truncate(s.trim_end().len());
            s
        }
    }
}

pub fn notes(r: &TrialResult) -> Option<String> {
    (!r.notes.is_empty()).then(|| {
        r.notes
            .iter()
            .map(|n| format!("      note: {n}"))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// The closing lines: the failed ids again, and the counts (`N passed, N failed, N skipped`).
pub fn summary(results: &[TrialResult], elapsed: std::time::Duration) -> String {
    summary_of_run(results, elapsed, None)
}

/// What an interrupted run says of itself, in every output.
pub fn interrupted_words(signal: &str, results: &[TrialResult]) -> String {
    let not_run = results
        .iter()
        .filter(|r| r.outcome == Outcome::Skip(crate::run::NOT_RUN_INTERRUPTED.into()))
        .count();
    format!(
        "the run was interrupted ({signal}): {not_run} trial(s) not run; the states set up were torn down (any that could not be are listed as teardown failures)"
    )
}

/// The skips grouped by reason, each with its count, most frequent first; empty without skips.
fn skips_by_reason(results: &[TrialResult]) -> String {
    let groups = crate::report::skips_by_reason(results);
    if groups.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nskipped, by reason:\n");
    for (reason, count) in groups {
        out.push_str(&format!("  {count:>4}  {reason}\n"));
    }
    out
}

/// What `--strict` adds to the summary when skips fail the run; `None` when there are none.
pub fn strict_words(results: &[TrialResult]) -> Option<String> {
    let skipped = Summary::of(results).skipped;
    (skipped > 0).then(|| format!("strict: {skipped} skipped trial(s) fail the run"))
}

/// [`summary`] of a run that `interrupted` (a signal's name) may have cut short; teardown
/// failures are listed in words (they leave resources behind).
pub fn summary_of_run(
    results: &[TrialResult],
    elapsed: std::time::Duration,
    interrupted: Option<&str>,
) -> String {
    let s = Summary::of(results);
    let mut out = String::new();
    let failed: Vec<_> = results
        .iter()
        .filter(|r| r.outcome == Outcome::Fail)
        .collect();
    if !failed.is_empty() {
        out.push_str("\nfailed:\n");
        for r in failed {
            out.push_str(&format!("  {}\n", r.id));
        }
    }
    out.push_str(&skips_by_reason(results));
    if s.teardown_failed > 0 {
        out.push_str(&format!(
            "\nteardown failed in {} trial(s): resources they set up may be left on the target\n",
            s.teardown_failed
        ));
    }
    if let Some(signal) = interrupted {
        out.push_str(&format!("\n{}\n", interrupted_words(signal, results)));
    }
    out.push_str(&format!(
        "\n{} passed, {} failed, {} skipped in {:.2}s",
        s.passed,
        s.failed,
        s.skipped,
        elapsed.as_secs_f64()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Failure;

    fn result(outcome: Outcome) -> TrialResult {
        TrialResult {
            id: "s::Op::c".into(),
            service: "s".into(),
            operation: "Op".into(),
            case: "c".into(),
            format: None,
            clause: "seed:x#y".into(),
            source_url: None,
            outcome,
            failures: vec![Failure::new("status", "", "200", "404")],
            response: Some("DELETE /x → 404\n{}".into()),
            notes: vec![],
            duration: std::time::Duration::from_millis(3),
        }
    }

    #[test]
    fn lines_and_summary() {
        assert_eq!(line(&result(Outcome::Pass)), "pass      3.0 ms  s::Op::c");
        let fail = line(&result(Outcome::Fail));
        assert!(fail.starts_with("FAIL      3.0 ms  s::Op::c\n      clause: seed:x#y\n      - status: expected 200, got 404\n      answer:\n        DELETE /x → 404"), "{fail}");
        let mut linked = result(Outcome::Fail);
        linked.source_url = Some("https://api.example.test/#api=Op".into());
        let fail = line(&linked);
        assert!(
            fail.contains("\n      clause: seed:x#y (https://api.example.test/#api=Op)\n"),
            "{fail}"
        );
        let s = summary(
            &[
                result(Outcome::Pass),
                result(Outcome::Fail),
                result(Outcome::Skip("x".into())),
            ],
            std::time::Duration::from_millis(1500),
        );
        assert!(s.ends_with("1 passed, 1 failed, 1 skipped in 1.50s"), "{s}");
        assert!(s.contains("failed:\n  s::Op::c"));
        assert!(s.contains("\nskipped, by reason:\n     1  x\n"), "{s}");
        assert_eq!(strict_words(&[result(Outcome::Pass)]), None);
        assert_eq!(
            strict_words(&[result(Outcome::Skip("x".into()))]).as_deref(),
            Some("strict: 1 skipped trial(s) fail the run")
        );
    }
}
