//! Proving the suite catches deviations: run every case against each mutant of the built-in
//! emulators and record which cases catch it. A mutant no case catches has survived; a trial no
//! mutant makes fail proves nothing yet. Both fail `conform mutate`.

pub mod catalogue;
pub mod edit;

use std::sync::Arc;

use serde::Serialize;

pub use catalogue::{generate, AnswerEdit, AnswerScope, Change, Mutant};

use crate::case::Suite;
use crate::emulator::{AnswerContext, AnswerLayer, EmulatorAnswer, EmulatorConfig};
use crate::run::{self, Outcome, RunContext, Selection};
use crate::spec::Catalog;

/// The answer layer that applies one edit to the answers in its scope.
pub fn answer_layer(scope: AnswerScope, edit: AnswerEdit) -> AnswerLayer {
    Arc::new(move |ctx: &AnswerContext, mut answer: EmulatorAnswer| {
        let in_scope = ctx.service == scope.service
            && scope
                .operation
                .as_ref()
                .is_none_or(|o| ctx.operation.as_ref() == Some(o))
            && scope.status.is_none_or(|s| s == answer.status);
        if !in_scope {
            return answer;
        }
        match &edit {
            AnswerEdit::DropHeader { header } => answer
                .headers
                .retain(|(n, _)| !n.eq_ignore_ascii_case(header)),
            other => {
                if let Some(body) = edit::edit_body(other, &answer.body) {
                    answer.body = body.into();
                }
            }
        }
        answer
    })
}

/// Mutants known to be equivalent, with the reason (`specs/equivalent-mutants.yaml`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Equivalent {
    pub mutant: String,
    pub why: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EquivalentFile {
    equivalent: Vec<Equivalent>,
}

/// Reads the equivalent mutants from the bundled specs (or `dir`), checking that each names a
/// mutant that exists.
pub fn equivalents(
    dir: Option<&std::path::Path>,
    mutants: &[Mutant],
) -> Result<Vec<Equivalent>, crate::diag::Diagnostics> {
    let file = match dir {
        Some(d) => {
            let path = d.join("equivalent-mutants.yaml");
            if !path.exists() {
                return Ok(Vec::new());
            }
            crate::files::read_dir(d)
                .map_err(|e| crate::diag::Diagnostics(vec![e]))?
                .into_iter()
                .find(|f| f.path == path)
        }
        None => crate::files::bundled_specs()
            .into_iter()
            .find(|f| f.path.ends_with("equivalent-mutants.yaml")),
    };
    let Some(file) = file else {
        return Ok(Vec::new());
    };
    let doc = crate::located::Located::parse(&file.path, &file.text)
        .map_err(|d| crate::diag::Diagnostics(vec![d]))?;
    let parsed: EquivalentFile = doc
        .deserialize()
        .map_err(|d| crate::diag::Diagnostics(vec![d]))?;
    let mut diags = crate::diag::Diagnostics::default();
    for (i, e) in parsed.equivalent.iter().enumerate() {
        if !mutants.iter().any(|m| m.id == e.mutant) {
            diags.push(doc.error_at(
                &format!("/equivalent/{i}/mutant"),
                format!(
                    "`{}` is not a generated mutant (see `conform mutate --list`)",
                    e.mutant
                ),
            ));
        }
        if e.why.trim().is_empty() {
            diags.push(doc.error_at(
                &format!("/equivalent/{i}/why"),
                "say why no case can catch it",
            ));
        }
    }
    diags.into_result(parsed.equivalent)
}

/// One row of the matrix: a mutant and the trials that caught it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub mutant: String,
    pub description: String,
    pub clause: String,
    pub caught_by: Vec<String>,
    /// The mutant could not be run (its emulator did not start).
    pub error: Option<String>,
    /// Why it is equivalent, when `specs/equivalent-mutants.yaml` says it is.
    pub equivalent: Option<String>,
}

impl Row {
    pub fn survived(&self) -> bool {
        self.caught_by.is_empty() && self.equivalent.is_none()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    /// Trials that fail against the unmutated emulator (must be none).
    pub baseline_failures: Vec<String>,
    pub rows: Vec<Row>,
    /// Trials that no mutant makes fail.
    pub never_failing: Vec<String>,
    pub trials: usize,
}

impl Matrix {
    pub fn survivors(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.survived())
    }

    pub fn ok(&self) -> bool {
        self.baseline_failures.is_empty()
            && self.survivors().next().is_none()
            && self.never_failing.is_empty()
    }
}

/// Why the suite did not run against an emulator.
#[derive(Debug, thiserror::Error)]
pub enum SuiteRunError {
    #[error(transparent)]
    Embedded(#[from] crate::embedded::EmbeddedError),
    #[error(transparent)]
    Setup(#[from] crate::run::RunSetupError),
}

/// Runs every trial of `suite` against an emulator built from `config`; the failed trial ids.
/// The checks always use the unmutated `catalog`: the mutant is only in the emulator.
pub async fn failing_trials(
    catalog: &Arc<Catalog>,
    suite: &Arc<Suite>,
    config: EmulatorConfig,
    jobs: usize,
) -> Result<Vec<String>, SuiteRunError> {
    let (emulator, target) = crate::embedded::start_with(config, catalog)?;
    let ctx = Arc::new(RunContext::new(
        Arc::clone(catalog),
        Arc::clone(suite),
        target,
    )?);
    let trials = run::plan(catalog, suite, &Selection::default());
    let results = ctx.run_all(trials, jobs, |_| {}).await;
    emulator.shutdown().await;
    Ok(results
        .into_iter()
        .filter(|r| r.outcome != Outcome::Pass)
        .map(|r| r.id)
        .collect())
}

/// The emulator configuration of one mutant.
pub fn config_for(catalog: &Arc<Catalog>, mutant: &Mutant) -> EmulatorConfig {
    match &mutant.change {
        Change::Spec(c) => EmulatorConfig::new(Arc::new((**c).clone())),
        Change::Answer(scope, edit) => {
            let mut config = EmulatorConfig::new(Arc::clone(catalog));
            config.answer_layer = Some(answer_layer(scope.clone(), edit.clone()));
            config
        }
    }
}

/// Runs one mutant: the trials that caught it.
pub async fn run_mutant(
    catalog: &Arc<Catalog>,
    suite: &Arc<Suite>,
    mutant: &Mutant,
    jobs: usize,
) -> Row {
    let outcome = failing_trials(catalog, suite, config_for(catalog, mutant), jobs).await;
    let (caught_by, error) = match outcome {
        Ok(ids) => (ids, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    Row {
        mutant: mutant.id.clone(),
        description: mutant.description.clone(),
        clause: mutant.clause.clone(),
        caught_by,
        error,
        equivalent: None,
    }
}

/// The whole matrix: the baseline, then the mutants, `parallel` at a time.
pub async fn matrix(
    catalog: Arc<Catalog>,
    suite: Arc<Suite>,
    mutants: Vec<Mutant>,
    equivalents: &[Equivalent],
    parallel: usize,
    jobs: usize,
    mut progress: impl FnMut(&Row),
) -> Matrix {
    let baseline_failures = failing_trials(
        &catalog,
        &suite,
        EmulatorConfig::new(Arc::clone(&catalog)),
        jobs,
    )
    .await
    .unwrap_or_else(|e| vec![format!("(the unmutated emulator did not run: {e})")]);
    let all_trials: Vec<String> = run::plan(&catalog, &suite, &Selection::default())
        .into_iter()
        .map(|t| t.id)
        .collect();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    let mut set = tokio::task::JoinSet::new();
    let n = mutants.len();
    for (i, m) in mutants.into_iter().enumerate() {
        let (catalog, suite, sem) = (
            Arc::clone(&catalog),
            Arc::clone(&suite),
            Arc::clone(&semaphore),
        );
        set.spawn(async move {
            let _p = sem.acquire_owned().await.expect("never closed");
            (i, run_mutant(&catalog, &suite, &m, jobs).await)
        });
    }
    let mut rows: Vec<Option<Row>> = vec![None; n];
    while let Some(Ok((i, mut row))) = set.join_next().await {
        // A trial that fails without any mutant catches nothing.
        row.caught_by.retain(|t| !baseline_failures.contains(t));
        row.equivalent = equivalents
            .iter()
            .find(|e| e.mutant == row.mutant)
            .map(|e| e.why.clone());
        progress(&row);
        rows[i] = Some(row);
    }
    let rows: Vec<Row> = rows.into_iter().flatten().collect();
    let never_failing = all_trials
        .iter()
        .filter(|t| !rows.iter().any(|r| r.caught_by.contains(t)))
        .cloned()
        .collect();
    Matrix {
        baseline_failures,
        rows,
        never_failing,
        trials: all_trials.len(),
    }
}
