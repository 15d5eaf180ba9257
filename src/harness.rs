//! The suite under `cargo test`: one libtest-mimic trial per case and format, named
//! `service::Operation::case[::format]` and nothing else, so the usual filter, `--list`,
//! `--exact` and `--ignored` work, and cargo-nextest can run each trial alone in its own
//! process and select it with `-E 'test(=id)'`. Tags are not in the names (a `[tags]` prefix
//! broke exact selection): `CONFORM_TAG` and `CONFORM_SKIP_TAG` (comma-separated) select by tag.
//!
//! A crate that implements or mocks these APIs runs the suite against its own server from a
//! `harness = false` test target:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     conform::harness::Harness::bundled()
//!         .services(&["huawei-workspace"]) // the services your server implements
//!         .against_server(|| async {
//!             // Start your server here; keep it alive by returning it.
//!             Ok(conform::harness::Server {
//!                 base_url: "http://127.0.0.1:8080".into(),
//!                 provider_states: Some("http://127.0.0.1:8080/__conform/provider-states".into()),
//!                 keep_alive: Box::new(()),
//!             })
//!         })
//!         .main()
//! }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use crate::case::Suite;
use crate::diag::Diagnostics;
use crate::run::{self, Outcome, RunContext, Selection, Target};
use crate::spec::Catalog;

/// Whatever must live as long as the trials run (a server handle).
pub type KeepAlive = Box<dyn std::any::Any + Send + Sync>;

/// Why the target did not start: any error (a `String` too).
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

type TargetFuture = Pin<Box<dyn Future<Output = Result<(Target, KeepAlive), StartError>> + Send>>;
type TargetFactory = Box<dyn FnOnce() -> TargetFuture + Send>;

struct Shared {
    runtime: tokio::runtime::Runtime,
    ctx: Result<Arc<RunContext>, String>,
    _keep: Option<KeepAlive>,
}

/// A suite and the target it runs against, started lazily by the first trial that runs.
pub struct Harness {
    catalog: Arc<Catalog>,
    suite: Arc<Suite>,
    factory: Option<TargetFactory>,
    /// Only the cases of these services are planned (all when None).
    services: Option<Vec<String>>,
    /// Why the bundled specs or cases did not load: then the only trial fails saying so.
    load_error: Option<Diagnostics>,
}

/// A server of yours, as [`Harness::against_server`] needs it: where it listens, its
/// provider-state endpoint if it has one, and what keeps it running.
pub struct Server {
    /// `http://127.0.0.1:PORT`: every service at this base URL.
    pub base_url: String,
    /// The provider-state endpoint; without it, cases that need states are skipped.
    pub provider_states: Option<String>,
    pub keep_alive: KeepAlive,
}

impl Harness {
    /// The specs and cases built into conform.
    /// Should they not load (a broken build), the harness has one trial, which fails with
    /// the diagnostics; [`Harness::try_bundled`] returns them instead.
    pub fn bundled() -> Harness {
        Harness::try_bundled().unwrap_or_else(|d| Harness {
            load_error: Some(d),
            ..Harness::new(Catalog::default(), Suite::default())
        })
    }

    /// The specs and cases built into conform, or why they do not load.
    pub fn try_bundled() -> Result<Harness, Diagnostics> {
        let catalog = Catalog::bundled()?;
        let suite = Suite::bundled(&catalog)?;
        Ok(Harness::new(catalog, suite))
    }

    /// Your own specs and cases (e.g. extra cases for your server).
    pub fn new(catalog: Catalog, suite: Suite) -> Harness {
        Harness {
            catalog: Arc::new(catalog),
            suite: Arc::new(suite),
            factory: None,
            services: None,
            load_error: None,
        }
    }

    /// Plans only the cases of these services (those your server implements); the others are
    /// not trials at all, rather than failing against a target that does not serve them.
    pub fn services(mut self, services: &[&str]) -> Harness {
        self.services = Some(services.iter().map(|s| s.to_string()).collect());
        self
    }

    /// The target: your server, started by `start`, reached as `conform run --target URL
    /// --states URL` reaches one: Alibaba signed V3 and Huawei with AK/SK, credentials from the
    /// environment (`ALIBABA_CLOUD_ACCESS_KEY_ID`, `HUAWEICLOUD_SDK_AK`, …) or else the built-in
    /// emulators' test credentials.
    pub fn against_server<F, Fut>(self, start: F) -> Harness
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Server, StartError>> + Send + 'static,
    {
        let services: Vec<String> = match &self.services {
            Some(s) => s.clone(),
            None => self.catalog.services.keys().cloned().collect(),
        };
        self.against(move || async move {
            let server = start().await?;
            let names: Vec<&str> = services.iter().map(String::as_str).collect();
            // The same resolution as `conform run --target URL`.
            let target = Target::from_url(
                &server.base_url,
                server.provider_states.as_deref(),
                &names,
                &crate::credentials::default_credentials,
            )?;
            Ok((target, server.keep_alive))
        })
    }

    /// The target: an async function that starts what is needed and describes it.
    pub fn against<F, Fut>(mut self, start: F) -> Harness
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(Target, KeepAlive), StartError>> + Send + 'static,
    {
        self.factory = Some(Box::new(move || Box::pin(start())));
        self
    }

    /// The built-in emulators, started in this process.
    #[cfg(feature = "emulator")]
    pub fn against_embedded(self) -> Harness {
        let catalog = Arc::clone(&self.catalog);
        self.against(move || async move {
            let (running, target) = crate::embedded::start(catalog).await?;
            Ok((target, Box::new(running) as KeepAlive))
        })
    }

    /// The libtest-mimic trials, selected by the tags in `CONFORM_TAG` / `CONFORM_SKIP_TAG`.
    pub fn trials(self) -> Vec<libtest_mimic::Trial> {
        let selection = selection_by_tags(
            std::env::var(TAG_VAR).ok().as_deref(),
            std::env::var(SKIP_TAG_VAR).ok().as_deref(),
        );
        self.trials_of(&selection)
    }

    /// The libtest-mimic trials of `selection`.
    pub fn trials_of(self, selection: &Selection) -> Vec<libtest_mimic::Trial> {
        if let Some(d) = self.load_error {
            let message = format!(
                "the bundled specs or cases do not load:\n{}",
                crate::diag::render::render(&d, crate::diag::render::Color::Never)
            );
            return vec![libtest_mimic::Trial::test(LOAD_TRIAL, move || {
                Err(message.into())
            })];
        }
        let mut planned = run::plan(&self.catalog, &self.suite, selection);
        if let Some(services) = &self.services {
            let files = &self.suite.files;
            planned.retain(|t| {
                files
                    .get(t.file)
                    .is_some_and(|f| services.contains(&f.service))
            });
        }
        let shared: Arc<OnceLock<Shared>> = Arc::new(OnceLock::new());
        let factory = Arc::new(parking_lot::Mutex::new(self.factory));
        let (catalog, suite) = (self.catalog, self.suite);
        planned
            .into_iter()
            .map(|trial| {
                let shared = Arc::clone(&shared);
                let factory = Arc::clone(&factory);
                let (catalog, suite) = (Arc::clone(&catalog), Arc::clone(&suite));
                libtest_mimic::Trial::test(trial.id.clone(), move || {
                    let s = shared.get_or_init(|| start(&factory, catalog, suite));
                    let ctx = s.ctx.as_ref().map_err(|e| {
                        libtest_mimic::Failed::from(format!("the target could not be started: {e}"))
                    })?;
                    let result = s.runtime.block_on(ctx.run_trial(&trial));
                    match &result.outcome {
                        Outcome::Pass => Ok(()),
                        // Under cargo test every case must run: a skip is not a pass.
                        Outcome::Skip(why) => Err(format!("skipped: {why}").into()),
                        Outcome::Fail => Err(crate::report::terminal::line(&result).into()),
                    }
                })
            })
            .collect()
    }

    /// Parses libtest arguments, runs the trials and exits as libtest does.
    pub fn main(self) -> std::process::ExitCode {
        let args = libtest_mimic::Arguments::from_args();
        let conclusion = libtest_mimic::run(&args, self.trials());
        if conclusion.has_failed() {
            std::process::ExitCode::from(101)
        } else {
            std::process::ExitCode::SUCCESS
        }
    }
}

/// Only cases with one of these tags (comma-separated), under `cargo test`.
pub const TAG_VAR: &str = "CONFORM_TAG";
/// Leave out cases with any of these tags (comma-separated), under `cargo test`.
pub const SKIP_TAG_VAR: &str = "CONFORM_SKIP_TAG";

/// The selection of `CONFORM_TAG` and `CONFORM_SKIP_TAG`'s values.
pub fn selection_by_tags(tags: Option<&str>, skip_tags: Option<&str>) -> Selection {
    let list = |v: Option<&str>| -> Vec<String> {
        v.unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect()
    };
    Selection {
        tags: list(tags),
        skip_tags: list(skip_tags),
        ..Selection::default()
    }
}

fn start(
    factory: &parking_lot::Mutex<Option<TargetFactory>>,
    catalog: Arc<Catalog>,
    suite: Arc<Suite>,
) -> Shared {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let f = factory.lock().take();
    let (ctx, keep) = match f {
        None => (
            Err("no target: call `against` or `against_embedded`".to_string()),
            None,
        ),
        Some(f) => match runtime.block_on(f()) {
            Ok((target, keep)) => (
                RunContext::new(catalog, suite, target)
                    .map(Arc::new)
                    .map_err(|e| e.to_string()),
                Some(keep),
            ),
            Err(e) => (Err(e.to_string()), None),
        },
    };
    Shared {
        runtime,
        ctx,
        _keep: keep,
    }
}

/// The name of the one trial of a harness whose bundled specs or cases do not load.
pub const LOAD_TRIAL: &str = "conform::load";

#[cfg(test)]
mod tests {
    use super::*;

    fn names(selection: &Selection) -> Vec<String> {
        Harness::bundled()
            .trials_of(selection)
            .iter()
            .map(|t| t.name().to_string())
            .collect()
    }

    #[test]
    fn trial_names_are_the_ids_alone() {
        let all = names(&Selection::default());
        assert!(all.contains(&"huawei-sms::DeleteTask::deletes-task".to_string()));
        let trials = Harness::bundled().trials_of(&Selection::default());
        assert!(trials
            .iter()
            .all(|t| t.kind().is_empty() && !t.name().contains('[')));
    }

    #[test]
    fn only_the_named_services_are_planned() {
        let trials = Harness::bundled()
            .services(&["huawei-sms"])
            .trials_of(&Selection::default());
        assert!(!trials.is_empty());
        assert!(trials.iter().all(|t| t.name().starts_with("huawei-sms::")));
        let all = names(&Selection::default());
        assert!(all.iter().any(|id| !id.starts_with("huawei-sms::")));
    }

    #[test]
    fn tags_select_from_the_environment_values() {
        let all = names(&Selection::default());
        let safe = names(&selection_by_tags(Some(" safe, "), None));
        let unsafe_ = names(&selection_by_tags(None, Some("safe")));
        assert!(!safe.is_empty() && !unsafe_.is_empty());
        assert_eq!(safe.len() + unsafe_.len(), all.len());
        assert!(safe.iter().all(|id| !unsafe_.contains(id)));
        assert_eq!(selection_by_tags(Some(""), None).tags, Vec::<String>::new());
    }
}
