//! The run as a stream of events, consumed by reporters (`crate::report::Reporter`).
//!
//! The order: [`Event::RunStarted`]; for each trial [`Event::TrialStarted`], then for each request
//! step sends (not provider-state calls) [`Event::StepSent`] and [`Event::AnswerReceived`], then
//! [`Event::TrialFinished`];
//! [`Event::RunFinished`] last. Trials run side by side, so the events of different trials
//! interleave; those of one trial keep their order. The runner (`RunContext::run_streamed`)
//! emits everything up to the last `TrialFinished`; `RunFinished` comes from whoever owns the
//! run's report (it knows how the run ended: a signal, `--strict`).

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::rate::RateLimiter;
use super::{Summary, TrialResult};

/// One thing that happened in a run. Every text in it is redacted.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// The plan: how many trials, how many at once, against what.
    RunStarted {
        planned: usize,
        jobs: usize,
        target: &'a str,
    },
    TrialStarted {
        id: &'a str,
    },
    /// A request went out: its method and path (never the query, which may hold a signature,
    /// nor the headers).
    StepSent {
        trial: &'a str,
        method: &'a str,
        path: &'a str,
    },
    /// An answer came: its status (`None`: no answer, a transport error), and how long after
    /// the request it came.
    AnswerReceived {
        trial: &'a str,
        status: Option<u16>,
        elapsed: Duration,
    },
    TrialFinished(&'a TrialResult),
    RunFinished(&'a RunReport<'a>),
}

/// What every report of a run is made from: the run as it finished.
#[derive(Debug, Clone, Copy)]
pub struct RunReport<'a> {
    /// The target as shown (a URL without user info, or a target file's path).
    pub target: &'a str,
    pub results: &'a [TrialResult],
    pub started_at: DateTime<Utc>,
    pub elapsed: Duration,
    /// The signal that interrupted the run, if one did.
    pub interrupted: Option<&'a str>,
    /// `--strict`: a skip fails the run.
    pub strict: bool,
}

impl<'a> RunReport<'a> {
    /// A report of `results` that started `elapsed` ago.
    pub fn ending_now(target: &'a str, results: &'a [TrialResult], elapsed: Duration) -> Self {
        let back = chrono::Duration::from_std(elapsed).unwrap_or_default();
        RunReport {
            target,
            results,
            started_at: Utc::now() - back,
            elapsed,
            interrupted: None,
            strict: false,
        }
    }

    /// Whether the run failed: a failed trial, an interruption, or a skip under `--strict`.
    pub fn failed(&self) -> bool {
        let s = Summary::of(self.results);
        s.failed > 0 || self.interrupted.is_some() || (self.strict && s.skipped > 0)
    }

    pub fn finished_at(&self) -> DateTime<Utc> {
        self.started_at + chrono::Duration::from_std(self.elapsed).unwrap_or_default()
    }
}

/// An event as it travels from a worker to the sink: trials by their index in the plan.
pub(crate) enum Message {
    TrialStarted(usize),
    StepSent {
        trial: usize,
        method: String,
        path: String,
    },
    AnswerReceived {
        trial: usize,
        status: Option<u16>,
        elapsed: Duration,
    },
    TrialFinished(usize, Box<TrialResult>),
}

pub(crate) type Sender = tokio::sync::mpsc::UnboundedSender<Message>;

/// What a running trial's requests report to: travels with the trial's task (a task-local),
/// so the request code needs no new parameter, and a trial run outside a stream (the library
/// harness) reports nowhere.
pub(crate) struct TrialScope {
    pub index: usize,
    pub service: String,
    pub events: Sender,
    pub limiter: Option<Arc<RateLimiter>>,
    /// The attempt met a transport error or a throttling answer: what a retry may cure.
    pub transient: AtomicBool,
}

tokio::task_local! {
    static SCOPE: Arc<TrialScope>;
}

/// Runs `trial` with its requests reporting to `scope`.
pub(crate) async fn in_scope<F: Future>(scope: Arc<TrialScope>, trial: F) -> F::Output {
    SCOPE.scope(scope, trial).await
}

/// Before a request goes out: waits for the rate limit of the trial's service, then emits
/// [`Event::StepSent`]. Returns when the request went out.
pub(crate) async fn sending(method: &str, path: &str) -> Instant {
    if let Ok(scope) = SCOPE.try_with(Arc::clone) {
        if let Some(limiter) = &scope.limiter {
            limiter.acquire(&scope.service).await;
        }
        let _ = scope.events.send(Message::StepSent {
            trial: scope.index,
            method: method.to_string(),
            path: path.to_string(),
        });
    }
    Instant::now()
}

/// The request sent at `sent` got no answer (a transport error).
pub(crate) fn no_answer(sent: Instant) {
    received(sent, None, true);
}

/// The request sent at `sent` got `status` with `body` (unredacted: only looked at here).
pub(crate) fn answered(sent: Instant, status: u16, body: &[u8]) {
    received(
        sent,
        Some(status),
        super::policy::is_throttling(status, body),
    );
}

/// The answer to the request sent at `sent` began (`status`) but its body could not be read
/// (a timeout, a broken connection): a transport error, which a retry may cure.
pub(crate) fn broke_off(sent: Instant, status: u16) {
    received(sent, Some(status), true);
}

fn received(sent: Instant, status: Option<u16>, transient: bool) {
    let _ = SCOPE.try_with(|scope| {
        if transient {
            scope.transient.store(true, Ordering::Relaxed);
        }
        let _ = scope.events.send(Message::AnswerReceived {
            trial: scope.index,
            status,
            elapsed: sent.elapsed(),
        });
    });
}
