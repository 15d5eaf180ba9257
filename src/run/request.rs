//! Turning a step into an HTTP request: the operation's defaults overlaid with the case's
//! values, variables filled in, laid out as the protocol wants, and signed as the target says
//! (or deliberately not, or wrongly, as the case asks).

use std::collections::BTreeMap;

use serde_json::Value;

use super::target::{ServiceTarget, SigningMode};
use crate::auth::{self, Credentials, HttpParts, Secret, SigningContext};
use crate::case::model::{AuthMode, Format, Request, SigningOverride};
use crate::case::vars::{self, Vars};
use crate::spec::model::{OperationSpec, ParamIn, Protocol};
use crate::spec::Service;

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct Built {
    pub method: String,
    pub url: url::Url,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
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

/// What the signer works with for one case: the target's credentials, or those a provider
/// state handed out.
#[derive(Debug, Clone, Default)]
pub struct CaseCredentials {
    pub access_key_id: Option<String>,
    pub secret: Option<Secret>,
    pub token: Option<Secret>,
}

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

fn signing_context(mode: AuthMode) -> SigningContext {
    let mut ctx = SigningContext::fresh();
    if mode == AuthMode::Expired {
        ctx.now -= chrono::TimeDelta::minutes(20);
    }
    ctx
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

/// Builds the request of one step.
pub fn build(
    service: &Service,
    op: &OperationSpec,
    target: &ServiceTarget,
    creds_in: &CaseCredentials,
    req: &Request,
    vars: &Vars,
    format: Option<Format>,
) -> Result<Built, BuildError> {
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
    match service.spec.protocol {
        Protocol::AlibabaRpc => alibaba(
            service, op, target, creds_in, req, &params, method, headers, body, format,
        ),
        Protocol::HuaweiRest => huawei(
            op, target, creds_in, req, vars, &params, method, headers, body,
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn alibaba(
    service: &Service,
    op: &OperationSpec,
    target: &ServiceTarget,
    creds_in: &CaseCredentials,
    req: &Request,
    params: &BTreeMap<String, (ParamIn, String)>,
    method: String,
    mut headers: Vec<(String, String)>,
    body: Vec<u8>,
    format: Option<Format>,
) -> Result<Built, BuildError> {
    let action = req
        .action
        .clone()
        .or_else(|| op.request.action.clone())
        .unwrap_or_default();
    let version = service.spec.version.clone().unwrap_or_default();
    let format_name = req
        .format_as
        .clone()
        .or_else(|| format.map(|f| f.as_str().to_ascii_uppercase()));
    let mut query: Vec<(String, String)> = params
        .iter()
        .filter(|(_, (l, _))| *l == ParamIn::Query)
        .map(|(k, (_, v))| (k.clone(), v.clone()))
        .collect();
    if let Some(region) = &target.region {
        query.push(("RegionId".into(), region.clone()));
    }
    let mut url = target.base_url.clone();
    url.set_path("/");
    let host = host_of(&url);
    let signing = format_signing(service, signing_of(target, req, creds_in)?, req, format);
    // --- protocol: the operation's parameters in a form body instead of the query.
    let form = if req.form_body {
        std::mem::take(&mut query)
    } else {
        Vec::new()
    };
    let body = if req.form_body {
        headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
        encode_pairs(&form).into_bytes()
    } else {
        body
    };
    if !matches!(
        signing,
        SigningMode::V1 | SigningMode::V3 | SigningMode::None
    ) {
        return Err(BuildError::Case(format!(
            "Alibaba cannot sign with {signing:?}"
        )));
    }
    let v3 = signing == SigningMode::V3;
    let format_name = if req.send_format { format_name } else { None };
    if v3 {
        // V3 carries the action in headers; Format only when it differs from the V3 default.
        let v3_default = service
            .spec
            .formats
            .as_ref()
            .map(|f| f.v3_default.to_ascii_uppercase());
        if let Some(f) = &format_name {
            if Some(f) != v3_default.as_ref() {
                query.push(("Format".into(), f.clone()));
            }
        }
    } else {
        query.push(("Action".into(), action.clone()));
        query.push(("Version".into(), version.clone()));
        if let Some(f) = &format_name {
            query.push(("Format".into(), f.clone()));
        }
    }
    let auth_mode = req.auth;
    match (signing, auth_mode) {
        (SigningMode::None, AuthMode::Default) => {}
        (SigningMode::None, m) => {
            return Err(BuildError::Unsupported(format!(
                "auth `{m:?}` needs a signing target"
            )))
        }
        (_, AuthMode::None) => {
            if v3 {
                headers.push(("x-acs-action".into(), action));
                headers.push(("x-acs-version".into(), version));
            }
        }
        (SigningMode::V1, mode) => {
            // Form-body parameters are signed with the query's (notes, Signature V1).
            let all: Vec<(String, String)> = query.iter().chain(&form).cloned().collect();
            let signed = auth::alibaba_v1::sign(
                &method,
                &all,
                &creds(creds_in, mode)?,
                &signing_context(mode),
            );
            query.extend(signed.query);
        }
        (SigningMode::V3, mode) => {
            headers.push(("host".into(), host.clone()));
            let parts = HttpParts {
                method: &method,
                path: "/",
                query: &query,
                headers: &headers,
                body: &body,
            };
            let signed = auth::alibaba_v3::sign(
                &parts,
                &action,
                &version,
                &creds(creds_in, mode)?,
                &signing_context(mode),
            );
            headers.extend(signed.headers);
        }
        (m, _) => {
            return Err(BuildError::Unsupported(format!(
                "Alibaba cannot sign with {m:?}"
            )))
        }
    }
    if let Some(p) = &req.path {
        url.set_path(p);
    }
    // The RPC encoding of the query must match what was signed: RFC 3986, `%20` for space.
    let joined = encode_pairs(&query);
    url.set_query(if joined.is_empty() {
        None
    } else {
        Some(&joined)
    });
    Ok(Built {
        method,
        url,
        headers,
        body,
    })
}

/// `k=v&…`, RFC 3986 encoded (the RPC encoding of a query or form body).
fn encode_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", auth::encode::rfc3986(k), auth::encode::rfc3986(v)))
        .collect::<Vec<_>>()
        .join("&")
}

// --- protocol

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

#[allow(clippy::too_many_arguments)]
fn huawei(
    op: &OperationSpec,
    target: &ServiceTarget,
    creds_in: &CaseCredentials,
    req: &Request,
    vars: &Vars,
    params: &BTreeMap<String, (ParamIn, String)>,
    method: String,
    mut headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> Result<Built, BuildError> {
    let template = op.request.path.clone().unwrap_or_default();
    let mut path = template.clone();
    for p in op
        .request
        .parameters
        .iter()
        .filter(|p| p.location == ParamIn::Path)
    {
        let value = params.get(&p.name).map(|(_, v)| v.as_str()).unwrap_or("");
        let encoded = percent_encoding::utf8_percent_encode(value, SEGMENT).to_string();
        path = path.replace(&format!("{{{}}}", p.name), &encoded);
    }
    if let Some(p) = &req.path {
        path = vars::render(p, vars).map_err(|e| BuildError::Case(format!("path: {e}")))?;
    }
    let mut url = target.base_url.clone();
    let base_path = url.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{base_path}{path}"));
    let query: Vec<(String, String)> = params
        .iter()
        .filter(|(_, (l, _))| *l == ParamIn::Query)
        .map(|(k, (_, v))| (k.clone(), v.clone()))
        .collect();
    if !query.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }
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
    if let (Some((_, project)), false) = (params.get("project_id"), case_names_project) {
        headers.push(("X-Project-Id".into(), project.clone()));
    }
    let mode = req.auth;
    let signing = signing_of(target, req, creds_in)?;
    match (signing, mode) {
        (SigningMode::None, AuthMode::Default) | (_, AuthMode::None) => {}
        (SigningMode::None, m) => {
            return Err(BuildError::Unsupported(format!(
                "auth `{m:?}` needs a signing target"
            )))
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
                method: &method,
                path: &raw_path,
                query: &query,
                headers: &headers,
                body: &body,
            };
            let signed = auth::huawei_aksk::sign(&parts, &creds(creds_in, m)?, &signing_context(m));
            headers.extend(signed.headers);
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
        method,
        url,
        headers,
        body,
    })
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
        build(service, op, &target, &creds, req, &vars, format).expect("built")
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
