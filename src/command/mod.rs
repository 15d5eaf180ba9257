//! The commands behind the CLI, one file each; `main.rs` only parses arguments. Each returns
//! an [`ExitCode`] from the documented set.

pub mod checks;
pub mod coverage;
/// The embedded target, where the commands have always found it.
pub use crate::embedded;
#[cfg(feature = "emulator")]
pub mod emulate;
pub mod lint;
pub mod merge;
#[cfg(feature = "emulator")]
pub mod mutate;
pub mod parity;
pub mod record;
pub mod run;
pub mod targets;

use std::path::PathBuf;
use std::sync::Arc;

use crate::case::Suite;
use crate::diag::Diagnostics;
use crate::spec::Catalog;

/// What `conform --version` prints after the name: the version and the git commit built
/// (or that the build had no git).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("CONFORM_GIT_COMMIT"),
    ")"
);

/// `--jobs`: how many at once, at least one (zero would run nothing and hang).
pub fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("`{s}` is not a count: {e} (at least 1)")),
    }
}

/// Exit codes, documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// Every selected case passed (skips allowed), or the command found nothing wrong.
    Ok = 0,
    /// A case failed, a coverage item is uncovered, a mutant survived.
    Failed = 1,
    /// Bad usage, a bad target (a missing target file, a URL that is not http or https), a
    /// report that cannot be written. (An unreachable target is a case failure.)
    Usage = 2,
    /// A case, spec or target file is invalid.
    BadFile = 3,
    /// The run was interrupted (SIGINT or SIGTERM); its reports say so.
    Interrupted = 130,
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(c: ExitCode) -> Self {
        std::process::ExitCode::from(c as u8)
    }
}

/// How many threads a command's runtime has.
pub enum Threads {
    /// Drives many connections from one thread (the harness's trials).
    One,
    /// Serves (the emulators) or runs emulators side by side (mutants).
    Many,
}

/// The async runtime of a command, or the usage exit code with the reason printed.
pub fn runtime(threads: Threads) -> Result<tokio::runtime::Runtime, ExitCode> {
    let mut builder = match threads {
        Threads::One => tokio::runtime::Builder::new_current_thread(),
        Threads::Many => tokio::runtime::Builder::new_multi_thread(),
    };
    builder.enable_all().build().map_err(|e| {
        eprintln!("conform: cannot start the async runtime: {e}");
        ExitCode::Usage
    })
}

/// Where specs and cases come from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub specs: Option<PathBuf>,
    pub cases: Option<PathBuf>,
}

impl Sources {
    pub fn catalog(&self) -> Result<Catalog, Diagnostics> {
        match &self.specs {
            Some(dir) => Catalog::load_dir(dir),
            None => Catalog::bundled(),
        }
    }

    pub fn suite(&self, catalog: &Catalog) -> Result<Suite, Diagnostics> {
        match &self.cases {
            Some(dir) => Suite::load_dir(catalog, dir),
            None => Suite::bundled(catalog),
        }
    }

    /// The spec files (a directory's, or the bundled ones).
    pub fn spec_files(&self) -> Result<Vec<crate::files::SourceFile>, Diagnostics> {
        match &self.specs {
            Some(dir) => crate::files::read_dir(dir).map_err(|d| Diagnostics(vec![d])),
            None => Ok(crate::files::bundled_specs()),
        }
    }

    /// The case files (a directory's, or the bundled ones).
    pub fn case_files(&self) -> Result<Vec<crate::files::SourceFile>, Diagnostics> {
        match &self.cases {
            Some(dir) => crate::files::read_dir(dir).map_err(|d| Diagnostics(vec![d])),
            None => Ok(crate::files::bundled_cases()),
        }
    }

    /// Both, or the diagnostics printed and [`ExitCode::BadFile`].
    pub fn load(&self) -> Result<(Arc<Catalog>, Arc<Suite>), ExitCode> {
        let catalog = self.catalog().map_err(report)?;
        let suite = self.suite(&catalog).map_err(report)?;
        Ok((Arc::new(catalog), Arc::new(suite)))
    }
}

fn report(d: Diagnostics) -> ExitCode {
    print_diagnostics(&d);
    ExitCode::BadFile
}

/// Diagnostics on standard error as a person reads them: each with its source line, caret and
/// hint, then the count.
pub fn print_diagnostics(d: &Diagnostics) {
    let mut d = d.clone();
    attach_from_disk(&mut d);
    eprint_styled(&crate::diag::render::render(
        &d,
        crate::diag::render::Color::Always,
    ));
}

/// Styled text on standard error, its colour kept or stripped as `--color` (and `NO_COLOR`,
/// `CLICOLOR_FORCE`, whether it is a terminal) decide.
pub fn eprint_styled(text: &str) {
    anstream::eprintln!("{text}");
}

/// The source lines of diagnostics about files read from disk (a target file, an allow file),
/// which their loaders do not keep.
fn attach_from_disk(d: &mut Diagnostics) {
    let mut texts: std::collections::BTreeMap<PathBuf, Option<String>> = Default::default();
    for diag in &mut d.0 {
        let Some(path) = diag.file.clone().filter(|_| diag.source_line.is_none()) else {
            continue;
        };
        let text = texts
            .entry(path.clone())
            .or_insert_with(|| crate::located::read_text(&path).ok());
        if let Some(text) = text {
            diag.attach_source(text);
        }
    }
}
