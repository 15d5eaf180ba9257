//! The glue between the runner and the built-in emulators: start them in-process on a loopback
//! port and describe them as a [`Target`]. The runner itself knows nothing of the emulators.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::Secret;
use crate::emulator::{Emulator, EmulatorConfig, EmulatorCredentials, RunningEmulator};
use crate::run::target::{ServiceCredentials, ServiceTarget, SigningMode};
use crate::run::Target;
use crate::spec::model::Protocol;
use crate::spec::Catalog;

/// The emulators' documented test credentials for a service, used when a `--target URL` run
/// finds none in the environment.
pub fn default_credentials(service: &str) -> ServiceCredentials {
    credentials_of(&EmulatorCredentials::default(), service)
}

fn credentials_of(c: &EmulatorCredentials, service: &str) -> ServiceCredentials {
    if service.starts_with("alibaba") {
        ServiceCredentials {
            access_key_id: Some(c.alibaba_access_key_id.clone()),
            secret: Some(Secret::new(c.alibaba_access_key_secret.clone())),
            token: None,
        }
    } else {
        ServiceCredentials {
            access_key_id: Some(c.huawei_access_key_id.clone()),
            secret: Some(Secret::new(c.huawei_secret_access_key.clone())),
            token: Some(Secret::new(c.huawei_token.clone())),
        }
    }
}

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
    })
}

/// Starts the emulators on `127.0.0.1:0` with the given specs.
pub async fn start(catalog: Arc<Catalog>) -> Result<(RunningEmulator, Target), String> {
    let config = EmulatorConfig {
        catalog: Arc::clone(&catalog),
        ..EmulatorConfig::default()
    };
    let credentials = config.credentials.clone();
    let running = Emulator::start(config, "127.0.0.1:0".parse().expect("a socket address"))
        .await
        .map_err(|e| e.to_string())?;
    let target = target_for(&running, &catalog, &credentials)?;
    Ok((running, target))
}
