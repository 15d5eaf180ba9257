//! Reports of a run: one file per format. Every text here has passed through the run's
//! redactor already (see `run::exec`).

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod tap;
pub mod terminal;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::run::TrialResult;

pub use crate::run::event::{Event, RunReport};

/// A consumer of the run's events. Live reporters (the terminal) act on each; file reporters
/// write at [`Event::RunFinished`], from the whole run. A new report is one file here with a
/// type that implements this.
pub trait Reporter: Send {
    /// Sees each event of the run, in order; an error is a report that could not be written.
    fn on_event(&mut self, event: &Event<'_>) -> Result<(), ReportError>;
}

/// A report that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {message}")]
pub struct ReportError {
    pub path: String,
    pub message: String,
}

/// A report that could not be rendered (only JUnit's XML writer can fail).
#[derive(Debug, thiserror::Error)]
#[error("cannot render the JUnit report: {0}")]
pub struct RenderError(#[from] quick_junit::SerializeError);

/// A report file rendered from the whole run when it finishes (JSON, JUnit, TAP, Markdown).
pub struct FileReporter {
    path: PathBuf,
    render: fn(&RunReport) -> Result<String, RenderError>,
}

impl FileReporter {
    /// Writes `render(run)` to `path` (`-`: standard output) when the run finishes.
    pub fn new(path: PathBuf, render: fn(&RunReport) -> Result<String, RenderError>) -> Self {
        FileReporter { path, render }
    }
}

impl Reporter for FileReporter {
    fn on_event(&mut self, event: &Event<'_>) -> Result<(), ReportError> {
        let Event::RunFinished(run) = event else {
            return Ok(());
        };
        (self.render)(run)
            .map_err(|e| e.to_string())
            .and_then(|text| write(&self.path, text.as_bytes()).map_err(|e| e.to_string()))
            .map_err(|message| ReportError {
                path: self.path.display().to_string(),
                message,
            })
    }
}

/// RFC 3339 in UTC with milliseconds, as every report writes times.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A trial's source URL when it is safe to show as a link in every format: http(s), and none
/// of the characters that would end a link, an attribute or a code span. (It comes from
/// `specs/sources.yaml`, or from a JSON report that `conform merge` reads.)
pub fn source_link(r: &TrialResult) -> Option<&str> {
    let url = r.source_url.as_deref()?;
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    let plain = !url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "<>\"'`()[]{}|\\^".contains(c));
    (scheme_ok && plain).then_some(url)
}

/// `-` names standard output, as report destinations.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The reasons trials were skipped for, each with how many, most frequent first (then by
/// reason, so that the order is stable).
pub fn skips_by_reason(results: &[TrialResult]) -> Vec<(String, usize)> {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in results {
        if let crate::run::Outcome::Skip(why) = &r.outcome {
            *counts.entry(why.as_str()).or_default() += 1;
        }
    }
    let mut groups: Vec<(String, usize)> = counts
        .into_iter()
        .map(|(k, n)| (k.to_string(), n))
        .collect();
    groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    groups
}

/// For commands whose progress owns standard output (`mutate`, `parity`): a report path of
/// `-` is refused in words rather than written to a file named `-`.
pub fn refuse_stdout(paths: &[Option<&Path>]) -> Result<(), StdoutRefused> {
    match paths.iter().flatten().any(|p| is_stdout(p)) {
        true => Err(StdoutRefused),
        false => Ok(()),
    }
}

/// A report path of `-` where standard output is taken by the command's progress.
#[derive(Debug, thiserror::Error)]
#[error("`-` (standard output) is for `conform run`'s reports; give a file here")]
pub struct StdoutRefused;

/// Writes a report to `path`, or to standard output when `path` is `-`.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if is_stdout(path) {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        if !bytes.ends_with(b"\n") {
            out.write_all(b"\n")?;
        }
        return out.flush();
    }
    write_atomically(path, bytes)
}

/// Writes a report atomically: a temporary file beside the target, then a rename, so a reader
/// never sees half a report.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("report"),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Trials of each kind, shared by the report tests.
#[cfg(test)]
pub(crate) mod sample {
    use crate::check::Failure;
    use crate::run::{Outcome, TrialResult};
    use chrono::TimeZone as _;

    pub fn result(case: &str, outcome: Outcome) -> TrialResult {
        TrialResult {
            id: format!("s::Op::{case}"),
            service: "s".into(),
            operation: "Op".into(),
            case: case.into(),
            format: None,
            clause: "seed:x#y".into(),
            source_url: None,
            failures: match outcome {
                Outcome::Fail => vec![Failure::new("status", "", "200", "404")],
                _ => vec![],
            },
            outcome,
            response: None,
            notes: vec![],
            duration: std::time::Duration::from_millis(3),
            attempts: 1,
            flaky: false,
        }
    }

    pub fn results() -> Vec<TrialResult> {
        vec![
            result("passes", Outcome::Pass),
            result("fails", Outcome::Fail),
            result("skips", Outcome::Skip("no provider state".into())),
        ]
    }

    pub fn report(results: &[TrialResult]) -> super::RunReport<'_> {
        super::RunReport {
            target: "http://127.0.0.1:8080/",
            results,
            started_at: chrono::Utc
                .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
                .single()
                .expect("a valid time"),
            elapsed: std::time::Duration::from_millis(1500),
            interrupted: None,
            strict: false,
        }
    }
}
