//! The spec model: each service and each operation as data (see `schemas/spec.schema.json`).
//!
//! A service file (`specs/<service>/service.yaml`) holds what all its operations share: the
//! protocol, signing, error envelope, common errors, resources and provider states. An operation
//! file (`specs/<service>/<Operation>.yaml`) holds its request, responses, errors and the state
//! rules that decide its outcome. Every fact carries a `source` (see [`Source`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A body format an API answers in (`formats` of a spec, a case's trial formats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
        }
    }
}

/// Where a fact comes from. Written as a string with a prefix:
/// - `seed:<file>#<section>`: one of the documents in `shared/seeds/`;
/// - `notes:<section>`: `shared/api-notes.md` (public documentation and SDK sources);
/// - `assumed:<why>`: not documented; the emulator needs an answer and this is ours;
/// - `undocumented:<what>`: known to be undocumented; nothing may assert it.
pub type Source = String;

/// How much a source can be trusted as a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provenance {
    Seed,
    Notes,
    Assumed,
    Undocumented,
}

impl Provenance {
    pub fn of(source: &str) -> Option<Provenance> {
        let (prefix, rest) = source.split_once(':')?;
        if rest.trim().is_empty() {
            return None;
        }
        match prefix {
            "seed" => Some(Provenance::Seed),
            "notes" => Some(Provenance::Notes),
            "assumed" => Some(Provenance::Assumed),
            "undocumented" => Some(Provenance::Undocumented),
            _ => None,
        }
    }

    /// Seed and notes facts are documented: cases may assert them and coverage requires them.
    pub fn is_documented(self) -> bool {
        matches!(self, Provenance::Seed | Provenance::Notes)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// Alibaba Cloud RPC: `Action`+`Version` (V1) or `x-acs-action` (V3) at `/`.
    AlibabaRpc,
    /// Huawei Cloud REST: method + path template.
    HuaweiRest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SigningScheme {
    AlibabaV1,
    AlibabaV3,
    HuaweiAksk,
    HuaweiToken,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub service: String,
    pub title: String,
    pub protocol: Protocol,
    /// Alibaba API version (`2019-06-01`).
    #[serde(default)]
    pub version: Option<String>,
    /// Response formats an Alibaba RPC service speaks.
    #[serde(default)]
    pub formats: Option<Formats>,
    pub signing: Vec<Signing>,
    pub request_id: RequestIdRule,
    pub error_envelope: ErrorEnvelope,
    /// JSON Schemas by name, shared by the service's operations.
    #[serde(default)]
    pub schemas: BTreeMap<String, Value>,
    /// Platform errors any operation of the service can answer.
    #[serde(default)]
    pub errors: Vec<ErrorEntry>,
    #[serde(default)]
    pub resources: BTreeMap<String, Resource>,
    #[serde(default)]
    pub provider_states: Vec<ProviderState>,
    // --- protocol: wire details the SDKs depend on.
    /// The Content-Type of answers, per body format and kind of answer.
    #[serde(default)]
    pub content_types: Vec<ContentTypeRule>,
    /// Alibaba: how the `Format` parameter's value is matched.
    #[serde(default)]
    pub format_case: Option<FormatCase>,
    /// Alibaba: the operation's parameters may come in a form-encoded POST body.
    #[serde(default)]
    pub form_body: Option<FormBody>,
    pub source: Source,
}

// --- protocol

/// Whether an answer is a success (2xx/3xx) or an error (4xx/5xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerKind {
    Success,
    Error,
}

impl AnswerKind {
    pub fn of(status: u16) -> AnswerKind {
        if status >= 400 {
            AnswerKind::Error
        } else {
            AnswerKind::Success
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AnswerKind::Success => "success",
            AnswerKind::Error => "error",
        }
    }
}

/// The Content-Type of the answers of one body format and kind. `equals` and `not_equals` are
/// asserted on every such answer (only with a documented source); `sends` is what the emulator
/// sends (default: `equals`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentTypeRule {
    /// `JSON` or `XML` (Huawei answers are JSON).
    pub format: String,
    pub answers: AnswerKind,
    #[serde(default)]
    pub sends: Option<String>,
    /// The header must be exactly this (byte for byte).
    #[serde(default)]
    pub equals: Option<String>,
    /// The header must not be exactly this.
    #[serde(default)]
    pub not_equals: Option<String>,
    pub source: Source,
}

impl ContentTypeRule {
    /// What the emulator sends.
    pub fn sent(&self) -> Option<&str> {
        self.sends.as_deref().or(self.equals.as_deref())
    }

    /// Whether it asserts anything of an answer.
    pub fn asserts(&self) -> bool {
        self.equals.is_some() || self.not_equals.is_some()
    }

    pub fn applies(&self, format: &str, kind: AnswerKind) -> bool {
        self.format.eq_ignore_ascii_case(format) && self.answers == kind
    }
}

/// How the Alibaba `Format` parameter's value is matched against `formats.supported`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatCase {
    /// `json`, `Json` and `JSON` all select JSON.
    pub insensitive: bool,
    pub source: Source,
}

/// The operation's parameters are accepted in a form-encoded POST body
/// (`application/x-www-form-urlencoded`) as well as in the query.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormBody {
    pub source: Source,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Formats {
    /// e.g. `[JSON, XML]`
    pub supported: Vec<String>,
    /// The format of a V1 request that names none (`XML` per the RPC docs).
    pub default: String,
    /// The format of a V3 request that names none.
    pub v3_default: String,
    pub source: Source,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signing {
    pub scheme: SigningScheme,
    /// The methods a request signed this way comes with (empty: the operation's methods).
    /// Coverage has one item per method and situation (accepted, forged, ...).
    #[serde(default)]
    pub methods: Vec<String>,
    /// What the signature covers beyond the scheme's fixed parts. The emulator's verifier
    /// reads it: a part left out is a part it does not verify (a mutant is one left out).
    #[serde(default)]
    pub signs: Vec<SignedPart>,
    /// The scheme carries a nonce the service refuses to see twice.
    #[serde(default)]
    pub nonce: bool,
    /// How far a request's timestamp may be from the server's clock, either way.
    #[serde(default)]
    pub window: Option<TimeWindow>,
    /// Never in a file: the methods over which a mutant accepts this scheme's signatures
    /// without checking them.
    #[serde(skip)]
    pub unchecked_methods: Vec<String>,
    pub source: Source,
}

impl Signing {
    pub fn signs(&self, part: SignedPart) -> bool {
        self.signs.contains(&part)
    }

    /// Whether signatures of requests with this method are checked at all.
    pub fn checks(&self, method: &str) -> bool {
        !self
            .unchecked_methods
            .iter()
            .any(|m| m.eq_ignore_ascii_case(method))
    }

    /// The accepted clock difference (15 minutes when the spec gives none).
    pub fn window(&self) -> chrono::TimeDelta {
        self.window
            .as_ref()
            .map_or(crate::auth::REPLAY_WINDOW, |w| {
                chrono::TimeDelta::minutes(i64::from(w.minutes))
            })
    }

    /// The window, when a document gives it (coverage and mutants only for those).
    pub fn documented_window(&self) -> Option<u32> {
        self.window
            .as_ref()
            .filter(|w| Provenance::of(&w.source).is_some_and(Provenance::is_documented))
            .map(|w| w.minutes)
    }

    /// The methods of its coverage items for an operation with `op_methods`.
    pub fn methods_for<'a>(&'a self, op_methods: &'a [String]) -> &'a [String] {
        if self.methods.is_empty() {
            op_methods
        } else {
            &self.methods
        }
    }
}

/// The accepted difference between a signed timestamp and the server's clock.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeWindow {
    pub minutes: u32,
    pub source: Source,
}

/// A part of the request a signature covers (see [`Signing::signs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignedPart {
    /// Alibaba V1: parameters with an empty value are in the string to sign.
    EmptyValues,
    /// Alibaba V1: form-body parameters are merged into the string to sign.
    FormBody,
    /// The query string is in the canonical request.
    Query,
    /// The body's SHA-256 is in the canonical request (V3: and checked against
    /// `x-acs-content-sha256`).
    BodyHash,
    /// The canonical headers are those the request's own `SignedHeaders` names, not a fixed set.
    RequestSignedHeaders,
}

impl SignedPart {
    pub fn as_str(self) -> &'static str {
        match self {
            SignedPart::EmptyValues => "empty-values",
            SignedPart::FormBody => "form-body",
            SignedPart::Query => "query",
            SignedPart::BodyHash => "body-hash",
            SignedPart::RequestSignedHeaders => "request-signed-headers",
        }
    }
}

impl SigningScheme {
    pub fn as_str(self) -> &'static str {
        match self {
            SigningScheme::AlibabaV1 => "alibaba-v1",
            SigningScheme::AlibabaV3 => "alibaba-v3",
            SigningScheme::HuaweiAksk => "huawei-aksk",
            SigningScheme::HuaweiToken => "huawei-token",
        }
    }

    /// Signed with an access key (as opposed to a token).
    pub fn keyed(self) -> bool {
        self != SigningScheme::HuaweiToken
    }
}

/// Where an answer carries its request id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestIdRule {
    /// JSON pointer into the body (Alibaba: `/RequestId`).
    #[serde(default)]
    pub body: Option<String>,
    /// Response header (Huawei: `X-Request-Id`).
    #[serde(default)]
    pub header: Option<String>,
    /// A body field (JSON pointer) that, where an answer has it, carries the same id as
    /// `header` (Huawei gateway errors: `/request_id`).
    #[serde(default)]
    pub mirror: Option<String>,
    pub source: Source,
}

/// How an error code and message are read out of an error body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorEnvelope {
    /// JSON pointer of the code (`/Code`, `/error_code`).
    pub code: String,
    pub message: String,
    /// The schema (by name) every error body must satisfy.
    pub schema: String,
    /// Root element of an XML error body (Alibaba: `Error`).
    #[serde(default)]
    pub xml_root: Option<String>,
    pub source: Source,
}

/// One entry of an error-code catalogue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorEntry {
    /// The code as the envelope carries it.
    pub code: String,
    pub status: u16,
    pub message: String,
    #[serde(default)]
    pub meaning: Option<String>,
    /// The situation that produces it, so the emulator can answer it by name.
    pub role: ErrorRole,
    /// Schema of the body, when it is more than the service's error envelope (SMS 403).
    #[serde(default)]
    pub schema: Option<String>,
    /// Other codes the same source gives for the same situation and status. The emulator
    /// answers `code`; a case may accept any of them (`error_code: {any_of: [...]}`).
    #[serde(default)]
    pub also: Vec<String>,
    pub source: Source,
}

/// The situations an error answers. Operation rules name errors by code; the emulator's fixed
/// checks (signature, parameters, routing) find theirs by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorRole {
    /// Decided by a state rule of the operation.
    StateRule,
    MissingParameter,
    InvalidParameter,
    MalformedRequest,
    MissingCredentials,
    SignatureMismatch,
    UnknownAccessKey,
    ExpiredTimestamp,
    NonceUsed,
    InvalidToken,
    Forbidden,
    NotFound,
    UnknownAction,
    RouteNotFound,
    MethodNotAllowed,
    Conflict,
    InternalError,
    ServiceUnavailable,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    pub description: String,
    /// The attribute holding its id (`SourceId`, `JobId`, `task_id`, `server_id`).
    pub id: String,
    /// Attributes with a documented set of values.
    #[serde(default)]
    pub attributes: BTreeMap<String, Attribute>,
    /// What it belongs to (an account, a project): a request acting for another never touches it.
    #[serde(default)]
    pub owner: Option<Owner>,
    pub source: Source,
}

/// The tenancy of a resource: it belongs to the account that made it and, with `scope:
/// project`, to one project of that account. To a request acting for another account or
/// project it does not exist.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    pub scope: OwnerScope,
    /// How a request names the project it acts in (`scope: project`): every naming a request
    /// carries must be the resource's project.
    #[serde(default)]
    pub named_by: Vec<ScopeNaming>,
    pub source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OwnerScope {
    /// The caller's account (from its credentials).
    Account,
    /// The caller's account and the project the request names.
    Project,
}

/// A place a request names its project: a path or query parameter, or a header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeNaming {
    #[serde(rename = "in")]
    pub location: ParamIn,
    pub name: String,
    pub source: Source,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    #[serde(default)]
    pub values: Vec<Value>,
    #[serde(default)]
    pub description: Option<String>,
    pub source: Source,
}

/// A Pact-style provider state: a named situation the target can be put in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderState {
    pub name: String,
    pub description: String,
    /// Parameters it takes; each names the values it allows.
    #[serde(default)]
    pub params: BTreeMap<String, StateParam>,
    /// Names of the values setup returns (IDs; credentials go under `credentials`).
    #[serde(default)]
    pub returns: Vec<String>,
    pub source: Source,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateParam {
    #[serde(rename = "type")]
    pub ty: ParamType,
    #[serde(default)]
    pub required: bool,
    /// `resource.Attribute`: the allowed values are that attribute's.
    #[serde(default)]
    pub values_of: Option<String>,
    #[serde(default)]
    pub values: Vec<Value>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationSpec {
    pub operation: String,
    pub service: String,
    pub summary: String,
    pub request: RequestSpec,
    pub responses: Vec<ResponseSpec>,
    /// The operation's own error codes (the service's common ones apply too).
    #[serde(default)]
    pub errors: Vec<ErrorEntry>,
    /// Schemas of this operation by name (looked up before the service's).
    #[serde(default)]
    pub schemas: BTreeMap<String, Value>,
    /// The resource the operation deletes.
    pub target: OperationTarget,
    /// State rules, tried in order; the first whose `when` holds decides.
    pub rules: Vec<Rule>,
    /// Who may call it: a caller without the permission is refused (the catalogue's
    /// `forbidden` error) before any rule, and nothing changes.
    #[serde(default)]
    pub authorization: Option<Authorization>,
    /// Effects a refusal applies anyway, by refusal (a rule id, or [`AUTHORIZATION_REFUSAL`]).
    /// Never in a file: only mutants set it (a refusal with a side effect).
    #[serde(skip)]
    pub refusal_leaks: BTreeMap<String, Vec<Effect>>,
    pub source: Source,
}

/// The key of [`OperationSpec::refusal_leaks`] for the refusal of a caller without permission.
pub const AUTHORIZATION_REFUSAL: &str = "authorization";

/// The permission an operation needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    /// The permission's name where documented (`workspace:server:delete`).
    #[serde(default)]
    pub permission: Option<String>,
    pub source: Source,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// Alibaba RPC action name.
    #[serde(default)]
    pub action: Option<String>,
    /// Methods the operation accepts; the first is what the harness sends.
    pub methods: Vec<String>,
    /// Huawei path template, `/v3/tasks/{task_id}`.
    #[serde(default)]
    pub path: Option<String>,
    /// Methods that must not run this operation on its path (another API may answer them, or
    /// they are refused; the operation's effects never happen).
    #[serde(default)]
    pub other_methods: Vec<String>,
    pub parameters: Vec<Parameter>,
    pub source: Source,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    pub name: String,
    #[serde(rename = "in")]
    pub location: ParamIn,
    #[serde(rename = "type")]
    pub ty: ParamType,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub min_length: Option<usize>,
    #[serde(default)]
    pub max_length: Option<usize>,
    #[serde(default)]
    pub example: Option<Value>,
    /// What a case sends when it does not say (usually a provider-state variable such as
    /// `${SourceId}`); absent means the parameter is not sent by default.
    #[serde(default)]
    pub default: Option<Value>,
    #[serde(default)]
    pub description: Option<String>,
    /// Sent by the signer or the platform, not by the case (`X-Auth-Token`).
    #[serde(default)]
    pub credential: bool,
    pub source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamIn {
    /// Alibaba: query string or form body, as the method allows.
    Query,
    Path,
    Header,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    String,
    Boolean,
    Integer,
}

impl ParamType {
    /// Whether a JSON value is of this type (no coercion: `"true"` is a string).
    pub fn admits(self, value: &Value) -> bool {
        match self {
            ParamType::String => value.is_string(),
            ParamType::Boolean => value.is_boolean(),
            ParamType::Integer => value.is_i64() || value.is_u64(),
        }
    }

    /// The type in words, for messages: `a string`, `a boolean`, `an integer`.
    pub fn in_words(self) -> &'static str {
        match self {
            ParamType::String => "a string",
            ParamType::Boolean => "a boolean",
            ParamType::Integer => "an integer",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseSpec {
    pub status: u16,
    pub description: String,
    /// Body shape: `json`, `xml-or-json` (Alibaba, by `Format`), `text` (SMS 200), `empty`.
    pub body: BodyKind,
    /// Schema name for the body (json: the parsed body; text: the body as a JSON string).
    #[serde(default)]
    pub schema: Option<String>,
    /// Root element of the XML form.
    #[serde(default)]
    pub xml_root: Option<String>,
    /// Headers the answer must carry.
    #[serde(default)]
    pub headers: Vec<String>,
    pub source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BodyKind {
    Json,
    XmlOrJson,
    Text,
    Empty,
}

/// The resource an operation acts on (`target:` of an operation file).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationTarget {
    /// Resource name in the service's `resources`.
    pub resource: String,
    /// The request parameter naming it.
    pub id_param: String,
    /// Related resources the rules can look at, by fact name (`job` → replication_job).
    #[serde(default)]
    pub related: BTreeMap<String, String>,
}

/// A state rule: when every condition holds, the outcome follows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub description: String,
    /// Fact path → condition. Facts: `target` (the resource, or absent), `target.<Attr>`,
    /// `<related>` and `<related>.<Attr>`, `param.<Name>` (typed by the parameter).
    /// An empty `when` always holds.
    #[serde(default)]
    pub when: BTreeMap<String, Condition>,
    pub then: RuleOutcome,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// The fact exists (a resource is there; a parameter was sent).
    Present(bool),
    In(Vec<Value>),
    NotIn(Vec<Value>),
    Equals(Value),
}

/// What a rule decides (`then:`): an error, or success with its effects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleOutcome {
    /// Answer this error code (from the operation's or the service's catalogue).
    Error(String),
    /// Succeed after these effects, in order.
    Succeed(Vec<Effect>),
}

/// What a successful delete does to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Remove the target resource.
    DeleteTarget,
    /// Remove the jobs that use the target source (with their intermediate resources).
    DeleteRelatedJobs,
    /// Release the target job's intermediate resources.
    ReleaseIntermediateResources,
    /// Nothing to remove (Workspace: a server that does not exist is ignored).
    Nothing,
}
