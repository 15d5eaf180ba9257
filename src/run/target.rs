//! Where a run sends its requests: per service a base URL, a signing scheme and credentials;
//! the provider-state URL; timeouts; whether destructive cases may run.
//!
//! A target file is YAML (see the README). Credentials never live in it: it names environment
//! variables (defaulting to the vendors' own names) and optionally a credentials file of
//! `NAME=value` lines; the environment wins over the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::states::{ProviderStates, SharedStates};
use crate::auth::Secret;
use crate::diag::Diagnostic;
use crate::located::Located;

/// How requests to a service are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SigningMode {
    /// Alibaba ACS3-HMAC-SHA256 (the current SDK's default).
    V3,
    /// Alibaba RPC signature V1 (HMAC-SHA1).
    V1,
    /// Huawei SDK-HMAC-SHA256.
    Aksk,
    /// Huawei `X-Auth-Token`.
    Token,
    /// Nothing: the target needs no credentials.
    None,
}

pub use super::transport::without_userinfo;
pub use crate::credentials::ServiceCredentials;

#[derive(Debug, Clone)]
pub struct ServiceTarget {
    pub base_url: url::Url,
    pub signing: SigningMode,
    pub credentials: ServiceCredentials,
    /// Alibaba `RegionId`, when the target wants one.
    pub region: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Target {
    /// A short description for the run's header: "embedded emulators", a URL or a file.
    pub name: String,
    pub services: BTreeMap<String, ServiceTarget>,
    pub states_url: Option<url::Url>,
    /// Provider states set up in-process, in place of `states_url`'s HTTP client.
    pub provider_states: Option<SharedStates>,
    pub request_timeout: Duration,
    /// The whole run's time limit.
    pub deadline: Duration,
    pub allow_destructive: bool,
    /// The most bytes read of any answer (the target's and the provider-state endpoint's).
    pub max_answer_bytes: usize,
}

/// The default of [`Target::max_answer_bytes`]: 1 MiB, far above any documented answer.
pub const DEFAULT_MAX_ANSWER_BYTES: usize = 1 << 20;
/// The highest `max_answer_bytes` accepted: a few jobs at once must stay far from the memory
/// a CI machine has.
pub const MAX_MAX_ANSWER_BYTES: usize = 64 << 20;

/// An answer-size limit out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a number of bytes from 1 to {MAX_MAX_ANSWER_BYTES} (64 MiB)")]
pub struct AnswerLimitError;

/// Checks an answer-size limit given by a user.
pub fn check_max_answer_bytes(n: u64) -> Result<usize, AnswerLimitError> {
    match usize::try_from(n) {
        Ok(n) if (1..=MAX_MAX_ANSWER_BYTES).contains(&n) => Ok(n),
        _ => Err(AnswerLimitError),
    }
}

impl Target {
    /// This target with its provider states set up by `states` (in-process) rather than
    /// over HTTP at `states_url`.
    pub fn with_provider_states(mut self, states: impl ProviderStates + 'static) -> Target {
        self.provider_states = Some(SharedStates(std::sync::Arc::new(states)));
        self
    }

    /// Whether cases that need provider states can run against this target.
    pub fn has_provider_states(&self) -> bool {
        self.provider_states.is_some() || self.states_url.is_some()
    }

    /// Every secret of the target, for redaction.
    pub fn secrets(&self) -> Vec<String> {
        self.services
            .values()
            .flat_map(|s| s.credentials.secrets())
            .collect()
    }
}

/// Problems with a target: an invalid target file (exit code 3, located) or anything else
/// about the target (exit code 2). Neither is a case failure.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{0}")]
    File(Diagnostic),
    #[error("{0}")]
    Invalid(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetFile {
    #[serde(default)]
    provider_states: Option<String>,
    #[serde(default = "default_timeout")]
    timeout_seconds: f64,
    #[serde(default = "default_deadline")]
    deadline_seconds: f64,
    #[serde(default)]
    allow_destructive: bool,
    #[serde(default)]
    max_answer_bytes: Option<u64>,
    #[serde(default)]
    credentials_file: Option<PathBuf>,
    services: BTreeMap<String, ServiceEntry>,
}

fn default_timeout() -> f64 {
    10.0
}
fn default_deadline() -> f64 {
    1800.0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceEntry {
    base_url: String,
    signing: SigningMode,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    access_key_id_env: Option<String>,
    #[serde(default)]
    secret_env: Option<String>,
    #[serde(default)]
    token_env: Option<String>,
}

/// The environment variables the vendors' own tools read.
pub fn default_env_names(service: &str) -> (&'static str, &'static str, &'static str) {
    if service.starts_with("alibaba") {
        (
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "ALIBABA_CLOUD_SECURITY_TOKEN",
        )
    } else {
        (
            "HUAWEICLOUD_SDK_AK",
            "HUAWEICLOUD_SDK_SK",
            "HUAWEICLOUD_SDK_TOKEN",
        )
    }
}

/// A path a target file gives: `~/` from the home directory, a relative one beside the file.
fn resolve_beside(target_file: &Path, given: &Path) -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match (given.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ if given.is_relative() => target_file.parent().unwrap_or(Path::new(".")).join(given),
        _ => given.to_path_buf(),
    }
}

/// One `services:` entry of a target file, checked: a known service, a signing mode it can
/// use, a base URL, and the credentials that mode needs.
fn service_target(
    doc: &Located,
    (name, entry): (&String, &ServiceEntry),
    known_services: &[&str],
    creds_file: &BTreeMap<String, String>,
) -> Result<ServiceTarget, TargetError> {
    let at = format!("/services/{}", crate::located::escape_pointer(name));
    if !known_services.contains(&name.as_str()) {
        return Err(TargetError::File(doc.error_at_key(
            &at,
            format!(
                "unknown service `{name}` (known: {})",
                known_services.join(", ")
            ),
        )));
    }
    let alibaba = name.starts_with("alibaba");
    let fits = matches!(
        (alibaba, entry.signing),
        (true, SigningMode::V3 | SigningMode::V1 | SigningMode::None)
            | (
                false,
                SigningMode::Aksk | SigningMode::Token | SigningMode::None
            )
    );
    if !fits {
        return Err(TargetError::File(doc.error_at(
            &format!("{at}/signing"),
            format!("`{name}` cannot sign with {:?}", entry.signing),
        )));
    }
    let base_url = parse_url(&entry.base_url, "base_url")
        .map_err(|m| TargetError::File(doc.error_at(&format!("{at}/base_url"), m)))?;
    let t = ServiceTarget {
        base_url,
        signing: entry.signing,
        credentials: credentials_for(
            name,
            (
                entry.access_key_id_env.as_deref(),
                entry.secret_env.as_deref(),
                entry.token_env.as_deref(),
            ),
            creds_file,
        ),
        region: entry.region.clone(),
    };
    check_credentials(name, &t).map_err(|m| TargetError::File(doc.error_at(&at, m)))?;
    Ok(t)
}

/// Reads `NAME=value` lines (`#` comments, blank lines allowed).
fn read_credentials_file(path: &Path) -> Result<BTreeMap<String, String>, TargetError> {
    let text = crate::located::read_text(path).map_err(|mut d| {
        d.message = format!("credentials file: {}", d.message);
        TargetError::File(d)
    })?;
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            // Never echo the line: it may hold a secret.
            return Err(TargetError::File(Diagnostic::at(
                path,
                crate::diag::Pos::new(i + 1, 1),
                "expected `NAME=value`",
            )));
        };
        out.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
    }
    Ok(out)
}

/// Looks a variable up in the environment, then in the credentials file.
fn lookup(name: &str, file: &BTreeMap<String, String>) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| file.get(name).cloned())
}

fn credentials_for(
    service: &str,
    entry_names: (Option<&str>, Option<&str>, Option<&str>),
    file: &BTreeMap<String, String>,
) -> ServiceCredentials {
    let (ak, sk, token) = default_env_names(service);
    ServiceCredentials {
        access_key_id: lookup(entry_names.0.unwrap_or(ak), file),
        secret: lookup(entry_names.1.unwrap_or(sk), file).map(Secret::new),
        token: lookup(entry_names.2.unwrap_or(token), file).map(Secret::new),
    }
}

fn parse_url(s: &str, what: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(s).map_err(|e| format!("{what} `{s}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{what} `{s}` must be http or https"));
    }
    Ok(url)
}

fn check_credentials(service: &str, t: &ServiceTarget) -> Result<(), String> {
    let c = &t.credentials;
    let missing = match t.signing {
        SigningMode::V3 | SigningMode::V1 | SigningMode::Aksk => {
            c.access_key_id.is_none() || c.secret.is_none()
        }
        SigningMode::Token => c.token.is_none(),
        SigningMode::None => false,
    };
    if missing {
        let (ak, sk, token) = default_env_names(service);
        let names = if t.signing == SigningMode::Token {
            token.to_string()
        } else {
            format!("{ak} and {sk}")
        };
        return Err(format!("service `{service}` signs with {:?} but its credentials are not set (set {names}, or name other variables in the target file)", t.signing));
    }
    Ok(())
}

impl Target {
    /// Reads a target file.
    pub fn from_file(path: &Path, known_services: &[&str]) -> Result<Target, TargetError> {
        if !path.is_file() {
            return Err(TargetError::Invalid(format!(
                "target file {} does not exist",
                path.display()
            )));
        }
        let doc = Located::read(path).map_err(TargetError::File)?;
        let file: TargetFile = doc.deserialize().map_err(TargetError::File)?;
        let creds_file = match &file.credentials_file {
            Some(p) => read_credentials_file(&resolve_beside(path, p))?,
            None => BTreeMap::new(),
        };
        let mut services = BTreeMap::new();
        for (name, entry) in &file.services {
            let t = service_target(&doc, (name, entry), known_services, &creds_file)?;
            services.insert(name.clone(), t);
        }
        let states_url = match &file.provider_states {
            Some(u) => Some(
                parse_url(u, "provider_states")
                    .map_err(|m| TargetError::File(doc.error_at("/provider_states", m)))?,
            ),
            None => None,
        };
        // At most a week: enough for any run, and far from overflowing an `Instant`.
        let secs = |v: f64, p: &str| match Duration::try_from_secs_f64(v) {
            Ok(d) if v > 0.0 && v <= 604_800.0 => Ok(d),
            _ => Err(TargetError::File(doc.error_at(
                p,
                "must be a number of seconds above 0 and at most 604800 (a week)",
            ))),
        };
        Ok(Target {
            name: path.display().to_string(),
            services,
            states_url,
            provider_states: None,
            request_timeout: secs(file.timeout_seconds, "/timeout_seconds")?,
            deadline: secs(file.deadline_seconds, "/deadline_seconds")?,
            allow_destructive: file.allow_destructive,
            max_answer_bytes: match file.max_answer_bytes {
                Some(n) => check_max_answer_bytes(n).map_err(|m| {
                    TargetError::File(doc.error_at("/max_answer_bytes", m.to_string()))
                })?,
                None => DEFAULT_MAX_ANSWER_BYTES,
            },
        })
    }

    /// Every service at one base URL (someone's emulator): destructive cases allowed, signing
    /// as the current SDKs do (Alibaba V3, Huawei AK/SK), credentials from the environment.
    pub fn from_url(
        base: &str,
        states: Option<&str>,
        services: &[&str],
        fallback: &dyn Fn(&str) -> ServiceCredentials,
    ) -> Result<Target, TargetError> {
        let base_url = parse_url(base, "--target").map_err(TargetError::Invalid)?;
        let states_url = states
            .map(|s| parse_url(s, "--states"))
            .transpose()
            .map_err(TargetError::Invalid)?;
        let empty = BTreeMap::new();
        let mut map = BTreeMap::new();
        for name in services {
            let mut credentials = credentials_for(name, (None, None, None), &empty);
            if credentials.access_key_id.is_none() && credentials.secret.is_none() {
                credentials = fallback(name);
            }
            let signing = if name.starts_with("alibaba") {
                SigningMode::V3
            } else {
                SigningMode::Aksk
            };
            let t = ServiceTarget {
                base_url: base_url.clone(),
                signing,
                credentials,
                region: None,
            };
            check_credentials(name, &t).map_err(TargetError::Invalid)?;
            map.insert(name.to_string(), t);
        }
        Ok(Target {
            name: without_userinfo(&base_url),
            services: map,
            states_url,
            provider_states: None,
            request_timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(1800),
            allow_destructive: true,
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn target_file_with_credentials_file() {
        let dir = std::env::temp_dir().join(format!("conform-target-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        write(&dir, "creds", "# test\nMY_AK=ak1\nMY_SK=\"sk1\"\n");
        let p = write(&dir, "t.yaml", "credentials_file: creds\nprovider_states: http://127.0.0.1:1/states\nservices:\n  alibaba-smc:\n    base_url: http://127.0.0.1:1\n    signing: v1\n    access_key_id_env: MY_AK\n    secret_env: MY_SK\n");
        let t = Target::from_file(&p, &["alibaba-smc"]).unwrap();
        let s = &t.services["alibaba-smc"];
        assert_eq!(s.credentials.access_key_id.as_deref(), Some("ak1"));
        assert_eq!(s.credentials.secret.as_ref().unwrap().expose(), "sk1");
        assert!(!t.allow_destructive);
        assert!(
            !format!("{t:?}").contains("sk1"),
            "Debug must not show secrets"
        );
        assert_eq!(t.secrets(), vec!["sk1".to_string()]);
    }

    #[test]
    fn target_file_errors_are_located() {
        let dir = std::env::temp_dir().join(format!("conform-target-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = write(
            &dir,
            "t.yaml",
            "services:\n  huawei-sms:\n    base_url: http://x\n    signing: v3\n",
        );
        let e = Target::from_file(&p, &["huawei-sms"])
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with("t.yaml:4:14: `huawei-sms` cannot sign with V3"),
            "{e}"
        );
        let p = write(
            &dir,
            "t2.yaml",
            "services:\n  nope:\n    base_url: http://x\n    signing: none\n",
        );
        let e = Target::from_file(&p, &["huawei-sms"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("t2.yaml:2:3: unknown service `nope`"), "{e}");
        let p = write(&dir, "t4.yaml", "timeout_seconds: 1e30\nservices: {}\n");
        let e = Target::from_file(&p, &["huawei-sms"])
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with(
                "t4.yaml:1:18: must be a number of seconds above 0 and at most 604800 (a week)"
            ),
            "{e}"
        );
        let e = Target::from_file(&dir.join("absent.yaml"), &["huawei-sms"]).unwrap_err();
        assert!(
            matches!(e, TargetError::Invalid(_)),
            "a missing file is a usage error: {e}"
        );
        let p = write(&dir, "t3.yaml", "services:\n  huawei-sms:\n    base_url: http://x\n    signing: token\n    token_env: CONFORM_TEST_UNSET_TOKEN_VAR\n");
        let e = Target::from_file(&p, &["huawei-sms"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("credentials are not set"), "{e}");
    }
}
