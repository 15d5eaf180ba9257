//! Every mutant of the emulators is caught by some case; the unmutated emulators pass every
//! case; every trial fails under some mutant. One libtest-mimic trial each (`mutant::<id>`,
//! `baseline`, `every-trial-can-fail`), so a single mutant can be run by name.

use std::sync::{Arc, OnceLock};

use conform::case::Suite;
use conform::mutate::{self, Equivalent, Mutant};
use conform::spec::Catalog;
use libtest_mimic::{Arguments, Failed, Trial};

struct Shared {
    runtime: tokio::runtime::Runtime,
    catalog: Arc<Catalog>,
    suite: Arc<Suite>,
    mutants: Vec<Mutant>,
    equivalents: Vec<Equivalent>,
    baseline: OnceLock<Result<Vec<String>, String>>,
    /// What caught each mutant, computed at most once per process.
    rows: Vec<OnceLock<Vec<String>>>,
}

const JOBS: usize = 16;

impl Shared {
    fn baseline(&self) -> Result<&Vec<String>, Failed> {
        self.baseline
            .get_or_init(|| {
                let config = conform::emulator::EmulatorConfig::new(Arc::clone(&self.catalog));
                self.runtime
                    .block_on(mutate::failing_trials(
                        &self.catalog,
                        &self.suite,
                        config,
                        JOBS,
                    ))
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| Failed::from(e.to_string()))
    }

    fn caught_by(&self, i: usize) -> Result<&Vec<String>, Failed> {
        let baseline = self.baseline()?.clone();
        Ok(self.rows[i].get_or_init(|| {
            let row = self.runtime.block_on(mutate::run_mutant(
                &self.catalog,
                &self.suite,
                &self.mutants[i],
                JOBS,
            ));
            row.caught_by
                .into_iter()
                .filter(|t| !baseline.contains(t))
                .collect()
        }))
    }
}

fn main() -> std::process::ExitCode {
    let args = Arguments::from_args();
    let catalog = Arc::new(Catalog::bundled().expect("the bundled specs are valid"));
    let suite = Arc::new(Suite::bundled(&catalog).expect("the bundled cases are valid"));
    let mutants = mutate::generate(&catalog);
    let equivalents =
        mutate::equivalents(None, &mutants).expect("specs/equivalent-mutants.yaml is valid");
    let n = mutants.len();
    let shared = Arc::new(Shared {
        runtime: tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a runtime"),
        catalog,
        suite,
        rows: (0..n).map(|_| OnceLock::new()).collect(),
        mutants,
        equivalents,
        baseline: OnceLock::new(),
    });
    let mut trials = Vec::new();
    let s = Arc::clone(&shared);
    trials.push(Trial::test("baseline", move || {
        let failing = s.baseline()?;
        if failing.is_empty() {
            Ok(())
        } else {
            Err(format!("the unmutated emulators fail: {}", failing.join(", ")).into())
        }
    }));
    for i in 0..n {
        let s = Arc::clone(&shared);
        let m = &shared.mutants[i];
        let equivalent = shared
            .equivalents
            .iter()
            .find(|e| e.mutant == m.id)
            .map(|e| e.why.clone());
        trials.push(Trial::test(format!("mutant::{}", m.id), move || {
            let caught = s.caught_by(i)?;
            match (&equivalent, caught.is_empty()) {
                (None, false) | (Some(_), true) => Ok(()),
                (None, true) => Err(format!("survived: {} [{}]", s.mutants[i].description, s.mutants[i].clause).into()),
                (Some(_), false) => Err(format!("listed as equivalent but caught by {}: remove it from specs/equivalent-mutants.yaml", caught.join(", ")).into()),
            }
        }));
    }
    let s = Arc::clone(&shared);
    trials.push(Trial::test("every-trial-can-fail", move || {
        let all: Vec<String> = conform::run::plan(&s.catalog, &s.suite, &Default::default())
            .into_iter()
            .map(|t| t.id)
            .collect();
        let mut caught = std::collections::BTreeSet::new();
        for i in 0..s.mutants.len() {
            caught.extend(s.caught_by(i)?.iter().cloned());
        }
        let never: Vec<_> = all.into_iter().filter(|t| !caught.contains(t)).collect();
        if never.is_empty() {
            Ok(())
        } else {
            Err(format!("no mutant makes these fail: {}", never.join(", ")).into())
        }
    }));
    if libtest_mimic::run(&args, trials).has_failed() {
        std::process::ExitCode::from(101)
    } else {
        std::process::ExitCode::SUCCESS
    }
}
