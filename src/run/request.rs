//! Turning a step into an HTTP request: the operation's defaults overlaid with the case's
//! values, variables filled in, laid out as the protocol wants, and signed as the target says
//! (or deliberately not, or wrongly, as the case asks).

use std::collections::BTreeMap;

use serde_json::Value;

use super::target::{ServiceTarget, SigningMode};
use crate::auth::{self, Credentials, HttpParts, Secret, SigningContext};
use crate::case::model::{AuthMode, Format, Request, SigningOverride};
use crate::case::vars::{self, Vars};
use crate::spec::model::{OperationSpec, ParamIn, Protocol, SigningScheme};
use crate::spec::Service;

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct Built {
    pub method: String,
    pub url: url::Url,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The string the harness signed (no secret in it), for `${string_to_sign}`.
    pub string_to_sign: Option<String>,
}

impl Built {
    /// Method and path, for messages: never the query (V1 signatures) nor headers.
    pub fn summary(&self) -> String {
        format!("{} {}", self.method, self.url.path())
    }
}

/// Why a request could not be built: a case the target cannot run (skip) or a broken case.
#[derive(Debug, Clone, PartialEq)]
pub enum BuildError {
    Unsupported(String),
    Case(String),
}

pub use crate::credentials::CaseCredentials;

/// The unreserved set of RFC 3986, for path segments.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn param_text(v: &Value) -> String {
    vars::text_of(v)
}

/// The parameters of a step: defaults, then the case's values (`null` removes one).
fn parameters(
    op: &OperationSpec,
    req: &Request,
    vars: &Vars,
) -> Result<BTreeMap<String, (ParamIn, String)>, BuildError> {
    let mut out = BTreeMap::new();
    for p in &op.request.parameters {
        let value = match req.params.get(&p.name) {
            Some(Value::Null) => continue,
            Some(v) => v,
            None => match &p.default {
                Some(d) => d,
                None => continue,
            },
        };
        let rendered = vars::render_value(value, vars)
            .map_err(|e| BuildError::Case(format!("parameter `{}`: {e}", p.name)))?;
        out.insert(p.name.clone(), (p.location, param_text(&rendered)));
    }
    Ok(out)
}

fn host_of(url: &url::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    }
}

fn creds(c: &CaseCredentials, mode: AuthMode) -> Result<Credentials, BuildError> {
    let (Some(ak), Some(sk)) = (&c.access_key_id, &c.secret) else {
        return Err(BuildError::Unsupported(
            "the target has no access key for this service".into(),
        ));
    };
    Ok(match mode {
        AuthMode::Forged => {
            Credentials::new(ak.clone(), Secret::new(format!("{}-forged", sk.expose())))
        }
        AuthMode::UnknownKey => Credentials::new(
            format!("conform-unknown-{}", vars::unique(12)),
            Secret::new(sk.expose().to_string()),
        ),
        _ => Credentials::new(ak.clone(), Secret::new(sk.expose().to_string())),
    })
}

/// The time a step signs at: now, or (`expired`) five minutes past the scheme's window, or
/// (`late`) five minutes before it closes, still accepted.
fn signing_context(mode: AuthMode, window: chrono::TimeDelta) -> SigningContext {
    let mut ctx = SigningContext::fresh();
    let margin = chrono::TimeDelta::minutes(5).min(window / 2);
    match mode {
        AuthMode::Expired => ctx.now -= window + margin,
        AuthMode::Late => ctx.now -= window - margin,
        _ => {}
    }
    ctx
}

/// The accepted clock difference of a scheme of the service (15 minutes when it has none).
fn window_of(service: &Service, scheme: SigningScheme) -> chrono::TimeDelta {
    service
        .spec
        .signing
        .iter()
        .find(|s| s.scheme == scheme)
        .map_or(auth::REPLAY_WINDOW, |s| s.window())
}

/// The scheme a step signs with: the case's override, else the target's.
fn signing_of(
    target: &ServiceTarget,
    req: &Request,
    creds: &CaseCredentials,
) -> Result<SigningMode, BuildError> {
    let Some(o) = req.signing else {
        return Ok(target.signing);
    };
    if target.signing == SigningMode::None {
        return Err(BuildError::Unsupported(format!(
            "the step signs with {o:?}; the target takes no signatures"
        )));
    }
    let mode = match o {
        SigningOverride::V1 => SigningMode::V1,
        SigningOverride::V3 => SigningMode::V3,
        SigningOverride::Aksk => SigningMode::Aksk,
        SigningOverride::Token => SigningMode::Token,
    };
    let has = match mode {
        SigningMode::Token => creds.token.is_some(),
        _ => creds.access_key_id.is_some() && creds.secret.is_some(),
    };
    if !has {
        return Err(BuildError::Unsupported(format!(
            "the step signs with {o:?}; the target has no credentials for it"
        )));
    }
    Ok(mode)
}

/// What a step's request is built from.
pub struct StepInput<'a> {
    pub service: &'a Service,
    pub op: &'a OperationSpec,
    pub target: &'a ServiceTarget,
    pub creds: &'a CaseCredentials,
    pub req: &'a Request,
    pub vars: &'a Vars,
    pub format: Option<Format>,
}

/// The request before the protocol lays it out: method, headers, body, the operation's
/// parameters and the case's extra query parameters.
struct Draft {
    method: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    params: BTreeMap<String, (ParamIn, String)>,
    extra_query: Vec<(String, String)>,
}

/// Builds the request of one step.
pub fn build(input: &StepInput<'_>) -> Result<Built, BuildError> {
    let (op, req, vars) = (input.op, input.req, input.vars);
    let params = parameters(op, req, vars)?;
    let method = req.method.clone().unwrap_or_else(|| {
        op.request
            .methods
            .first()
            .cloned()
            .unwrap_or_else(|| "GET".into())
    });
    let body = match &req.body {
        Some(b) => vars::render(b, vars)
            .map_err(|e| BuildError::Case(format!("body: {e}")))?
            .into_bytes(),
        None => Vec::new(),
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in &req.headers {
        headers.push((
            name.clone(),
            vars::render(value, vars)
                .map_err(|e| BuildError::Case(format!("header `{name}`: {e}")))?,
        ));
    }
    for (name, (loc, value)) in &params {
        if *loc == ParamIn::Header {
            headers.push((name.clone(), value.clone()));
        }
    }
    let mut extra_query = Vec::new();
    for (name, value) in &req.query {
        let value = vars::render(value, vars)
            .map_err(|e| BuildError::Case(format!("query `{name}`: {e}")))?;
        extra_query.push((name.clone(), value));
    }
    let draft = Draft {
        method,
        headers,
        body,
        params,
        extra_query,
    };
    match input.service.spec.protocol {
        Protocol::AlibabaRpc => alibaba(input, draft),
        Protocol::HuaweiRest => huawei(input, draft),
    }
}

/// The body to sign: empty for `tampered-body` (the real one is sent after signing).
fn body_to_sign(mode: AuthMode, body: &[u8]) -> Result<&[u8], BuildError> {
    match mode {
        AuthMode::TamperedBody if body.is_empty() => Err(BuildError::Case(
            "auth `tampered-body` needs a `body` to send".into(),
        )),
        AuthMode::TamperedBody => Ok(&[]),
        _ => Ok(body),
    }
}

/// The operation's query parameters with the case's extra ones, and the region.
fn alibaba_parameters(input: &StepInput<'_>, draft: &Draft) -> Vec<(String, String)> {
    let mut own: Vec<(String, String)> = draft
        .params
        .iter()
        .filter(|(_, (l, _))| *l == ParamIn::Query)
        .map(|(k, (_, v))| (k.clone(), v.clone()))
        .chain(draft.extra_query.iter().cloned())
        .collect();
    if let Some(region) = &input.target.region {
        own.push(("RegionId".into(), region.clone()));
    }
    own
}

/// RFC 3986 `k=v&…`, the RPC encoding of the query and of a form body (it must match what
/// was signed: `%20` for space).
fn rpc_encoded(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", auth::encode::rfc3986(k), auth::encode::rfc3986(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The common parameters (V1: `Action`, `Version`, `Format`; V3: only a `Format` that differs
/// from the V3 default), appended to `query`.
fn alibaba_common(
    input: &StepInput<'_>,
    v3: bool,
    action: &str,
    query: &mut Vec<(String, String)>,
) {
    let spec = &input.service.spec;
    // `format_as` spells `Format` exactly as given (`json`, `Xml`).
    let format_name = input.req.format_as.clone().or_else(|| {
        input
            .format
            .filter(|_| input.req.send_format)
            .map(|f| f.as_str().to_ascii_uppercase())
    });
    if v3 {
        let v3_default = spec
            .formats
            .as_ref()
            .map(|f| f.v3_default.to_ascii_uppercase());
        if let Some(f) = format_name.filter(|f| Some(f) != v3_default.as_ref()) {
            query.push(("Format".into(), f));
        }
    } else {
        query.push(("Action".into(), action.to_string()));
        query.push(("Version".into(), spec.version.clone().unwrap_or_default()));
        if let Some(f) = format_name {
            query.push(("Format".into(), f));
        }
    }
}

/// An RPC request laid out: its query and form parameters, action, version and scheme.
struct Rpc {
    query: Vec<(String, String)>,
    form: Vec<(String, String)>,
    action: String,
    version: String,
    signing: SigningMode,
}

/// Where the parameters go (`form_body`: a form body, which V1 signs merged with the query)
/// and the common parameters of the scheme.
fn alibaba_layout(input: &StepInput<'_>, draft: &mut Draft) -> Result<Rpc, BuildError> {
    let req = input.req;
    let signing = format_signing(
        input.service,
        signing_of(input.target, req, input.creds)?,
        req,
        input.format,
    );
    if !matches!(
        signing,
        SigningMode::V1 | SigningMode::V3 | SigningMode::None
    ) {
        return Err(BuildError::Case(format!(
            "Alibaba cannot sign with {signing:?}"
        )));
    }
    let action = req
        .action
        .clone()
        .or_else(|| input.op.request.action.clone())
        .unwrap_or_default();
    let own = alibaba_parameters(input, draft);
    let (mut query, form) = if req.form_body {
        (Vec::new(), own)
    } else {
        (own, Vec::new())
    };
    if req.form_body {
        draft.body = rpc_encoded(&form).into_bytes();
        draft.headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
    }
    alibaba_common(input, signing == SigningMode::V3, &action, &mut query);
    Ok(Rpc {
        query,
        form,
        action,
        version: input.service.spec.version.clone().unwrap_or_default(),
        signing,
    })
}

/// `Format` is a common parameter of V1 (RPC) requests; a V3 request carries none (notes). A
/// step that sends one is signed V1 on a V3 target, unless it chose its signing itself (lint
/// then wants `assumed-condition` for XML).
fn format_signing(
    service: &Service,
    signing: SigningMode,
    req: &Request,
    format: Option<Format>,
) -> SigningMode {
    if signing != SigningMode::V3 || req.signing.is_some() || !req.send_format {
        return signing;
    }
    let v3_default = service.spec.formats.as_ref().map(|f| f.v3_default.as_str());
    let sends_format = req.format_as.is_some()
        || format.is_some_and(|f| v3_default.is_none_or(|d| !d.eq_ignore_ascii_case(f.as_str())));
    if sends_format {
        SigningMode::V1
    } else {
        signing
    }
}

/// Signs the laid-out request as the step's `auth` says; the string signed, if any.
fn alibaba_sign(
    input: &StepInput<'_>,
    draft: &mut Draft,
    rpc: &mut Rpc,
    host: String,
) -> Result<Option<String>, BuildError> {
    let unsupported = |why: String| Err(BuildError::Unsupported(why));
    let broken = |why: &str| Err(BuildError::Case(why.to_string()));
    match (rpc.signing, input.req.auth) {
        (SigningMode::None, AuthMode::Default) => Ok(None),
        (SigningMode::None, m) => unsupported(format!("auth `{m:?}` needs a signing target")),
        (SigningMode::V3, AuthMode::None) => {
            draft
                .headers
                .push(("x-acs-action".into(), rpc.action.clone()));
            draft
                .headers
                .push(("x-acs-version".into(), rpc.version.clone()));
            Ok(None)
        }
        (_, AuthMode::None) => Ok(None),
        (_, AuthMode::OversizedToken) => {
            broken("auth `oversized-token` applies to X-Auth-Token services")
        }
        (SigningMode::V1, AuthMode::TamperedBody) => {
            broken("auth `tampered-body` needs a scheme that signs the body (V3)")
        }
        (SigningMode::V1, mode) => {
            let signed_params: Vec<(String, String)> =
                rpc.query.iter().chain(rpc.form.iter()).cloned().collect();
            let signed = auth::alibaba_v1::sign(
                &draft.method,
                &signed_params,
                &creds(input.creds, mode)?,
                &signing_context(mode, window_of(input.service, SigningScheme::AlibabaV1)),
            );
            rpc.query.extend(signed.query);
            Ok(Some(signed.string_to_sign))
        }
        (SigningMode::V3, mode) => {
            draft.headers.push(("host".into(), host));
            let parts = HttpParts {
                method: &draft.method,
                path: "/",
                query: &rpc.query,
                headers: &draft.headers,
                body: body_to_sign(mode, &draft.body)?,
            };
            let signed = auth::alibaba_v3::sign(
                &parts,
                &rpc.action,
                &rpc.version,
                &creds(input.creds, mode)?,
                &signing_context(mode, window_of(input.service, SigningScheme::AlibabaV3)),
            );
            draft.headers.extend(signed.headers);
            Ok(Some(signed.string_to_sign))
        }
        (m, _) => unsupported(format!("Alibaba cannot sign with {m:?}")),
    }
}

fn alibaba(input: &StepInput<'_>, mut draft: Draft) -> Result<Built, BuildError> {
    let mut url = input.target.base_url.clone();
    url.set_path("/");
    let mut rpc = alibaba_layout(input, &mut draft)?;
    let string_to_sign = alibaba_sign(input, &mut draft, &mut rpc, host_of(&url))?;
    if let Some(p) = &input.req.path {
        url.set_path(p);
    }
    let joined = rpc_encoded(&rpc.query);
    url.set_query((!joined.is_empty()).then_some(joined.as_str()));
    Ok(Built {
        method: draft.method,
        url,
        headers: draft.headers,
        body: draft.body,
        string_to_sign,
    })
}

/// The URL of a Huawei step: the path template filled in (or the case's path), the query.
fn huawei_url(
    input: &StepInput<'_>,
    draft: &Draft,
) -> Result<(url::Url, Vec<(String, String)>), BuildError> {
    let op = input.op;
    let mut path = op.request.path.clone().unwrap_or_default();
    for p in op
        .request
        .parameters
        .iter()
        .filter(|p| p.location == ParamIn::Path)
    {
        let value = draft
            .params
            .get(&p.name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        let encoded = percent_encoding::utf8_percent_encode(value, SEGMENT).to_string();
        path = path.replace(&format!("{{{}}}", p.name), &encoded);
    }
    if let Some(p) = &input.req.path {
        path = vars::render(p, input.vars).map_err(|e| BuildError::Case(format!("path: {e}")))?;
    }
    let mut url = input.target.base_url.clone();
    let base_path = url.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{base_path}{path}"));
    let query: Vec<(String, String)> = draft
        .params
        .iter()
        .filter(|(_, (l, _))| *l == ParamIn::Query)
        .map(|(k, (_, v))| (k.clone(), v.clone()))
        .chain(draft.extra_query.iter().cloned())
        .collect();
    if !query.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }
    Ok((url, query))
}

/// An `X-Auth-Token` one character longer than the operation's documented maximum: the
/// target's token (when it has one) padded.
fn oversized_token(input: &StepInput<'_>) -> Result<String, BuildError> {
    let max = input
        .op
        .request
        .parameters
        .iter()
        .find(|p| p.credential && p.location == ParamIn::Header && p.max_length.is_some())
        .and_then(|p| p.max_length)
        .ok_or_else(|| {
            BuildError::Case(
                "auth `oversized-token` needs a credential header parameter with `max_length`"
                    .into(),
            )
        })?;
    let mut token = input
        .creds
        .token
        .as_ref()
        .map(|t| t.expose().to_string())
        .unwrap_or_default();
    while token.chars().count() <= max {
        token.push_str(&vars::unique(32));
    }
    Ok(token.chars().take(max + 1).collect())
}

/// The headers the Huawei SDKs send that a case did not set: the JSON Content-Type, and the
/// project of the path as `X-Project-Id`.
fn huawei_sdk_headers(draft: &mut Draft) {
    let headers = &mut draft.headers;
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    // The Workspace SDK sends (and signs) the project of its credentials; a case may name
    // another (tenant isolation), and then only its own is sent.
    let case_names_project = headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("x-project-id"));
    if let (Some((_, project)), false) = (draft.params.get("project_id"), case_names_project) {
        headers.push(("X-Project-Id".into(), project.clone()));
    }
}

fn huawei(input: &StepInput<'_>, mut draft: Draft) -> Result<Built, BuildError> {
    let (req, creds_in) = (input.req, input.creds);
    let (url, query) = huawei_url(input, &draft)?;
    huawei_sdk_headers(&mut draft);
    let headers = &mut draft.headers;
    let mode = req.auth;
    let signing = signing_of(input.target, req, creds_in)?;
    let mut string_to_sign = None;
    match (signing, mode) {
        (SigningMode::None, AuthMode::Default) | (_, AuthMode::None) => {}
        (SigningMode::None, m) => {
            return Err(BuildError::Unsupported(format!(
                "auth `{m:?}` needs a signing target"
            )))
        }
        // Whatever the target signs with: the token is ours, not the target's.
        (_, AuthMode::OversizedToken) => {
            headers.push(("X-Auth-Token".into(), oversized_token(input)?));
        }
        (SigningMode::Aksk, AuthMode::Replayed) => {
            return Err(BuildError::Unsupported(
                "Huawei AK/SK has no nonce to replay".into(),
            ))
        }
        (SigningMode::Aksk, m) => {
            headers.push(("Host".into(), host_of(&url)));
            let raw_path = url.path().to_string();
            let parts = HttpParts {
                method: &draft.method,
                path: &raw_path,
                query: &query,
                headers,
                body: body_to_sign(m, &draft.body)?,
            };
            let window = window_of(input.service, SigningScheme::HuaweiAksk);
            let signed =
                auth::huawei_aksk::sign(&parts, &creds(creds_in, m)?, &signing_context(m, window));
            headers.extend(signed.headers);
            string_to_sign = Some(signed.string_to_sign);
        }
        (SigningMode::Token, AuthMode::Default) => {
            let token = creds_in.token.as_ref().ok_or_else(|| {
                BuildError::Unsupported("the target has no token for this service".into())
            })?;
            headers.push(("X-Auth-Token".into(), token.expose().to_string()));
        }
        (SigningMode::Token, AuthMode::Forged) => headers.push((
            "X-Auth-Token".into(),
            format!("conform-forged-{}", vars::unique(24)),
        )),
        (SigningMode::Token, m) => {
            return Err(BuildError::Unsupported(format!(
                "auth `{m:?}` does not apply to X-Auth-Token"
            )))
        }
        (m, _) => {
            return Err(BuildError::Unsupported(format!(
                "Huawei cannot sign with {m:?}"
            )))
        }
    }
    Ok(Built {
        method: draft.method,
        url,
        headers: draft.headers,
        body: draft.body,
        string_to_sign,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{alibaba_v1, alibaba_v3, NonceCache};
    use crate::spec::Catalog;

    const AK: &str = "test-ak";
    const SK: &str = "test-sk";

    fn creds() -> CaseCredentials {
        CaseCredentials {
            access_key_id: Some(AK.into()),
            secret: Some(Secret::new(SK)),
            token: Some(Secret::new("test-token")),
        }
    }

    fn target(signing: SigningMode) -> ServiceTarget {
        ServiceTarget {
            base_url: url::Url::parse("http://127.0.0.1:9").unwrap(),
            signing,
            credentials: Default::default(),
            region: None,
        }
    }

    /// Builds `req` for `service/operation` of the bundled specs, signing as `signing`.
    fn built(operation: (&str, &str), signing: SigningMode, req: &Request) -> Built {
        let catalog = Catalog::bundled().unwrap();
        let service = catalog.service(operation.0).unwrap();
        let op = &service.operations[operation.1].spec;
        let vars = Vars::from([
            ("SourceId".to_string(), Value::from("s-1")),
            ("task_id".to_string(), Value::from("t-1")),
        ]);
        build(&StepInput {
            service,
            op,
            target: &target(signing),
            creds: &creds(),
            req,
            vars: &vars,
            format: Some(Format::Json),
        })
        .unwrap()
    }

    fn pairs(encoded: &str) -> Vec<(String, String)> {
        url::form_urlencoded::parse(encoded.as_bytes())
            .into_owned()
            .collect()
    }

    #[test]
    fn v1_form_parameters_are_in_the_body_and_signed_with_the_query() {
        let req = Request {
            method: Some("POST".into()),
            signing: Some(SigningOverride::V1),
            form_body: true,
            query: BTreeMap::from([("SignatureType".into(), String::new())]),
            ..Request::default()
        };
        let b = built(("alibaba-smc", "DeleteSourceServer"), SigningMode::V3, &req);
        let form = pairs(std::str::from_utf8(&b.body).unwrap());
        assert!(
            form.contains(&("SourceId".into(), "s-1".into())),
            "{form:?}"
        );
        assert!(form.contains(&("SignatureType".into(), String::new())));
        let query = pairs(b.url.query().unwrap());
        assert!(!query.iter().any(|(k, _)| k == "SourceId"));
        assert!(b.headers.contains(&(
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into()
        )));
        let all: Vec<_> = query.into_iter().chain(form).collect();
        let keys = Credentials::new(AK, SK);
        let now = chrono::Utc::now();
        assert_eq!(
            alibaba_v1::verify("POST", &all, &keys, &NonceCache::default(), now),
            Ok(AK.to_string())
        );
        assert_eq!(
            b.string_to_sign.as_deref(),
            Some(alibaba_v1::string_to_sign("POST", &all).as_str())
        );
    }

    #[test]
    fn tampered_body_is_signed_empty_and_sent_with_the_body() {
        let req = Request {
            signing: Some(SigningOverride::V3),
            body: Some("altered".into()),
            auth: AuthMode::TamperedBody,
            ..Request::default()
        };
        let b = built(("alibaba-smc", "DeleteSourceServer"), SigningMode::V3, &req);
        assert_eq!(b.body, b"altered");
        let query = pairs(b.url.query().unwrap());
        let parts = HttpParts {
            method: "POST",
            path: "/",
            query: &query,
            headers: &b.headers,
            body: &b.body,
        };
        let keys = Credentials::new(AK, SK);
        let now = chrono::Utc::now();
        let verdict = alibaba_v3::verify(&parts, &keys, &NonceCache::default(), now);
        assert!(matches!(
            verdict,
            Err(auth::AuthError::SignatureMismatch { .. })
        ));
        let signed_empty = HttpParts { body: b"", ..parts };
        assert_eq!(
            alibaba_v3::verify(&signed_empty, &keys, &NonceCache::default(), now),
            Ok(AK.to_string())
        );
    }

    #[test]
    fn oversized_token_is_one_past_the_documented_maximum() {
        let req = Request {
            auth: AuthMode::OversizedToken,
            ..Request::default()
        };
        let b = built(("huawei-sms", "DeleteTask"), SigningMode::Aksk, &req);
        let tokens: Vec<_> = b
            .headers
            .iter()
            .filter(|(n, _)| n == "X-Auth-Token")
            .collect();
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].1.chars().count(), 16_385);
        assert!(tokens[0].1.starts_with("test-token"));
        assert!(!b.headers.iter().any(|(n, _)| n == "Authorization"));
    }

    #[test]
    fn huawei_extra_query_and_headers_are_signed() {
        let req = Request {
            signing: Some(SigningOverride::Aksk),
            query: BTreeMap::from([("marker".into(), "m".into())]),
            headers: BTreeMap::from([("User-Agent".into(), "sdk/3.0".into())]),
            ..Request::default()
        };
        let b = built(("huawei-sms", "DeleteTask"), SigningMode::Aksk, &req);
        assert_eq!(b.url.query(), Some("marker=m"));
        let auth = &b
            .headers
            .iter()
            .find(|(n, _)| n == "Authorization")
            .unwrap()
            .1;
        assert!(
            auth.contains("SignedHeaders=content-type;host;user-agent;x-sdk-date"),
            "{auth}"
        );
        assert!(b.string_to_sign.unwrap().starts_with("SDK-HMAC-SHA256\n"));
    }
}
#[cfg(test)]
mod protocol_tests {
    use super::*;
    use crate::run::target::ServiceCredentials;
    use crate::spec::Catalog;

    fn build_smc(req: &Request, format: Option<Format>) -> Built {
        let catalog = Catalog::bundled().expect("bundled specs");
        let service = catalog.service("alibaba-smc").expect("smc");
        let op = &service.operations["DeleteSourceServer"].spec;
        let target = ServiceTarget {
            base_url: url::Url::parse("http://127.0.0.1:1").expect("url"),
            signing: SigningMode::V3,
            credentials: ServiceCredentials::default(),
            region: None,
        };
        let creds = CaseCredentials {
            access_key_id: Some("ak".into()),
            secret: Some(Secret::new("sk")),
            token: None,
        };
        let mut vars = Vars::new();
        vars.insert("SourceId".into(), Value::String("s-1".into()));
        build(&StepInput {
            service,
            op,
            target: &target,
            creds: &creds,
            req,
            vars: &vars,
            format,
        })
        .expect("built")
    }

    fn signed_v3(b: &Built) -> bool {
        b.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("authorization"))
    }

    #[test]
    fn format_goes_with_v1_signing() {
        let json = build_smc(&Request::default(), Some(Format::Json));
        assert!(signed_v3(&json));
        assert!(!json.url.query().unwrap_or("").contains("Format="));
        let xml = build_smc(&Request::default(), Some(Format::Xml));
        assert!(!signed_v3(&xml));
        let q = xml.url.query().unwrap_or("").to_string();
        assert!(q.contains("Format=XML") && q.contains("Signature="), "{q}");
        let spelled = Request {
            format_as: Some("json".into()),
            ..Request::default()
        };
        let q = build_smc(&spelled, Some(Format::Json))
            .url
            .query()
            .unwrap_or("")
            .to_string();
        assert!(q.contains("Format=json") && q.contains("Signature="), "{q}");
        // A step that chose V3 keeps it (lint wants `assumed-condition` in XML).
        let v3 = Request {
            signing: Some(SigningOverride::V3),
            ..Request::default()
        };
        assert!(signed_v3(&build_smc(&v3, Some(Format::Xml))));
    }

    #[test]
    fn form_body_carries_the_parameters() {
        let req = Request {
            form_body: true,
            ..Request::default()
        };
        for format in [Format::Json, Format::Xml] {
            let b = build_smc(&req, Some(format));
            assert_eq!(String::from_utf8_lossy(&b.body), "SourceId=s-1");
            assert!(!b.url.query().unwrap_or("").contains("SourceId"));
            assert!(b
                .headers
                .iter()
                .any(|(n, v)| n == "Content-Type" && v == "application/x-www-form-urlencoded"));
        }
    }
}
