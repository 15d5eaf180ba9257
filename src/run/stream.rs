//! Running a plan: workers pull trials, retry the transient failures, stop starting trials when
//! the run is interrupted or out of failures, and every step goes to one sink as an [`Event`].

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use super::event::{self, Event, Message, Sender, TrialScope};
use super::policy::{self, FailureBudget, RunOptions};
use super::rate::RateLimiter;
use super::{Outcome, RunContext, Trial, TrialResult};
use crate::check::Failure;

/// What the workers of one run share.
struct Workers {
    ctx: Arc<RunContext>,
    trials: Arc<Vec<Trial>>,
    next: AtomicUsize,
    budget: FailureBudget,
    limiter: Option<Arc<RateLimiter>>,
    retries: u32,
}

impl Workers {
    /// Whether no new trial may start.
    fn stopped(&self) -> bool {
        self.ctx.interrupt.is_set() || self.budget.exhausted()
    }

    async fn work(&self, events: Sender) {
        while !self.stopped() {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(trial) = self.trials.get(i) else {
                break;
            };
            let _ = events.send(Message::TrialStarted(i));
            let result = self.attempts(i, trial, &events).await;
            self.budget.record(&result);
            if events.send(Message::TrialFinished(i, result)).is_err() {
                break;
            }
        }
    }

    /// Runs a trial, again while it fails on something transient and retries are left.
    async fn attempts(&self, index: usize, trial: &Trial, events: &Sender) -> TrialResult {
        let service = self
            .ctx
            .suite
            .files
            .get(trial.file)
            .map(|f| f.service.clone());
        let scope = Arc::new(TrialScope {
            index,
            service: service.unwrap_or_default(),
            events: events.clone(),
            limiter: self.limiter.clone(),
            transient: AtomicBool::new(false),
        });
        let mut attempt = 1;
        loop {
            scope.transient.store(false, Ordering::Relaxed);
            let running = Box::pin(self.ctx.run_trial(trial));
            let mut result = event::in_scope(Arc::clone(&scope), running).await;
            let transient = scope.transient.load(Ordering::Relaxed);
            let retry = policy::should_retry(&result, transient, attempt, self.retries);
            if !retry || self.ctx.interrupt.is_set() {
                result.attempts = attempt;
                result.flaky = attempt > 1 && result.outcome == Outcome::Pass;
                return result;
            }
            tokio::time::sleep(policy::retry_backoff(attempt)).await;
            attempt += 1;
        }
    }
}

impl RunContext {
    /// Runs trials with at most `jobs` at once; `on_result` sees each as it finishes. Results
    /// come back in plan order.
    pub async fn run_all(
        self: &Arc<Self>,
        trials: Vec<Trial>,
        jobs: usize,
        mut on_result: impl FnMut(&TrialResult) + Send,
    ) -> Vec<TrialResult> {
        let options = RunOptions {
            jobs,
            ..RunOptions::default()
        };
        let mut sink = |e: &Event<'_>| {
            if let Event::TrialFinished(r) = e {
                on_result(r)
            }
        };
        self.run_streamed(trials, &options, &mut sink).await
    }

    /// Runs trials as `options` say, every event of the run to `sink` (all but
    /// [`Event::RunFinished`], which is the caller's). Results come back in plan order; a trial
    /// that did not run has a skip saying why. `jobs` workers pull the next trial, so a large
    /// suite costs no more than its running cases.
    pub async fn run_streamed(
        self: &Arc<Self>,
        trials: Vec<Trial>,
        options: &RunOptions,
        sink: &mut (dyn FnMut(&Event<'_>) + Send),
    ) -> Vec<TrialResult> {
        let n = trials.len();
        let jobs = options.jobs.max(1).min(n.max(1));
        sink(&Event::RunStarted {
            planned: n,
            jobs: options.jobs,
            target: &self.target.name,
        });
        let shared = Arc::new(Workers {
            ctx: Arc::clone(self),
            trials: Arc::new(trials),
            next: AtomicUsize::new(0),
            budget: FailureBudget::new(options.max_fail),
            limiter: options.rate.and_then(RateLimiter::per_second).map(Arc::new),
            retries: options.retries,
        });
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..jobs {
            let (shared, tx) = (Arc::clone(&shared), tx.clone());
            workers.spawn(async move { shared.work(tx).await });
        }
        drop(tx);
        let mut results: Vec<Option<TrialResult>> = (0..n).map(|_| None).collect();
        while let Some(message) = rx.recv().await {
            dispatch(message, &shared.trials, &mut results, sink);
        }
        // A worker that ended abnormally leaves its trial without a result: filled in below.
        while workers.join_next().await.is_some() {}
        self.fill_gaps(&shared, results)
    }

    /// A trial without a result: an interrupt or the failure budget kept it from starting (a
    /// skip that says so), or its worker died (a failure, never a silent gap).
    fn fill_gaps(&self, shared: &Workers, results: Vec<Option<TrialResult>>) -> Vec<TrialResult> {
        let interrupted = self.interrupt.is_set();
        let out_of_failures = shared.budget.exhausted();
        results
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.unwrap_or_else(|| {
                    let t = &shared.trials[i];
                    if interrupted {
                        return self.not_run(t);
                    }
                    if out_of_failures {
                        let why = shared.budget.not_run_reason();
                        return self.unfinished(t, Outcome::Skip(why), vec![]);
                    }
                    let died = Failure::new(
                        "internal",
                        "",
                        "the trial to finish",
                        "its worker ended abnormally (a conform bug)",
                    );
                    self.unfinished(t, Outcome::Fail, vec![died])
                })
            })
            .collect()
    }
}

/// Hands one message to the sink as an event, keeping finished results.
fn dispatch(
    message: Message,
    trials: &[Trial],
    results: &mut [Option<TrialResult>],
    sink: &mut (dyn FnMut(&Event<'_>) + Send),
) {
    let id = |i: usize| trials.get(i).map_or("", |t| t.id.as_str());
    match message {
        Message::TrialStarted(i) => sink(&Event::TrialStarted { id: id(i) }),
        Message::StepSent {
            trial,
            method,
            path,
        } => sink(&Event::StepSent {
            trial: id(trial),
            method: &method,
            path: &path,
        }),
        Message::AnswerReceived {
            trial,
            status,
            elapsed,
        } => sink(&Event::AnswerReceived {
            trial: id(trial),
            status,
            elapsed,
        }),
        Message::TrialFinished(i, result) => {
            if let Some(slot) = results.get_mut(i) {
                sink(&Event::TrialFinished(slot.insert(result)));
            }
        }
    }
}
