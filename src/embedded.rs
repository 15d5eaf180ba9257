//! The built-in emulators as a run target: started in-process on a loopback port
//! ([`crate::emulator::embedded`]) and described as a [`Target`]. This glue sits above both the
//! runner and the emulator, which know nothing of each other.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::credentials::credentials_of;
pub use crate::credentials::default_credentials;
pub use crate::emulator::embedded::EmbeddedEmulator;
use crate::emulator::{
    EmulatorConfig, EmulatorCredentials, EmulatorStates, RunningEmulator, StateRefusal,
};
use crate::run::states::{ProviderStates, SetupResult, StateError, StateFuture};
use crate::run::target::{ServiceTarget, SigningMode};
use crate::run::Target;
use crate::spec::model::Protocol;
use crate::spec::Catalog;

/// Why the embedded target is not there.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(transparent)]
    Start(crate::emulator::embedded::EmbeddedError),
    #[error("the emulators' address is not a URL: {0}")]
    Url(#[from] url::ParseError),
}

/// The target that the embedded emulator is: every service, signing as the current SDKs do.
pub fn target_for(
    running: &RunningEmulator,
    catalog: &Catalog,
    credentials: &EmulatorCredentials,
) -> Result<Target, EmbeddedError> {
    let base = url::Url::parse(&running.base_url())?;
    let states = url::Url::parse(&running.states_url())?;
    let services: BTreeMap<String, ServiceTarget> = catalog
        .services
        .values()
        .map(|s| {
            let signing = match s.spec.protocol {
                Protocol::AlibabaRpc => SigningMode::V3,
                Protocol::HuaweiRest => SigningMode::Aksk,
            };
            (
                s.name().to_string(),
                ServiceTarget {
                    base_url: base.clone(),
                    signing,
                    credentials: credentials_of(credentials, s.name()),
                    region: None,
                },
            )
        })
        .collect();
    Ok(Target {
        name: format!("embedded emulators at {}", running.base_url()),
        services,
        states_url: Some(states),
        provider_states: None,
        request_timeout: Duration::from_secs(10),
        deadline: Duration::from_secs(1800),
        allow_destructive: true,
        max_answer_bytes: crate::run::target::DEFAULT_MAX_ANSWER_BYTES,
    })
}

/// Starts the emulators of `config` and describes them as a target; the checks use `catalog`.
pub fn start_with(
    config: EmulatorConfig,
    catalog: &Catalog,
) -> Result<(EmbeddedEmulator, Target), EmbeddedError> {
    let credentials = config.credentials.clone();
    let emulator = EmbeddedEmulator::start(config).map_err(EmbeddedError::Start)?;
    let target = target_for(emulator.running(), catalog, &credentials)?;
    Ok((emulator, target))
}

/// Starts the emulators on `127.0.0.1:0` with the given specs.
pub async fn start(catalog: Arc<Catalog>) -> Result<(EmbeddedEmulator, Target), EmbeddedError> {
    start_with(EmulatorConfig::new(Arc::clone(&catalog)), &catalog)
}

/// The emulator's provider states as the runner asks for them, in-process.
impl ProviderStates for EmulatorStates {
    fn setup<'a>(
        &'a self,
        state: &'a str,
        params: &'a Map<String, Value>,
    ) -> StateFuture<'a, SetupResult> {
        let made = EmulatorStates::setup(self, state, params)
            .map_err(refused)
            .and_then(SetupResult::from_answer);
        Box::pin(std::future::ready(made))
    }

    fn teardown<'a>(
        &'a self,
        state: &'a str,
        params: &'a Map<String, Value>,
        values: &'a Map<String, Value>,
    ) -> StateFuture<'a, ()> {
        let done = EmulatorStates::teardown(self, state, params, values)
            .map_err(|e| StateError::Failed(format!("the emulator's teardown: {e}")));
        Box::pin(std::future::ready(done))
    }

    fn probe<'a>(
        &'a self,
        resource: &'a str,
        id: &'a str,
        scope: &'a Map<String, Value>,
    ) -> StateFuture<'a, bool> {
        let exists = EmulatorStates::probe(self, resource, id, scope)
            .map_err(|e| StateError::Failed(format!("the emulator's probe: {e}")));
        Box::pin(std::future::ready(exists))
    }
}

/// A refused setup skips its case, as the endpoint's 400 does.
fn refused(e: StateRefusal) -> StateError {
    StateError::Unsupported(format!("the target cannot set this up: {e}"))
}
