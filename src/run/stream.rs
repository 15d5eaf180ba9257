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
            if events
                .send(Message::TrialFinished(i, Box::new(result)))
                .is_err()
            {
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
                sink(&Event::TrialFinished(slot.insert(*result)));
            }
        }
    }
}

#[cfg(all(test, feature = "emulator"))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use axum::http::StatusCode;
    use axum::response::IntoResponse as _;

    use super::super::target::ServiceCredentials;
    use super::super::{plan, Event, Outcome, RunContext, RunOptions, Selection, Trial};
    use crate::auth::Secret;
    use crate::case::Suite;
    use crate::spec::Catalog;

    /// A stand-in target that answers every request with `status` and `body`; counts them.
    async fn answering(status: u16, body: &'static str) -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        let count = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&count);
        let status = StatusCode::from_u16(status).expect("a status");
        let app = axum::Router::new().fallback(move || {
            seen.fetch_add(1, Ordering::Relaxed);
            async move { (status, body) }
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        (base, count)
    }

    /// A port that was just free and is closed again: connection refused.
    fn refusing() -> String {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        format!("http://{}", l.local_addr().expect("an address"))
    }

    /// Three Huawei SMS trials that need no provider state, against `base`.
    fn three_trials(base: &str) -> (Arc<RunContext>, Vec<Trial>) {
        let credentials = ServiceCredentials {
            access_key_id: Some("ak".into()),
            secret: Some(Secret::new("sk-never-shown")),
            token: Some(Secret::new("token-never-shown")),
        };
        three_trials_signed(base, credentials)
    }

    fn three_trials_signed(
        base: &str,
        signing: ServiceCredentials,
    ) -> (Arc<RunContext>, Vec<Trial>) {
        let catalog = Arc::new(Catalog::bundled().expect("the bundled specs"));
        let suite = Arc::new(Suite::bundled(&catalog).expect("the bundled cases"));
        let credentials = |_: &str| signing.clone();
        let target = super::super::Target::from_url(base, None, &["huawei-sms"], &credentials)
            .expect("a target");
        let selection = Selection {
            filters: vec!["huawei-sms::".into()],
            ..Selection::default()
        };
        let mut trials = plan(&catalog, &suite, &selection);
        trials.retain(|t| suite.files[t.file].file.cases[t.case].given.is_empty());
        trials.truncate(3);
        assert_eq!(trials.len(), 3, "three stateless SMS cases");
        let ctx = RunContext::new(catalog, suite, target).expect("a context");
        (Arc::new(ctx), trials)
    }

    /// Runs and returns the results and each event in words.
    async fn run(
        ctx: &Arc<RunContext>,
        trials: Vec<Trial>,
        options: RunOptions,
    ) -> (Vec<super::TrialResult>, Vec<String>) {
        let mut events = Vec::new();
        let mut sink = |e: &Event<'_>| {
            events.push(match *e {
                Event::RunStarted { planned, .. } => format!("run {planned}"),
                Event::TrialStarted { id } => format!("start {id}"),
                Event::StepSent { trial, .. } => format!("sent {trial}"),
                Event::AnswerReceived { trial, status, .. } => format!("answer {trial} {status:?}"),
                Event::TrialFinished(r) => format!("finished {}", r.id),
                Event::RunFinished(_) => "run finished".into(),
            })
        };
        let results = ctx.run_streamed(trials, &options, &mut sink).await;
        (results, events)
    }

    fn options(jobs: usize) -> RunOptions {
        RunOptions {
            jobs,
            ..RunOptions::default()
        }
    }

    #[tokio::test]
    async fn each_trials_events_come_in_order() {
        let (base, _) = answering(400, r#"{"error_code":"SMS.0000"}"#).await;
        let (ctx, trials) = three_trials(&base);
        let ids: Vec<String> = trials.iter().map(|t| t.id.clone()).collect();
        let (results, events) = run(&ctx, trials, options(2)).await;
        assert_eq!(events[0], "run 3");
        for id in &ids {
            let own: Vec<&str> = events
                .iter()
                .filter(|e| e.ends_with(id.as_str()) || e.contains(&format!("{id} ")))
                .map(|e| e.split(' ').next().unwrap_or_default())
                .collect();
            // Started, one request and its answer (the first step fails), finished.
            assert_eq!(
                own,
                ["start", "sent", "answer", "finished"],
                "{id}: {events:#?}"
            );
        }
        assert!(
            events.contains(&format!("answer {} Some(400)", ids[0])),
            "{events:#?}"
        );
        assert_eq!(results.len(), 3);
        assert!(results.iter().all(|r| r.outcome == Outcome::Fail));
    }

    #[tokio::test]
    async fn throttling_is_retried_and_a_plain_failure_is_not() {
        let retrying = RunOptions {
            retries: 2,
            ..options(1)
        };
        let (base, count) = answering(429, "{}").await;
        let (ctx, trials) = three_trials(&base);
        let (results, events) = run(&ctx, trials, retrying).await;
        assert!(
            results.iter().all(|r| r.attempts == 3 && !r.flaky),
            "{results:#?}"
        );
        assert_eq!(
            count.load(Ordering::Relaxed),
            9,
            "three trials, three attempts each"
        );
        let started = events.iter().filter(|e| e.starts_with("start ")).count();
        assert_eq!(started, 3, "a retry is not a new trial");

        let (base, count) = answering(400, r#"{"error_code":"SMS.0000"}"#).await;
        let (ctx, trials) = three_trials(&base);
        let (results, _) = run(&ctx, trials, retrying).await;
        assert!(results.iter().all(|r| r.attempts == 1), "{results:#?}");
        assert_eq!(
            count.load(Ordering::Relaxed),
            3,
            "no retry of a plain failure"
        );
    }

    #[tokio::test]
    async fn a_transport_error_is_retried() {
        let (ctx, trials) = three_trials(&refusing());
        let retrying = RunOptions {
            retries: 1,
            ..options(3)
        };
        let (results, events) = run(&ctx, trials, retrying).await;
        assert!(results.iter().all(|r| r.attempts == 2), "{results:#?}");
        let no_answers = events.iter().filter(|e| e.ends_with(" None")).count();
        assert_eq!(no_answers, 6, "{events:#?}");
    }

    #[tokio::test]
    async fn max_fail_stops_starting_trials() {
        let (ctx, trials) = three_trials(&refusing());
        let stopping = RunOptions {
            max_fail: Some(1),
            ..options(1)
        };
        let (results, events) = run(&ctx, trials, stopping).await;
        let outcomes: Vec<&Outcome> = results.iter().map(|r| &r.outcome).collect();
        assert_eq!(outcomes[0], &Outcome::Fail);
        for skipped in &outcomes[1..] {
            let Outcome::Skip(why) = skipped else {
                panic!("not run is a skip: {outcomes:?}")
            };
            assert!(
                why.starts_with("not run:") && why.contains("after 1 failure"),
                "{why}"
            );
        }
        assert_eq!(events.iter().filter(|e| e.starts_with("start ")).count(), 1);
    }

    /// A proxy in front of `upstream` that answers its first request 429 (throttled).
    async fn throttling_once(upstream: url::Url) -> String {
        use axum::body::{to_bytes, Body};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        let seen = Arc::new(AtomicUsize::new(0));
        super::super::install_crypto();
        let client = reqwest::Client::new();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let (seen, client, upstream) = (Arc::clone(&seen), client.clone(), upstream.clone());
            async move {
                if seen.fetch_add(1, Ordering::Relaxed) == 0 {
                    return (StatusCode::TOO_MANY_REQUESTS, Vec::new()).into_response();
                }
                let (parts, body) = req.into_parts();
                let mut url = upstream;
                url.set_path(parts.uri.path());
                url.set_query(parts.uri.query());
                let body = to_bytes(body, 1 << 20).await.unwrap_or_default();
                let sent = client
                    .request(parts.method, url)
                    .headers(parts.headers)
                    .body(body);
                let Ok(answer) = sent.send().await else {
                    return (StatusCode::BAD_GATEWAY, Vec::new()).into_response();
                };
                let mut out = axum::http::Response::builder().status(answer.status());
                for (k, v) in answer.headers() {
                    out = out.header(k, v);
                }
                let bytes = answer.bytes().await.unwrap_or_default();
                out.body(Body::from(bytes)).unwrap_or_default()
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        base
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_trial_that_passes_on_a_retry_is_flaky() {
        let catalog = Arc::new(Catalog::bundled().expect("the bundled specs"));
        let (emulator, target) = crate::embedded::start(Arc::clone(&catalog))
            .await
            .expect("the embedded emulators");
        let sms = &target.services["huawei-sms"];
        let proxy = throttling_once(sms.base_url.clone()).await;
        let (ctx, mut trials) = three_trials_signed(&proxy, sms.credentials.clone());
        trials.truncate(1);
        let retrying = RunOptions {
            retries: 1,
            ..options(1)
        };
        let (results, _) = run(&ctx, trials.clone(), retrying).await;
        assert_eq!(results[0].outcome, Outcome::Pass, "{results:#?}");
        assert!(results[0].flaky && results[0].attempts == 2, "{results:#?}");
        // The same trial, now unthrottled, passes at once: not flaky.
        let (results, _) = run(&ctx, trials, retrying).await;
        assert!(
            results[0].outcome == Outcome::Pass && !results[0].flaky && results[0].attempts == 1
        );
        emulator.shutdown().await;
    }
}
