//! The terminal: one line per case as it finishes, details under each failure, a summary; in
//! colour and with a progress bar on a terminal, plain lines elsewhere (CI logs).

use std::io::{IsTerminal as _, Write};

use anstyle::{AnsiColor, Style};

use super::{Event, ReportError, Reporter, RunReport};
use crate::run::{Outcome, Summary, TrialResult};

fn ms(d: std::time::Duration) -> String {
    format!("{:>7.1} ms", d.as_secs_f64() * 1000.0)
}

/// The styles of the outcome words; the stream strips them where colour is off.
struct Palette {
    pass: Style,
    fail: Style,
    skip: Style,
}

const PLAIN: Palette = Palette {
    pass: Style::new(),
    fail: Style::new(),
    skip: Style::new(),
};

const COLOURED: Palette = Palette {
    pass: AnsiColor::Green.on_default(),
    fail: AnsiColor::Red.on_default().bold(),
    skip: AnsiColor::Yellow.on_default(),
};

/// The line of one trial, plus the details of a failure.
pub fn line(r: &TrialResult) -> String {
    styled_line(r, &PLAIN)
}

/// Text from the target as the terminal shows it: control characters (a target's own escape
/// sequences among them) as `\u{..}`, so an answer cannot restyle or rewrite the terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\t' => c.to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// Why a trial ran more than once, after its line.
fn attempts_note(r: &TrialResult) -> String {
    match (r.flaky, r.attempts > 1) {
        (true, _) => format!(
            "  (flaky: passed on attempt {} after a transport error or throttling)",
            r.attempts
        ),
        (false, true) => format!("  ({} attempts)", r.attempts),
        _ => String::new(),
    }
}

fn styled_line(r: &TrialResult, p: &Palette) -> String {
    let word = |style: &Style, text: &str| format!("{style}{text}{style:#}");
    let again = attempts_note(r);
    match &r.outcome {
        Outcome::Pass => format!(
            "{}  {}  {}{again}",
            word(&p.pass, "pass"),
            ms(r.duration),
            r.id
        ),
        Outcome::Skip(why) => {
            let skip = word(&p.skip, "skip");
            format!("{skip}  {}  {}  ({why})", ms(r.duration), r.id)
        }
        Outcome::Fail => {
            let fail = word(&p.fail, "FAIL");
            let mut s = format!("{fail}  {}  {}{again}\n", ms(r.duration), r.id);
            s.push_str(&format!("      clause: {}", r.clause));
            if let Some(url) = crate::report::source_link(r) {
                s.push_str(&format!(" ({url})"));
            }
            s.push('\n');
            for f in &r.failures {
                s.push_str(&format!("      - {}\n", printable(&f.to_string())));
            }
            if let Some(resp) = &r.response {
                s.push_str("      answer:\n");
                for l in resp.lines() {
                    s.push_str(&format!("        {}\n", printable(l)));
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

/// How much the terminal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// Failures and the summary only (`-q`).
    Quiet,
    #[default]
    Normal,
    /// Also each request line and answer status (`-v`).
    Verbose,
}

/// Where and how the terminal reporter writes.
#[derive(Debug, Clone, Copy)]
pub struct TerminalOptions {
    /// `auto` colours only a terminal, and honours `NO_COLOR` and `CLICOLOR_FORCE`.
    pub color: anstream::ColorChoice,
    pub verbosity: Verbosity,
    /// Standard error instead of standard output (a report took standard output).
    pub to_stderr: bool,
    /// `--strict`: the summary says when skips fail the run.
    pub strict: bool,
}

/// The live reporter: a line per finished trial (and per request with `-v`), a progress bar
/// while the run goes on when writing to a terminal, the summary at the end.
pub struct TerminalReporter {
    out: anstream::AutoStream<Box<dyn Write + Send>>,
    options: TerminalOptions,
    progress: indicatif::ProgressBar,
}

impl TerminalReporter {
    pub fn new(options: TerminalOptions) -> TerminalReporter {
        let (raw, terminal, choice): (Box<dyn Write + Send>, _, _) = if options.to_stderr {
            let e = std::io::stderr();
            let (t, c) = (e.is_terminal(), anstream::AutoStream::choice(&e));
            (Box::new(e), t, c)
        } else {
            let o = std::io::stdout();
            let (t, c) = (o.is_terminal(), anstream::AutoStream::choice(&o));
            (Box::new(o), t, c)
        };
        let choice = match options.color {
            anstream::ColorChoice::Auto => choice,
            given => given,
        };
        let progress = match (terminal, options.to_stderr) {
            (false, _) => indicatif::ProgressBar::hidden(),
            (true, true) => live_bar(indicatif::ProgressDrawTarget::stderr()),
            (true, false) => live_bar(indicatif::ProgressDrawTarget::stdout()),
        };
        TerminalReporter {
            out: anstream::AutoStream::new(raw, choice),
            options,
            progress,
        }
    }

    /// Prints `text` above the progress bar.
    fn say(&mut self, text: &str) {
        let out = &mut self.out;
        // A closed output (a pipe's reader gone) is not the run's failure.
        self.progress.suspend(|| {
            let _ = writeln!(out, "{text}");
        });
    }

    fn finished_trial(&mut self, r: &TrialResult) {
        self.progress.inc(1);
        if self.options.verbosity == Verbosity::Quiet && r.outcome != Outcome::Fail {
            return;
        }
        self.say(&styled_line(r, &COLOURED));
        if let Some(n) = notes(r) {
            self.say(&n);
        }
    }

    fn finished_run(&mut self, run: &RunReport) {
        self.progress.finish_and_clear();
        let mut text = summary_of_run(run.results, run.elapsed, run.interrupted);
        let flaky = run.results.iter().filter(|r| r.flaky).count();
        if flaky > 0 {
            text.push_str(&format!(" ({flaky} flaky: passed on a retry)"));
        }
        self.say(&text);
        if let Some(words) = run.strict.then(|| strict_words(run.results)).flatten() {
            self.say(&words);
        }
    }
}

/// A bar with the count, the elapsed time and the estimate of what is left.
fn live_bar(target: indicatif::ProgressDrawTarget) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(Some(0), target);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:32} {pos}/{len} trials  {elapsed_precise}  ETA {eta}",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

impl Reporter for TerminalReporter {
    fn on_event(&mut self, event: &Event<'_>) -> Result<(), ReportError> {
        let verbose = self.options.verbosity == Verbosity::Verbose;
        match *event {
            Event::RunStarted {
                planned,
                jobs,
                target,
            } => {
                self.progress.set_length(planned as u64);
                if self.options.verbosity != Verbosity::Quiet {
                    let plan =
                        format!("conform: {planned} trials against {target}, {jobs} at a time");
                    self.say(&plan);
                }
            }
            Event::StepSent {
                trial,
                method,
                path,
            } if verbose => {
                self.say(&format!("      → {trial}  {method} {path}"));
            }
            Event::AnswerReceived {
                trial,
                status,
                elapsed,
            } if verbose => {
                let status = status.map_or("no answer".to_string(), |s| s.to_string());
                self.say(&format!(
                    "      ← {trial}  {status}  ({})",
                    ms(elapsed).trim()
                ));
            }
            Event::TrialFinished(r) => self.finished_trial(r),
            Event::RunFinished(run) => self.finished_run(run),
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Failure;

    #[test]
    fn a_targets_control_characters_are_shown_not_obeyed() {
        assert_eq!(printable("a\u{1b}[2Jb\tc\r"), "a\\u{1b}[2Jb\tc\\u{d}");
        let mut r = result(Outcome::Fail);
        r.response = Some("DELETE /x → 404\n\u{1b}]0;owned\u{7}".into());
        let shown = line(&r);
        assert!(!shown.contains('\u{1b}'), "{shown}");
        assert!(shown.contains("\\u{1b}]0;owned\\u{7}"), "{shown}");
    }

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
            attempts: 1,
            flaky: false,
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

    #[test]
    fn retried_trials_say_so_and_colour_is_only_styling() {
        let mut flaky = result(Outcome::Pass);
        (flaky.attempts, flaky.flaky) = (2, true);
        assert_eq!(
            line(&flaky),
            "pass      3.0 ms  s::Op::c  (flaky: passed on attempt 2 after a transport error or throttling)"
        );
        let mut failed = result(Outcome::Fail);
        failed.attempts = 3;
        assert!(line(&failed).starts_with("FAIL      3.0 ms  s::Op::c  (3 attempts)\n"));
        let coloured = styled_line(&flaky, &COLOURED);
        assert!(coloured.starts_with("\u{1b}["), "{coloured:?}");
        let mut stripped = Vec::new();
        let mut stream = anstream::StripStream::new(&mut stripped);
        std::io::Write::write_all(&mut stream, coloured.as_bytes()).expect("written");
        assert_eq!(String::from_utf8_lossy(&stripped), line(&flaky));
    }
}
