//! The `conform` command line: parses arguments and hands over to `conform::command`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use conform::case::model::Format;
use conform::command::{self, run::RunArgs, ExitCode, Sources};
use conform::run::Selection;

#[derive(Parser)]
#[command(
    name = "conform",
    version = command::VERSION,
    about = "Contract tests for cloud deletion APIs, and emulators of them"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard output.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Target and selection options shared by `record` and `parity`.
#[derive(Args)]
struct RecordTargetCli {
    #[command(flatten)]
    sources: SourcesCli,
    /// A base URL serving every service, or a target file (default: the built-in emulators).
    #[arg(long, value_name = "URL|FILE")]
    target: Option<String>,
    /// The provider-state URL of a `--target URL`.
    #[arg(long, value_name = "URL")]
    states: Option<String>,
    /// Only trials whose id contains this (repeatable).
    #[arg(long, short = 'f', value_name = "TEXT")]
    filter: Vec<String>,
    /// Only cases with this tag (repeatable).
    #[arg(long, value_name = "TAG")]
    tag: Vec<String>,
    /// Leave out cases with this tag (repeatable).
    #[arg(long, value_name = "TAG")]
    skip_tag: Vec<String>,
    /// Only this Alibaba response format (repeatable).
    #[arg(long, value_name = "json|xml", value_parser = command::run::parse_format)]
    format: Vec<Format>,
    /// How many cases run at once (at least 1).
    #[arg(long, short = 'j', default_value_t = 16, value_parser = command::parse_jobs)]
    jobs: usize,
}

impl RecordTargetCli {
    fn selection(&self) -> Selection {
        Selection {
            filters: self.filter.clone(),
            tags: self.tag.clone(),
            skip_tags: self.skip_tag.clone(),
            formats: (!self.format.is_empty()).then(|| self.format.clone()),
            ..Selection::default()
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
    /// A base URL serving every service, or a target file (YAML; see the README).
    #[arg(long, value_name = "URL|FILE")]
    target: Option<String>,
    /// The provider-state URL of a `--target URL`.
    #[arg(long, value_name = "URL")]
    states: Option<String>,
    /// Only cases from these case files.
    #[arg(value_name = "CASE_FILE")]
    files: Vec<String>,
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
    /// How many cases run at once (at least 1).
    #[arg(long, short = 'j', default_value_t = 16, value_parser = command::parse_jobs)]
    jobs: usize,
    /// List the selected trials and stop.
    #[arg(long)]
    list: bool,
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
    /// Any skipped trial fails the run (exit 1).
    #[arg(long)]
    strict: bool,
    /// The most bytes read of any answer; a larger answer fails its case (default 1048576,
    /// or the target file's `max_answer_bytes`).
    #[arg(long, value_name = "BYTES")]
    max_answer_bytes: Option<u64>,
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
    let code = match cli.command {
        Command::Run(r) => command::run::run(RunArgs {
            sources: r.sources.into(),
            target: r.target,
            states: r.states,
            selection: Selection {
                filters: r.filter,
                exact: r.exact,
                tags: r.tag,
                skip_tags: r.skip_tag,
                formats: (!r.format.is_empty()).then_some(r.format),
                files: r.files,
            },
            jobs: r.jobs,
            list: r.list,
            report_json: r.report_json,
            report_junit: r.report_junit,
            report_tap: r.report_tap,
            report_markdown: r.report_markdown,
            strict: r.strict,
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
            selection: r.common.selection(),
            sources: r.common.sources.into(),
            target: r.common.target,
            states: r.common.states,
            jobs: r.common.jobs,
            out: r.out,
        }),
        Command::Parity(p) => command::parity::parity(command::parity::ParityArgs {
            selection: p.common.selection(),
            sources: p.common.sources.into(),
            target: p.common.target,
            states: p.common.states,
            jobs: p.common.jobs,
            baseline: p.baseline,
            against: p.against,
            against_states: p.against_states,
            allow: p.allow,
            report_json: p.report_json,
            report_html: p.report_html,
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
    };
    code.into()
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
        assert!(matches!(old_name, Ok(Cli { command: Command::Mutate(m) }) if m.jobs == 3));
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
}
