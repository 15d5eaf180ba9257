//! The case model: declarative case files (see `schemas/case.schema.json`).
//!
//! A case file holds the cases of one operation. A case is a request (only what differs from
//! the operation's defaults), what the answer must be, and follow-up steps that may reuse values
//! captured from earlier answers or provider states.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The answer formats: a spec-model type, named here too because cases choose them.
pub use crate::spec::model::Format;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// `<service>/<Operation>`, e.g. `alibaba-smc/DeleteSourceServer`.
    pub operation: String,
    pub cases: Vec<Case>,
}

// No `deny_unknown_fields` where `flatten` is used (serde cannot combine them): the JSON
// Schema of case files refuses unknown fields before deserialization.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Case {
    /// Unique within the operation; `kebab-case`.
    pub name: String,
    pub summary: String,
    /// The documented clause it tests: `seed:<file>#<section>` or `notes:<section>`.
    pub clause: String,
    /// `safe` (changes nothing on a real cloud), `destructive`, `needs-state`, `auth`, `negative`, …
    #[serde(default)]
    pub tags: Vec<String>,
    /// Coverage items it exercises that cannot be read off its expectations: state rules
    /// (`rule:<id>`) and parameter limits (`param:<name>:required|min_length|max_length`).
    #[serde(default)]
    pub covers: Vec<String>,
    /// Alibaba response formats to run it in (default: both `json` and `xml`).
    #[serde(default)]
    pub formats: Option<Vec<Format>>,
    /// Provider states to set up first, in order; their values become variables.
    #[serde(default)]
    pub given: Vec<Given>,
    /// The first step.
    #[serde(flatten)]
    pub step: Step,
    /// Follow-up steps, in order, after the first one passed.
    #[serde(default)]
    pub then: Vec<NamedStep>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Given {
    pub state: String,
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NamedStep {
    pub name: String,
    #[serde(flatten)]
    pub step: Step,
}

/// One exchange: a request and its expectations, or a probe of the target's state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Step {
    /// Another operation of the same service (`DeleteReplicationJob`); default: the file's.
    #[serde(default)]
    pub operation: Option<String>,
    #[serde(default)]
    pub request: Request,
    /// Ask the provider-state endpoint whether a resource still exists (`action: probe`).
    #[serde(default)]
    pub probe: Option<Probe>,
    pub expect: Expect,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Override the method (first of the operation's methods by default).
    #[serde(default)]
    pub method: Option<String>,
    /// Parameter values by name, over the operation's defaults; `null` leaves one out.
    /// Values may use `${var}`.
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
    /// Extra headers (never credentials: those come from the target's configuration).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A raw body to send.
    #[serde(default)]
    pub body: Option<String>,
    /// Alibaba: send this RPC action instead of the operation's, for routing cases.
    #[serde(default)]
    pub action: Option<String>,
    /// Override the path (after the template is filled), for routing cases.
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub auth: AuthMode,
    /// Sign this step with another scheme than the target's (the target must hold its
    /// credentials): Alibaba `v1`/`v3`, Huawei `aksk`/`token`.
    #[serde(default)]
    pub signing: Option<SigningOverride>,
    /// Alibaba: `false` sends no `Format`, to test the documented default.
    #[serde(default = "yes")]
    pub send_format: bool,
    /// Alibaba: send `Format` spelled exactly so (`json`, `Xml`) instead of the trial format's
    /// upper-case name.
    #[serde(default)]
    pub format_as: Option<String>,
    /// Alibaba: the operation's parameters (and `query`) travel in an
    /// `application/x-www-form-urlencoded` POST body instead of the query string; V1 signs
    /// them merged with the query, V3 signs the body's hash.
    #[serde(default)]
    pub form_body: bool,
    /// Query parameters beyond the operation's (signed with the rest), e.g. the legacy SDK's
    /// empty `SignatureType`. Values may use `${var}`; never credentials.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

impl Default for Request {
    fn default() -> Self {
        Request {
            method: None,
            params: BTreeMap::new(),
            headers: BTreeMap::new(),
            body: None,
            action: None,
            path: None,
            auth: AuthMode::Default,
            signing: None,
            send_format: true,
            format_as: None,
            form_body: false,
            query: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SigningOverride {
    V1,
    V3,
    Aksk,
    Token,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    /// Sign as the target's configuration says.
    #[default]
    Default,
    /// No signature and no token.
    None,
    /// A signature made with a wrong secret, or a token that is not valid.
    Forged,
    /// A correct signature with a timestamp outside the accepted window (five minutes past it).
    Expired,
    /// A correct signature with a timestamp five minutes before the window closes: accepted.
    Late,
    /// The same signed request sent twice; the second is the one checked (Alibaba nonce).
    Replayed,
    /// Signed correctly with an access key the target does not know.
    UnknownKey,
    /// Signed over an empty body, then sent with the step's `body` (V3, AK/SK): the body is
    /// not what was signed.
    TamperedBody,
    /// An `X-Auth-Token` one character longer than the operation's documented maximum (the
    /// target's token, padded), whatever the target signs with.
    OversizedToken,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// Resource kind as the target's provider-state endpoint knows it.
    pub resource: String,
    /// Its id; may use `${var}`.
    pub id: String,
    /// Where it lives, for a target that needs that to find it: its owner's project namings
    /// (Workspace `project_id`). Values may use `${var}`; sent only when not empty.
    #[serde(default)]
    pub scope: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub status: Option<StatusExpect>,
    /// Error code, read with the service's envelope rule. May use `${var}`.
    #[serde(default)]
    pub error_code: Option<CodeExpect>,
    /// Body schema by name; default: the spec's schema for the status received.
    #[serde(default)]
    pub schema: Option<String>,
    /// Response headers.
    #[serde(default)]
    pub headers: BTreeMap<String, ValueCheck>,
    /// Checks on values at JSON pointers of the body (XML mapped to JSON first).
    #[serde(default)]
    pub body: BTreeMap<String, ValueCheck>,
    /// Variables to capture from the body (JSON pointer) for later steps.
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
    /// For a probe step: whether the resource must exist.
    #[serde(default)]
    pub exists: Option<bool>,
    /// More checks that apply only when the answer has that status: where sources disagree on
    /// the status, each status still brings what its source documents (e.g. `401` from the
    /// gateway with `APIGW.0301`). Only `error_code`, `headers` and `body` here.
    /// (Keys are statuses written as text: YAML keys are strings here.)
    #[serde(default)]
    pub by_status: BTreeMap<String, Expect>,
}

impl Expect {
    /// The extra checks for an answer of this status.
    pub fn for_status(&self, status: u16) -> Option<&Expect> {
        self.by_status.get(&status.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StatusExpect {
    One(u16),
    /// A set of statuses, with the reason more than one is allowed.
    AnyOf {
        any_of: Vec<u16>,
        why: String,
    },
}

impl StatusExpect {
    pub fn allows(&self, status: u16) -> bool {
        match self {
            StatusExpect::One(s) => *s == status,
            StatusExpect::AnyOf { any_of, .. } => any_of.contains(&status),
        }
    }
    pub fn statuses(&self) -> Vec<u16> {
        match self {
            StatusExpect::One(s) => vec![*s],
            StatusExpect::AnyOf { any_of, .. } => any_of.clone(),
        }
    }
}

/// The error code an answer must carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CodeExpect {
    One(String),
    /// Codes the documents give for the same situation, with the reason more than one is
    /// allowed (the notes name `InvalidAction.NotFound` and `InvalidApi.NotFound`).
    AnyOf {
        any_of: Vec<String>,
        why: String,
    },
}

impl CodeExpect {
    pub fn codes(&self) -> &[String] {
        match self {
            CodeExpect::One(c) => std::slice::from_ref(c),
            CodeExpect::AnyOf { any_of, .. } => any_of,
        }
    }
}

/// A check on one value. Strings may use `${var}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ValueCheck {
    /// `present: true` — exists (any value); `present: false` — absent.
    Present(bool),
    Equals(Value),
    /// Regular expression the string value must match, compiled when the file is read.
    Matches(super::pattern::Pattern),
    /// JSON type name: string, number, integer, boolean, array, object, null.
    Type(String),
    /// Exact length of a string (characters) or array.
    Length(usize),
}

/// Parameters of a case run that are not in the file: the Alibaba format variant.
pub fn default_formats() -> Vec<Format> {
    vec![Format::Json, Format::Xml]
}

/// Tags with a meaning to the runner.
pub mod tags {
    /// Changes nothing on a real cloud: allowed against any target.
    pub const SAFE: &str = "safe";
    /// Deletes something: needs the target to allow destructive cases.
    pub const DESTRUCTIVE: &str = "destructive";
    /// Needs provider states.
    pub const NEEDS_STATE: &str = "needs-state";
}
