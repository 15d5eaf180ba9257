//! `conform parity`: the selected trials against target A, compared answer by answer with a
//! recording (`--baseline DIR`) or with target B (`--against`). Exit 1 on any difference the
//! allow file does not list.

use std::path::PathBuf;
use std::sync::Arc;

use super::{ExitCode, Sources};
use crate::parity::{self, allow, report, snapshot, Comparison, Snapshot};
use crate::run::{RunContext, Selection, Trial};

#[derive(Debug, Clone, Default)]
pub struct ParityArgs {
    pub sources: Sources,
    pub target: Option<String>,
    pub states: Option<String>,
    pub selection: Selection,
    pub jobs: usize,
    pub baseline: Option<PathBuf>,
    pub against: Option<String>,
    pub against_states: Option<String>,
    pub allow: Option<PathBuf>,
    pub report_json: Option<PathBuf>,
    pub report_html: Option<PathBuf>,
}

/// The two sides' names and snapshots.
struct Sides {
    a: (String, Vec<Snapshot>),
    b: (String, Vec<Snapshot>),
}

pub fn parity(args: ParityArgs) -> ExitCode {
    let reports = [args.report_json.as_deref(), args.report_html.as_deref()];
    if let Err(e) = crate::report::refuse_stdout(&reports) {
        eprintln!("conform: {e}");
        return ExitCode::Usage;
    }
    if args.baseline.is_some() == args.against.is_some() {
        eprintln!("conform: give one of --baseline DIR and --against URL|FILE");
        return ExitCode::Usage;
    }
    let (catalog, suite) = match args.sources.load() {
        Ok(x) => x,
        Err(code) => return code,
    };
    let trials = match super::record::planned(&catalog, &suite, &args.selection) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let all_ids: Vec<String> = crate::run::plan(&catalog, &suite, &Selection::default())
        .into_iter()
        .map(|t| t.id)
        .collect();
    let entries = match &args.allow {
        Some(path) => match allow::read(path, &all_ids) {
            Ok(e) => e,
            Err(d) => {
                super::print_diagnostics(&d);
                return ExitCode::BadFile;
            }
        },
        None => Vec::new(),
    };
    let runtime = match super::runtime(super::Threads::One) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let sides = match runtime.block_on(sides(&args, catalog, suite, trials)) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut comparison = parity::compare(&sides.a.0, &sides.a.1, &sides.b.0, &sides.b.1);
    // With a selection, entries for trials that did not run naturally match nothing.
    let stale = allow::apply(&mut comparison, &entries);
    let ran = |trial: &str| comparison.trials.iter().any(|t| t.trial == trial);
    for stale in stale.into_iter().filter(|e| ran(&e.trial)) {
        println!(
            "note: allow entry for {} ({}) matches no difference",
            stale.trial, stale.aspect
        );
    }
    finish(&args, &comparison)
}

/// Records side A, then side B from the baseline directory or the other target.
async fn sides(
    args: &ParityArgs,
    catalog: Arc<crate::spec::Catalog>,
    suite: Arc<crate::case::Suite>,
    trials: Vec<Trial>,
) -> Result<Sides, ExitCode> {
    let ids: Vec<String> = trials.iter().map(|t| t.id.clone()).collect();
    let Some(dir) = &args.baseline else {
        // Two targets: both recorded at once.
        let other = args
            .against
            .as_deref()
            .map(|t| (t, args.against_states.as_deref()));
        let (a, b) = tokio::join!(
            side(args, &catalog, &suite, trials.clone(), None),
            side(args, &catalog, &suite, trials, other)
        );
        return Ok(Sides { a: a?, b: b? });
    };
    let a = side(args, &catalog, &suite, trials, None).await?;
    let mut snaps = snapshot::read_dir(dir).map_err(|e| {
        eprintln!("conform: {e}");
        match e {
            snapshot::SnapshotError::File(_) => ExitCode::BadFile,
            _ => ExitCode::Usage,
        }
    })?;
    // Only the selected trials: a filtered run is compared with its part of the baseline.
    snaps.retain(|s| ids.contains(&s.trial));
    let b = (dir.display().to_string(), snaps);
    Ok(Sides { a, b })
}

/// Records one side: `--target` when `other` is `None`, else `--against`.
async fn side(
    args: &ParityArgs,
    catalog: &Arc<crate::spec::Catalog>,
    suite: &Arc<crate::case::Suite>,
    trials: Vec<Trial>,
    other: Option<(&str, Option<&str>)>,
) -> Result<(String, Vec<Snapshot>), ExitCode> {
    let (target, states, flag) = match other {
        Some((t, s)) => (Some(t), s, "--against"),
        None => (args.target.as_deref(), args.states.as_deref(), "--target"),
    };
    let resolved = super::targets::resolve(catalog, target, states, flag).await?;
    let name = resolved.target.name.clone();
    let ctx = RunContext::new(
        Arc::clone(catalog),
        Arc::clone(suite),
        resolved.target.clone(),
    )
    .map_err(|e| {
        eprintln!("conform: {e}");
        ExitCode::Usage
    })?;
    let recording = parity::record(&Arc::new(ctx), trials, args.jobs).await;
    resolved.shutdown().await;
    Ok((name, recording.snapshots))
}

fn finish(args: &ParityArgs, comparison: &Comparison) -> ExitCode {
    print!("{}", report::terminal(comparison));
    let s = report::summary(comparison);
    println!(
        "\n{} trials: {} same, {} differ, {} only in A, {} only in B; {} differences, {} not allowed",
        s["trials"], s["same"], s["differs"], s["only_a"], s["only_b"], s["differences"], s["unallowed"]
    );
    let mut code = if comparison.unallowed().next().is_some() {
        ExitCode::Failed
    } else {
        ExitCode::Ok
    };
    let reports = [
        (&args.report_json, report::json(comparison)),
        (&args.report_html, report::html(comparison)),
    ];
    for (path, text) in reports {
        if let Some(p) = path {
            if let Err(e) = crate::report::write_atomically(p, text.as_bytes()) {
                eprintln!("conform: cannot write {}: {e}", p.display());
                code = ExitCode::Usage;
            }
        }
    }
    code
}
