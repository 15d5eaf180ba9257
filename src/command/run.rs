//! `conform run`: the suite against a target (the embedded emulators when none is given).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::{ExitCode, Sources};
use crate::case::model::Format;
use crate::run::{self, Outcome, RunContext, Selection, Target};

#[derive(Debug, Clone, Default)]
pub struct RunArgs {
    pub sources: Sources,
    /// A URL (every service there) or a target file.
    pub target: Option<String>,
    pub states: Option<String>,
    pub selection: Selection,
    pub jobs: usize,
    pub list: bool,
    pub report_json: Option<PathBuf>,
    pub report_junit: Option<PathBuf>,
}

pub fn run(args: RunArgs) -> ExitCode {
    let (catalog, suite) = match args.sources.load() {
        Ok(x) => x,
        Err(code) => return code,
    };
    for given in &args.selection.files {
        if !suite
            .files
            .iter()
            .any(|f| run::names_file(given, &f.doc.path))
        {
            eprintln!("conform: `{given}` is not a case file of the suite (cases from elsewhere: --cases DIR)");
            return ExitCode::Usage;
        }
    }
    let trials = run::plan(&catalog, &suite, &args.selection);
    // An empty selection is a mistake (a typo in a filter), never a pass.
    if trials.is_empty() {
        eprintln!("conform: no case matches the selection");
        return ExitCode::Usage;
    }
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
        let services: Vec<&str> = catalog.services.keys().map(String::as_str).collect();
        let mut emulator = None;
        let target = match (&args.target, &args.states) {
            (None, Some(_)) => {
                eprintln!("conform: --states needs --target");
                return ExitCode::Usage;
            }
            (None, None) => match super::embedded::start(Arc::clone(&catalog)).await {
                Ok((running, target)) => {
                    emulator = Some(running);
                    target
                }
                Err(e) => {
                    eprintln!("conform: cannot start the embedded emulators: {e}");
                    return ExitCode::Usage;
                }
            },
            (Some(t), _) if t.contains("://") && !(t.starts_with("http://") || t.starts_with("https://")) => {
                eprintln!("conform: --target `{t}` must be an http or https URL, or a target file");
                return ExitCode::Usage;
            }
            (Some(t), states) if t.starts_with("http://") || t.starts_with("https://") => {
                match Target::from_url(t, states.as_deref(), &services, &super::embedded::default_credentials) {
                    Ok(t) => t,
                    Err(e) => {
                        eprintln!("conform: {e}");
                        return ExitCode::Usage;
                    }
                }
            }
            (Some(t), states) => {
                if states.is_some() {
                    eprintln!("conform: --states goes with a target URL; a target file names its own `provider_states`");
                    return ExitCode::Usage;
                }
                match Target::from_file(std::path::Path::new(t), &services) {
                    Ok(t) => t,
                    Err(run::target::TargetError::File(d)) => {
                        eprintln!("{d}");
                        return ExitCode::BadFile;
                    }
                    Err(e) => {
                        eprintln!("conform: {e}");
                        return ExitCode::Usage;
                    }
                }
            }
        };
        let target_name = target.name.clone();
        let ctx = match RunContext::new(catalog, suite, target) {
            Ok(c) => Arc::new(c),
            Err(e) => {
                eprintln!("conform: {e}");
                return ExitCode::Usage;
            }
        };
        println!("conform: {} trials against {target_name}, {} at a time", trials.len(), args.jobs);
        let started = Instant::now();
        let results = ctx
            .run_all(trials, args.jobs, |r| {
                println!("{}", crate::report::terminal::line(r));
                if let Some(n) = crate::report::terminal::notes(r) {
                    println!("{n}");
                }
            })
            .await;
        let elapsed = started.elapsed();
        println!("{}", crate::report::terminal::summary(&results, elapsed));
        if let Some(running) = emulator {
            running.shutdown().await;
        }
        let mut code = if results.iter().any(|r| r.outcome == Outcome::Fail) { ExitCode::Failed } else { ExitCode::Ok };
        if let Some(p) = &args.report_json {
            if let Err(e) = crate::report::write_atomically(p, crate::report::json::render(&target_name, &results, elapsed).as_bytes()) {
                eprintln!("conform: cannot write {}: {e}", p.display());
                code = ExitCode::Usage;
            }
        }
        if let Some(p) = &args.report_junit {
            let written = crate::report::junit::render(&results, elapsed).and_then(|x| crate::report::write_atomically(p, x.as_bytes()).map_err(|e| e.to_string()));
            if let Err(e) = written {
                eprintln!("conform: cannot write {}: {e}", p.display());
                code = ExitCode::Usage;
            }
        }
        code
    })
}

/// `json` or `xml`, for `--format`.
pub fn parse_format(s: &str) -> Result<Format, String> {
    match s.to_ascii_lowercase().as_str() {
        "json" => Ok(Format::Json),
        "xml" => Ok(Format::Xml),
        _ => Err(format!("`{s}`: the formats are json and xml")),
    }
}
