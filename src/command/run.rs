//! `conform run`: the suite against a target (the embedded emulators when none is given).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{ExitCode, Sources};
use crate::case::model::Format;
use crate::case::Suite;
use crate::report::terminal::{TerminalOptions, TerminalReporter, Verbosity};
use crate::report::{Event, Reporter, RunReport};
use crate::run::{self, RunContext, RunOptions, Selection};
use crate::spec::Catalog;

#[derive(Debug, Clone, Default)]
pub struct RunArgs {
    pub sources: Sources,
    /// A URL (every service there) or a target file.
    pub target: Option<String>,
    pub states: Option<String>,
    pub selection: Selection,
    /// Jobs, max-fail, retries, rate.
    pub control: RunOptions,
    /// Colour and verbosity of the terminal.
    pub color: anstream::ColorChoice,
    pub verbosity: Verbosity,
    pub list: bool,
    pub report_json: Option<PathBuf>,
    pub report_junit: Option<PathBuf>,
    pub report_tap: Option<PathBuf>,
    pub report_markdown: Option<PathBuf>,
    pub report_html: Option<PathBuf>,
    /// A skipped trial fails the run.
    pub strict: bool,
    /// Overrides the target's `max_answer_bytes`.
    pub max_answer_bytes: Option<u64>,
}

pub fn run(args: RunArgs) -> ExitCode {
    let (catalog, suite, trials) = match plan(&args) {
        Ok(x) => x,
        Err(code) => return code,
    };
    if args.list {
        for t in &trials {
            println!("{}", t.id);
        }
        return ExitCode::Ok;
    }
    // One thread drives every trial: the client's work is I/O, and one thread has no
    // cross-thread wakeups (the embedded emulators run on a runtime of their own).
    let runtime = match super::runtime(super::Threads::One) {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async move {
        execute(catalog, suite, trials, &args)
            .await
            .unwrap_or_else(|code| code)
    })
}

/// The suite, and the trials of it to run.
type Planned = (Arc<Catalog>, Arc<Suite>, Vec<run::Trial>);

/// The suite loaded and the trials selected (this shard of them); a usage error when a case
/// file named is not in the suite, a report destination is taken twice, or nothing matches.
fn plan(args: &RunArgs) -> Result<Planned, ExitCode> {
    let (catalog, suite) = args.sources.load()?;
    for given in &args.selection.files {
        if !suite
            .files
            .iter()
            .any(|f| run::names_file(given, &f.doc.path))
        {
            eprintln!("conform: `{given}` is not a case file of the suite (cases from elsewhere: --cases DIR)");
            return Err(ExitCode::Usage);
        }
    }
    check_report_destinations(args)?;
    let trials = run::plan(&catalog, &suite, &args.selection);
    // An empty selection is a mistake (a typo in a filter), never a pass.
    if trials.is_empty() {
        eprintln!("conform: no case matches the selection");
        return Err(ExitCode::Usage);
    }
    // A shard may be empty (more shards than trials): that is no mistake.
    let trials = run::partition::shard(trials, args.selection.partition);
    Ok((catalog, suite, trials))
}

/// Resolves the target (as `record` and `parity` do), runs the trials with their reports, and
/// stops the embedded emulators if they were the target.
async fn execute(
    catalog: Arc<Catalog>,
    suite: Arc<Suite>,
    trials: Vec<run::Trial>,
    args: &RunArgs,
) -> Result<ExitCode, ExitCode> {
    let super::targets::Resolved {
        mut target,
        emulator,
    } = super::targets::resolve(
        &catalog,
        args.target.as_deref(),
        args.states.as_deref(),
        "--target",
    )
    .await?;
    if let Some(n) = args.max_answer_bytes {
        target.max_answer_bytes = run::target::check_max_answer_bytes(n).map_err(|e| {
            eprintln!("conform: --max-answer-bytes {e}");
            ExitCode::Usage
        })?;
    }
    let ctx = RunContext::new(catalog, suite, target).map_err(|e| {
        eprintln!("conform: {e}");
        ExitCode::Usage
    })?;
    let ctx = Arc::new(ctx);
    let signal = watch_signals(ctx.interrupt.clone()).map_err(|e| {
        eprintln!("conform: cannot watch for signals: {e}");
        ExitCode::Usage
    })?;
    let code = run_and_report(&ctx, trials, args, &signal).await;
    if let Some(running) = emulator {
        // Bounded: the run's end must not wait on the embedded server.
        let _ = tokio::time::timeout(Duration::from_millis(300), running.shutdown()).await;
    }
    Ok(if signal.get().is_some() {
        ExitCode::Interrupted
    } else {
        code
    })
}

/// The reports asked for, each by where it goes.
pub(super) fn report_paths(args: &RunArgs) -> impl Iterator<Item = &std::path::Path> {
    [
        &args.report_json,
        &args.report_junit,
        &args.report_tap,
        &args.report_markdown,
        &args.report_html,
    ]
    .into_iter()
    .filter_map(|p| p.as_deref())
}

/// At most one report may go to standard output.
pub(super) fn check_report_destinations(args: &RunArgs) -> Result<(), ExitCode> {
    let to_stdout = report_paths(args)
        .filter(|p| crate::report::is_stdout(p))
        .count();
    if to_stdout > 1 {
        eprintln!("conform: only one report can go to standard output (`-`)");
        return Err(ExitCode::Usage);
    }
    Ok(())
}

/// A file reporter's constructor: where it writes.
type NewFileReporter = fn(PathBuf) -> crate::report::FileReporter;

/// The reporters of a run: the terminal first, then each report file asked for.
fn reporters(args: &RunArgs) -> Vec<Box<dyn Reporter>> {
    let terminal = TerminalReporter::new(TerminalOptions {
        color: args.color,
        verbosity: args.verbosity,
        // A report on standard output keeps it parseable: the terminal goes to standard error.
        to_stderr: report_paths(args).any(crate::report::is_stdout),
        strict: args.strict,
    });
    let mut all: Vec<Box<dyn Reporter>> = vec![Box::new(terminal)];
    all.extend(file_reporters(args));
    all
}

/// A reporter for each report file asked for.
fn file_reporters(args: &RunArgs) -> Vec<Box<dyn Reporter>> {
    let files: [(&Option<PathBuf>, NewFileReporter); 5] = [
        (&args.report_json, crate::report::json::reporter),
        (&args.report_junit, crate::report::junit::reporter),
        (&args.report_tap, crate::report::tap::reporter),
        (&args.report_markdown, crate::report::markdown::reporter),
        (&args.report_html, crate::report::html::reporter),
    ];
    files
        .into_iter()
        .filter_map(|(path, reporter)| path.as_ref().map(|p| Box::new(reporter(p.clone())) as _))
        .collect()
}

/// Writes each report file asked for from a finished run (`conform merge`); a report that
/// cannot be written is a usage error.
pub(super) fn write_reports(report: &RunReport, args: &RunArgs) -> Result<(), ExitCode> {
    let mut fanout = Fanout {
        reporters: file_reporters(args),
        failed: false,
    };
    fanout.send(&Event::RunFinished(report));
    if fanout.failed {
        Err(ExitCode::Usage)
    } else {
        Ok(())
    }
}

/// Hands each event to every reporter; a report that cannot be written is a usage error.
struct Fanout {
    reporters: Vec<Box<dyn Reporter>>,
    failed: bool,
}

impl Fanout {
    fn send(&mut self, event: &Event<'_>) {
        for r in &mut self.reporters {
            if let Err(e) = r.on_event(event) {
                eprintln!("conform: {e}");
                self.failed = true;
            }
        }
    }
}

/// Runs the trials with every event to the reporters: the exit code.
async fn run_and_report(
    ctx: &Arc<RunContext>,
    trials: Vec<run::Trial>,
    args: &RunArgs,
    signal: &std::sync::OnceLock<&'static str>,
) -> ExitCode {
    let mut fanout = Fanout {
        reporters: reporters(args),
        failed: false,
    };
    let started_at = chrono::Utc::now();
    let started = Instant::now();
    let results = ctx
        .run_streamed(trials, &args.control, &mut |e| fanout.send(e))
        .await;
    let report = RunReport {
        target: &ctx.target.name,
        results: &results,
        started_at,
        elapsed: started.elapsed(),
        interrupted: signal.get().copied(),
        strict: args.strict,
    };
    fanout.send(&Event::RunFinished(&report));
    if fanout.failed {
        ExitCode::Usage
    } else if report.failed() {
        ExitCode::Failed
    } else {
        ExitCode::Ok
    }
}

/// On the first SIGINT or SIGTERM sets `interrupt` (the runner then starts no more trials,
/// stops running ones after a grace and tears their states down); on the second exits at once
/// with 130. The returned cell gets the first signal's name.
fn watch_signals(
    interrupt: run::Interrupt,
) -> std::io::Result<Arc<std::sync::OnceLock<&'static str>>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let seen = Arc::new(std::sync::OnceLock::new());
    let cell = Arc::clone(&seen);
    tokio::spawn(async move {
        let name = tokio::select! { _ = int.recv() => "SIGINT", _ = term.recv() => "SIGTERM" };
        let _ = cell.set(name);
        interrupt.set();
        eprintln!("conform: interrupted: no more cases start; running ones get {:?}, then their states are torn down and the reports written (a second signal aborts at once)", run::INTERRUPT_GRACE);
        tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
        eprintln!("conform: interrupted again: aborting without teardown or reports");
        std::process::exit(ExitCode::Interrupted as i32);
    });
    Ok(seen)
}

/// `json` or `xml`, for `--format`.
pub fn parse_format(s: &str) -> Result<Format, String> {
    match s.to_ascii_lowercase().as_str() {
        "json" => Ok(Format::Json),
        "xml" => Ok(Format::Xml),
        _ => Err(format!("`{s}`: the formats are json and xml")),
    }
}
