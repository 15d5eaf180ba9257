//! The provider-state protocol (Pact style): before a case the harness POSTs
//! `{"action":"setup","state":NAME,"params":{...}}` to the target's provider-state URL and gets
//! back a JSON object of values (and maybe `credentials`); `"action":"teardown"` (with the
//! values setup returned) after; `{"action":"probe","resource":R,"id":ID}` → `{"exists":bool}`
//! (with `"scope":{"project_id":…}` for a resource that lives in a project).
//!
//! The runner asks any [`ProviderStates`]: the HTTP client above ([`StatesClient`]) by default,
//! or one a library user gives the target ([`super::Target::with_provider_states`]) to set
//! states up in-process, without serving the endpoint.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::auth::Secret;
use crate::credentials::CaseCredentials;

/// What a setup handed back.
#[derive(Debug, Clone, Default)]
pub struct SetupResult {
    pub values: Map<String, Value>,
    pub credentials: Option<CaseCredentials>,
}

impl SetupResult {
    /// A setup's answer: the values it yields, and `credentials` (`access_key_id`,
    /// `access_key_secret`, `token`) taken out of them when present.
    pub fn from_answer(mut values: Map<String, Value>) -> Result<SetupResult, StateError> {
        let credentials = match values.remove("credentials") {
            None | Some(Value::Null) => None,
            Some(Value::Object(c)) => {
                let get = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
                Some(CaseCredentials {
                    access_key_id: get("access_key_id"),
                    secret: get("access_key_secret").map(Secret::new),
                    token: get("token").map(Secret::new),
                })
            }
            Some(_) => {
                return Err(StateError::Failed(
                    "provider-state `credentials` must be an object".into(),
                ))
            }
        };
        Ok(SetupResult {
            values,
            credentials,
        })
    }
}

/// What a provider-state call ends in, later.
pub type StateFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StateError>> + Send + 'a>>;

/// Puts a target into named situations before a case and takes them away after (Pact's
/// provider states). `params` carry the case's parameters and `service`.
pub trait ProviderStates: Send + Sync {
    /// Sets up `state`: the values it yields (the case's variables), and credentials for a
    /// caller state. [`StateError::Unsupported`] skips the case.
    fn setup<'a>(
        &'a self,
        state: &'a str,
        params: &'a Map<String, Value>,
    ) -> StateFuture<'a, SetupResult>;

    /// Removes what `setup` made (`values` are what it yielded). Idempotent.
    fn teardown<'a>(
        &'a self,
        state: &'a str,
        params: &'a Map<String, Value>,
        values: &'a Map<String, Value>,
    ) -> StateFuture<'a, ()>;

    /// Whether a resource exists (in `scope`, e.g. its project, when not empty): probe steps.
    fn probe<'a>(
        &'a self,
        resource: &'a str,
        id: &'a str,
        scope: &'a Map<String, Value>,
    ) -> StateFuture<'a, bool>;
}

/// A [`ProviderStates`] a target holds in place of its provider-state URL.
#[derive(Clone)]
pub struct SharedStates(pub Arc<dyn ProviderStates>);

impl std::fmt::Debug for SharedStates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedStates(..)")
    }
}

impl ProviderStates for SharedStates {
    fn setup<'a>(
        &'a self,
        state: &'a str,
        params: &'a Map<String, Value>,
    ) -> StateFuture<'a, SetupResult> {
        self.0.setup(state, params)
    }

    fn teardown<'a>(
        &'a self,
        state: &'a str,
        params: &'a Map<String, Value>,
        values: &'a Map<String, Value>,
    ) -> StateFuture<'a, ()> {
        self.0.teardown(state, params, values)
    }

    fn probe<'a>(
        &'a self,
        resource: &'a str,
        id: &'a str,
        scope: &'a Map<String, Value>,
    ) -> StateFuture<'a, bool> {
        self.0.probe(resource, id, scope)
    }
}

/// Why a state could not be used: the target does not offer it (skip the case) or failed.
#[derive(Debug, Clone, PartialEq)]
pub enum StateError {
    /// The target refused the state or its parameters (4xx): skip with the reason.
    Unsupported(String),
    /// Unreachable, 5xx, or an answer that is not the protocol.
    Failed(String),
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateError::Unsupported(why) | StateError::Failed(why) => f.write_str(why),
        }
    }
}

/// The HTTP provider-state client: POSTs to the target's provider-state URL.
pub struct StatesClient<'a> {
    pub client: &'a reqwest::Client,
    pub url: &'a url::Url,
    pub timeout: std::time::Duration,
    pub max_answer_bytes: usize,
    /// Applied to an answer before any of it is shown.
    pub redactor: &'a super::Redactor,
}

impl StatesClient<'_> {
    fn endpoint(&self) -> String {
        super::transport::without_userinfo(self.url)
    }

    async fn post(&self, body: &Value) -> Result<Value, StateError> {
        let resp = self
            .client
            .post(self.url.clone())
            .timeout(self.timeout)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| {
                StateError::Failed(format!(
                    "provider-state endpoint {}: {}",
                    self.endpoint(),
                    super::transport::transport_error(&e)
                ))
            })?;
        let status = resp.status().as_u16();
        let bytes = super::read::read_limited(resp, self.max_answer_bytes)
            .await
            .map_err(|e| {
                StateError::Failed(format!(
                    "provider-state endpoint {} answered {status} with {e}",
                    self.endpoint()
                ))
            })?;
        // Shown redacted, then cut: no fragment of a secret in a message.
        let shown = || crate::check::body::shown(&self.redactor.redact_bytes(bytes.clone()));
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| {
            StateError::Failed(format!(
                "provider-state endpoint answered {status} with a body that is not JSON: {}",
                shown()
            ))
        })?;
        match status {
            200..=299 if value.is_object() => Ok(value),
            200..=299 => Err(StateError::Failed(format!(
                "provider-state endpoint answered {status} with {}, not a JSON object",
                shown()
            ))),
            400..=499 => {
                let why = match value.get("error").and_then(Value::as_str) {
                    Some(e) => crate::check::body::shown(
                        &self
                            .redactor
                            .redact_bytes(bytes::Bytes::copy_from_slice(e.as_bytes())),
                    ),
                    None => shown(),
                };
                Err(StateError::Unsupported(format!(
                    "the target cannot set this up ({status}): {why}"
                )))
            }
            _ => Err(StateError::Failed(format!(
                "provider-state endpoint answered {status}: {}",
                shown()
            ))),
        }
    }

    async fn post_setup(
        &self,
        state: &str,
        params: &Map<String, Value>,
    ) -> Result<SetupResult, StateError> {
        let answer = self
            .post(&json!({"action": "setup", "state": state, "params": params}))
            .await?;
        match answer {
            Value::Object(values) => SetupResult::from_answer(values),
            _ => Err(StateError::Failed("post checks for an object".into())),
        }
    }

    async fn post_teardown(
        &self,
        state: &str,
        params: &Map<String, Value>,
        values: &Map<String, Value>,
    ) -> Result<(), StateError> {
        self.post(
            &json!({"action": "teardown", "state": state, "params": params, "values": values}),
        )
        .await
        .map(|_| ())
    }

    /// Whether the resource exists; `scope` (where it lives: its project) is sent when not empty.
    async fn post_probe(
        &self,
        resource: &str,
        id: &str,
        scope: &Map<String, Value>,
    ) -> Result<bool, StateError> {
        let mut body = json!({"action": "probe", "resource": resource, "id": id});
        if !scope.is_empty() {
            body["scope"] = Value::Object(scope.clone());
        }
        let v = self.post(&body).await?;
        v.get("exists").and_then(Value::as_bool).ok_or_else(|| {
            let shown = crate::check::body::shown(self.redactor.redact(&v.to_string()).as_bytes());
            StateError::Failed(format!("probe answer {shown} has no boolean `exists`"))
        })
    }
}

impl ProviderStates for StatesClient<'_> {
    fn setup<'a>(
        &'a self,
        state: &'a str,
        params: &'a Map<String, Value>,
    ) -> StateFuture<'a, SetupResult> {
        Box::pin(self.post_setup(state, params))
    }

    fn teardown<'a>(
        &'a self,
        state: &'a str,
        params: &'a Map<String, Value>,
        values: &'a Map<String, Value>,
    ) -> StateFuture<'a, ()> {
        Box::pin(self.post_teardown(state, params, values))
    }

    fn probe<'a>(
        &'a self,
        resource: &'a str,
        id: &'a str,
        scope: &'a Map<String, Value>,
    ) -> StateFuture<'a, bool> {
        Box::pin(self.post_probe(resource, id, scope))
    }
}
