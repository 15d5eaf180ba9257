//! `conform mutate`: the suite against every mutant of the built-in emulators; prints the
//! matrix (mutant → cases that caught it), the survivors and the cases no mutant makes fail.

use std::path::PathBuf;

use super::{ExitCode, Sources};
use crate::mutate::{self, Matrix, Row};

pub struct MutateArgs {
    pub sources: Sources,
    /// Only mutants whose id contains one of these.
    pub filters: Vec<String>,
    pub list: bool,
    pub report_json: Option<PathBuf>,
    pub parallel: usize,
}

fn print_row(row: &Row) {
    match (&row.error, row.caught_by.len()) {
        (Some(e), _) => println!("ERROR     {}  ({e})", row.mutant),
        (None, 0) if row.equivalent.is_some() => println!(
            "equivalent {}  ({})",
            row.mutant,
            row.equivalent.as_deref().unwrap_or_default()
        ),
        (None, 0) => println!(
            "SURVIVED  {}\n          {}  [{}]",
            row.mutant, row.description, row.clause
        ),
        (None, n) => {
            let shown: Vec<_> = row.caught_by.iter().take(3).map(String::as_str).collect();
            let more = if n > 3 {
                format!(" and {} more", n - 3)
            } else {
                String::new()
            };
            println!("caught    {}  by {}{more}", row.mutant, shown.join(", "));
        }
    }
}

pub fn mutate(args: MutateArgs) -> ExitCode {
    if let Err(e) = crate::report::refuse_stdout(&[args.report_json.as_deref()]) {
        eprintln!("conform: {e}");
        return ExitCode::Usage;
    }
    let (catalog, suite) = match args.sources.load() {
        Ok(x) => x,
        Err(code) => return code,
    };
    let all = mutate::generate(&catalog);
    let equivalents = match mutate::equivalents(args.sources.specs.as_deref(), &all) {
        Ok(e) => e,
        Err(d) => {
            super::print_diagnostics(&d);
            return ExitCode::BadFile;
        }
    };
    let mutants: Vec<_> = all
        .into_iter()
        .filter(|m| {
            args.filters.is_empty() || args.filters.iter().any(|f| m.id.contains(f.as_str()))
        })
        .collect();
    if args.list {
        for m in &mutants {
            println!("{}  {}", m.id, m.description);
        }
        return ExitCode::Ok;
    }
    let runtime = match super::runtime(super::Threads::Many) {
        Ok(r) => r,
        Err(code) => return code,
    };
    println!("conform mutate: {} mutants", mutants.len());
    let filtered = !args.filters.is_empty();
    let matrix = runtime.block_on(mutate::matrix(
        catalog,
        suite,
        mutants,
        &equivalents,
        args.parallel,
        32,
        print_row,
    ));
    let survived = print_findings(&matrix, filtered);
    print_summary(&matrix, survived, filtered);
    if let Some(p) = &args.report_json {
        let json = serde_json::to_string_pretty(&matrix).expect("the matrix serializes");
        if let Err(e) = crate::report::write_atomically(p, json.as_bytes()) {
            eprintln!("conform: cannot write {}: {e}", p.display());
            return ExitCode::Usage;
        }
    }
    let ok = matrix.baseline_failures.is_empty()
        && survived == 0
        && (filtered || matrix.never_failing.is_empty());
    if ok {
        ExitCode::Ok
    } else {
        ExitCode::Failed
    }
}

/// What the matrix found wrong: baseline failures, stale equivalents, survivors, trials that
/// never fail (judged only without a filter). Returns how many mutants survived.
fn print_findings(matrix: &Matrix, filtered: bool) -> usize {
    if !matrix.baseline_failures.is_empty() {
        println!("\nthe unmutated emulator fails these trials (the matrix means nothing until they pass):");
        for t in &matrix.baseline_failures {
            println!("  {t}");
        }
    }
    let stale: Vec<_> = matrix
        .rows
        .iter()
        .filter(|r| r.equivalent.is_some() && !r.caught_by.is_empty())
        .collect();
    if !stale.is_empty() {
        println!("\nlisted as equivalent but caught ({}): remove them from specs/equivalent-mutants.yaml", stale.len());
        for r in &stale {
            println!("  {}", r.mutant);
        }
    }
    let survivors: Vec<_> = matrix.survivors().collect();
    if !survivors.is_empty() {
        println!(
            "\nsurvived ({}): no case catches these deviations",
            survivors.len()
        );
        for r in &survivors {
            println!("  {}  {}", r.mutant, r.description);
        }
    }
    // With a filter, most trials are naturally never failed: only the full run judges them.
    if !filtered && !matrix.never_failing.is_empty() {
        println!(
            "\ntrials no mutant makes fail ({}): they prove nothing yet",
            matrix.never_failing.len()
        );
        for t in &matrix.never_failing {
            println!("  {t}");
        }
    }
    survivors.len()
}

/// The closing count line.
fn print_summary(matrix: &Matrix, survived: usize, filtered: bool) {
    let equivalent = matrix
        .rows
        .iter()
        .filter(|r| r.caught_by.is_empty() && r.equivalent.is_some())
        .count();
    let caught = matrix.rows.len() - survived - equivalent;
    println!(
        "\n{} mutants: {caught} caught, {equivalent} equivalent, {} survived; {} trials, {} never failing",
        matrix.rows.len(),
        survived,
        matrix.trials,
        if filtered {
            0
        } else {
            matrix.never_failing.len()
        }
    );
}
