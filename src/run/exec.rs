//! Running one trial: provider states, the steps in order with their checks, teardown always.

use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::request::{self, BuildError, Built, CaseCredentials};
use super::states::{ProviderStates, StateError, StatesClient};
use super::transport::transport_error;
use super::{Outcome, RunContext, Trial, TrialResult};
use crate::case::model::{tags, AuthMode, Expect, Format, Step};
use crate::case::vars::{self, Vars, STRING_TO_SIGN};
use crate::check::{self, body, Answered, Failure};
use crate::spec::model::OperationSpec;
use crate::spec::Service;

/// A provider state that was set up: its name, the params sent and the values returned, for
/// its teardown.
type MadeState = (String, Map<String, Value>, Map<String, Value>);

/// How long teardown may run past the run's deadline.
pub const TEARDOWN_GRACE: Duration = Duration::from_millis(500);

/// An answer as received.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: bytes::Bytes,
}

impl Answer {
    /// The answer as the checks see it.
    fn received(&self) -> check::Received<'_> {
        check::Received {
            status: self.status,
            headers: &self.headers,
            body: &self.body,
        }
    }
}

enum StepEnd {
    Passed,
    Failed(Vec<Failure>, Option<String>),
    Skipped(String),
}

/// How a trial ended, before redaction.
struct TrialEnd {
    outcome: Outcome,
    failures: Vec<Failure>,
    response: Option<String>,
    notes: Vec<String>,
}

impl TrialEnd {
    fn skip(why: impl Into<String>) -> TrialEnd {
        TrialEnd {
            outcome: Outcome::Skip(why.into()),
            failures: vec![],
            response: None,
            notes: vec![],
        }
    }

    fn fail(failure: Failure) -> TrialEnd {
        TrialEnd {
            outcome: Outcome::Fail,
            failures: vec![failure],
            response: None,
            notes: vec![],
        }
    }

    fn of(end: StepEnd) -> TrialEnd {
        match end {
            StepEnd::Passed => TrialEnd {
                outcome: Outcome::Pass,
                failures: vec![],
                response: None,
                notes: vec![],
            },
            StepEnd::Failed(failures, response) => TrialEnd {
                outcome: Outcome::Fail,
                failures,
                response,
                notes: vec![],
            },
            StepEnd::Skipped(why) => TrialEnd::skip(why),
        }
    }
}

/// What one running case carries from setup through its steps to teardown.
struct CaseState {
    vars: Vars,
    creds: CaseCredentials,
    made: Vec<MadeState>,
}

/// A case stopped by the run's deadline.
fn deadline_passed(started: Instant) -> StepEnd {
    StepEnd::Failed(
        vec![Failure::new(
            "deadline",
            "",
            "the case to finish before the run's deadline",
            format!(
                "still running after {:.1}s",
                started.elapsed().as_secs_f64()
            ),
        )],
        None,
    )
}

/// The failure of a teardown: it leaves resources behind, so the trial fails whatever its
/// steps did.
pub const TEARDOWN_CHECK: &str = "teardown";

impl RunContext {
    /// Runs one trial to its end; never panics on what the target answers.
    pub async fn run_trial(&self, trial: &Trial) -> TrialResult {
        let started = Instant::now();
        let end = self.run_trial_inner(trial, started).await;
        self.finish(trial, started, end)
    }

    /// The trial's result, every text redacted.
    fn finish(&self, trial: &Trial, started: Instant, end: TrialEnd) -> TrialResult {
        let file = &self.suite.files[trial.file];
        let case = &file.file.cases[trial.case];
        TrialResult {
            id: trial.id.clone(),
            service: file.service.clone(),
            operation: file.operation.clone(),
            case: case.name.clone(),
            format: trial.format,
            clause: case.clause.clone(),
            source_url: self.source_url(&case.clause),
            // A skip reason may quote the target (a provider-state refusal).
            outcome: match end.outcome {
                Outcome::Skip(why) => Outcome::Skip(self.redactor.redact(&why)),
                other => other,
            },
            failures: end
                .failures
                .into_iter()
                .map(|f| self.redact_failure(f))
                .collect(),
            response: end.response.map(|r| self.redactor.redact(&r)),
            notes: end
                .notes
                .into_iter()
                .map(|n| self.redactor.redact(&n))
                .collect(),
            duration: started.elapsed(),
            attempts: 1,
            flaky: false,
        }
    }

    /// Why a trial cannot start, if it cannot.
    fn refusal(&self, trial: &Trial) -> Option<TrialEnd> {
        let file = self.suite.files.get(trial.file)?;
        let case = file.file.cases.get(trial.case)?;
        if self.catalog.service(&file.service).is_none() {
            return Some(TrialEnd::skip(format!(
                "unknown service `{}`",
                file.service
            )));
        }
        if !self.target.services.contains_key(&file.service) {
            return Some(TrialEnd::skip(format!(
                "the target does not serve `{}`",
                file.service
            )));
        }
        // Only `safe` cases may touch a target that does not allow destructive ones: a case
        // that expects a refusal would still delete on a target that deviates.
        if !case.tags.iter().any(|t| t == tags::SAFE) && !self.target.allow_destructive {
            return Some(TrialEnd::skip(
                "not tagged `safe`, and the target does not allow destructive cases",
            ));
        }
        if !case.given.is_empty() && !self.target.has_provider_states() {
            return Some(TrialEnd::skip(
                "needs provider states; the target has no provider-state URL",
            ));
        }
        if self.deadline <= Instant::now() {
            // Not a skip: a run that could not finish has not shown the target conforms.
            return Some(TrialEnd::fail(Failure::new(
                "deadline",
                "",
                "the case to start before the run's deadline",
                "the deadline had passed",
            )));
        }
        None
    }

    async fn run_trial_inner(&self, trial: &Trial, started: Instant) -> TrialEnd {
        if let Some(end) = self.refusal(trial) {
            return end;
        }
        let file = &self.suite.files[trial.file];
        let credentials = &self.target.services[&file.service].credentials;
        let mut state = CaseState {
            vars: Vars::new(),
            creds: CaseCredentials {
                access_key_id: credentials.access_key_id.clone(),
                secret: credentials.secret.clone(),
                token: credentials.token.clone(),
            },
            made: Vec::new(),
        };
        let states = self.states_client();
        // Setup is bounded by the deadline but not cut by an interrupt: a setup in flight is
        // awaited (within its request timeout) so that what it made is known and torn down.
        let set_up = match &states {
            Some(s) => {
                let given = &self.suite.files[trial.file].file.cases[trial.case].given;
                let remaining = self.deadline.saturating_duration_since(Instant::now());
                let setting_up = self.set_up(s.as_ref(), &file.service, given, &mut state);
                tokio::time::timeout(remaining, setting_up)
                    .await
                    .unwrap_or_else(|_| Err(deadline_passed(started)))
            }
            None => Ok(()),
        };
        let end = match set_up {
            Ok(()) => {
                let steps = self.steps(trial, states.as_deref(), &mut state);
                self.bounded(started, steps).await
            }
            Err(end) => end,
        };
        let mut end = TrialEnd::of(end);
        // Teardown runs whatever happened before it, even after an interrupt.
        if let Some(states) = &states {
            let failed = self.tear_down(states.as_ref(), &state.made).await;
            if !failed.is_empty() {
                end.outcome = Outcome::Fail;
                end.failures.extend(failed);
            }
        }
        end
    }

    /// The target's provider states: the ones it was given, else the HTTP client of its
    /// provider-state URL, bounded by the run's answer limit.
    fn states_client(&self) -> Option<Box<dyn ProviderStates + '_>> {
        if let Some(states) = &self.target.provider_states {
            return Some(Box::new(states.clone()));
        }
        let url = self.target.states_url.as_ref()?;
        Some(Box::new(StatesClient {
            client: &self.client,
            url,
            timeout: self.target.request_timeout,
            max_answer_bytes: self.target.max_answer_bytes,
            redactor: &self.redactor,
        }))
    }

    /// Runs the case's steps until they end, the run's deadline passes, or an interrupt's
    /// grace is over.
    async fn bounded(
        &self,
        started: Instant,
        steps: impl std::future::Future<Output = StepEnd>,
    ) -> StepEnd {
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        let interrupted = async {
            self.interrupt.wait().await;
            tokio::time::sleep(self.interrupt_grace).await;
        };
        tokio::select! {
            end = tokio::time::timeout(remaining, steps) => end.unwrap_or_else(|_| deadline_passed(started)),
            () = interrupted => self.interrupted_failure(),
        }
    }

    fn interrupted_failure(&self) -> StepEnd {
        StepEnd::Failed(
            vec![Failure::new(
                "interrupted",
                "",
                "the case to finish",
                format!(
                    "the run was interrupted: no step starts after it, and a running one is stopped after a grace of {:?}",
                    self.interrupt_grace
                ),
            )],
            None,
        )
    }

    /// Runs the case's steps in order.
    async fn steps(
        &self,
        trial: &Trial,
        states: Option<&dyn ProviderStates>,
        state: &mut CaseState,
    ) -> StepEnd {
        let file = &self.suite.files[trial.file];
        let case = &file.file.cases[trial.case];
        let (Some(service), Some(svc_target)) = (
            self.catalog.service(&file.service),
            self.target.services.get(&file.service),
        ) else {
            return StepEnd::Skipped(format!("unknown service `{}`", file.service));
        };
        let steps = std::iter::once((None, &case.step))
            .chain(case.then.iter().map(|n| (Some(n.name.as_str()), &n.step)));
        for (name, step) in steps {
            // A step in flight may end after an interrupt; none starts after it.
            if self.interrupt.is_set() {
                return self.interrupted_failure();
            }
            let sc = StepContext {
                service,
                default_op: &file.operation,
                target: svc_target,
                creds: &state.creds,
                format: trial.format,
                states,
            };
            match self.run_step(&sc, step, &mut state.vars).await {
                StepEnd::Passed => {}
                StepEnd::Failed(mut failures, response) => {
                    if let Some(name) = name {
                        for f in &mut failures {
                            f.step = Some(name.to_string());
                        }
                    }
                    return StepEnd::Failed(failures, response);
                }
                skipped => return skipped,
            }
        }
        StepEnd::Passed
    }

    /// Sets up each given state in order, recording what was made for teardown.
    async fn set_up(
        &self,
        states: &dyn ProviderStates,
        service: &str,
        given: &[crate::case::model::Given],
        state: &mut CaseState,
    ) -> Result<(), StepEnd> {
        for given in given {
            // No new state once interrupted; those already made are torn down.
            if self.interrupt.is_set() {
                return Err(self.interrupted_failure());
            }
            let mut params: Map<String, Value> = given.params.clone().into_iter().collect();
            params.insert("service".into(), Value::String(service.to_string()));
            match states.setup(&given.state, &params).await {
                Ok(setup) => {
                    for (k, v) in &setup.values {
                        state.vars.insert(k.clone(), v.clone());
                    }
                    if let Some(c) = setup.credentials {
                        for s in [&c.secret, &c.token].into_iter().flatten() {
                            self.redactor.add(s.expose().to_string());
                        }
                        state.creds = c;
                    }
                    state.made.push((given.state.clone(), params, setup.values));
                }
                Err(StateError::Unsupported(why)) => {
                    return Err(StepEnd::Skipped(format!(
                        "provider state `{}`: {why}",
                        given.state
                    )))
                }
                Err(StateError::Failed(why)) => {
                    return Err(StepEnd::Failed(
                        vec![Failure::new(
                            "provider state",
                            &given.state,
                            "a successful setup",
                            why,
                        )],
                        None,
                    ))
                }
            }
        }
        Ok(())
    }

    /// Tears the states down, last first, each bounded by the request timeout and all of them
    /// by the run's deadline (plus a short grace, so that a case stopped by the deadline still
    /// gets its teardown tried). Every failure is returned: it leaves resources behind.
    async fn tear_down(&self, states: &dyn ProviderStates, made: &[MadeState]) -> Vec<Failure> {
        let until = self.deadline + TEARDOWN_GRACE;
        let mut failures = Vec::new();
        for (state, params, values) in made.iter().rev() {
            let left = until.saturating_duration_since(Instant::now());
            let why = match tokio::time::timeout(left, states.teardown(state, params, values)).await
            {
                Ok(Ok(())) => continue,
                Ok(Err(e)) => e.to_string(),
                Err(_) => "it did not finish before the run's deadline".to_string(),
            };
            failures.push(Failure::new(
                TEARDOWN_CHECK,
                state.as_str(),
                "the state torn down (else its resources are left behind)",
                why,
            ));
        }
        failures
    }

    fn redact_failure(&self, mut f: Failure) -> Failure {
        f.step = f.step.map(|s| self.redactor.redact(&s));
        f.expected = self.redactor.redact(&f.expected);
        f.actual = self.redactor.redact(&f.actual);
        f.at = self.redactor.redact(&f.at);
        f
    }

    async fn run_step(&self, sc: &StepContext<'_, '_>, step: &Step, vars: &mut Vars) -> StepEnd {
        let op = match step_operation(sc, step) {
            Ok(op) => op,
            Err(end) => return end,
        };
        let checked = AnswerCheck {
            ctx: self,
            service: sc.service,
            op,
            expect: &step.expect,
            format: sc.format,
        };
        if let Some(probe) = &step.probe {
            return run_probe(&checked, step, probe, vars, sc.states).await;
        }
        let built = match build_step(sc, op, step, vars) {
            Ok(b) => b,
            Err(end) => return end,
        };
        if step.request.auth == AuthMode::Replayed {
            // The replay is checked on the second sending; the first must not already be
            // refused as a replay, or the case would pass without testing anything.
            let first = match self.send(&built).await {
                Ok(a) => a,
                Err(f) => return StepEnd::Failed(vec![f], None),
            };
            let refused = check_answer(&checked, Answered::FirstOfReplay(first.received()), vars);
            if !refused.is_empty() {
                return StepEnd::Failed(refused, Some(shown_answer(&built, &first)));
            }
        }
        let answer = match self.send(&built).await {
            Ok(a) => a,
            Err(f) => return StepEnd::Failed(vec![f], None),
        };
        // `${string_to_sign}`: what this step's request signed, for its own expectations only.
        match &built.string_to_sign {
            Some(sts) => vars.insert(STRING_TO_SIGN.into(), Value::String(sts.clone())),
            None => vars.remove(STRING_TO_SIGN),
        };
        super::observe::answer(super::observe::StepAnswer {
            step,
            method: &built.method,
            path: built.url.path(),
            query: built.url.query(),
            sent_body: &built.body,
            status: answer.status,
            headers: &answer.headers,
            body: &answer.body,
            vars,
        });
        let failures = check_answer(&checked, Answered::Step(answer.received()), vars);
        vars.remove(STRING_TO_SIGN);
        if failures.is_empty() {
            StepEnd::Passed
        } else {
            StepEnd::Failed(failures, Some(shown_answer(&built, &answer)))
        }
    }

    async fn send(&self, built: &Built) -> Result<Answer, Failure> {
        let method = reqwest::Method::from_bytes(built.method.as_bytes())
            .map_err(|_| Failure::new("case", "request/method", "an HTTP method", &built.method))?;
        let mut rb = self
            .client
            .request(method, built.url.clone())
            .timeout(self.target.request_timeout);
        for (k, v) in &built.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        if !built.body.is_empty() {
            rb = rb.body(built.body.clone());
        }
        let transport =
            |actual: String| Failure::new("transport", built.summary(), "an answer", actual);
        let path = self.redactor.redact(built.url.path());
        let sent = super::event::sending(&built.method, &path).await;
        let resp = rb.send().await.map_err(|e| {
            super::event::no_answer(sent);
            transport(transport_error(&e))
        })?;
        let status = resp.status().as_u16();
        let mut headers = resp.headers().clone();
        // The request's timeout covers reading the body too.
        let body = super::read::read_limited(resp, self.target.max_answer_bytes)
            .await
            .map_err(|e| {
                super::event::broke_off(sent, status);
                Failure::new(
                    "transport",
                    built.summary(),
                    "the whole body",
                    format!("{status} with {e}"),
                )
            })?;
        super::event::answered(sent, status, &body);
        // Redacted on receipt: no check, capture or excerpt ever sees a secret the target echoes.
        self.redactor.redact_headers(&mut headers);
        Ok(Answer {
            status,
            headers,
            body: self.redactor.redact_bytes(body),
        })
    }
}

/// An answer as failure output shows it: the request, the status (with the `Location` of a
/// redirect, which is never followed) and the start of the body.
fn shown_answer(built: &Built, answer: &Answer) -> String {
    let location = match answer.headers.get(reqwest::header::LOCATION) {
        Some(l) if (300..400).contains(&answer.status) => {
            format!(
                " (Location: {}, not followed)",
                String::from_utf8_lossy(l.as_bytes())
            )
        }
        _ => String::new(),
    };
    format!(
        "{} → {}{location}\n{}",
        built.summary(),
        answer.status,
        body::shown(&answer.body)
    )
}

/// What every step of one trial runs with.
struct StepContext<'a, 's> {
    service: &'a Service,
    /// The case file's operation, for steps that name none.
    default_op: &'a str,
    target: &'a super::target::ServiceTarget,
    creds: &'a CaseCredentials,
    format: Option<Format>,
    states: Option<&'a (dyn ProviderStates + 's)>,
}

/// The step's operation (the case file's when it names none); the step's end when the service
/// has no such operation.
fn step_operation<'a>(sc: &StepContext<'a, '_>, step: &Step) -> Result<&'a OperationSpec, StepEnd> {
    let op_name = step.operation.as_deref().unwrap_or(sc.default_op);
    match sc.service.operations.get(op_name) {
        Some(op) => Ok(&op.spec),
        None => Err(StepEnd::Failed(
            vec![Failure::new(
                "case",
                "operation",
                "an operation of the service",
                op_name,
            )],
            None,
        )),
    }
}

/// The step's request, built and bound for the service's base URL; the step's end when it
/// cannot be.
fn build_step(
    sc: &StepContext<'_, '_>,
    op: &OperationSpec,
    step: &Step,
    vars: &Vars,
) -> Result<Built, StepEnd> {
    let built = match request::build(&request::StepInput {
        service: sc.service,
        op,
        target: sc.target,
        creds: sc.creds,
        req: &step.request,
        vars,
        format: sc.format,
    }) {
        Ok(b) => b,
        Err(BuildError::Unsupported(why)) => return Err(StepEnd::Skipped(why)),
        Err(BuildError::Case(why)) => {
            return Err(StepEnd::Failed(
                vec![Failure::new(
                    "case",
                    "request",
                    "a request that can be built",
                    why,
                )],
                None,
            ))
        }
    };
    // Requests go to the service's base URL and nowhere else (credentials with them).
    if built.url.origin() != sc.target.base_url.origin() {
        return Err(StepEnd::Failed(
            vec![Failure::new(
                "case",
                "request",
                "a request to the service's base URL",
                format!(
                    "a request to {}",
                    super::target::without_userinfo(&built.url)
                ),
            )],
            None,
        ));
    }
    Ok(built)
}

/// Every check of the registry over one answer; a step answer's captures go into `vars`.
fn check_answer(c: &AnswerCheck<'_>, answered: Answered<'_>, vars: &mut Vars) -> Vec<Failure> {
    let cx = check::Context::new(check::Subject {
        service: c.service,
        operation: c.op,
        expect: c.expect,
        answered,
        format: c.format,
        schemas: &c.ctx.schemas,
        vars,
    });
    let failures = check::run_all(&cx);
    let captured = cx
        .decoded()
        .map(|(_, body)| check::captures::taken(c.expect, body));
    vars.extend(captured.unwrap_or_default());
    failures
}

/// What a step's answers are checked against.
struct AnswerCheck<'a> {
    ctx: &'a RunContext,
    service: &'a Service,
    op: &'a OperationSpec,
    expect: &'a Expect,
    /// The format the trial asked for.
    format: Option<Format>,
}

/// A probe step: asks the provider-state endpoint whether the resource (in its scope) exists.
async fn run_probe(
    checked: &AnswerCheck<'_>,
    step: &Step,
    probe: &crate::case::model::Probe,
    vars: &mut Vars,
    states: Option<&dyn ProviderStates>,
) -> StepEnd {
    let Some(states) = states else {
        return StepEnd::Skipped("a probe step needs the target's provider-state URL".into());
    };
    let render = |at: String, template: &str| {
        vars::render(template, vars)
            .map_err(|e| StepEnd::Failed(vec![Failure::new("case", at, "a value", e)], None))
    };
    let id = match render("probe/id".into(), &probe.id) {
        Ok(id) => id,
        Err(end) => return end,
    };
    let mut scope = Map::new();
    for (name, template) in &probe.scope {
        match render(format!("probe/scope/{name}"), template) {
            Ok(v) => scope.insert(name.clone(), Value::String(v)),
            Err(end) => return end,
        };
    }
    let probed = states.probe(&probe.resource, &id, &scope).await;
    super::observe::probe(super::observe::ProbeAnswer {
        step,
        resource: &probe.resource,
        id: &id,
        exists: probed.as_ref().ok().copied(),
        vars,
    });
    match probed {
        Ok(exists) => {
            let answered = Answered::Probe(check::Probed {
                resource: &probe.resource,
                id: &id,
                exists,
            });
            let failures = check_answer(checked, answered, vars);
            if failures.is_empty() {
                StepEnd::Passed
            } else {
                StepEnd::Failed(failures, None)
            }
        }
        Err(StateError::Unsupported(why)) => StepEnd::Skipped(format!("probe: {why}")),
        // No answer to check: like a transport failure of a step.
        Err(StateError::Failed(why)) => StepEnd::Failed(
            vec![Failure::new("probe", &probe.resource, "an answer", why)],
            None,
        ),
    }
}
