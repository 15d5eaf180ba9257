//! Running one trial: provider states, the steps in order with their checks, teardown always.

use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::request::{self, BuildError, Built, CaseCredentials};
use super::states::{ProviderStates, StateError, StatesClient};
use super::transport::transport_error;
use super::{Outcome, RunContext, Trial, TrialResult};
use crate::case::model::{tags, AuthMode, CodeExpect, Expect, Format, Step, ValueCheck};
use crate::case::vars::{self, Vars, STRING_TO_SIGN};
use crate::check::{self, body, Failure};
use crate::spec::model::{BodyKind, OperationSpec, Protocol};
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
                            f.check = format!("step `{name}`: {}", f.check);
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
        f.check = self.redactor.redact(&f.check);
        f.expected = self.redactor.redact(&f.expected);
        f.actual = self.redactor.redact(&f.actual);
        f.at = self.redactor.redact(&f.at);
        f
    }

    async fn run_step(&self, sc: &StepContext<'_, '_>, step: &Step, vars: &mut Vars) -> StepEnd {
        if let Some(probe) = &step.probe {
            return run_probe(step, probe, vars, sc.states).await;
        }
        let (op, built) = match build_step(sc, step, vars) {
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
            if let Some(f) = refused_as_replay(sc.service, op, &first, sc.format) {
                return StepEnd::Failed(vec![f], Some(shown_answer(&built, &first)));
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
        let checked = AnswerCheck {
            ctx: self,
            service: sc.service,
            op,
            expect: &step.expect,
            answer: &answer,
            format: sc.format,
        };
        let failures = check_answer(&checked, vars);
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
        let resp = rb
            .send()
            .await
            .map_err(|e| transport(transport_error(&e)))?;
        let status = resp.status().as_u16();
        let mut headers = resp.headers().clone();
        // The request's timeout covers reading the body too.
        let body = super::read::read_limited(resp, self.target.max_answer_bytes)
            .await
            .map_err(|e| {
                Failure::new(
                    "transport",
                    built.summary(),
                    "the whole body",
                    format!("{status} with {e}"),
                )
            })?;
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

fn pointer_get<'v>(v: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.is_empty() {
        Some(v)
    } else {
        v.pointer(pointer)
    }
}

fn render_check(c: &ValueCheck, vars: &Vars) -> Result<ValueCheck, String> {
    Ok(match c {
        ValueCheck::Equals(v) => ValueCheck::Equals(vars::render_value(v, vars)?),
        ValueCheck::Matches(r) => ValueCheck::Matches(vars::render(r, vars)?),
        other => other.clone(),
    })
}

/// A failure when the first sending of a replayed request was already refused as a replay.
fn refused_as_replay(
    service: &Service,
    op: &OperationSpec,
    first: &Answer,
    format: Option<Format>,
) -> Option<Failure> {
    let nonce_used = service.error_for(Some(op), crate::spec::model::ErrorRole::NonceUsed)?;
    let kind = match service.spec.protocol {
        Protocol::AlibabaRpc => BodyKind::XmlOrJson,
        Protocol::HuaweiRest => BodyKind::Json,
    };
    let decoded = body::decode(kind, format, &first.body).ok()?;
    let code = decoded
        .value
        .pointer(&service.spec.error_envelope.code)?
        .as_str()?;
    (code == nonce_used.code).then(|| {
        Failure::new(
            "replay",
            "first sending",
            format!(
                "a first sending that is not refused as a replay ({})",
                nonce_used.code
            ),
            format!("{} {code}", first.status),
        )
    })
}

/// The error code read by the envelope rule against the expected one(s) (variables filled in).
fn error_code_check(
    what: &str,
    expected: &CodeExpect,
    body: &Value,
    pointer: &str,
    vars: &Vars,
) -> Option<Failure> {
    let mut wanted = Vec::new();
    for code in expected.codes() {
        match vars::render(code, vars) {
            Ok(want) => wanted.push(Value::String(want)),
            Err(e) => return Some(Failure::new("case", "expect/error_code", "a value", e)),
        }
    }
    let actual = body.pointer(pointer);
    if wanted.len() == 1 {
        let want = ValueCheck::Equals(wanted.swap_remove(0));
        return check::value::check(what, pointer, &want, actual);
    }
    if actual.is_some_and(|a| wanted.contains(a)) {
        return None;
    }
    Some(Failure::new(
        what,
        pointer,
        format!("one of {}", Value::Array(wanted)),
        actual
            .map(check::value::brief)
            .unwrap_or_else(|| "absent".into()),
    ))
}

/// Checks of headers and of values at body pointers.
fn value_checks(
    headers: &std::collections::BTreeMap<String, ValueCheck>,
    body_checks: &std::collections::BTreeMap<String, ValueCheck>,
    answer: &Answer,
    body: &Value,
    vars: &Vars,
) -> Vec<Failure> {
    let mut failures = Vec::new();
    for (name, check) in headers {
        let got = answer
            .headers
            .get(name.as_str())
            .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()));
        match render_check(check, vars) {
            Ok(c) => failures.extend(check::value::check("header", name, &c, got.as_ref())),
            Err(e) => failures.push(Failure::new(
                "case",
                format!("expect/headers/{name}"),
                "a value",
                e,
            )),
        }
    }
    for (pointer, check) in body_checks {
        match render_check(check, vars) {
            Ok(c) => failures.extend(check::value::check(
                "body",
                pointer,
                &c,
                pointer_get(body, pointer),
            )),
            Err(e) => failures.push(Failure::new(
                "case",
                format!("expect/body{pointer}"),
                "a value",
                e,
            )),
        }
    }
    failures
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

/// The step's operation and its request, built and bound for the service's base URL; the
/// step's end when it cannot be.
fn build_step<'a>(
    sc: &StepContext<'a, '_>,
    step: &Step,
    vars: &Vars,
) -> Result<(&'a OperationSpec, Built), StepEnd> {
    let op_name = step.operation.as_deref().unwrap_or(sc.default_op);
    let Some(op) = sc.service.operations.get(op_name) else {
        return Err(StepEnd::Failed(
            vec![Failure::new(
                "case",
                "operation",
                "an operation of the service",
                op_name,
            )],
            None,
        ));
    };
    let built = match request::build(&request::StepInput {
        service: sc.service,
        op: &op.spec,
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
    Ok((&op.spec, built))
}

/// One answer and what it is checked against.
struct AnswerCheck<'a> {
    ctx: &'a RunContext,
    service: &'a Service,
    op: &'a OperationSpec,
    expect: &'a Expect,
    answer: &'a Answer,
    /// The format the trial asked for.
    format: Option<Format>,
}

/// Every check of one answer. Captures go into `vars` when the answer passes them.
fn check_answer(c: &AnswerCheck<'_>, vars: &mut Vars) -> Vec<Failure> {
    let (service, answer) = (c.service, c.answer);
    let mut failures = Vec::new();
    if let Some(st) = &c.expect.status {
        failures.extend(check::status::check(st, answer.status));
    }
    failures.extend(request_id_header_check(service, answer));
    let response = c.op.response(answer.status);
    let kind = match (response, service.spec.protocol) {
        (Some(r), _) => r.body,
        (None, Protocol::AlibabaRpc) => BodyKind::XmlOrJson,
        (None, Protocol::HuaweiRest) => BodyKind::Json,
    };
    let format = if service.spec.protocol == Protocol::AlibabaRpc {
        c.format
    } else {
        None
    };
    failures.extend(content_type_check(service, answer, format));
    let decoded = match body::decode(kind, format, &answer.body) {
        Ok(d) => d,
        Err(f) => {
            failures.push(f);
            return failures;
        }
    };
    failures.extend(request_id_mirror_check(service, answer, &decoded.value));
    failures.extend(body_shape_checks(c, response, &decoded));
    failures.extend(expectation_checks(c, response, &decoded.value, vars));
    failures
}

/// The request id comes on every answer (a documented platform rule), whatever the status.
fn request_id_header_check(service: &Service, answer: &Answer) -> Option<Failure> {
    let h = service.spec.request_id.header.as_ref()?;
    let ok = answer
        .headers
        .get(h.as_str())
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim().is_empty());
    (!ok).then(|| Failure::new("request id", format!("header {h}"), "a request id", "none"))
}

/// The body's XML root, its schema and the request id in it, as the spec documents them.
fn body_shape_checks(
    c: &AnswerCheck<'_>,
    response: Option<&crate::spec::model::ResponseSpec>,
    decoded: &body::Decoded,
) -> Vec<Failure> {
    let (service, expect, status) = (c.service, c.expect, c.answer.status);
    let mut failures = Vec::new();
    let is_error = status >= 400;
    let envelope = &service.spec.error_envelope;
    let xml_root = response
        .and_then(|r| r.xml_root.as_deref())
        .or(if is_error {
            envelope.xml_root.as_deref()
        } else {
            None
        });
    failures.extend(body::check_root(decoded, xml_root));
    let schema_name = expect
        .for_status(status)
        .and_then(|e| e.schema.as_deref())
        .or(expect.schema.as_deref())
        .or(response.and_then(|r| r.schema.as_deref()))
        .or(if is_error {
            Some(envelope.schema.as_str())
        } else {
            None
        });
    if let Some(name) = schema_name {
        match c.ctx.schemas.get(service.name(), &c.op.operation, name) {
            Some(v) => failures.extend(check::schema::check(name, v, &decoded.value)),
            None => failures.push(Failure::new("spec", name, "a schema of that name", "none")),
        }
    }
    if let Some(p) = &service.spec.request_id.body {
        let ok = decoded
            .value
            .pointer(p)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty());
        if !ok {
            failures.push(Failure::new(
                "request id",
                p.as_str(),
                "a non-empty string",
                decoded
                    .value
                    .pointer(p)
                    .map(check::value::brief)
                    .unwrap_or_else(|| "absent".into()),
            ));
        }
    }
    failures
}

/// The case's expectations: error codes, headers and values (also those for this status),
/// the headers the spec lists, and the captures.
fn expectation_checks(
    c: &AnswerCheck<'_>,
    response: Option<&crate::spec::model::ResponseSpec>,
    body: &Value,
    vars: &mut Vars,
) -> Vec<Failure> {
    let (expect, answer) = (c.expect, c.answer);
    let envelope_code = &c.service.spec.error_envelope.code;
    let mut failures = Vec::new();
    if let Some(code) = &expect.error_code {
        failures.extend(error_code_check(
            "error code",
            code,
            body,
            envelope_code,
            vars,
        ));
    }
    if let Some(extra) = expect.for_status(answer.status) {
        if let Some(code) = &extra.error_code {
            let what = format!("error code (status {})", answer.status);
            failures.extend(error_code_check(&what, code, body, envelope_code, vars));
        }
        failures.extend(value_checks(
            &extra.headers,
            &extra.body,
            answer,
            body,
            vars,
        ));
    }
    for r in response.map(|r| r.headers.as_slice()).unwrap_or_default() {
        if !answer.headers.contains_key(r.as_str()) {
            failures.push(Failure::new(
                "header",
                r.as_str(),
                "present (the spec lists it for this status)",
                "absent",
            ));
        }
    }
    failures.extend(value_checks(
        &expect.headers,
        &expect.body,
        answer,
        body,
        vars,
    ));
    failures.extend(captures(expect, body, vars));
    failures
}

/// Each capture of the step into `vars`; a failure for each value absent.
fn captures(expect: &Expect, body: &Value, vars: &mut Vars) -> Vec<Failure> {
    let mut failures = Vec::new();
    for (name, pointer) in &expect.capture {
        match pointer_get(body, pointer) {
            Some(v) => {
                vars.insert(name.clone(), v.clone());
            }
            None => failures.push(Failure::new(
                "capture",
                pointer.as_str(),
                format!("a value to capture as `{name}`"),
                "absent",
            )),
        }
    }
    failures
}

// --- protocol

/// The answer's Content-Type against the spec's documented rules for its format (Huawei
/// answers are JSON).
fn content_type_check(service: &Service, answer: &Answer, format: Option<Format>) -> Vec<Failure> {
    let header = answer
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    check::content_type::check(
        &service.spec.content_types,
        format.unwrap_or(Format::Json),
        answer.status,
        header.as_deref(),
    )
}

/// Where the request id is also in the body (`request_id.mirror`), it is the header's.
fn request_id_mirror_check(service: &Service, answer: &Answer, body: &Value) -> Option<Failure> {
    let rule = &service.spec.request_id;
    let (Some(name), Some(pointer)) = (&rule.header, &rule.mirror) else {
        return None;
    };
    let header = answer
        .headers
        .get(name.as_str())
        .and_then(|v| v.to_str().ok());
    check::request_id::check_mirror(name, header, body, pointer)
}

/// A probe step: asks the provider-state endpoint whether the resource (in its scope) exists.
async fn run_probe(
    step: &Step,
    probe: &crate::case::model::Probe,
    vars: &Vars,
    states: Option<&dyn ProviderStates>,
) -> StepEnd {
    let want = step.expect.exists;
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
    match (probed, want) {
        (Ok(got), Some(want)) if got == want => StepEnd::Passed,
        (Ok(got), want) => StepEnd::Failed(
            vec![Failure::new(
                "probe",
                format!("{} {id}", probe.resource),
                if want == Some(true) { "exists" } else { "gone" },
                if got { "exists" } else { "gone" },
            )],
            None,
        ),
        (Err(StateError::Unsupported(why)), _) => StepEnd::Skipped(format!("probe: {why}")),
        (Err(StateError::Failed(why)), _) => StepEnd::Failed(
            vec![Failure::new("probe", &probe.resource, "an answer", why)],
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn any_of(codes: &[&str]) -> CodeExpect {
        CodeExpect::AnyOf {
            any_of: codes.iter().map(|c| c.to_string()).collect(),
            why: "w".into(),
        }
    }

    #[test]
    fn error_code_any_of_accepts_each_listed_code_and_nothing_else() {
        let want = any_of(&["InvalidAction.NotFound", "InvalidApi.NotFound"]);
        let vars = Vars::new();
        for code in ["InvalidAction.NotFound", "InvalidApi.NotFound"] {
            let body = json!({"Code": code});
            assert!(error_code_check("error code", &want, &body, "/Code", &vars).is_none());
        }
        let body = json!({"Code": "InvalidSourceId.NotFound"});
        let f = error_code_check("error code", &want, &body, "/Code", &vars).expect("a failure");
        assert_eq!(f.at, "/Code");
        assert_eq!(
            f.expected,
            r#"one of ["InvalidAction.NotFound","InvalidApi.NotFound"]"#
        );
        assert_eq!(f.actual, r#""InvalidSourceId.NotFound""#);
        let f = error_code_check("error code", &want, &json!({}), "/Code", &vars).expect("absent");
        assert_eq!(f.actual, "absent");
    }
}
