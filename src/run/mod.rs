//! The runner: plans trials (a case, and for Alibaba a response format), runs them
//! concurrently against a target with one HTTP client per run, and streams results.

mod exec;
pub mod observe;
mod read;
pub mod redact;
pub mod request;
pub mod states;
pub mod target;
mod transport;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::case::model::{default_formats, Format};
use crate::case::Suite;
use crate::check::schema::SchemaSet;
use crate::check::Failure;
use crate::spec::model::Protocol;
use crate::spec::Catalog;
pub use exec::{TEARDOWN_CHECK, TEARDOWN_GRACE};
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

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", content = "reason", rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    Skip(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct TrialResult {
    pub id: String,
    pub service: String,
    pub operation: String,
    pub case: String,
    pub format: Option<Format>,
    pub clause: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub failures: Vec<Failure>,
    /// The failing answer, cut to a sane length.
    pub response: Option<String>,
    /// Teardown problems and the like: reported, not failing.
    pub notes: Vec<String>,
    #[serde(serialize_with = "ser_ms", rename = "duration_ms")]
    pub duration: Duration,
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0)
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

    /// Runs trials with at most `jobs` at once; `on_result` sees each as it finishes. Results
    /// come back in plan order. `jobs` workers pull the next trial, so a large suite costs no
    /// more than its running cases.
    pub async fn run_all(
        self: &Arc<Self>,
        trials: Vec<Trial>,
        jobs: usize,
        mut on_result: impl FnMut(&TrialResult),
    ) -> Vec<TrialResult> {
        let n = trials.len();
        let trials = Arc::new(trials);
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..jobs.max(1).min(n.max(1)) {
            let (ctx, trials, next, tx) = (
                Arc::clone(self),
                Arc::clone(&trials),
                Arc::clone(&next),
                tx.clone(),
            );
            workers.spawn(async move {
                loop {
                    if ctx.interrupt.is_set() {
                        break;
                    }
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(trial) = trials.get(i) else { break };
                    let result = Box::pin(ctx.run_trial(trial)).await;
                    if tx.send((i, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut results: Vec<Option<TrialResult>> = (0..n).map(|_| None).collect();
        while let Some((i, r)) = rx.recv().await {
            on_result(&r);
            results[i] = Some(r);
        }
        // What ended a worker abnormally goes into the failures of the trials it left.
        let mut worker_errors = Vec::new();
        while let Some(joined) = workers.join_next().await {
            if let Err(e) = joined {
                worker_errors.push(e.to_string());
            }
        }
        let died = if worker_errors.is_empty() {
            "its worker ended abnormally (a conform bug)".to_string()
        } else {
            format!(
                "its worker ended abnormally (a conform bug): {}",
                worker_errors.join("; ")
            )
        };
        // A trial whose worker died (a bug) is a failure, never a silent gap; one an
        // interrupt kept from starting is a skip that says so.
        let interrupted = self.interrupt.is_set();
        results
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.unwrap_or_else(|| {
                    let t = &trials[i];
                    if interrupted {
                        return self.not_run(t);
                    }
                    self.unfinished(
                        t,
                        Outcome::Fail,
                        vec![Failure::new(
                            "internal",
                            "",
                            "the trial to finish",
                            died.as_str(),
                        )],
                    )
                })
            })
            .collect()
    }
}

impl RunContext {
    /// The result of a trial an interrupt kept from starting.
    fn not_run(&self, t: &Trial) -> TrialResult {
        self.unfinished(t, Outcome::Skip(NOT_RUN_INTERRUPTED.into()), vec![])
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
            outcome,
            failures,
            response: None,
            notes: vec![],
            duration: Duration::ZERO,
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
