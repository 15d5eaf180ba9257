//! Alibaba Cloud RPC services (SMC 2019-06-01) at `/`.
//!
//! GET or POST, parameters in the query or a form body (merged, query first). The action comes
//! from the `x-acs-action` header (signature V3, ACS3-HMAC-SHA256 in `Authorization`) or the
//! `Action` parameter (signature V1, HMAC-SHA1 in `Signature`). `Format` (in any letter case where the spec's
//! `format_case` says so) picks JSON or XML; without it a V1 request gets the spec's `formats.default` and a V3 request its
//! `formats.v3_default`. Every answer carries a `RequestId` (upper-case UUID) where the spec's
//! `request_id.body` says. Errors use the envelope `{RequestId, HostId, Code, Message,
//! Recommend}` (or `<Error>…</Error>`, root from `error_envelope.xml_root`), with the
//! Content-Type of the spec's `content_types` (the SDKs key on it). A form body is read only
//! where the spec has `form_body`.
//!
//! Order of checks: parameters decodable, action known, signature, permission, parameters,
//! failure marks, state rules.

use chrono::Utc;
use serde_json::Value;

use super::answer::{
    by_code, by_role, by_roles, failure, needs_filler, success_status, top_field, AnswerContext,
    EmulatorAnswer, ErrorAnswer, Filler, FlatBody, Format, JSON_CONTENT_TYPE, XML_CONTENT_TYPE,
};
use super::params::check_all;
use super::request::{decode_form, decode_pairs, first, random_chars, uuid, Incoming, LOWER_ALNUM};
use super::rules::{apply_refusal_leaks, decide_in, Decision};
use super::service_emulator::{Made, ServiceEmulator, Setup};
use super::store::Record;
use super::tenancy::{lacks_permission, Caller};
use super::{Handled, Keys, Shared};
use crate::auth::{alibaba_v1, alibaba_v3, AuthError};
use crate::spec::model::{
    ErrorRole, OperationSpec, ParamIn, SignedPart, Signing, SigningScheme, AUTHORIZATION_REFUSAL,
};
use crate::spec::Service;

/// Where a request stands while it is checked.
struct Call<'a> {
    service: &'a Service,
    op: Option<&'a OperationSpec>,
    format: Format,
    v3: bool,
    request_id: String,
}

pub(super) fn handle(sh: &Shared, req: &Incoming) -> Handled {
    let service = first_service(sh);
    let v3 = is_v3(req, None);
    let mut call = Call {
        service,
        op: None,
        format: default_format(service, v3),
        v3,
        request_id: uuid(true),
    };
    let result = process(sh, req, &mut call);
    finish(req, &call, result)
}

/// A request to a path other than `/` when only Alibaba services are emulated.
pub(super) fn route_not_found(sh: &Shared, req: &Incoming) -> Handled {
    let service = first_service(sh);
    let call = Call {
        service,
        op: None,
        format: default_format(service, false),
        v3: false,
        request_id: uuid(true),
    };
    // Alibaba's "api not found, check your url and method" when no route error is catalogued.
    let err = by_roles(
        service,
        None,
        &[ErrorRole::RouteNotFound, ErrorRole::UnknownAction],
        &[("path", req.path()), ("method", req.method())],
    );
    finish(req, &call, Err(err))
}

fn first_service(sh: &Shared) -> &Service {
    sh.routes
        .alibaba_services
        .first()
        .and_then(|n| sh.service(n))
        .expect("dispatch only calls the Alibaba handler when an Alibaba service is emulated")
}

/// A V3 request: signed in `Authorization`, or naming its action only in `x-acs-action` (the
/// current SDK signing V1 sends `Action` in the query and `x-acs-action` too).
fn is_v3(req: &Incoming, action_param: Option<&str>) -> bool {
    req.has_header("authorization")
        || (action_param.is_none() && req.header("x-acs-action").is_some())
}

fn default_format(service: &Service, v3: bool) -> Format {
    let name = service
        .spec
        .formats
        .as_ref()
        .map(|f| {
            if v3 {
                f.v3_default.as_str()
            } else {
                f.default.as_str()
            }
        })
        .unwrap_or("JSON");
    parse_format(name).unwrap_or(Format::Json)
}

fn parse_format(name: &str) -> Option<Format> {
    if name.eq_ignore_ascii_case("json") {
        Some(Format::Json)
    } else if name.eq_ignore_ascii_case("xml") {
        Some(Format::Xml)
    } else {
        None
    }
}

/// The format a request asks for: `Format` when it names a supported format (in any letter
/// case where `format_case` says so, else spelled as `supported` is), else the default.
fn requested_format(service: &Service, asked: Option<&str>, v3: bool) -> Format {
    let any_case = service
        .spec
        .format_case
        .as_ref()
        .is_some_and(|c| c.insensitive);
    let names = |f: &str, supported: &str| {
        if any_case {
            f.eq_ignore_ascii_case(supported)
        } else {
            f == supported
        }
    };
    let chosen = match (&service.spec.formats, asked) {
        (_, None) => None,
        (None, Some(f)) => parse_format(f),
        (Some(fs), Some(f)) => fs
            .supported
            .iter()
            .find(|s| names(f, s))
            .and_then(|s| parse_format(s)),
    };
    chosen.unwrap_or_else(|| default_format(service, v3))
}

/// What a successful request did.
struct Success {
    status: u16,
}

/// The query's parameters, and all parameters (the query's, then a form body's where the spec
/// allows one); sets the call's signature version and format from them.
fn read_params(req: &Incoming, call: &mut Call<'_>) -> Result<(Params, Params), ErrorAnswer> {
    let invalid = |call: &Call<'_>, what: &str, value: &str| {
        by_roles(
            call.service,
            call.op,
            &[ErrorRole::InvalidParameter, ErrorRole::MalformedRequest],
            &[("param", what), ("value", value)],
        )
    };
    let query = decode_pairs(req.query()).map_err(|e| invalid(call, "query", &e.raw))?;
    let mut params = query.clone();
    if req.body_too_large {
        return Err(by_roles(
            call.service,
            None,
            &[ErrorRole::MalformedRequest, ErrorRole::InvalidParameter],
            &[("param", "body")],
        ));
    }
    // Form bodies only where the spec says parameters may come in one.
    let form = req.media_type().as_deref() == Some("application/x-www-form-urlencoded");
    if form && call.service.spec.form_body.is_some() {
        params.extend(decode_form(&req.body).map_err(|e| invalid(call, "body", &e.raw))?);
    }
    call.v3 = is_v3(req, first(&params, "Action"));
    call.format = requested_format(call.service, first(&params, "Format"), call.v3);
    Ok((query, params))
}

/// Decoded `name=value` parameters, in order.
type Params = Vec<(String, String)>;

/// The service and operation the request's action names, and the action; the call then
/// answers as that operation.
fn route<'a, 'p>(
    sh: &'a Shared,
    req: &'p Incoming,
    params: &'p Params,
    call: &mut Call<'a>,
) -> Result<(&'a Service, &'a OperationSpec, &'p str), ErrorAnswer> {
    // `Action` first: V1 requests of the current SDK carry both it and `x-acs-action`.
    let action = first(params, "Action").or_else(|| req.header("x-acs-action"));
    let Some(action) = action else {
        return Err(by_role(
            call.service,
            None,
            ErrorRole::MissingParameter,
            &[("param", "Action")],
        ));
    };
    let Some((service, op)) = sh.routes.actions.get(action).and_then(|(s, o)| {
        sh.service(s)
            .and_then(|svc| Some((svc, &svc.operations.get(o)?.spec)))
    }) else {
        return Err(by_role(
            call.service,
            None,
            ErrorRole::UnknownAction,
            &[("action", action)],
        ));
    };
    call.service = service;
    call.op = Some(op);
    call.format = requested_format(service, first(params, "Format"), call.v3);
    Ok((service, op, action))
}

fn process<'a>(
    sh: &'a Shared,
    req: &Incoming,
    call: &mut Call<'a>,
) -> Result<Success, ErrorAnswer> {
    let (query, params) = read_params(req, call)?;
    let (service, op, action) = route(sh, req, &params, call)?;
    let caller = authenticate(sh, req, &query, &params, call)?;
    let target_id = first(&params, &op.target.id_param);
    if lacks_permission(&sh.store, op, caller.as_deref()) {
        sh.store
            .with(|t| apply_refusal_leaks(t, op, AUTHORIZATION_REFUSAL, target_id));
        return Err(by_role(
            service,
            Some(op),
            ErrorRole::Forbidden,
            &[("action", action)],
        ));
    }

    let typed = check_all(op, |loc, name| match loc {
        ParamIn::Query => first(&params, name),
        ParamIn::Header => req.header(name),
        ParamIn::Path => None,
    })
    .map_err(|p| p.answer(service, Some(op)))?;

    let who = Caller::of(
        &sh.store,
        &service.spec,
        op,
        caller.as_deref(),
        |loc, name| match loc {
            ParamIn::Query => first(&params, name).map(str::to_string),
            ParamIn::Header => req.header(name).map(str::to_string),
            ParamIn::Path => None,
        },
    );
    let decision = decide_in(&sh.store, &service.spec, op, target_id, &typed, &who);
    match decision {
        Err(status) => Err(failure(service, op, status)),
        Ok(Decision::Error { code, .. }) => {
            Err(by_code(service, Some(op), &code, &[("action", action)]))
        }
        Ok(Decision::NoRule) => Err(by_role(service, Some(op), ErrorRole::InternalError, &[])),
        Ok(Decision::Success { .. }) => Ok(Success {
            status: success_status(op),
        }),
    }
}

fn authenticate(
    sh: &Shared,
    req: &Incoming,
    query: &[(String, String)],
    params: &[(String, String)],
    call: &Call<'_>,
) -> Result<Option<String>, ErrorAnswer> {
    let signing = &call.service.spec.signing;
    let entry = |s: SigningScheme| signing.iter().find(|x| x.scheme == s);
    let signed_v3 = req.has_header("authorization");
    let has_v1 = first(params, "Signature").is_some() || first(params, "AccessKeyId").is_some();
    if signing.is_empty() {
        // Unsigned requests are accepted; the caller is who the request claims to be.
        return Ok(claimed_key(req, params));
    }
    let now = Utc::now();
    let (result, v1) = match (
        entry(SigningScheme::AlibabaV3),
        entry(SigningScheme::AlibabaV1),
    ) {
        (Some(v3), _) if signed_v3 => (verify_v3(sh, req, query, v3, now), false),
        (_, Some(v1)) if has_v1 => (verify_v1(sh, req, query, params, v1, now), true),
        // Signed, but with a scheme this service does not take.
        _ if signed_v3 || has_v1 => {
            return Err(by_role(
                call.service,
                call.op,
                ErrorRole::SignatureMismatch,
                &[("string_to_sign", "")],
            ))
        }
        _ => {
            return Err(by_roles(
                call.service,
                call.op,
                &[ErrorRole::MissingCredentials, ErrorRole::MissingParameter],
                &[("param", "AccessKeyId")],
            ))
        }
    };
    result.map(Some).map_err(|e| auth_error(call, &e, v1))
}

/// The access key a request names (V1 `AccessKeyId`, V3 `Credential=`), unverified.
fn claimed_key(req: &Incoming, params: &[(String, String)]) -> Option<String> {
    first(params, "AccessKeyId")
        .map(str::to_string)
        .or_else(|| req.authorization_field("Credential="))
}

fn alibaba_keys(sh: &Shared) -> Keys<'_> {
    Keys {
        access_key_id: &sh.creds.alibaba_access_key_id,
        secret: &sh.creds.alibaba_access_key_secret,
        store: &sh.store,
    }
}

/// V3 over what the spec's `signs` says the signature covers (the query, the body's hash).
fn verify_v3(
    sh: &Shared,
    req: &Incoming,
    query: &[(String, String)],
    signing: &Signing,
    now: chrono::DateTime<Utc>,
) -> Result<String, AuthError> {
    if !signing.checks(req.method()) {
        return Ok(claimed_key(req, &[]).unwrap_or_default());
    }
    let path = if req.path().is_empty() {
        "/"
    } else {
        req.path()
    };
    let parts = req.signed_parts(path, query, signing);
    let (keys, nonces) = (alibaba_keys(sh), sh.nonces_for(signing));
    alibaba_v3::verify_within(&parts, &keys, nonces, now, signing.window())
}

/// V1 over the parameters the spec's `signs` says are signed (form-body ones, empty ones).
fn verify_v1(
    sh: &Shared,
    req: &Incoming,
    query: &[(String, String)],
    params: &[(String, String)],
    signing: &Signing,
    now: chrono::DateTime<Utc>,
) -> Result<String, AuthError> {
    if !signing.checks(req.method()) {
        return Ok(first(params, "AccessKeyId").unwrap_or("").to_string());
    }
    let from = if signing.signs(SignedPart::FormBody) {
        params
    } else {
        query
    };
    let signed: Vec<(String, String)> = from
        .iter()
        .filter(|(_, v)| signing.signs(SignedPart::EmptyValues) || !v.is_empty())
        .cloned()
        .collect();
    let nonces = sh.nonces_for(signing);
    let keys = alibaba_keys(sh);
    alibaba_v1::verify_within(req.method(), &signed, &keys, nonces, now, signing.window())
}

fn auth_error(call: &Call<'_>, err: &AuthError, v1: bool) -> ErrorAnswer {
    let (s, op) = (call.service, call.op);
    match err {
        AuthError::Missing(what) if v1 => by_roles(
            s,
            op,
            &[ErrorRole::MissingParameter, ErrorRole::MissingCredentials],
            &[("param", what)],
        ),
        AuthError::Missing(what) => by_roles(
            s,
            op,
            &[ErrorRole::MissingCredentials, ErrorRole::MissingParameter],
            &[("param", what)],
        ),
        AuthError::Malformed(why) if v1 => by_roles(
            s,
            op,
            &[ErrorRole::InvalidParameter, ErrorRole::SignatureMismatch],
            &[("value", why), ("string_to_sign", "")],
        ),
        AuthError::Malformed(why) => by_roles(
            s,
            op,
            &[ErrorRole::SignatureMismatch, ErrorRole::InvalidParameter],
            &[("value", why), ("string_to_sign", "")],
        ),
        AuthError::UnknownKey => by_roles(
            s,
            op,
            &[ErrorRole::UnknownAccessKey, ErrorRole::SignatureMismatch],
            &[("string_to_sign", "")],
        ),
        AuthError::SignatureMismatch { string_to_sign } => by_role(
            s,
            op,
            ErrorRole::SignatureMismatch,
            &[("string_to_sign", string_to_sign)],
        ),
        AuthError::Expired => by_roles(
            s,
            op,
            &[ErrorRole::ExpiredTimestamp, ErrorRole::SignatureMismatch],
            &[("string_to_sign", "")],
        ),
        AuthError::NonceReused => by_roles(
            s,
            op,
            &[ErrorRole::NonceUsed, ErrorRole::SignatureMismatch],
            &[("string_to_sign", "")],
        ),
    }
}

fn finish(req: &Incoming, call: &Call<'_>, result: Result<Success, ErrorAnswer>) -> Handled {
    let spec = &call.service.spec;
    let rid_field = spec
        .request_id
        .body
        .as_deref()
        .map(top_field)
        .unwrap_or("RequestId");
    let mut ctx = AnswerContext {
        service: spec.service.clone(),
        operation: call.op.map(|o| o.operation.clone()),
        format: call.format,
        request_id: call.request_id.clone(),
        error_code: None,
        error_role: None,
    };
    let recommend;
    let (status, root, body) = match &result {
        Ok(success) => success_body(call, success, rid_field),
        Err(err) => {
            ctx.error_code = Some(err.code.clone());
            ctx.error_role = err.role;
            recommend = recommend_url(call, err);
            let host = req.header("host").unwrap_or("localhost");
            error_body(call, err, [rid_field, host, &recommend])
        }
    };
    let (fallback, bytes) = match call.format {
        Format::Json => (JSON_CONTENT_TYPE, body.to_json()),
        Format::Xml => (XML_CONTENT_TYPE, body.to_xml(&root).into_bytes()),
    };
    let content_type = super::answer::content_type(spec, call.format, status, fallback);
    let mut headers = vec![("Content-Type".to_string(), content_type.to_string())];
    if let Some(h) = &spec.request_id.header {
        headers.push((h.clone(), call.request_id.clone()));
    }
    Handled {
        answer: EmulatorAnswer {
            status,
            headers,
            body: bytes.into(),
        },
        ctx,
    }
}

/// The fields of `schema` beyond the known ones, filled in (upper-case ids).
fn filled(
    call: &Call<'_>,
    known: &[(&str, Value)],
    message: &str,
    schema: &str,
) -> Option<serde_json::Map<String, Value>> {
    Filler {
        known,
        message,
        upper_ids: true,
        service: call.service,
        op: call.op,
    }
    .named(schema)
    .and_then(|v| match v {
        Value::Object(m) => Some(m),
        _ => None,
    })
}

/// A success's status, XML root and body: the request id, and what else its schema needs.
fn success_body<'a>(
    call: &'a Call<'_>,
    success: &Success,
    rid_field: &'a str,
) -> (u16, String, FlatBody<'a>) {
    let rid = call.request_id.as_str();
    let op = call.op.expect("a success has an operation");
    let response = op.response(success.status);
    let schema = response.and_then(|r| r.schema.as_deref());
    let extra = schema
        .filter(|s| needs_filler(call.service, call.op, s, &[rid_field]))
        .and_then(|s| filled(call, &[(rid_field, Value::String(rid.to_string()))], "", s));
    let root = response
        .and_then(|r| r.xml_root.clone())
        .unwrap_or_else(|| {
            format!(
                "{}Response",
                op.request.action.as_deref().unwrap_or(&op.operation)
            )
        });
    let body = FlatBody {
        fields: vec![(rid_field, rid)],
        extra,
    };
    (success.status, root, body)
}

/// The troubleshooting link an Alibaba error carries, for its code, product and request id.
fn recommend_url(call: &Call<'_>, err: &ErrorAnswer) -> String {
    let spec = &call.service.spec;
    let rid = call.request_id.as_str();
    let product = spec.service.rsplit('-').next().unwrap_or(&spec.service);
    let mut chars = product.chars();
    let product: String = chars
        .next()
        .map(|c| c.to_ascii_uppercase())
        .into_iter()
        .chain(chars)
        .collect();
    format!(
        "https://api.aliyun.com/troubleshoot?q={}&product={product}&requestId={rid}",
        err.code
    )
}

/// An error's status, XML root and body: the envelope's fields (`[request id field, host,
/// recommend]` given), and what else its schema needs.
fn error_body<'a>(
    call: &'a Call<'_>,
    err: &'a ErrorAnswer,
    [rid_field, host, recommend]: [&'a str; 3],
) -> (u16, String, FlatBody<'a>) {
    let envelope = &call.service.spec.error_envelope;
    let code_field = top_field(&envelope.code);
    let message_field = top_field(&envelope.message);
    let fields = vec![
        (rid_field, call.request_id.as_str()),
        ("HostId", host),
        (code_field, err.code.as_str()),
        (message_field, err.message.as_str()),
        ("Recommend", recommend),
    ];
    let schema = err.schema.as_deref().unwrap_or(&envelope.schema);
    let covered: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
    let extra = if needs_filler(call.service, call.op, schema, &covered) {
        let known: Vec<(&str, Value)> = fields
            .iter()
            .map(|(k, v)| (*k, Value::String(v.to_string())))
            .collect();
        filled(call, &known, &err.message, schema)
    } else {
        None
    };
    let root = envelope
        .xml_root
        .clone()
        .unwrap_or_else(|| "Error".to_string());
    (err.status, root, FlatBody { fields, extra })
}

// ---- provider states ----

pub const SOURCE_SERVER: &str = "source_server";
pub const REPLICATION_JOB: &str = "replication_job";
pub const INTERMEDIATE_INSTANCE: &str = "intermediate_instance";

fn fresh(prefix: &str) -> String {
    format!("{prefix}{}", random_chars(LOWER_ALNUM, 17))
}

/// Alibaba Cloud SMC: its provider states.
pub(super) struct AlibabaSmc;

impl ServiceEmulator for AlibabaSmc {
    fn service(&self) -> &'static str {
        "alibaba-smc"
    }

    fn setup_state(&self, setup: &Setup<'_>) -> Result<Made, String> {
        setup_state(setup)
    }
}

/// Sets up an SMC provider state (see the spec's `provider_states`): source servers with a
/// `State`, replication jobs with a `Status` using a source and owning an intermediate
/// instance, and resources marked to fail.
fn setup_state(s: &Setup<'_>) -> Result<Made, String> {
    let mut made = Made::default();
    let source = |made: &mut Made, state: &str| -> String {
        let id = fresh("s-");
        made.record(Record::new(SOURCE_SERVER, &id).attr(s.attr_of("state", "State"), state));
        made.value("SourceId", id.clone());
        id
    };
    let job = |made: &mut Made, source_id: &str, status: &str, status_param: &str| -> String {
        let id = fresh("j-");
        let instance = fresh("i-");
        // `SourceId` and `IntermediateInstanceId` are attributes of a job in the spec too.
        made.record(
            Record::new(REPLICATION_JOB, &id)
                .attr(s.attr_of(status_param, "Status"), status)
                .attr("SourceId", source_id)
                .attr("IntermediateInstanceId", instance.as_str())
                .uses(SOURCE_SERVER, source_id),
        );
        made.record(Record::new(INTERMEDIATE_INSTANCE, &instance).uses(REPLICATION_JOB, &id));
        made.value("JobId", id.clone());
        made.value("IntermediateInstanceId", instance);
        id
    };
    s.require_resource(SOURCE_SERVER)?;
    match s.state.name.as_str() {
        "source server exists" => {
            source(&mut made, s.str("state").unwrap_or("Available"));
        }
        "source server has replication job" => {
            s.require_resource(REPLICATION_JOB)?;
            let sid = source(&mut made, s.str("state").unwrap_or("Available"));
            job(
                &mut made,
                &sid,
                s.str("job_status").unwrap_or("Stopped"),
                "job_status",
            );
        }
        "replication job exists" => {
            s.require_resource(REPLICATION_JOB)?;
            let sid = source(&mut made, "Available");
            job(
                &mut made,
                &sid,
                s.str("status").unwrap_or("Stopped"),
                "status",
            );
        }
        "service fails" => {
            let status = s.fail_status()?;
            let sid = source(&mut made, "Available");
            if s.service.spec.resources.contains_key(REPLICATION_JOB) {
                job(&mut made, &sid, "Stopped", "job_status");
            }
            for r in &mut made.records {
                r.fail_status = Some(status);
            }
        }
        other => {
            return Err(format!(
                "the emulator has no setup for `{other}` of `{}`",
                s.service.name()
            ))
        }
    }
    // Intermediate instances only where the spec knows them.
    if !s.service.spec.resources.contains_key(INTERMEDIATE_INSTANCE) {
        made.records.retain(|r| r.kind != INTERMEDIATE_INSTANCE);
    }
    Ok(made)
}
