//! The test credentials the built-in emulators accept, which a `--target URL` run also signs
//! with when the environment names none. Outside the emulator, so that a build without the
//! `emulator` feature signs the same way.

use std::fmt;

use crate::auth::Secret;

/// What the signer works with for one case: the target's credentials, or those a provider
/// state handed out.
#[derive(Debug, Clone, Default)]
pub struct CaseCredentials {
    pub access_key_id: Option<String>,
    pub secret: Option<Secret>,
    pub token: Option<Secret>,
}

/// Credentials for one service. Debug never shows secrets.
#[derive(Debug, Clone, Default)]
pub struct ServiceCredentials {
    pub access_key_id: Option<String>,
    pub secret: Option<Secret>,
    pub token: Option<Secret>,
}

impl ServiceCredentials {
    /// The secret strings, for redaction.
    pub fn secrets(&self) -> Vec<String> {
        self.secret
            .iter()
            .chain(self.token.iter())
            .map(|s| s.expose().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// The credentials the emulators accept.
///
/// Defaults (test credentials, not secrets):
/// - Alibaba: access key id `conform-alibaba-ak`, secret `conform-alibaba-secret`;
/// - Huawei AK/SK: access key `CONFORMHUAWEIAK00000`, secret key `conform-huawei-sk`;
/// - Huawei `X-Auth-Token`: `conform-test-token`.
///
/// [`EmulatorCredentials::with_env`] overrides them from `CONFORM_EMULATOR_ALIBABA_AK`,
/// `CONFORM_EMULATOR_ALIBABA_SECRET`, `CONFORM_EMULATOR_HUAWEI_AK`,
/// `CONFORM_EMULATOR_HUAWEI_SK` and `CONFORM_EMULATOR_TOKEN`.
#[derive(Clone, PartialEq, Eq)]
pub struct EmulatorCredentials {
    pub alibaba_access_key_id: String,
    pub alibaba_access_key_secret: String,
    pub huawei_access_key_id: String,
    pub huawei_secret_access_key: String,
    pub huawei_token: String,
}

impl EmulatorCredentials {
    pub const DEFAULT_ALIBABA_AK: &'static str = "conform-alibaba-ak";
    pub const DEFAULT_ALIBABA_SECRET: &'static str = "conform-alibaba-secret";
    pub const DEFAULT_HUAWEI_AK: &'static str = "CONFORMHUAWEIAK00000";
    pub const DEFAULT_HUAWEI_SK: &'static str = "conform-huawei-sk";
    pub const DEFAULT_TOKEN: &'static str = "conform-test-token";

    /// These credentials with each `CONFORM_EMULATOR_*` variable that is set (and not empty)
    /// taking the place of its field.
    pub fn with_env(self) -> EmulatorCredentials {
        self.with_vars(|name| std::env::var(name).ok())
    }

    fn with_vars(mut self, var: impl Fn(&str) -> Option<String>) -> EmulatorCredentials {
        let fields: [(&str, &mut String); 5] = [
            (
                "CONFORM_EMULATOR_ALIBABA_AK",
                &mut self.alibaba_access_key_id,
            ),
            (
                "CONFORM_EMULATOR_ALIBABA_SECRET",
                &mut self.alibaba_access_key_secret,
            ),
            ("CONFORM_EMULATOR_HUAWEI_AK", &mut self.huawei_access_key_id),
            (
                "CONFORM_EMULATOR_HUAWEI_SK",
                &mut self.huawei_secret_access_key,
            ),
            ("CONFORM_EMULATOR_TOKEN", &mut self.huawei_token),
        ];
        for (name, field) in fields {
            if let Some(v) = var(name).filter(|v| !v.is_empty()) {
                *field = v;
            }
        }
        self
    }

    pub fn alibaba(&self) -> crate::auth::Credentials {
        crate::auth::Credentials::new(
            self.alibaba_access_key_id.clone(),
            self.alibaba_access_key_secret.clone(),
        )
    }

    pub fn huawei(&self) -> crate::auth::Credentials {
        crate::auth::Credentials::new(
            self.huawei_access_key_id.clone(),
            self.huawei_secret_access_key.clone(),
        )
    }
}

impl Default for EmulatorCredentials {
    fn default() -> Self {
        EmulatorCredentials {
            alibaba_access_key_id: Self::DEFAULT_ALIBABA_AK.into(),
            alibaba_access_key_secret: Self::DEFAULT_ALIBABA_SECRET.into(),
            huawei_access_key_id: Self::DEFAULT_HUAWEI_AK.into(),
            huawei_secret_access_key: Self::DEFAULT_HUAWEI_SK.into(),
            huawei_token: Self::DEFAULT_TOKEN.into(),
        }
    }
}

impl fmt::Debug for EmulatorCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorCredentials")
            .field("alibaba_access_key_id", &self.alibaba_access_key_id)
            .field("alibaba_access_key_secret", &"***")
            .field("huawei_access_key_id", &self.huawei_access_key_id)
            .field("huawei_secret_access_key", &"***")
            .field("huawei_token", &"***")
            .finish()
    }
}

/// The emulators' documented test credentials for a service, used when a `--target URL` run
/// finds none in the environment.
pub fn default_credentials(service: &str) -> ServiceCredentials {
    credentials_of(&EmulatorCredentials::default(), service)
}

pub fn credentials_of(c: &EmulatorCredentials, service: &str) -> ServiceCredentials {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_from_env_and_debug_hides_secrets() {
        let c = EmulatorCredentials::default().with_vars(|n| match n {
            "CONFORM_EMULATOR_ALIBABA_AK" => Some("other-ak".into()),
            "CONFORM_EMULATOR_TOKEN" => Some(String::new()),
            _ => None,
        });
        assert_eq!(c.alibaba_access_key_id, "other-ak");
        assert_eq!(c.huawei_token, EmulatorCredentials::DEFAULT_TOKEN);
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains("conform-alibaba-secret")
                && !dbg.contains("conform-huawei-sk")
                && !dbg.contains("conform-test-token"),
            "{dbg}"
        );
    }
}
