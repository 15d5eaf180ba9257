//! Running trials with an observer: each trial's result and the snapshot of its answers.

use std::sync::Arc;

use parking_lot::Mutex;

use super::normalize::{self, RawAnswer, RawProbe, RawStep, StepContext};
use super::sent::Templates;
use super::snapshot::{Snapshot, StepSnapshot};
use crate::case::model::Step;
use crate::run::observe::{self, Observer, ProbeAnswer, StepAnswer};
use crate::run::{Outcome, RunContext, Trial, TrialResult};

/// Every trial's result, and the snapshots of the trials that ran (skipped ones have none).
pub struct Recording {
    pub results: Vec<TrialResult>,
    pub snapshots: Vec<Snapshot>,
}

/// Collects one trial's steps; names them by the case's steps (compared by address).
struct TrialObserver {
    steps_of_case: Vec<CaseStep>,
    steps: Mutex<Vec<RawStep>>,
}

/// A step of the case: its address, name, operation and templated parameters.
struct CaseStep {
    address: usize,
    name: String,
    operation: String,
    templates: Templates,
}

impl TrialObserver {
    fn new(ctx: &RunContext, trial: &Trial) -> TrialObserver {
        let file = &ctx.suite.files[trial.file];
        let case = &file.file.cases[trial.case];
        let service = ctx.catalog.service(&file.service);
        let entry = |name: &str, s: &Step| {
            let operation = s
                .operation
                .clone()
                .unwrap_or_else(|| file.operation.clone());
            let templates = service
                .and_then(|svc| svc.operations.get(&operation))
                .map(|o| Templates::of(&o.spec, s))
                .unwrap_or_default();
            CaseStep {
                address: std::ptr::from_ref(s) as usize,
                name: name.to_string(),
                operation,
                templates,
            }
        };
        let mut steps_of_case = vec![entry("request", &case.step)];
        for then in &case.then {
            steps_of_case.push(entry(&then.name, &then.step));
        }
        TrialObserver {
            steps_of_case,
            steps: Mutex::new(Vec::new()),
        }
    }

    fn case_step(&self, step: &Step) -> Option<&CaseStep> {
        let address = std::ptr::from_ref(step) as usize;
        self.steps_of_case.iter().find(|e| e.address == address)
    }

    fn name_of(&self, step: &Step) -> String {
        self.case_step(step)
            .map_or_else(|| "(unnamed)".into(), |e| e.name.clone())
    }
}

impl Observer for TrialObserver {
    fn answer(&self, a: &StepAnswer<'_>) {
        let entry = self.case_step(a.step);
        self.steps.lock().push(RawStep::Answer(Box::new(RawAnswer {
            step: self.name_of(a.step),
            operation: entry.map(|e| e.operation.clone()).unwrap_or_default(),
            sent: entry
                .map(|e| e.templates.sent(a.path, a.query, a.sent_body))
                .unwrap_or_default(),
            method: a.method.to_string(),
            path: a.path.to_string(),
            status: a.status,
            headers: a.headers.clone(),
            body: a.body.to_vec(),
            vars: a.vars.clone(),
            expect: a.step.expect.clone(),
        })));
    }

    fn probe(&self, p: &ProbeAnswer<'_>) {
        self.steps.lock().push(RawStep::Probe(RawProbe {
            step: self.name_of(p.step),
            resource: p.resource.to_string(),
            // The case's template (`${task_id}`): the same text on every run and target.
            id: p
                .step
                .probe
                .as_ref()
                .map_or_else(|| p.id.to_string(), |pr| pr.id.clone()),
            exists: p.exists,
            vars: p.vars.clone(),
        }));
    }
}

/// Runs `trials` against the context's target, `jobs` at a time, recording their answers.
/// Results and snapshots come back in plan order.
pub async fn record(ctx: &Arc<RunContext>, trials: Vec<Trial>, jobs: usize) -> Recording {
    let n = trials.len();
    let trials = Arc::new(trials);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..jobs.clamp(1, n.max(1)) {
        let (ctx, trials, next) = (Arc::clone(ctx), Arc::clone(&trials), Arc::clone(&next));
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(trial) = trials.get(i) else { break };
                let observer = Arc::new(TrialObserver::new(&ctx, trial));
                let shared: Arc<dyn Observer> = Arc::clone(&observer) as Arc<dyn Observer>;
                let result = observe::observed(shared, Box::pin(ctx.run_trial(trial))).await;
                let steps = std::mem::take(&mut *observer.steps.lock());
                done.push((i, result, steps));
            }
            done
        });
    }
    let mut slots: Vec<Option<(TrialResult, Vec<RawStep>)>> = (0..n).map(|_| None).collect();
    while let Some(joined) = workers.join_next().await {
        // A worker that died leaves its trials without a result: they show as missing.
        for (i, result, steps) in joined.unwrap_or_default() {
            slots[i] = Some((result, steps));
        }
    }
    let mut recording = Recording {
        results: Vec::new(),
        snapshots: Vec::new(),
    };
    for (trial, slot) in trials.iter().zip(slots) {
        let Some((result, steps)) = slot else {
            continue;
        };
        if !matches!(result.outcome, Outcome::Skip(_)) {
            recording
                .snapshots
                .push(snapshot_of(ctx, trial, &result, &steps));
        }
        recording.results.push(result);
    }
    recording
}

/// One trial's snapshot, normalized with the run's final redactor (it knows every secret
/// handed out during the run).
fn snapshot_of(
    ctx: &RunContext,
    trial: &Trial,
    result: &TrialResult,
    steps: &[RawStep],
) -> Snapshot {
    let service = ctx.catalog.service(&result.service);
    let hosts: Vec<String> = ctx
        .target
        .services
        .values()
        .flat_map(|s| {
            let url = &s.base_url;
            let host = url.host_str().unwrap_or_default().to_string();
            let with_port = url.port().map(|p| format!("{host}:{p}"));
            with_port.into_iter().chain(std::iter::once(host))
        })
        .collect();
    let snap = |raw: &RawStep| -> StepSnapshot {
        match raw {
            RawStep::Probe(p) => normalize::probe(p, &ctx.redactor, &hosts),
            RawStep::Answer(a) => {
                let op = service.and_then(|s| s.operations.get(&a.operation));
                match (service, op) {
                    (Some(service), Some(op)) => normalize::answer(
                        a,
                        &StepContext {
                            service,
                            operation: &op.spec,
                            format: trial.format,
                            redactor: &ctx.redactor,
                            hosts: &hosts,
                        },
                    ),
                    // The runner only answers steps of known operations.
                    _ => StepSnapshot {
                        step: a.step.clone(),
                        status: Some(a.status),
                        ..Default::default()
                    },
                }
            }
        }
    };
    Snapshot {
        trial: trial.id.clone(),
        outcome: outcome_of(result),
        steps: steps.iter().map(snap).collect(),
    }
}

/// The trial's verdict on this target, with the checks that failed (their names and where,
/// never their values, which vary): `pass`, `skip`, `fail: body /Message`.
fn outcome_of(result: &TrialResult) -> String {
    match result.outcome {
        Outcome::Pass => "pass".into(),
        Outcome::Skip(_) => "skip".into(),
        Outcome::Fail => {
            let checks: Vec<String> = result
                .failures
                .iter()
                .map(|f| format!("{} {}", f.label(), f.at).trim().to_string())
                .collect();
            format!("fail: {}", checks.join("; "))
        }
    }
}
