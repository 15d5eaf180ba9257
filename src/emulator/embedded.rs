//! The emulators running in-process on a runtime of their own ([`EmbeddedEmulator`]): what
//! `conform run` without `--target`, `conform mutate` and the library's embedded target start.
//! Describing them as a run target is [`crate::embedded`]'s business (the emulator knows no runner).

use std::net::SocketAddr;

use super::{Emulator, EmulatorConfig, RunningEmulator};

/// Why the embedded emulators did not start.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("cannot start the emulators' runtime: {0}")]
    Runtime(std::io::Error),
    #[error("{0}")]
    Listen(std::io::Error),
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
    pub fn start(config: EmulatorConfig) -> Result<EmbeddedEmulator, EmbeddedError> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get() / 2)
            .max(1);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("conform-emulator")
            .enable_all()
            .build()
            .map_err(EmbeddedError::Runtime)?;
        // `Emulator::start` spawns the server onto the runtime it runs in: this one.
        let running = run_to_completion(
            &runtime,
            Emulator::start(config, SocketAddr::from(([127, 0, 0, 1], 0))),
        )
        .map_err(EmbeddedError::Listen)?;
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
