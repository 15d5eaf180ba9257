//! The embedded target of a build without the `emulator` feature: there is none, and starting
//! it says so, so that `run`, `record` and `parity` without `--target` fail with a usage error.

use std::sync::Arc;

use crate::run::Target;
use crate::spec::Catalog;

pub use crate::credentials::default_credentials;

/// Never constructed: this build has no emulators to hold.
pub enum EmbeddedEmulator {}

impl EmbeddedEmulator {
    pub async fn shutdown(self) {
        match self {}
    }
}

/// Always an error: this build has no emulators.
pub async fn start(_catalog: Arc<Catalog>) -> Result<(EmbeddedEmulator, Target), String> {
    Err("this build has no emulators (the `emulator` feature is off); give --target".to_string())
}
