//! The Markdown report: a summary fit for a CI job summary (`$GITHUB_STEP_SUMMARY` and the
//! like): the counts, a table per operation, each failure with its clause and what differed,
//! and the skips grouped by reason.

use super::RunReport;
use crate::run::{Outcome, Summary, TrialResult};

/// Text safe inside a table cell: no pipe, no line break, no stray markup.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// Text shown as code in a cell; backticks would end the code span early.
fn code(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    format!("`{}`", cell(&text.replace('`', "'")))
}

fn outcome_word(o: &Outcome) -> &'static str {
    match o {
        Outcome::Pass => "✅ pass",
        Outcome::Fail => "❌ fail",
        Outcome::Skip(_) => "⏭️ skip",
    }
}

fn header(run: &RunReport) -> String {
    let s = Summary::of(run.results);
    let verdict = if run.failed() { "❌" } else { "✅" };
    let mut out = format!(
        "# {verdict} conform: {} passed, {} failed, {} skipped\n\n",
        s.passed, s.failed, s.skipped
    );
    out.push_str(&format!(
        "conform {} against {}, started {}, {:.2} s\n\n",
        env!("CARGO_PKG_VERSION"),
        code(run.target),
        super::timestamp(run.started_at),
        run.elapsed.as_secs_f64()
    ));
    let strict_words = run
        .strict
        .then(|| super::terminal::strict_words(run.results));
    if let Some(words) = strict_words.flatten() {
        out.push_str(&format!("> **{words}**\n\n"));
    }
    if let Some(signal) = run.interrupted {
        let words = super::terminal::interrupted_words(signal, run.results);
        out.push_str(&format!("> **{}**\n\n", cell(&words)));
    }
    out
}

/// The operations in the order their first trial appears, each with its trials.
pub(crate) fn by_operation(results: &[TrialResult]) -> Vec<(String, Vec<&TrialResult>)> {
    let mut groups: Vec<(String, Vec<&TrialResult>)> = Vec::new();
    for r in results {
        let name = format!("{}::{}", r.service, r.operation);
        match groups.iter_mut().find(|(n, _)| *n == name) {
            Some((_, trials)) => trials.push(r),
            None => groups.push((name, vec![r])),
        }
    }
    groups
}

fn operation_table(name: &str, trials: &[&TrialResult]) -> String {
    let failed = trials.iter().filter(|r| r.outcome == Outcome::Fail).count();
    let mut out = format!(
        "## {} ({} trials, {failed} failed)\n\n| trial | outcome | ms |\n|---|---|---:|\n",
        cell(name),
        trials.len()
    );
    for r in trials {
        let trial = r.id.strip_prefix(name).unwrap_or(&r.id);
        let trial = trial.strip_prefix("::").unwrap_or(trial);
        out.push_str(&format!(
            "| {} | {} | {:.1} |\n",
            code(trial),
            outcome_word(&r.outcome),
            r.duration.as_secs_f64() * 1000.0
        ));
    }
    out.push('\n');
    out
}

fn failure_section(r: &TrialResult) -> String {
    let source = super::source_link(r)
        .map(|url| format!(" ([source document]({url}))"))
        .unwrap_or_default();
    let mut out = format!(
        "### {}\n\nclause: {}{source}\n\n| check | at | expected | got |\n|---|---|---|---|\n",
        code(&r.id),
        code(&r.clause)
    );
    for f in &r.failures {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            cell(&f.label()),
            code(&f.at),
            code(&f.expected),
            code(&f.actual)
        ));
    }
    if let Some(answer) = &r.response {
        // A fence longer than any backtick run inside keeps the answer from closing it.
        let fence = "`".repeat(3.max(longest_backtick_run(answer) + 1));
        out.push_str(&format!(
            "\n<details><summary>answer</summary>\n\n{fence}\n{answer}\n{fence}\n\n</details>\n"
        ));
    }
    out.push('\n');
    out
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

fn skips_section(results: &[TrialResult]) -> String {
    let groups = super::skips_by_reason(results);
    if groups.is_empty() {
        return String::new();
    }
    let mut out = String::from("## Skipped, by reason\n\n| reason | trials |\n|---|---:|\n");
    for (reason, count) in groups {
        out.push_str(&format!("| {} | {count} |\n", cell(&reason)));
    }
    out.push('\n');
    out
}

/// The Markdown summary of the run, written to `path` when it finishes.
pub fn reporter(path: std::path::PathBuf) -> super::FileReporter {
    super::FileReporter::new(path, |run| Ok(render_run(run)))
}

/// The report of `run`.
pub fn render_run(run: &RunReport) -> String {
    let mut out = header(run);
    let failed: Vec<&TrialResult> = run
        .results
        .iter()
        .filter(|r| r.outcome == Outcome::Fail)
        .collect();
    if !failed.is_empty() {
        out.push_str("## Failures\n\n");
        for r in failed {
            out.push_str(&failure_section(r));
        }
    }
    out.push_str(&skips_section(run.results));
    for (name, trials) in by_operation(run.results) {
        out.push_str(&operation_table(&name, &trials));
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn counts_failures_skips_and_tables() {
        let results = sample::results();
        let md = render_run(&sample::report(&results));
        assert!(
            md.starts_with("# ❌ conform: 1 passed, 1 failed, 1 skipped\n"),
            "{md}"
        );
        assert!(md.contains("### `s::Op::fails`\n\nclause: `seed:x#y`\n\n| check | at | expected | got |\n|---|---|---|---|\n| status |  | `200` | `404` |\n"), "{md}");
        assert!(md.contains("| no provider state | 1 |\n"), "{md}");
        assert!(md.contains("## s::Op (3 trials, 1 failed)\n"), "{md}");
        assert!(md.contains("| `skips` | ⏭️ skip | 3.0 |\n"), "{md}");
    }

    #[test]
    fn skips_fail_a_strict_run() {
        let results = vec![sample::result("skips", Outcome::Skip("why".into()))];
        let mut run = sample::report(&results);
        assert!(render_run(&run).starts_with("# ✅ conform: 0 passed, 0 failed, 1 skipped\n"));
        run.strict = true;
        let md = render_run(&run);
        assert!(
            md.starts_with("# ❌ conform: 0 passed, 0 failed, 1 skipped\n"),
            "{md}"
        );
        assert!(
            md.contains("> **strict: 1 skipped trial(s) fail the run**\n"),
            "{md}"
        );
        let passed = vec![sample::result("passes", Outcome::Pass)];
        let mut run = sample::report(&passed);
        run.strict = true;
        let md = render_run(&run);
        assert!(
            md.starts_with("# ✅ conform: 1 passed") && !md.contains("> **"),
            "{md}"
        );
    }

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(code("x`y"), "`x'y`");
        assert_eq!(longest_backtick_run("a ```` b `"), 4);
    }
}
