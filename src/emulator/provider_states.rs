//! `POST /__conform/provider-states`: putting the emulators into named situations.
//!
//! - `{"action":"setup","state":NAME,"params":{…,"service":SERVICE}}` → 200 with the values
//!   the spec's `returns` names (fresh, unique ids every time, so cases can run concurrently),
//!   plus `"credentials": {"access_key_id","access_key_secret","token"}` for
//!   `caller lacks permission`. `service` may be left out when only one service has the state.
//! - `{"action":"teardown","state":NAME,"params":{…},"values":{…}}` → 200 `{}`: removes what
//!   setup made (the resources named by `values`, with what depends on them, and the identity
//!   in `values.credentials`). Idempotent.
//! - `{"action":"probe","resource":KIND,"id":ID}` → 200 `{"exists":bool}`; `KIND` is a
//!   resource name of the specs (`source_server`, `replication_job`, `intermediate_instance`,
//!   `migration_task`, `app_server`, …). An optional `"scope": {"project_id": P}` (a project
//!   naming of the resource's `owner`) asks whether it exists in that project.
//!
//! Unknown states, actions or resources and parameters the spec does not allow → 400
//! `{"error": "…"}`. Parameters are checked against the spec's `provider_states`: names, types,
//! required ones, and allowed values (`values` or `values_of`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::request::{random_chars, ALNUM, UPPER_ALNUM};
use super::rules::values_equal;
use super::service_emulator::{Made, Setup};
use super::store::Identity;
use super::{EmulatorEvent, Shared};
use crate::spec::model::{ParamType, Protocol, ProviderState, StateParam};
use crate::spec::Service;

/// The state that sets up an identity without permission.
pub const CALLER_LACKS_PERMISSION: &str = "caller lacks permission";
/// The state that sets up an identity of another account, with every permission there.
pub const CALLER_OF_ANOTHER_ACCOUNT: &str = "caller of another account";

fn json_response(status: StatusCode, body: Value) -> Response {
    let mut r = Response::new(Body::from(serde_json::to_vec(&body).unwrap_or_default()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    r
}

fn bad(message: impl Into<String>) -> Response {
    json_response(StatusCode::BAD_REQUEST, json!({"error": message.into()}))
}

pub(super) async fn serve(State(sh): State<Arc<Shared>>, req: axum::extract::Request) -> Response {
    if req.method() != Method::POST {
        let mut r = json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": format!("{} takes POST", super::STATES_PATH)}),
        );
        r.headers_mut().insert(
            axum::http::header::ALLOW,
            axum::http::HeaderValue::from_static("POST"),
        );
        return r;
    }
    let read = axum::body::to_bytes(req.into_body(), super::request::BODY_LIMIT);
    let body = match tokio::time::timeout(sh.body_read_timeout, read).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => return bad("the body is unreadable or larger than 1 MiB"),
        Err(_) => return bad("the body did not arrive in time"),
    };
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return bad("the body must be a JSON object"),
        Err(e) => return bad(format!("the body is not JSON: {e}")),
    };
    let result = match request.get("action").and_then(Value::as_str) {
        Some("setup") => setup(&sh, &request),
        Some("teardown") => teardown(&sh, &request),
        Some("probe") => probe(&sh, &request),
        Some(other) => Err(format!(
            "unknown action `{other}`: use setup, teardown or probe"
        )),
        None => Err("`action` (setup, teardown or probe) is required".to_string()),
    };
    sh.emit(|| {
        let what = request.get("state").or_else(|| request.get("resource"));
        EmulatorEvent::ProviderState {
            action: request
                .get("action")
                .and_then(Value::as_str)
                .unwrap_or("-")
                .to_string(),
            what: what.and_then(Value::as_str).unwrap_or("-").to_string(),
            status: if result.is_ok() { 200 } else { 400 },
        }
    });
    match result {
        Ok(v) => json_response(StatusCode::OK, v),
        Err(e) => bad(e),
    }
}

/// The provider states of a running emulator, reached in-process rather than over HTTP: the
/// same checks and the same values as the endpoint's setup, teardown and probe.
#[derive(Clone)]
pub struct EmulatorStates {
    sh: Arc<Shared>,
}

/// Why the emulator refuses a provider-state request (the endpoint's 400 `error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StateRefusal(pub String);

impl EmulatorStates {
    pub(super) fn new(sh: Arc<Shared>) -> EmulatorStates {
        EmulatorStates { sh }
    }

    /// Sets `state` up: the values it yields (with `credentials` for a caller state).
    pub fn setup(
        &self,
        state: &str,
        params: &Map<String, Value>,
    ) -> Result<Map<String, Value>, StateRefusal> {
        let request = json!({"action": "setup", "state": state, "params": params});
        match setup(&self.sh, &request).map_err(StateRefusal)? {
            Value::Object(values) => Ok(values),
            _ => Ok(Map::new()),
        }
    }

    /// Removes what a setup of `state` made (`values`: what it yielded).
    pub fn teardown(
        &self,
        state: &str,
        params: &Map<String, Value>,
        values: &Map<String, Value>,
    ) -> Result<(), StateRefusal> {
        let request =
            json!({"action": "teardown", "state": state, "params": params, "values": values});
        teardown(&self.sh, &request)
            .map(|_| ())
            .map_err(StateRefusal)
    }

    /// Whether a resource exists (in `scope`, when not empty).
    pub fn probe(
        &self,
        resource: &str,
        id: &str,
        scope: &Map<String, Value>,
    ) -> Result<bool, StateRefusal> {
        let mut request = json!({"action": "probe", "resource": resource, "id": id});
        if !scope.is_empty() {
            request["scope"] = Value::Object(scope.clone());
        }
        let answer = probe(&self.sh, &request).map_err(StateRefusal)?;
        Ok(answer
            .get("exists")
            .and_then(Value::as_bool)
            .unwrap_or(false))
    }
}

/// The service a request means: `params.service`, else the only service defining `state`.
fn find_service<'a>(
    sh: &'a Shared,
    state: &str,
    params: &Map<String, Value>,
) -> Result<(&'a Service, &'a ProviderState), String> {
    if let Some(name) = params.get("service") {
        let name = name.as_str().ok_or("`params.service` must be a string")?;
        let service = sh.service(name).ok_or_else(|| {
            format!(
                "unknown service `{name}`; this emulator serves: {}",
                sh.catalog
                    .services
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let ps = service
            .provider_state(state)
            .ok_or_else(|| unknown_state(service, state))?;
        return Ok((service, ps));
    }
    let found: Vec<(&Service, &ProviderState)> = sh
        .catalog
        .services
        .values()
        .filter_map(|s| s.provider_state(state).map(|p| (s, p)))
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!("unknown provider state `{state}`")),
        many => Err(format!(
            "provider state `{state}` is defined by {}: name one in `params.service`",
            many.iter()
                .map(|(s, _)| s.name())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn unknown_state(service: &Service, state: &str) -> String {
    format!(
        "service `{}` has no provider state `{state}`; it has: {}",
        service.name(),
        service
            .spec
            .provider_states
            .iter()
            .map(|s| format!("`{}`", s.name))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// A parameter value typed per the spec (lenient: `"true"`, `"500"` are accepted).
fn coerce(ty: ParamType, v: &Value) -> Option<Value> {
    match (ty, v) {
        (ParamType::String, Value::String(_)) => Some(v.clone()),
        (ParamType::String, Value::Number(_) | Value::Bool(_)) => {
            Some(Value::String(v.to_string()))
        }
        (ParamType::Boolean, Value::Bool(_)) => Some(v.clone()),
        (ParamType::Boolean, Value::String(s)) => super::rules::typed_param(ty, s),
        (ParamType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Some(v.clone()),
        (ParamType::Integer, Value::String(s)) => super::rules::typed_param(ty, s),
        _ => None,
    }
}

fn check_params(
    service: &Service,
    state: &ProviderState,
    given: &Map<String, Value>,
) -> Result<BTreeMap<String, Value>, String> {
    let mut typed = BTreeMap::new();
    let takes = || {
        if state.params.is_empty() {
            "it takes none".to_string()
        } else {
            format!(
                "it takes: {}",
                state.params.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        }
    };
    for (name, value) in given {
        if name == "service" {
            continue;
        }
        let Some(p) = state.params.get(name) else {
            return Err(format!(
                "state `{}` has no parameter `{name}`; {}",
                state.name,
                takes()
            ));
        };
        if value.is_null() {
            continue;
        }
        typed.insert(name.clone(), check_value(service, state, name, p, value)?);
    }
    for (name, p) in &state.params {
        if p.required && !typed.contains_key(name) {
            return Err(format!("state `{}` needs parameter `{name}`", state.name));
        }
    }
    Ok(typed)
}

fn check_value(
    service: &Service,
    state: &ProviderState,
    name: &str,
    p: &StateParam,
    value: &Value,
) -> Result<Value, String> {
    let typed = coerce(p.ty, value).ok_or_else(|| {
        format!(
            "state `{}`: parameter `{name}` must be a {}, got {value}",
            state.name,
            format!("{:?}", p.ty).to_ascii_lowercase()
        )
    })?;
    let allowed = service.state_param_values(p);
    if !allowed.is_empty()
        && !allowed.iter().any(|a| {
            values_equal(a, &typed) || coerce(p.ty, a).is_some_and(|a| values_equal(&a, &typed))
        })
    {
        return Err(format!(
            "state `{}`: parameter `{name}` must be one of {}, got {value}",
            state.name,
            Value::Array(allowed.to_vec())
        ));
    }
    Ok(typed)
}

/// The identity a caller state hands out: without permission in the home account, or with
/// every permission in a fresh account of its own. `None` for the other states.
fn caller_state_identity(service: &Service, state: &str) -> Option<Identity> {
    match state {
        CALLER_LACKS_PERMISSION => Some(fresh_identity(service)),
        CALLER_OF_ANOTHER_ACCOUNT => Some(Identity {
            permitted: true,
            account: format!("account-{}", random_chars(ALNUM, 16)),
            ..fresh_identity(service)
        }),
        _ => None,
    }
}

/// A fresh identity in the shape of the service's platform, without permission.
fn fresh_identity(service: &Service) -> Identity {
    let (access_key_id, secret) = match service.spec.protocol {
        Protocol::AlibabaRpc => (
            format!("LTAI{}", random_chars(ALNUM, 20)),
            random_chars(ALNUM, 30),
        ),
        Protocol::HuaweiRest => (random_chars(UPPER_ALNUM, 20), random_chars(ALNUM, 40)),
    };
    Identity {
        access_key_id,
        secret,
        token: format!("MII{}", random_chars(ALNUM, 61)),
        permitted: false,
        account: super::store::HOME_ACCOUNT.to_string(),
    }
}

/// Sets attributes named by `values_of` parameters on the records of their resource.
fn apply_values_of(setup: &Setup<'_>, made: &mut Made) {
    for (name, p) in &setup.state.params {
        let (Some(value), Some((kind, attr))) = (
            setup.params.get(name),
            p.values_of.as_deref().and_then(|v| v.split_once('.')),
        ) else {
            continue;
        };
        for r in made.records.iter_mut().filter(|r| r.kind == kind) {
            r.attrs.insert(attr.to_string(), value.clone());
        }
    }
}

fn setup(sh: &Shared, request: &Value) -> Result<Value, String> {
    let state_name = request
        .get("state")
        .and_then(Value::as_str)
        .ok_or("`state` (a string) is required")?;
    let empty = Map::new();
    let params = match request.get("params") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => return Err("`params` must be an object".into()),
    };
    let (service, state) = find_service(sh, state_name, params)?;
    let setup = Setup {
        service,
        state,
        params: check_params(service, state, params)?,
    };
    // Short random ids can collide: make everything again until it all fits.
    for _ in 0..64 {
        let made = make(service, &setup)?;
        if let Some(made) = store_made(sh, made) {
            return Ok(answer_of(state, made));
        }
    }
    Err(format!(
        "could not make fresh ids for `{}`: too many resources of that shape exist",
        state.name
    ))
}

/// What a state makes: the caller identity of a caller state, or what the service's emulator
/// makes, with the values the request gave; an error when the spec's `returns` are not all made.
fn make(service: &Service, setup: &Setup<'_>) -> Result<Made, String> {
    let state = setup.state;
    let mut made = if let Some(identity) = caller_state_identity(service, &state.name) {
        Made {
            identity: Some(identity),
            ..Made::default()
        }
    } else {
        let emulator = super::services::emulator_of(service).ok_or_else(|| {
            format!(
                "the emulator cannot set up states of service `{}`",
                service.name()
            )
        })?;
        emulator.setup_state(setup)?
    };
    apply_values_of(setup, &mut made);
    let missing: Vec<&String> = state
        .returns
        .iter()
        .filter(|r| !made.values.contains_key(*r))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the emulator's `{}` does not make {} (the spec says it returns {})",
            state.name,
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", "),
            state.returns.join(", ")
        ));
    }
    Ok(made)
}

/// Stores what was made, all or nothing: `None` when one of its ids is taken already.
fn store_made(sh: &Shared, mut made: Made) -> Option<Made> {
    let stored = sh.store.with(|t| {
        if made.records.iter().any(|r| t.contains(&r.kind, &r.id)) {
            return false;
        }
        for r in made.records.drain(..) {
            // Checked above, under the same lock.
            let _ = t.insert(r);
        }
        if let Some(identity) = made.identity.clone() {
            t.add_identity(identity);
        }
        true
    });
    stored.then_some(made)
}

/// The state endpoint's answer: the values the spec says the state returns, and the caller's
/// credentials when it made an identity.
fn answer_of(state: &ProviderState, made: Made) -> Value {
    let mut out = Map::new();
    for name in &state.returns {
        if let Some(v) = made.values.get(name) {
            out.insert(name.clone(), v.clone());
        }
    }
    if let Some(identity) = made.identity {
        out.insert(
            "credentials".into(),
            json!({
                "access_key_id": identity.access_key_id,
                "access_key_secret": identity.secret,
                "token": identity.token,
            }),
        );
    }
    Value::Object(out)
}

fn teardown(sh: &Shared, request: &Value) -> Result<Value, String> {
    let state_name = request
        .get("state")
        .and_then(Value::as_str)
        .ok_or("`state` (a string) is required")?;
    let empty = Map::new();
    let params = request
        .get("params")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let (service, _) = find_service(sh, state_name, params)?;
    let values = match request.get("values") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => return Err("`values` must be an object (what setup returned)".into()),
    };
    let kinds: Vec<&String> = service.spec.resources.keys().collect();
    sh.store.with(|t| {
        for (name, value) in values {
            if name == "credentials" {
                if let Some(ak) = value.get("access_key_id").and_then(Value::as_str) {
                    t.remove_identity(ak);
                }
                continue;
            }
            // Every id, the empty one too: a state set up with it must not outlive its case.
            let Some(id) = value.as_str() else {
                continue;
            };
            for kind in &kinds {
                t.remove_cascade(kind, id);
            }
        }
    });
    Ok(json!({}))
}

fn probe(sh: &Shared, request: &Value) -> Result<Value, String> {
    let resource = request
        .get("resource")
        .and_then(Value::as_str)
        .ok_or("`resource` (a string) is required")?;
    let id = request
        .get("id")
        .and_then(Value::as_str)
        .ok_or("`id` (a string) is required")?;
    let known = sh
        .catalog
        .services
        .values()
        .any(|s| s.spec.resources.contains_key(resource));
    if !known {
        let mut all: Vec<&String> = sh
            .catalog
            .services
            .values()
            .flat_map(|s| s.spec.resources.keys())
            .collect();
        all.sort();
        all.dedup();
        return Err(format!(
            "unknown resource `{resource}`; the specs define: {}",
            all.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let projects = probe_scope(request)?;
    // In its scope: a resource of a project is there only in that project.
    let exists = sh.store.get(resource, id).is_some_and(|r| {
        projects
            .iter()
            .all(|p| r.project.as_deref().is_none_or(|own| own == *p))
    });
    Ok(json!({"exists": exists}))
}

/// The projects a probe's `scope` names. Every value is compared with the project the
/// resource was made in, whatever the (possibly mutated) spec says: a probe is the provider's
/// view, and lint checks the keys of the case files' scopes.
fn probe_scope(request: &Value) -> Result<Vec<String>, String> {
    let scope = match request.get("scope") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(m)) => m,
        Some(_) => return Err("`scope` must be an object (e.g. {\"project_id\": …})".into()),
    };
    scope
        .iter()
        .map(|(name, value)| {
            value
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("scope `{name}` must be a string"))
        })
        .collect()
}
