//! The runner: plans trials (a case, and for Alibaba a response format), runs them
//! concurrently against a target with one HTTP client per run, and streams results.

pub mod event;
mod exec;
pub mod observe;
pub mod partition;
pub mod policy;
pub mod rate;
mod read;
pub mod redact;
pub mod request;
pub mod states;
mod stream;
pub mod target;
mod transport;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::case::model::{default_formats, Format};
use crate::case::Suite;
use crate::check::schema::SchemaSet;
use crate::check::Failure;
use crate::spec::model::Protocol;
use crate::spec::Catalog;
pub use event::{Event, RunReport};
pub use exec::{TEARDOWN_CHECK, TEARDOWN_GRACE};
pub use policy::RunOptions;
pub use redact::Redactor;
pub use target::Target;
pub use transport::transport_error;

/// One case in one format: the unit that passes, fails or is skipped.
#[derive(Debug, Clone)]
pub struct Trial {
    /// `service::Operation::case` (`::json` / `::xml` for Alibaba).
    pub id: String,
    pub file: usize,
    pub case: usize,
    pub format: Option<Format>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "reason", rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    Skip(String),
}

/// Serialized in the JSON report, and read back from it by `conform merge`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrialResult {
    pub id: String,
    pub service: String,
    pub operation: String,
    pub case: String,
    pub format: Option<Format>,
    pub clause: String,
    /// The public page of the document the clause cites (`specs/sources.yaml`), if it has one.
    #[serde(default)]
    pub source_url: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub failures: Vec<Failure>,
    /// The failing answer, cut to a sane length.
    pub response: Option<String>,
    /// Teardown problems and the like: reported, not failing.
    pub notes: Vec<String>,
    #[serde(
        serialize_with = "ser_ms",
        deserialize_with = "de_ms",
        rename = "duration_ms"
    )]
    pub duration: Duration,
    /// How many times the trial ran (`--retries`); shown only when more than once.
    #[serde(skip_serializing_if = "ran_once", default = "once")]
    pub attempts: u32,
    /// Passed, but only on a retry.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub flaky: bool,
}

/// A report read back (`conform merge`) that does not say how often a trial ran: once.
fn once() -> u32 {
    1
}

fn ran_once(attempts: &u32) -> bool {
    *attempts <= 1
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0)
}

fn de_ms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let ms = f64::deserialize(d)?;
    Duration::try_from_secs_f64(ms / 1000.0).map_err(|_| {
        serde::de::Error::custom(format!(
            "duration_ms {ms}: a duration is a finite number of milliseconds, at least 0"
        ))
    })
}

/// Which trials to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Substrings of trial ids (any one matches); empty = all.
    pub filters: Vec<String>,
    /// Filters must equal the id.
    pub exact: bool,
    /// Only cases carrying one of these tags.
    pub tags: Vec<String>,
    /// Leave out cases carrying one of these tags.
    pub skip_tags: Vec<String>,
    /// Only these Alibaba formats.
    pub formats: Option<Vec<Format>>,
    /// Only cases from these files (paths as the suite knows them, or their suffixes).
    pub files: Vec<String>,
    /// Only this shard of what the rest selects (`--partition k/n`), applied after planning
    /// (see [`partition::shard`]).
    pub partition: Option<partition::Partition>,
}

/// Whether a path a user gave names a suite file: whole path components, either side may carry
/// more leading directories (`cases/huawei-sms/DeleteTask.yaml`, `/repo/cases/…`, `huawei-sms/DeleteTask.yaml`).
pub fn names_file(given: &str, suite_file: &std::path::Path) -> bool {
    let given = std::path::Path::new(given.strip_prefix("./").unwrap_or(given));
    !given.as_os_str().is_empty() && (suite_file.ends_with(given) || given.ends_with(suite_file))
}

/// The trials of a suite, in file order, filtered.
pub fn plan(catalog: &Catalog, suite: &Suite, sel: &Selection) -> Vec<Trial> {
    let mut out = Vec::new();
    for (fi, f) in suite.files.iter().enumerate() {
        if !sel.files.is_empty() && !sel.files.iter().any(|p| names_file(p, &f.doc.path)) {
            continue;
        }
        let alibaba = catalog
            .service(&f.service)
            .is_some_and(|s| s.spec.protocol == Protocol::AlibabaRpc);
        for (ci, c) in f.file.cases.iter().enumerate() {
            if !sel.tags.is_empty() && !c.tags.iter().any(|t| sel.tags.contains(t)) {
                continue;
            }
            if c.tags.iter().any(|t| sel.skip_tags.contains(t)) {
                continue;
            }
            let base = format!("{}::{}::{}", f.service, f.operation, c.name);
            let formats: Vec<Option<Format>> = if alibaba {
                c.formats
                    .clone()
                    .unwrap_or_else(default_formats)
                    .into_iter()
                    .filter(|fm| sel.formats.as_ref().is_none_or(|a| a.contains(fm)))
                    .map(Some)
                    .collect()
            } else {
                vec![None]
            };
            for format in formats {
                let id = match format {
                    Some(fm) => format!("{base}::{}", fm.as_str()),
                    None => base.clone(),
                };
                let selected = sel.filters.is_empty()
                    || sel.filters.iter().any(|flt| {
                        if sel.exact {
                            &id == flt
                        } else {
                            id.contains(flt.as_str())
                        }
                    });
                if selected {
                    out.push(Trial {
                        id,
                        file: fi,
                        case: ci,
                        format,
                        tags: c.tags.clone(),
                    });
                }
            }
        }
    }
    out
}

/// Everything a run shares: built once, used by every trial.
pub struct RunContext {
    pub catalog: Arc<Catalog>,
    pub suite: Arc<Suite>,
    pub schemas: SchemaSet,
    pub target: Target,
    pub client: reqwest::Client,
    pub redactor: Redactor,
    pub deadline: Instant,
    /// Set on SIGINT/SIGTERM: no trial starts after it, running ones stop after the grace.
    pub interrupt: Interrupt,
    pub interrupt_grace: Duration,
}

/// A one-way flag: once set, stays set; waiters wake.
#[derive(Clone)]
pub struct Interrupt {
    flag: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt {
            flag: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }
}

impl Interrupt {
    pub fn set(&self) {
        self.flag.send_replace(true);
    }

    pub fn is_set(&self) -> bool {
        *self.flag.borrow()
    }

    /// Returns once the flag is set.
    pub async fn wait(&self) {
        let mut rx = self.flag.subscribe();
        // The sender lives in `self`, so the channel never closes while we wait.
        let _ = rx.wait_for(|set| *set).await;
    }
}

/// How long running cases may go on after an interrupt before they are stopped.
pub const INTERRUPT_GRACE: Duration = Duration::from_secs(2);

/// The skip reason of a trial that an interrupt kept from starting.
pub const NOT_RUN_INTERRUPTED: &str = "not run: the run was interrupted";

/// Installs the TLS crypto provider once per process (reqwest is built without a default).
pub fn install_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Why a run cannot start.
#[derive(Debug, thiserror::Error)]
pub enum RunSetupError {
    /// A response schema of the specs does not compile.
    #[error("{0}")]
    Schemas(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
}

impl RunContext {
    pub fn new(
        catalog: Arc<Catalog>,
        suite: Arc<Suite>,
        target: Target,
    ) -> Result<RunContext, RunSetupError> {
        install_crypto();
        let schemas = SchemaSet::compile(&catalog).map_err(RunSetupError::Schemas)?;
        let client = reqwest::Client::builder()
            .connect_timeout(target.request_timeout)
            // A redirect is graded as the answer it is: following it would send the request
            // and its credentials to wherever the target points.
            .redirect(reqwest::redirect::Policy::none())
            // Below the emulator's idle timeout, so a pooled connection is not reused just as
            // the server closes it.
            .pool_idle_timeout(Duration::from_secs(20))
            .pool_max_idle_per_host(64)
            .build()
            .map_err(RunSetupError::Client)?;
        let redactor = Redactor::new(target.secrets());
        let deadline = Instant::now() + target.deadline;
        Ok(RunContext {
            catalog,
            suite,
            schemas,
            target,
            client,
            redactor,
            deadline,
            interrupt: Interrupt::default(),
            interrupt_grace: INTERRUPT_GRACE,
        })
    }
}

impl RunContext {
    /// The result of a trial an interrupt kept from starting.
    fn not_run(&self, t: &Trial) -> TrialResult {
        self.unfinished(t, Outcome::Skip(NOT_RUN_INTERRUPTED.into()), vec![])
    }

    /// The public URL of the document `clause` cites, where `specs/sources.yaml` gives one.
    pub(crate) fn source_url(&self, clause: &str) -> Option<String> {
        self.catalog.sources.url_of(clause).map(String::from)
    }

    /// The result of a trial that has none of its own (never started, or its worker died).
    fn unfinished(&self, t: &Trial, outcome: Outcome, failures: Vec<Failure>) -> TrialResult {
        let file = &self.suite.files[t.file];
        let case = &file.file.cases[t.case];
        TrialResult {
            id: t.id.clone(),
            service: file.service.clone(),
            operation: file.operation.clone(),
            case: case.name.clone(),
            format: t.format,
            clause: case.clause.clone(),
            source_url: self.source_url(&case.clause),
            outcome,
            failures,
            response: None,
            notes: vec![],
            duration: Duration::ZERO,
            attempts: 0,
            flaky: false,
        }
    }
}

/// Counts of a finished run.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Trials whose teardown failed or timed out (they are among the failed): resources of
    /// theirs may be left on the target.
    pub teardown_failed: usize,
}

impl Summary {
    pub fn of(results: &[TrialResult]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            match r.outcome {
                Outcome::Pass => s.passed += 1,
                Outcome::Fail => s.failed += 1,
                Outcome::Skip(_) => s.skipped += 1,
            }
            if r.failures.iter().any(|f| f.check == TEARDOWN_CHECK) {
                s.teardown_failed += 1;
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::names_file;
    use std::path::Path;

    #[test]
    fn case_files_are_named_by_whole_components() {
        let f = Path::new("cases/huawei-sms/DeleteTask.yaml");
        assert!(names_file("cases/huawei-sms/DeleteTask.yaml", f));
        assert!(names_file("./cases/huawei-sms/DeleteTask.yaml", f));
        assert!(names_file("/repo/cases/huawei-sms/DeleteTask.yaml", f));
        assert!(names_file("huawei-sms/DeleteTask.yaml", f));
        assert!(!names_file("Task.yaml", f));
        assert!(!names_file("/tmp/lc/huawei-sms/DeleteTask.yaml", f));
        assert!(!names_file("", f));
    }
}
