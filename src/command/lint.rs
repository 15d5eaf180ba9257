//! `conform lint`: validate every spec and case file and their references, and report every
//! problem of every file at once (sorted by file and line, with the count).

use std::collections::BTreeSet;

use super::{ExitCode, Sources};
use crate::case::Suite;
use crate::diag::render::{render, Color};
use crate::diag::Diagnostics;
use crate::files::SourceFile;
use crate::spec::Catalog;

pub fn lint(sources: &Sources) -> ExitCode {
    let files = sources.spec_files().and_then(|specs| {
        let cases = sources.case_files()?;
        Ok((specs, cases))
    });
    let (specs, cases) = match files {
        Ok(files) => files,
        Err(d) => return print_problems(&d),
    };
    let linted = Catalog::lint_files(&specs);
    let mut diags = linted.diags;
    let (suite, case_diags) = lint_cases(&linted.catalog, &cases, &linted.unloaded);
    diags.0.extend(case_diags.0);
    if !diags.is_empty() {
        return print_problems(&diags);
    }
    let catalog = linted.catalog;
    let ops: usize = catalog.services.values().map(|s| s.operations.len()).sum();
    println!(
        "ok: {} services, {ops} operations, {} case files, {} cases",
        catalog.services.len(),
        suite.files.len(),
        suite.cases().count()
    );
    ExitCode::Ok
}

fn lint_cases(
    catalog: &Catalog,
    cases: &[SourceFile],
    unloaded: &BTreeSet<String>,
) -> (Suite, Diagnostics) {
    Suite::lint_files(catalog, cases, unloaded)
}

/// Every problem rendered on standard error; the exit code of an invalid file.
fn print_problems(diags: &Diagnostics) -> ExitCode {
    super::eprint_styled(&render(diags, Color::Always));
    ExitCode::BadFile
}
