//! An optional observer of a trial's exchanges, for `conform record` and `conform parity`.
//!
//! The observer travels with the trial's task (a task-local), not in the run context: a run
//! that installs none pays one failed lookup per step, and the runner's signatures stay as
//! they are.

use std::future::Future;
use std::sync::Arc;

use crate::case::model::Step;
use crate::case::vars::Vars;

/// One answered request step, as received.
pub struct StepAnswer<'a> {
    /// The case's step (compare by address with the case's steps to name it).
    pub step: &'a Step,
    pub method: &'a str,
    /// The path without the query (a V1 query holds the signature).
    pub path: &'a str,
    /// The query and the body sent, to read back rendered parameter values (keep nothing else:
    /// a V1 query holds the signature).
    pub query: Option<&'a str>,
    pub sent_body: &'a [u8],
    pub status: u16,
    pub headers: &'a reqwest::header::HeaderMap,
    pub body: &'a [u8],
    /// The case's variables when the answer came (provider-state values, captures).
    pub vars: &'a Vars,
}

/// One probe step: whether the resource exists, or `None` when the probe got no answer.
pub struct ProbeAnswer<'a> {
    pub step: &'a Step,
    pub resource: &'a str,
    pub id: &'a str,
    pub exists: Option<bool>,
    pub vars: &'a Vars,
}

/// Sees each step of the trials run under [`observed`].
pub trait Observer: Send + Sync {
    fn answer(&self, answer: &StepAnswer<'_>);
    fn probe(&self, probe: &ProbeAnswer<'_>);
}

tokio::task_local! {
    static OBSERVER: Arc<dyn Observer>;
}

/// Runs `trial` (a future of the runner) with `observer` seeing its steps.
pub async fn observed<F: Future>(observer: Arc<dyn Observer>, trial: F) -> F::Output {
    OBSERVER.scope(observer, trial).await
}

pub(crate) fn answer(answer: StepAnswer<'_>) {
    let _ = OBSERVER.try_with(|o| o.answer(&answer));
}

pub(crate) fn probe(probe: ProbeAnswer<'_>) {
    let _ = OBSERVER.try_with(|o| o.probe(&probe));
}
