//! `--target URL|FILE [--states URL]` as `record` and `parity` take it: the embedded emulators
//! when no target is given. (The same rules as `conform run`.)

use std::sync::Arc;

use super::embedded::EmbeddedEmulator;
use super::ExitCode;
use crate::run::target::TargetError;
use crate::run::Target;
use crate::spec::Catalog;

/// A resolved target, with the embedded emulators it runs on when it is them.
pub struct Resolved {
    pub target: Target,
    pub emulator: Option<EmbeddedEmulator>,
}

impl Resolved {
    pub async fn shutdown(self) {
        if let Some(e) = self.emulator {
            e.shutdown().await;
        }
    }
}

/// Resolves a target argument; prints why not and returns the exit code on failure.
/// `flag` names the option in messages (`--target`, `--against`).
pub async fn resolve(
    catalog: &Arc<Catalog>,
    target: Option<&str>,
    states: Option<&str>,
    flag: &str,
) -> Result<Resolved, ExitCode> {
    let services: Vec<&str> = catalog.services.keys().map(String::as_str).collect();
    let is_url = |t: &str| t.starts_with("http://") || t.starts_with("https://");
    let target = match (target, states) {
        (None, Some(_)) => return Err(usage(&format!("the provider-state URL needs {flag}"))),
        (None, None) => {
            let (emulator, target) = super::embedded::start(Arc::clone(catalog))
                .await
                .map_err(|e| usage(&format!("cannot start the embedded emulators: {e}")))?;
            return Ok(Resolved {
                target,
                emulator: Some(emulator),
            });
        }
        (Some(t), _) if t.contains("://") && !is_url(t) => {
            return Err(usage(&format!(
                "{flag} `{t}` must be an http or https URL, or a target file"
            )))
        }
        (Some(t), states) if is_url(t) => {
            Target::from_url(t, states, &services, &super::embedded::default_credentials)
        }
        (Some(_), Some(_)) => {
            return Err(usage(
                "a provider-state URL goes with a target URL; a target file names its own `provider_states`",
            ))
        }
        (Some(t), None) => Target::from_file(std::path::Path::new(t), &services),
    };
    match target {
        Ok(target) => Ok(Resolved {
            target,
            emulator: None,
        }),
        Err(TargetError::File(d)) => {
            super::print_diagnostics(&crate::diag::Diagnostics(vec![d]));
            Err(ExitCode::BadFile)
        }
        Err(e) => Err(usage(&e.to_string())),
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("conform: {message}");
    ExitCode::Usage
}
