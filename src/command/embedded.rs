//! The glue between the runner and the built-in emulators: start them in-process on a loopback
//! port and describe them as a [`Target`]. The runner itself knows nothing of the emulators.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::emulator::{Emulator, EmulatorConfig, EmulatorCredentials, RunningEmulator};
use crate::run::target::{ServiceTarget, SigningMode};
use crate::run::Target;
use crate::spec::model::Protocol;
use crate::spec::Catalog;

use crate::credentials::credentials_of;
pub use crate::credentials::default_credentials;

/// The target that the embedded emulator is: every service, signing as the current SDKs do.
pub fn target_for(
    running: &RunningEmulator,
    catalog: &Catalog,
    credentials: &EmulatorCredentials,
) -> Result<Target, String> {
    let base = url::Url::parse(&running.base_url()).map_err(|e| e.to_string())?;
    let states = url::Url::parse(&running.states_url()).map_err(|e| e.to_string())?;
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
        request_timeout: Duration::from_secs(10),
        deadline: Duration::from_secs(1800),
        allow_destructive: true,
        max_answer_bytes: crate::run::target::DEFAULT_MAX_ANSWER_BYTES,
    })
}

/// The emulators running in this process on a runtime of their own, so that the harness and
/// the emulators do not steal each other's threads: a request then costs the client no more
/// than a wakeup of the other side (`cargo bench --bench suite` measures it).
pub struct EmbeddedEmulator {
    running: Option<RunningEmulator>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl EmbeddedEmulator {
    /// Starts the emulators of `config` on `127.0.0.1:0`.
    pub fn start(config: EmulatorConfig) -> Result<EmbeddedEmulator, String> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get() / 2)
            .max(1);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("conform-emulator")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the emulators' runtime: {e}"))?;
        // `Emulator::start` spawns the server onto the runtime it runs in: this one.
        let running = run_to_completion(
            &runtime,
            Emulator::start(config, "127.0.0.1:0".parse().expect("a socket address")),
        )
        .map_err(|e| e.to_string())?;
        Ok(EmbeddedEmulator {
            running: Some(running),
            runtime: Some(runtime),
        })
    }

    pub fn running(&self) -> &RunningEmulator {
        self.running.as_ref().expect("present until shutdown")
    }

    /// Stops the server gracefully; callable from any runtime.
    pub async fn shutdown(mut self) {
        if let (Some(running), Some(runtime)) = (self.running.take(), self.runtime.as_ref()) {
            let _ = runtime.spawn(running.shutdown()).await;
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for EmbeddedEmulator {
    fn drop(&mut self) {
        drop(self.running.take());
        if let Some(runtime) = self.runtime.take() {
            // Dropping a runtime from inside another one would panic.
            runtime.shutdown_background();
        }
    }
}

/// Runs a future to completion on `runtime` from outside any runtime, or from inside one (where
/// `block_on` is not allowed) by handing it to the runtime and waiting on a channel.
fn run_to_completion<F>(runtime: &tokio::runtime::Runtime, future: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return runtime.block_on(future);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    runtime.spawn(async move {
        let _ = tx.send(future.await);
    });
    rx.recv().expect("the emulators' runtime runs the start")
}

/// Starts the emulators of `config` and describes them as a target; the checks use `catalog`.
pub fn start_with(
    config: EmulatorConfig,
    catalog: &Catalog,
) -> Result<(EmbeddedEmulator, Target), String> {
    let credentials = config.credentials.clone();
    let emulator = EmbeddedEmulator::start(config)?;
    let target = target_for(emulator.running(), catalog, &credentials)?;
    Ok((emulator, target))
}

/// Starts the emulators on `127.0.0.1:0` with the given specs.
pub async fn start(catalog: Arc<Catalog>) -> Result<(EmbeddedEmulator, Target), String> {
    start_with(EmulatorConfig::new(Arc::clone(&catalog)), &catalog)
}
