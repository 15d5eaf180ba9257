//! `conform lint`: validate every spec and case file and their references.

use super::{ExitCode, Sources};

pub fn lint(sources: &Sources) -> ExitCode {
    let catalog = match sources.catalog() {
        Ok(c) => c,
        Err(d) => {
            eprintln!("{d}");
            return ExitCode::BadFile;
        }
    };
    match sources.suite(&catalog) {
        Ok(suite) => {
            let ops: usize = catalog.services.values().map(|s| s.operations.len()).sum();
            println!(
                "ok: {} services, {ops} operations, {} case files, {} cases",
                catalog.services.len(),
                suite.files.len(),
                suite.cases().count()
            );
            ExitCode::Ok
        }
        Err(d) => {
            eprintln!("{d}");
            ExitCode::BadFile
        }
    }
}
