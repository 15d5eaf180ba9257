//! The TAP 13 report: one test point per trial, a YAML block under each failure, skips as
//! `# SKIP reason`; what TAP consumers (prove, tap-junit, CI plugins) read.

use super::RunReport;
use crate::run::{Outcome, TrialResult};

/// A string as YAML: JSON's quoting is valid YAML and escapes every control character.
fn quoted(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// A TAP directive or description may not carry `#` unescaped, nor a line break.
fn one_line(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('#', "\\#")
        .replace(['\n', '\r'], " ")
}

fn failure_block(r: &TrialResult) -> String {
    let mut s = String::from("  ---\n");
    s.push_str(&format!("  clause: {}\n", quoted(&r.clause)));
    if let Some(url) = super::source_link(r) {
        s.push_str(&format!("  source_url: {}\n", quoted(url)));
    }
    s.push_str("  failures:\n");
    for f in &r.failures {
        s.push_str(&format!("    - {}\n", quoted(&f.to_string())));
    }
    if let Some(answer) = &r.response {
        s.push_str(&format!("  answer: {}\n", quoted(answer)));
    }
    s.push_str(&format!(
        "  duration_ms: {:.1}\n  ...\n",
        r.duration.as_secs_f64() * 1000.0
    ));
    s
}

/// The TAP report of the run, written to `path` when it finishes.
pub fn reporter(path: std::path::PathBuf) -> super::FileReporter {
    super::FileReporter::new(path, |run| Ok(render_run(run)))
}

fn test_point(number: usize, r: &TrialResult) -> String {
    let id = one_line(&r.id);
    match &r.outcome {
        Outcome::Pass => format!("ok {number} - {id}\n"),
        Outcome::Skip(why) => format!("ok {number} - {id} # SKIP {}\n", one_line(why)),
        Outcome::Fail => format!("not ok {number} - {id}\n{}", failure_block(r)),
    }
}

/// The report of `run`; an interrupted run ends with `Bail out!` and the reason.
pub fn render_run(run: &RunReport) -> String {
    let mut s = format!("TAP version 13\n1..{}\n", run.results.len());
    s.push_str(&format!(
        "# conform {} against {}, started {}\n",
        env!("CARGO_PKG_VERSION"),
        one_line(run.target),
        super::timestamp(run.started_at)
    ));
    for (i, r) in run.results.iter().enumerate() {
        s.push_str(&test_point(i + 1, r));
    }
    if let Some(signal) = run.interrupted {
        let words = super::terminal::interrupted_words(signal, run.results);
        s.push_str(&format!("Bail out! {}\n", one_line(&words)));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn test_points_skips_and_failure_blocks() {
        let results = sample::results();
        let tap = render_run(&sample::report(&results));
        assert!(tap.starts_with("TAP version 13\n1..3\n"), "{tap}");
        assert!(tap.contains("ok 1 - s::Op::passes\n"), "{tap}");
        assert!(tap.contains("not ok 2 - s::Op::fails\n  ---\n  clause: \"seed:x#y\"\n  failures:\n    - \"status: expected 200, got 404\"\n"), "{tap}");
        assert!(
            tap.contains("ok 3 - s::Op::skips # SKIP no provider state\n"),
            "{tap}"
        );
        assert!(!tap.contains("Bail out!"));
    }

    #[test]
    fn an_interrupted_run_bails_out() {
        let results = sample::results();
        let mut run = sample::report(&results);
        run.interrupted = Some("SIGTERM");
        let tap = render_run(&run);
        assert!(
            tap.contains("\nBail out! the run was interrupted (SIGTERM)"),
            "{tap}"
        );
    }

    #[test]
    fn hashes_and_line_breaks_cannot_forge_directives() {
        assert_eq!(one_line("a # TODO\nb"), "a \\# TODO b");
    }
}
