//! The embedded target of a build without the `emulator` feature: there is none, and starting
//! it says so, so that `run`, `record` and `parity` without `--target` fail with a usage error.

use std::sync::Arc;

pub use crate::credentials::default_credentials;
use crate::run::Target;
use crate::spec::Catalog;

/// Why the embedded target is not there: this build has no emulators.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("this build has no emulators (the `emulator` feature is off); give --target")]
    NoEmulators,
}

/// Never constructed: this build has no emulators to hold.
pub enum EmbeddedEmulator {}

impl EmbeddedEmulator {
    pub async fn shutdown(self) {
        match self {}
    }
}

/// Always an error: this build has no emulators.
pub async fn start(_catalog: Arc<Catalog>) -> Result<(EmbeddedEmulator, Target), EmbeddedError> {
    Err(EmbeddedError::NoEmulators)
}
