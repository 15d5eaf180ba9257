//! `conform record`: runs the selected trials against a target and writes one snapshot file
//! per trial (`DIR/service/Operation/case[.format].json`), normalized and redacted.

use std::path::PathBuf;
use std::sync::Arc;

use super::{ExitCode, Sources};
use crate::parity::{self, snapshot};
use crate::run::{self, Outcome, RunContext, Selection, Trial};

#[derive(Debug, Clone, Default)]
pub struct RecordArgs {
    pub sources: Sources,
    pub target: Option<String>,
    pub states: Option<String>,
    pub selection: Selection,
    pub jobs: usize,
    pub out: PathBuf,
}

/// Whether a selection takes the whole suite (then stale snapshot files are pruned).
pub fn selects_all(s: &Selection) -> bool {
    s.filters.is_empty()
        && s.tags.is_empty()
        && s.skip_tags.is_empty()
        && s.formats.is_none()
        && s.files.is_empty()
        && s.partition.is_none()
}

/// The trials of a selection, or the usage exit code when it selects none (a typo in a filter
/// is never a pass).
pub fn planned(
    catalog: &crate::spec::Catalog,
    suite: &crate::case::Suite,
    selection: &Selection,
) -> Result<Vec<Trial>, ExitCode> {
    let trials = run::plan(catalog, suite, selection);
    if trials.is_empty() {
        eprintln!("conform: no case matches the selection");
        return Err(ExitCode::Usage);
    }
    // A shard may be empty (more shards than trials): that is no mistake.
    Ok(run::partition::shard(trials, selection.partition))
}

pub fn record(args: RecordArgs) -> ExitCode {
    let (catalog, suite) = match args.sources.load() {
        Ok(x) => x,
        Err(code) => return code,
    };
    let trials = match planned(&catalog, &suite, &args.selection) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let runtime = match super::runtime(super::Threads::One) {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async move {
        let resolved = match super::targets::resolve(
            &catalog,
            args.target.as_deref(),
            args.states.as_deref(),
            "--target",
        )
        .await
        {
            Ok(r) => r,
            Err(code) => return code,
        };
        let name = resolved.target.name.clone();
        let ctx = match RunContext::new(catalog, suite, resolved.target.clone()) {
            Ok(c) => Arc::new(c),
            Err(e) => {
                eprintln!("conform: {e}");
                return ExitCode::Usage;
            }
        };
        println!("conform record: {} trials against {name}", trials.len());
        let recording = parity::record(&ctx, trials, args.jobs).await;
        resolved.shutdown().await;
        write(&args, &recording)
    })
}

fn write(args: &RecordArgs, recording: &parity::Recording) -> ExitCode {
    let prune = selects_all(&args.selection);
    match snapshot::write_dir(&args.out, &recording.snapshots, prune) {
        Ok(pruned) => {
            let count = |f: fn(&Outcome) -> bool| {
                recording.results.iter().filter(|r| f(&r.outcome)).count()
            };
            println!(
                "recorded {} trials into {} ({} passed, {} failed the cases, {} skipped and not recorded; {pruned} stale files removed)",
                recording.snapshots.len(),
                args.out.display(),
                count(|o| *o == Outcome::Pass),
                count(|o| *o == Outcome::Fail),
                count(|o| matches!(o, Outcome::Skip(_))),
            );
            let silent = recording
                .snapshots
                .iter()
                .filter(|s| s.steps.is_empty())
                .count();
            if silent > 0 {
                println!("warning: {silent} trials recorded no answer at all (is the target reachable? `conform run` shows why)");
            }
            ExitCode::Ok
        }
        Err(e) => {
            eprintln!("conform: cannot write the recording: {e}");
            ExitCode::Usage
        }
    }
}
