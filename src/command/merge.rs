//! `conform merge`: the JSON reports of a run's shards made one run: its summary printed and
//! its reports written, with the exit code `run` gives for those results.

use std::path::PathBuf;

use super::run::{check_report_destinations, report_paths, write_reports, RunArgs};
use super::{ExitCode, Sources};
use crate::report::merge::{self, MergeError};
use crate::report::terminal::{TerminalOptions, TerminalReporter, Verbosity};
use crate::report::{Event, Reporter};
use crate::run::{self, Selection};

#[derive(Debug, Clone, Default)]
pub struct MergeArgs {
    /// The suite whose plan orders the merged trials.
    pub sources: Sources,
    /// The shards' JSON reports (`run --report-json`).
    pub files: Vec<PathBuf>,
    /// Where the merged reports go (only the report paths and `strict` are read).
    pub reports: RunArgs,
}

fn refuse(e: &MergeError) -> ExitCode {
    eprintln!("conform merge: {e}");
    if e.is_bad_content() {
        ExitCode::BadFile
    } else {
        ExitCode::Usage
    }
}

pub fn merge(args: MergeArgs) -> ExitCode {
    if let Err(code) = check_report_destinations(&args.reports) {
        return code;
    }
    let mut shards = Vec::new();
    for path in &args.files {
        match merge::read(path) {
            Ok(shard) => shards.push(shard),
            Err(e) => return refuse(&e),
        }
    }
    let (catalog, suite) = match args.sources.load() {
        Ok(x) => x,
        Err(code) => return code,
    };
    let plan: Vec<String> = run::plan(&catalog, &suite, &Selection::default())
        .into_iter()
        .map(|t| t.id)
        .collect();
    let merged = match merge::merge(shards, &plan) {
        Ok(m) => m,
        Err(e) => return refuse(&e),
    };
    let report = merged.report(args.reports.strict);
    // A report on standard output keeps it parseable: the summary then goes to standard error.
    let to_stderr = report_paths(&args.reports).any(crate::report::is_stdout);
    let say = |text: &str| {
        if to_stderr {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    };
    say(&format!(
        "conform merge: {} trials from {} report(s) against {}",
        merged.results.len(),
        args.files.len(),
        merged.target
    ));
    // A shard that wrote no report (a machine that crashed) is not noticed otherwise.
    if merged.results.len() < plan.len() {
        say(&format!(
            "conform merge: {} of the {} trials of the suite's plan are present (a missing shard, or a selection)",
            merged.results.len(),
            plan.len()
        ));
    }
    // The summary as `run` prints it: the terminal reporter, handed the finished run.
    let mut terminal = TerminalReporter::new(TerminalOptions {
        color: anstream::ColorChoice::Auto,
        verbosity: Verbosity::Normal,
        to_stderr,
        strict: report.strict,
    });
    if let Err(e) = terminal.on_event(&Event::RunFinished(&report)) {
        eprintln!("conform merge: {e}");
        return ExitCode::Usage;
    }
    if let Err(code) = write_reports(&report, &args.reports) {
        return code;
    }
    match (report.interrupted.is_some(), report.failed()) {
        (true, _) => ExitCode::Interrupted,
        (false, true) => ExitCode::Failed,
        (false, false) => ExitCode::Ok,
    }
}
