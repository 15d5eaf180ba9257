//! Built-in stateful emulators of the four APIs, all on one HTTP server.
//!
//! The emulators answer from the spec data they are given ([`EmulatorConfig::catalog`]), not
//! from constants: routing (Alibaba `Action` / `x-acs-action`, Huawei path templates and
//! methods), parameter checks (`required`, `type`, `min_length`/`max_length`), which signing
//! schemes are verified (`signing`; an empty list accepts unsigned requests), every error's
//! status, code and message (rule outcomes by code, fixed checks by [`ErrorRole`]), response
//! formats and XML roots, and the state rules with their effects. A mutant is made by handing
//! the emulator altered spec data, or by wrapping its answers with
//! [`EmulatorConfig::answer_layer`].
//!
//! Layout: `alibaba_smc` (RPC, V1/V3 signatures, JSON/XML), `huawei` (REST routing and the API
//! gateway's AK/SK and token checks, shared by `huawei_sms` and `huawei_workspace`), `rules`
//! (state rules over facts), `store` (resources), `tenancy` (who a request acts for: resource
//! owners and operation authorization), `provider_states` (the `/__conform/provider-states`
//! endpoint).
//!
//! Provider states: `POST /__conform/provider-states` with
//! `{"action":"setup","state":NAME,"params":{…,"service":SERVICE}}` answers the state's
//! `returns` (and `credentials` for `caller lacks permission`);
//! `{"action":"teardown","state":NAME,"params":{…},"values":{…what setup returned}}` removes
//! it; `{"action":"probe","resource":KIND,"id":ID}` answers `{"exists":bool}`.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::auth::{KeyStore, NonceCache, NonceStore};
use crate::diag::Diagnostics;
use crate::spec::model::{ErrorRole, Protocol};
use crate::spec::{Catalog, Service};

mod alibaba_smc;
pub mod answer;
pub mod embedded;
mod huawei;
mod huawei_sms;
mod huawei_workspace;
pub mod log;
mod params;
mod provider_states;
pub mod request;
pub mod rules;
pub mod server;
mod service_emulator;
mod services;
pub mod store;
pub mod tenancy;
#[cfg(test)]
mod tests;

pub use crate::credentials::EmulatorCredentials;
pub use answer::{AnswerContext, EmulatorAnswer, Format};
pub use log::{EmulatorEvent, EventSink};
pub use provider_states::{EmulatorStates, StateRefusal};
use request::Incoming;
use store::Store;

/// Path of the provider-state endpoint.
pub const STATES_PATH: &str = "/__conform/provider-states";

/// Rewrites an answer before it goes out (mutants).
pub type AnswerLayer = Arc<dyn Fn(&AnswerContext, EmulatorAnswer) -> EmulatorAnswer + Send + Sync>;

/// What an emulator runs on.
#[derive(Clone)]
pub struct EmulatorConfig {
    /// The spec data every behaviour comes from.
    pub catalog: Arc<Catalog>,
    pub credentials: EmulatorCredentials,
    /// Applied to every answer of the emulated APIs (not to the provider-state endpoint).
    pub answer_layer: Option<AnswerLayer>,
    /// Receives an event per request (method, path, status, service/operation, duration),
    /// per provider-state request, and the first gap in the spec's errors. None: silent.
    pub on_event: Option<EventSink>,
    /// Timeouts and the connection limit of the server.
    pub limits: server::ServerLimits,
}

impl EmulatorConfig {
    pub fn new(catalog: Arc<Catalog>) -> EmulatorConfig {
        EmulatorConfig {
            catalog,
            credentials: EmulatorCredentials::default(),
            answer_layer: None,
            on_event: None,
            limits: server::ServerLimits::default(),
        }
    }

    /// The bundled specs with the default credentials.
    pub fn bundled() -> Result<EmulatorConfig, Diagnostics> {
        Ok(EmulatorConfig::new(Arc::new(Catalog::bundled()?)))
    }
}

impl Default for EmulatorConfig {
    /// The bundled specs ([`Catalog::bundled`]); they are checked by the test suite, so a
    /// failure here is a broken build.
    fn default() -> Self {
        EmulatorConfig::bundled().unwrap_or_else(|d| panic!("the bundled specs do not load:\n{d}"))
    }
}

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field(
                "services",
                &self.catalog.services.keys().collect::<Vec<_>>(),
            )
            .field("credentials", &self.credentials)
            .field("answer_layer", &self.answer_layer.is_some())
            .field("on_event", &self.on_event.is_some())
            .finish()
    }
}

/// A path template segment.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Literal(String),
    Param(String),
}

#[derive(Debug, Clone)]
struct HuaweiRoute {
    service: String,
    operation: String,
    segments: Vec<Seg>,
}

/// Routing tables, built once from the catalogue.
#[derive(Debug, Default)]
struct Routes {
    alibaba_services: Vec<String>,
    /// Action → (service, operation).
    actions: std::collections::HashMap<String, (String, String)>,
    huawei_services: Vec<String>,
    huawei: Vec<HuaweiRoute>,
}

impl Routes {
    fn build(catalog: &Catalog) -> Routes {
        let mut routes = Routes::default();
        for (name, service) in &catalog.services {
            match service.spec.protocol {
                Protocol::AlibabaRpc => {
                    routes.alibaba_services.push(name.clone());
                    for (op_name, op) in &service.operations {
                        let action = op
                            .spec
                            .request
                            .action
                            .clone()
                            .unwrap_or_else(|| op_name.clone());
                        routes
                            .actions
                            .entry(action)
                            .or_insert((name.clone(), op_name.clone()));
                    }
                }
                Protocol::HuaweiRest => {
                    routes.huawei_services.push(name.clone());
                    for (op_name, op) in &service.operations {
                        let Some(path) = &op.spec.request.path else {
                            continue;
                        };
                        let segments = split_path(path)
                            .map(
                                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                                    Some(p) => Seg::Param(p.to_string()),
                                    None => Seg::Literal(s.to_string()),
                                },
                            )
                            .collect();
                        routes.huawei.push(HuaweiRoute {
                            service: name.clone(),
                            operation: op_name.clone(),
                            segments,
                        });
                    }
                }
            }
        }
        routes
    }
}

/// Segments of a path after its leading `/` (`/v3/tasks/` → `v3`, `tasks`, ``).
fn split_path(path: &str) -> impl Iterator<Item = &str> {
    path.strip_prefix('/').unwrap_or(path).split('/')
}

/// State shared by all requests.
struct Shared {
    catalog: Arc<Catalog>,
    creds: EmulatorCredentials,
    layer: Option<AnswerLayer>,
    on_event: Option<EventSink>,
    /// Whether a stand-in error was reported already (once per emulator).
    reported_missing_role: AtomicBool,
    store: Store,
    nonces: NonceCache,
    routes: Routes,
    body_read_timeout: Duration,
}

impl Shared {
    fn new(config: EmulatorConfig) -> Shared {
        Shared {
            routes: Routes::build(&config.catalog),
            catalog: config.catalog,
            creds: config.credentials,
            layer: config.answer_layer,
            on_event: config.on_event,
            reported_missing_role: AtomicBool::new(false),
            body_read_timeout: config.limits.body_read_timeout,
            store: Store::new(),
            nonces: NonceCache::default(),
        }
    }

    fn service(&self, name: &str) -> Option<&Service> {
        self.catalog.service(name)
    }

    /// Hands an event to the sink, if there is one (the event is made only then).
    fn emit(&self, event: impl FnOnce() -> EmulatorEvent) {
        if let Some(sink) = &self.on_event {
            sink(&event());
        }
    }

    /// Reports the first stand-in error (the spec has no error for a role).
    fn note_stand_in(&self, ctx: &AnswerContext) {
        let stand_in = ctx
            .error_code
            .as_deref()
            .is_some_and(|c| c.starts_with(answer::STAND_IN_PREFIX));
        if stand_in
            && self.on_event.is_some()
            && !self.reported_missing_role.swap(true, Ordering::Relaxed)
        {
            let role = ctx.error_code.as_deref().unwrap_or_default();
            self.emit(|| EmulatorEvent::MissingErrorRole {
                service: ctx.service.clone(),
                role: role[answer::STAND_IN_PREFIX.len()..].to_string(),
            });
        }
    }

    /// The nonce memory a scheme's verifier uses: none when the spec says it has no nonce.
    fn nonces_for(&self, signing: &crate::spec::model::Signing) -> &dyn NonceStore {
        if signing.nonce {
            &self.nonces
        } else {
            &NoNonceMemory
        }
    }
}

/// For schemes whose spec entry has no `nonce`: every nonce is a first use.
struct NoNonceMemory;

impl NonceStore for NoNonceMemory {
    fn first_use(&self, _nonce: &str, _now: chrono::DateTime<chrono::Utc>) -> bool {
        true
    }
}

/// Secrets the emulators accept: the configured pair, then identities set up by provider
/// states (which authenticate but lack permission).
struct Keys<'a> {
    access_key_id: &'a str,
    secret: &'a str,
    store: &'a Store,
}

impl KeyStore for Keys<'_> {
    fn secret_for(&self, access_key_id: &str) -> Option<String> {
        if access_key_id == self.access_key_id {
            Some(self.secret.to_string())
        } else {
            self.store.identity_secret(access_key_id)
        }
    }
}

/// An answer with what it is for.
struct Handled {
    answer: EmulatorAnswer,
    ctx: AnswerContext,
}

fn dispatch(sh: &Shared, req: &Incoming) -> Handled {
    let root = req.path().is_empty() || req.path() == "/";
    if root && !sh.routes.alibaba_services.is_empty() {
        return alibaba_smc::handle(sh, req);
    }
    if !sh.routes.huawei_services.is_empty() {
        return huawei::handle(sh, req);
    }
    if !sh.routes.alibaba_services.is_empty() {
        return alibaba_smc::route_not_found(sh, req);
    }
    let request_id = request::uuid(false);
    Handled {
        answer: EmulatorAnswer {
            status: 404,
            headers: vec![
                ("Content-Type".into(), answer::JSON_CONTENT_TYPE.into()),
                ("X-Request-Id".into(), request_id.clone()),
            ],
            body: serde_json::to_vec(&serde_json::json!({"error": "no service is emulated"}))
                .unwrap_or_default()
                .into(),
        },
        ctx: AnswerContext {
            service: String::new(),
            operation: None,
            format: Format::Json,
            request_id,
            error_code: None,
            error_role: Some(ErrorRole::RouteNotFound),
        },
    }
}

fn into_response(answer: EmulatorAnswer) -> Response {
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in answer.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            headers.append(n, v);
        }
    }
    response
}

async fn serve_api(State(sh): State<Arc<Shared>>, req: axum::extract::Request) -> Response {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    // A body that does not arrive in time is treated as one too large: refused, not awaited.
    let body = tokio::time::timeout(
        sh.body_read_timeout,
        axum::body::to_bytes(body, request::BODY_LIMIT),
    )
    .await
    .ok()
    .and_then(Result::ok);
    let incoming = Incoming::new(parts, body);
    let Handled { mut answer, ctx } = dispatch(&sh, &incoming);
    if let Some(layer) = &sh.layer {
        answer = layer(&ctx, answer);
    }
    sh.note_stand_in(&ctx);
    sh.emit(|| answered(&incoming, answer.status, &ctx, started.elapsed()));
    into_response(answer)
}

fn answered(req: &Incoming, status: u16, ctx: &AnswerContext, took: Duration) -> EmulatorEvent {
    EmulatorEvent::Answered {
        method: req.method().to_string(),
        path: req.path().chars().take(200).collect(),
        status,
        error_code: ctx.error_code.clone(),
        service: Some(ctx.service.clone()).filter(|s| !s.is_empty()),
        operation: ctx.operation.clone(),
        took,
    }
}

/// The emulators' router: provider states at [`STATES_PATH`], everything else to the APIs.
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(STATES_PATH, any(provider_states::serve))
        .fallback(serve_api)
        .with_state(shared)
}

/// Starts emulators.
pub struct Emulator;

impl Emulator {
    /// Serves all the catalogue's services on `addr` (`127.0.0.1:0` for a free port) until
    /// [`RunningEmulator::shutdown`] or drop.
    pub async fn start(
        config: EmulatorConfig,
        addr: SocketAddr,
    ) -> std::io::Result<RunningEmulator> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let limits = config.limits;
        let shared = Arc::new(Shared::new(config));
        let app = router(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server::serve(listener, app, limits, async {
                let _ = rx.await;
            })
            .await;
            Ok(())
        });
        Ok(RunningEmulator {
            addr,
            shutdown: Some(tx),
            task: Some(task),
            shared,
        })
    }
}

/// A running emulator server.
pub struct RunningEmulator {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    shared: Arc<Shared>,
}

impl RunningEmulator {
    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/__conform/provider-states`
    pub fn states_url(&self) -> String {
        format!("{}{STATES_PATH}", self.base_url())
    }

    /// Its provider states, set up in-process (what [`STATES_PATH`] serves over HTTP).
    pub fn provider_states(&self) -> EmulatorStates {
        EmulatorStates::new(Arc::clone(&self.shared))
    }

    /// The emulator's store (for tests and diagnostics).
    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// Stops accepting connections and waits (up to 5 s) for requests in flight.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("addr", &self.addr)
            .finish()
    }
}

/// Why `conform emulate` cannot serve.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("unknown service `{name}`; the specs define: {known}")]
    UnknownService { name: String, known: String },
    #[error("the bundled specs do not load:\n{0}")]
    Specs(Diagnostics),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The catalogue restricted to `services` (all when empty); unknown names are an error.
pub fn select_services(catalog: &Catalog, services: &[String]) -> Result<Catalog, ServeError> {
    if services.is_empty() {
        return Ok(catalog.clone());
    }
    let mut selected = Catalog {
        services: Default::default(),
        seeds: catalog.seeds.clone(),
        sources: catalog.sources.clone(),
    };
    for name in services {
        let Some(s) = catalog.services.get(name) else {
            return Err(ServeError::UnknownService {
                name: name.clone(),
                known: catalog
                    .services
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        selected.services.insert(name.clone(), s.clone());
    }
    Ok(selected)
}

/// `conform emulate`: serves the bundled specs' services (or those named in `services`) on
/// `127.0.0.1:port` with `credentials` (overridden by the `CONFORM_EMULATOR_*` variables),
/// handing every event to `on_event`, until Ctrl-C (or SIGTERM).
pub async fn serve_standalone(
    port: u16,
    services: &[String],
    credentials: EmulatorCredentials,
    on_event: EventSink,
) -> Result<(), ServeError> {
    let catalog = Catalog::bundled().map_err(ServeError::Specs)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    serve_standalone_on(&catalog, addr, services, credentials, on_event).await
}

/// [`serve_standalone`] with the specs and the address given.
pub async fn serve_standalone_on(
    catalog: &Catalog,
    addr: SocketAddr,
    services: &[String],
    credentials: EmulatorCredentials,
    on_event: EventSink,
) -> Result<(), ServeError> {
    let catalog = select_services(catalog, services)?;
    let names: Vec<String> = catalog.services.keys().cloned().collect();
    let config = EmulatorConfig {
        credentials: credentials.with_env(),
        on_event: Some(Arc::clone(&on_event)),
        ..EmulatorConfig::new(Arc::new(catalog))
    };
    let listen = |source| ServeError::Listen { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(listen)?;
    let addr = listener.local_addr().map_err(listen)?;
    on_event(&EmulatorEvent::Listening {
        addr,
        services: names,
    });
    let limits = config.limits;
    let app = router(Arc::new(Shared::new(config)));
    server::serve(listener, app, limits, stop_signal()).await;
    on_event(&EmulatorEvent::Stopped);
    Ok(())
}

async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term => {},
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn path_segments_keep_empty_ones() {
        assert_eq!(
            split_path("/v3/tasks/").collect::<Vec<_>>(),
            vec!["v3", "tasks", ""]
        );
        assert_eq!(split_path("/").collect::<Vec<_>>(), vec![""]);
    }
}
