//! The `conform` command line: parses arguments and hands over to `conform::command`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use conform::case::model::Format;
use conform::command::{self, run::RunArgs, ExitCode, Sources};
use conform::report::terminal::Verbosity;
use conform::run::partition::Partition;
use conform::run::{RunOptions, Selection};

#[derive(Parser)]
#[command(
    name = "conform",
    version = command::VERSION,
    about = "Contract tests for cloud deletion APIs, and emulators of them"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Colour the output (trial lines, diagnostics): auto (a terminal, unless `NO_COLOR`;
    /// `CLICOLOR_FORCE` forces it), always, never.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value = "auto"
    )]
    color: ColorWhen,
}

#[derive(Subcommand)]
enum Command {
    /// Run the cases against a target (the built-in emulators when no target is given).
    Run(RunCli),
    /// Validate every spec and case file and their cross-references.
    Lint(SourcesCli),
    /// List each documented status, error code, limit and rule with the cases that exercise it.
    Coverage {
        #[command(flatten)]
        sources: SourcesCli,
        /// Print the items as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the checks run over every answer, in order, with what each verifies.
    Checks {
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve the built-in emulators until Ctrl-C.
    #[cfg(feature = "emulator")]
    Emulate(EmulateCli),
    /// Run the suite against every mutant of the emulators: which cases catch which deviation.
    #[cfg(feature = "emulator")]
    Mutate(MutateCli),
    /// Record a target's answers: one normalized, redacted snapshot file per trial.
    Record(RecordCli),
    /// Compare a target's answers with a recording or another target, answer by answer.
    Parity(ParityCli),
    /// Merge the JSON reports of a run's shards (`run --partition k/n`) into one run: its
    /// summary, its reports, and the exit code `run` would give.
    Merge(MergeCli),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard output.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// The target, for every command that runs trials (`run`, `record`, `parity`).
#[derive(Args)]
struct TargetCli {
    /// A base URL serving every service, or a target file (YAML; see the README; default: the
    /// built-in emulators).
    #[arg(long, value_name = "URL|FILE")]
    target: Option<String>,
    /// The provider-state URL of a `--target URL`.
    #[arg(long, value_name = "URL")]
    states: Option<String>,
}

/// Which trials, for every command that runs trials.
#[derive(Args)]
struct SelectionCli {
    /// Only trials whose id contains this (repeatable).
    #[arg(long, short = 'f', value_name = "TEXT")]
    filter: Vec<String>,
    /// Filters must equal the trial id.
    #[arg(long)]
    exact: bool,
    /// Only cases with this tag (repeatable).
    #[arg(long, value_name = "TAG")]
    tag: Vec<String>,
    /// Leave out cases with this tag (repeatable).
    #[arg(long, value_name = "TAG")]
    skip_tag: Vec<String>,
    /// Only this Alibaba response format (repeatable).
    #[arg(long, value_name = "json|xml", value_parser = command::run::parse_format)]
    format: Vec<Format>,
    /// Only shard k of n of the selected trials (trial i of the plan goes to shard i mod n + 1;
    /// `conform merge` joins the shards' JSON reports).
    #[arg(long, value_name = "k/n")]
    partition: Option<Partition>,
}

impl SelectionCli {
    fn selection(self, files: Vec<String>) -> Selection {
        Selection {
            filters: self.filter,
            exact: self.exact,
            tags: self.tag,
            skip_tags: self.skip_tag,
            formats: (!self.format.is_empty()).then_some(self.format),
            files,
            partition: self.partition,
        }
    }
}

/// How many trials at once, for every command that runs trials (`mutate` has its own default).
#[derive(Args)]
struct JobsCli {
    /// How many cases run at once (at least 1).
    #[arg(long, short = 'j', default_value_t = 16, value_parser = command::parse_jobs)]
    jobs: usize,
}

/// Everything `record` and `parity` share.
#[derive(Args)]
struct RecordTargetCli {
    #[command(flatten)]
    sources: SourcesCli,
    #[command(flatten)]
    target: TargetCli,
    #[command(flatten)]
    selection: SelectionCli,
    #[command(flatten)]
    jobs: JobsCli,
}

/// When the terminal output has colour.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ColorWhen {
    /// On a terminal, unless `NO_COLOR` is set (`CLICOLOR_FORCE` forces it).
    Auto,
    Always,
    Never,
}

/// The terminal output of `run`.
#[derive(Args)]
struct OutputCli {
    /// Print only failures and the summary.
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    quiet: bool,
    /// Also print each step's request line (method and path; never the query or headers) and
    /// its answer's status.
    #[arg(long, short = 'v')]
    verbose: bool,
}

impl ColorWhen {
    fn choice(self) -> anstream::ColorChoice {
        match self {
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        }
    }
}

impl OutputCli {
    fn verbosity(&self) -> Verbosity {
        match (self.quiet, self.verbose) {
            (true, _) => Verbosity::Quiet,
            (_, true) => Verbosity::Verbose,
            _ => Verbosity::Normal,
        }
    }
}

/// When `run` stops, retries and how fast it sends.
#[derive(Args)]
struct ControlCli {
    /// Stop starting trials after the first failure (`--max-fail 1`).
    #[arg(long, conflicts_with = "max_fail")]
    fail_fast: bool,
    /// Stop starting trials after N failures; those not run are reported as skipped (not run),
    /// and the run fails.
    #[arg(long, value_name = "N", value_parser = command::parse_jobs)]
    max_fail: Option<usize>,
    /// Run a failed trial again up to N times, only when it failed on a transport error or
    /// throttling (HTTP 429, Alibaba `Throttling.User`); one that then passes is reported flaky.
    #[arg(long, value_name = "N", default_value_t = 0)]
    retries: u32,
    /// At most N requests per second to each service (for real clouds that throttle).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    rate: Option<u32>,
}

impl ControlCli {
    fn options(&self, jobs: usize) -> RunOptions {
        RunOptions {
            jobs,
            max_fail: if self.fail_fast {
                Some(1)
            } else {
                self.max_fail
            },
            retries: self.retries,
            rate: self.rate,
        }
    }
}

#[derive(Args)]
struct RecordCli {
    #[command(flatten)]
    common: RecordTargetCli,
    /// The directory the snapshots go to (`DIR/service/Operation/case[.format].json`).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(Args)]
struct ParityCli {
    #[command(flatten)]
    common: RecordTargetCli,
    /// Compare with this recording (made by `conform record`).
    #[arg(long, value_name = "DIR", conflicts_with = "against")]
    baseline: Option<PathBuf>,
    /// Compare with this target (a base URL or a target file).
    #[arg(long, value_name = "URL|FILE")]
    against: Option<String>,
    /// The provider-state URL of an `--against URL`.
    #[arg(long, value_name = "URL", requires = "against")]
    against_states: Option<String>,
    /// Differences accepted, each with its reason (YAML; see the README).
    #[arg(long, value_name = "FILE")]
    allow: Option<PathBuf>,
    /// Write the comparison as JSON here.
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
    /// Write the comparison as one self-contained HTML file here.
    #[arg(long, value_name = "FILE")]
    report_html: Option<PathBuf>,
}

#[cfg(feature = "emulator")]
#[derive(Args)]
struct MutateCli {
    #[command(flatten)]
    sources: SourcesCli,
    /// Only mutants whose id contains this (repeatable).
    #[arg(long, short = 'f', value_name = "TEXT")]
    filter: Vec<String>,
    /// List the mutants and stop.
    #[arg(long)]
    list: bool,
    /// Write the matrix as JSON here.
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
    /// How many mutants run at once, each with its own emulator (at least 1; `--parallel` is
    /// the old name).
    #[arg(long, short = 'j', alias = "parallel", default_value_t = 4, value_parser = command::parse_jobs)]
    jobs: usize,
}

#[derive(Args, Clone)]
struct SourcesCli {
    /// Read specs from this directory instead of the ones built in.
    #[arg(long, value_name = "DIR", global = true)]
    specs: Option<PathBuf>,
    /// Read cases from this directory instead of the ones built in.
    #[arg(long, value_name = "DIR", global = true)]
    cases: Option<PathBuf>,
}

impl From<SourcesCli> for Sources {
    fn from(s: SourcesCli) -> Sources {
        Sources {
            specs: s.specs,
            cases: s.cases,
        }
    }
}

#[derive(Args)]
struct RunCli {
    #[command(flatten)]
    sources: SourcesCli,
    #[command(flatten)]
    target: TargetCli,
    /// Only cases from these case files.
    #[arg(value_name = "CASE_FILE")]
    files: Vec<String>,
    #[command(flatten)]
    selection: SelectionCli,
    #[command(flatten)]
    jobs: JobsCli,
    #[command(flatten)]
    output: OutputCli,
    #[command(flatten)]
    control: ControlCli,
    /// List the selected trials and stop.
    #[arg(long)]
    list: bool,
    #[command(flatten)]
    reports: ReportsCli,
    /// The most bytes read of any answer; a larger answer fails its case (default 1048576,
    /// or the target file's `max_answer_bytes`).
    #[arg(long, value_name = "BYTES")]
    max_answer_bytes: Option<u64>,
}

/// The report files and strictness of a run, for `run` and `merge`.
#[derive(Args)]
struct ReportsCli {
    /// Write a JSON report here (`-`: standard output; the progress then goes to standard error).
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
    /// Write a JUnit XML report here (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    report_junit: Option<PathBuf>,
    /// Write a TAP 13 report here (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    report_tap: Option<PathBuf>,
    /// Write a Markdown summary here, fit for a CI job summary (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    report_markdown: Option<PathBuf>,
    /// Write one self-contained HTML page here, with a filter by outcome (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    report_html: Option<PathBuf>,
    /// Any skipped trial fails the run (exit 1).
    #[arg(long)]
    strict: bool,
}

#[derive(Args)]
struct MergeCli {
    #[command(flatten)]
    sources: SourcesCli,
    /// The shards' JSON reports (`conform run --partition k/n --report-json FILE`).
    #[arg(value_name = "REPORT_JSON", required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    reports: ReportsCli,
}

#[cfg(feature = "emulator")]
#[derive(Args)]
struct EmulateCli {
    #[command(flatten)]
    sources: SourcesCli,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Only these services (comma-separated); default all.
    #[arg(long, value_delimiter = ',')]
    services: Vec<String>,
}

fn main() -> std::process::ExitCode {
    // Output piped into `head` and the like ends the process quietly, as with any Unix tool,
    // instead of a panic on the next write.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::Usage.into()
            } else {
                ExitCode::Ok.into()
            };
        }
    };
    // Every coloured stream of the process (trial lines, diagnostics) follows `--color`.
    cli.color.choice().write_global();
    dispatch(cli).into()
}

/// Hands the parsed command to `conform::command`: its exit code.
fn dispatch(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Run(r) => command::run::run(RunArgs {
            sources: r.sources.into(),
            target: r.target.target,
            states: r.target.states,
            selection: r.selection.selection(r.files),
            control: r.control.options(r.jobs.jobs),
            color: cli.color.choice(),
            verbosity: r.output.verbosity(),
            list: r.list,
            report_json: r.reports.report_json,
            report_junit: r.reports.report_junit,
            report_tap: r.reports.report_tap,
            report_markdown: r.reports.report_markdown,
            report_html: r.reports.report_html,
            strict: r.reports.strict,
            max_answer_bytes: r.max_answer_bytes,
        }),
        Command::Lint(s) => command::lint::lint(&s.into()),
        Command::Coverage { sources, json } => command::coverage::coverage(&sources.into(), json),
        Command::Checks { json } => command::checks::checks(json),
        #[cfg(feature = "emulator")]
        Command::Mutate(m) => command::mutate::mutate(command::mutate::MutateArgs {
            sources: m.sources.into(),
            filters: m.filter,
            list: m.list,
            report_json: m.report_json,
            parallel: m.jobs,
        }),
        Command::Record(r) => command::record::record(command::record::RecordArgs {
            selection: r.common.selection.selection(vec![]),
            sources: r.common.sources.into(),
            target: r.common.target.target,
            states: r.common.target.states,
            jobs: r.common.jobs.jobs,
            out: r.out,
        }),
        Command::Parity(p) => command::parity::parity(command::parity::ParityArgs {
            selection: p.common.selection.selection(vec![]),
            sources: p.common.sources.into(),
            target: p.common.target.target,
            states: p.common.target.states,
            jobs: p.common.jobs.jobs,
            baseline: p.baseline,
            against: p.against,
            against_states: p.against_states,
            allow: p.allow,
            report_json: p.report_json,
            report_html: p.report_html,
        }),
        Command::Merge(m) => command::merge::merge(command::merge::MergeArgs {
            sources: m.sources.into(),
            files: m.files,
            reports: RunArgs {
                report_json: m.reports.report_json,
                report_junit: m.reports.report_junit,
                report_tap: m.reports.report_tap,
                report_markdown: m.reports.report_markdown,
                report_html: m.reports.report_html,
                strict: m.reports.strict,
                ..RunArgs::default()
            },
        }),
        Command::Completions { shell } => {
            let mut cli = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cli, "conform", &mut std::io::stdout());
            ExitCode::Ok
        }
        #[cfg(feature = "emulator")]
        Command::Emulate(e) => {
            command::emulate::emulate(&e.sources.into(), e.host, e.port, &e.services)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    #[cfg(feature = "emulator")]
    fn every_command_that_runs_trials_takes_jobs_and_refuses_zero() {
        for command in ["run", "mutate", "record --out x", "parity --baseline x"] {
            let words: Vec<&str> = command.split(' ').collect();
            let parse = |jobs: &str| {
                let args = [&["conform"], &words[..], &["-j", jobs]].concat();
                Cli::try_parse_from(args)
            };
            assert!(parse("2").is_ok(), "{command} -j 2");
            let refused = parse("0").err().expect("-j 0 is refused");
            assert!(refused.use_stderr(), "{command}");
            assert!(refused.to_string().contains("at least 1"), "{refused}");
        }
        let old_name = Cli::try_parse_from(["conform", "mutate", "--parallel", "3"]);
        assert!(matches!(old_name, Ok(Cli { command: Command::Mutate(m), .. }) if m.jobs == 3));
    }

    #[test]
    fn completions_name_the_commands_and_their_flags() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
        ] {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "conform", &mut script);
            let script = String::from_utf8(script).expect("UTF-8");
            for word in ["mutate", "report-markdown", "strict"] {
                assert!(script.contains(word), "{shell}: no `{word}`");
            }
        }
    }

    #[test]
    fn target_and_selection_flags_are_the_same_in_every_command_that_runs_trials() {
        let shared = [
            "--target",
            "http://127.0.0.1:9",
            "--states",
            "http://127.0.0.1:9/s",
            "-f",
            "x",
            "--exact",
            "--tag",
            "safe",
            "--skip-tag",
            "assumed-condition",
            "--format",
            "xml",
            "-j",
            "3",
        ];
        for command in ["run", "record --out x", "parity --baseline x"] {
            let words: Vec<&str> = command.split(' ').collect();
            let args = [&["conform"], &words[..], &shared[..]].concat();
            assert!(Cli::try_parse_from(args).is_ok(), "{command}");
        }
    }

    #[test]
    fn fail_fast_is_max_fail_one() {
        let parse =
            |extra: &[&str]| match Cli::try_parse_from([&["conform", "run"], extra].concat()) {
                Ok(Cli {
                    command: Command::Run(r),
                    ..
                }) => r.control.options(r.jobs.jobs),
                _ => panic!("{extra:?} parses"),
            };
        assert_eq!(parse(&["--fail-fast"]).max_fail, Some(1));
        assert_eq!(parse(&["--max-fail", "4"]).max_fail, Some(4));
        assert_eq!(parse(&[]).max_fail, None);
        let options = parse(&["--retries", "2", "--rate", "5", "-j", "2"]);
        assert_eq!(
            (options.retries, options.rate, options.jobs),
            (2, Some(5), 2)
        );
    }
}
