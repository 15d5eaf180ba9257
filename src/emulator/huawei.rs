//! Huawei Cloud REST services behind an emulated API gateway (SMS, Workspace).
//!
//! Routing matches the specs' path templates: a `{placeholder}` matches one segment, an empty
//! one included (`DELETE /v3/tasks/` reaches the operation with `task_id = ""`, which the
//! spec's `min_length` refuses). A path that matches a template of another method answers the
//! role `method_not_allowed`; a path that matches none, `route_not_found`.
//!
//! Authentication follows the service's `signing`: AK/SK (`SDK-HMAC-SHA256` in
//! `Authorization`, verified over the request's own `SignedHeaders`) and/or `X-Auth-Token`;
//! an empty list accepts anything. Every answer carries the request id header the spec names
//! (`X-Request-Id`); error bodies are `{error_code, error_msg, …}` shaped by the envelope's (or
//! the entry's own) schema, e.g. the SMS 403 with `encoded_authorization_message`,
//! `error_param` and `details`.
//!
//! Order of checks: route, credentials, permission, parameters, body, failure marks, rules.

use std::collections::BTreeMap;

use chrono::Utc;
use serde_json::{Map, Value};

use super::answer::{
    by_code, by_role, by_roles, failure, needs_filler, success_status, top_field, AnswerContext,
    EmulatorAnswer, ErrorAnswer, Filler, FlatBody, Format, JSON_CONTENT_TYPE,
};
use super::params::{check_all, ParamProblem};
use super::request::{decode_component, decode_pairs, first, hex32, Incoming};
use super::rules::{apply_refusal_leaks, decide_in, Decision};
use super::tenancy::{lacks_permission, Caller};
use super::{split_path, Handled, Keys, Seg, Shared};
use crate::auth::{huawei_aksk, AuthError, HttpParts};
use crate::spec::model::{
    BodyKind, ErrorRole, OperationSpec, ParamIn, SignedPart, Signing, SigningScheme,
    AUTHORIZATION_REFUSAL,
};
use crate::spec::Service;

/// Where the routing of a request ended.
enum Routed<'a> {
    Operation {
        service: &'a Service,
        op: &'a OperationSpec,
        /// Path parameters, percent-decoded (`None`: not UTF-8).
        path_params: BTreeMap<String, Option<String>>,
    },
    /// The path is an operation's, the method is not: answered with that operation's catalogue.
    MethodNotAllowed(&'a Service, &'a OperationSpec),
    NotFound(&'a Service),
}

fn route<'a>(sh: &'a Shared, req: &Incoming) -> Routed<'a> {
    let segments: Vec<&str> = split_path(req.path()).collect();
    let mut wrong_method = None;
    let mut best: Option<(usize, &str)> = None;
    for r in &sh.routes.huawei {
        let Some(service) = sh.service(&r.service) else {
            continue;
        };
        let Some(op) = service.operations.get(&r.operation).map(|o| &o.spec) else {
            continue;
        };
        // How many leading literal segments agree, to pick the service of a 404.
        let common = r
            .segments
            .iter()
            .zip(&segments)
            .take_while(|(t, s)| match t {
                Seg::Literal(l) => l == *s,
                Seg::Param(_) => true,
            })
            .count();
        if best.is_none_or(|(n, _)| common > n) {
            best = Some((common, &r.service));
        }
        if r.segments.len() != segments.len() || common != segments.len() {
            continue;
        }
        if op
            .request
            .methods
            .iter()
            .any(|m| m.eq_ignore_ascii_case(req.method()))
        {
            let path_params = r
                .segments
                .iter()
                .zip(&segments)
                .filter_map(|(t, s)| match t {
                    Seg::Param(name) => Some((name.clone(), decode_component(s, false).ok())),
                    Seg::Literal(_) => None,
                })
                .collect();
            return Routed::Operation {
                service,
                op,
                path_params,
            };
        }
        wrong_method.get_or_insert((service, op));
    }
    if let Some((service, op)) = wrong_method {
        return Routed::MethodNotAllowed(service, op);
    }
    let name = best
        .map(|(_, s)| s)
        .unwrap_or(&sh.routes.huawei_services[0]);
    Routed::NotFound(sh.service(name).expect("routes name catalogue services"))
}

/// Where a request stands while it is checked.
struct Call<'a> {
    service: &'a Service,
    op: Option<&'a OperationSpec>,
    request_id: String,
}

pub(super) fn handle(sh: &Shared, req: &Incoming) -> Handled {
    let request_id = hex32();
    let vars = [("path", req.path()), ("method", req.method())];
    let (call, result) = match route(sh, req) {
        Routed::NotFound(service) => (
            Call {
                service,
                op: None,
                request_id,
            },
            Err(by_role(service, None, ErrorRole::RouteNotFound, &vars)),
        ),
        Routed::MethodNotAllowed(service, op) => (
            Call {
                service,
                op: Some(op),
                request_id,
            },
            // Without a 405 in the catalogue, the gateway's answer: no API for this method.
            Err(by_roles(
                service,
                Some(op),
                &[ErrorRole::MethodNotAllowed, ErrorRole::RouteNotFound],
                &vars,
            )),
        ),
        Routed::Operation {
            service,
            op,
            path_params,
        } => {
            let call = Call {
                service,
                op: Some(op),
                request_id,
            };
            let result = process(sh, req, &call, op, &path_params);
            (call, result)
        }
    };
    finish(&call, result)
}

fn process(
    sh: &Shared,
    req: &Incoming,
    call: &Call<'_>,
    op: &OperationSpec,
    path_params: &BTreeMap<String, Option<String>>,
) -> Result<u16, ErrorAnswer> {
    let service = call.service;
    let query = decode_pairs(req.query()).map_err(|e| {
        by_roles(
            service,
            Some(op),
            &[ErrorRole::InvalidParameter, ErrorRole::MalformedRequest],
            &[("param", "query"), ("value", &e.raw)],
        )
    })?;
    let caller = authenticate(sh, req, &query, call)?;
    let target_id = path_params
        .get(&op.target.id_param)
        .and_then(|v| v.as_deref())
        .or_else(|| first(&query, &op.target.id_param));
    if lacks_permission(&sh.store, op, caller.as_deref()) {
        sh.store
            .with(|t| apply_refusal_leaks(t, op, AUTHORIZATION_REFUSAL, target_id));
        return Err(by_role(service, Some(op), ErrorRole::Forbidden, &[]));
    }
    // A path segment that is not UTF-8 is an invalid value of its parameter.
    if let Some((name, _)) = path_params.iter().find(|(_, v)| v.is_none()) {
        return Err(
            ParamProblem::Invalid(name.clone(), String::new(), "not UTF-8".into())
                .answer(service, Some(op)),
        );
    }
    let typed = check_all(op, |loc, name| match loc {
        ParamIn::Path => path_params.get(name).and_then(|v| v.as_deref()),
        ParamIn::Query => first(&query, name),
        ParamIn::Header => req.header(name),
    })
    .map_err(|p| p.answer(service, Some(op)))?;
    check_body(req, service, op)?;

    let who = Caller::of(
        &sh.store,
        &service.spec,
        op,
        caller.as_deref(),
        |loc, name| match loc {
            ParamIn::Path => path_params.get(name).cloned().flatten(),
            ParamIn::Query => first(&query, name).map(str::to_string),
            ParamIn::Header => req.header(name).map(str::to_string),
        },
    );
    let decision = decide_in(&sh.store, &service.spec, op, target_id, &typed, &who);
    match decision {
        Err(status) => Err(failure(service, op, status)),
        Ok(Decision::Error { code, .. }) => Err(by_code(service, Some(op), &code, &[])),
        Ok(Decision::NoRule) => Err(by_role(service, Some(op), ErrorRole::InternalError, &[])),
        Ok(Decision::Success { .. }) => Ok(success_status(op)),
    }
}

/// A body the service cannot read: too large, or declared JSON and not JSON. Checked only
/// when the catalogue has a `malformed_request` error (Workspace documents 400 for it).
fn check_body(req: &Incoming, service: &Service, op: &OperationSpec) -> Result<(), ErrorAnswer> {
    if service
        .error_for(Some(op), ErrorRole::MalformedRequest)
        .is_none()
    {
        return Ok(());
    }
    let declared_json = req
        .media_type()
        .is_some_and(|m| m == "application/json" || m.ends_with("+json"));
    let unreadable = req.body_too_large
        || (declared_json
            && !req.body.iter().all(u8::is_ascii_whitespace)
            && serde_json::from_slice::<serde::de::IgnoredAny>(&req.body).is_err());
    if unreadable {
        return Err(by_role(
            service,
            Some(op),
            ErrorRole::MalformedRequest,
            &[("param", "body")],
        ));
    }
    Ok(())
}

/// Checks the caller's credentials; returns the access key id of an AK/SK or token caller
/// that is an identity set up by a provider state (`None` for the configured credentials).
fn authenticate(
    sh: &Shared,
    req: &Incoming,
    query: &[(String, String)],
    call: &Call<'_>,
) -> Result<Option<String>, ErrorAnswer> {
    let (s, op) = (call.service, call.op);
    let signing = &s.spec.signing;
    let entry = |x: SigningScheme| signing.iter().find(|g| g.scheme == x);
    let token = req.header("x-auth-token").filter(|t| !t.is_empty());
    if signing.is_empty() {
        // Unsigned requests are accepted; the caller is who the request claims to be.
        return Ok(claimed_key(req).or_else(|| {
            token
                .and_then(|t| sh.store.identity_by_token(t))
                .map(|i| i.access_key_id)
        }));
    }
    if let Some(aksk) = entry(SigningScheme::HuaweiAksk).filter(|_| req.has_header("authorization"))
    {
        return verify_aksk(sh, req, query, aksk)
            .map(|ak| (ak != sh.creds.huawei_access_key_id).then_some(ak))
            .map_err(|e| aksk_error(call, e));
    }
    if let (Some(token), Some(scheme)) = (token, entry(SigningScheme::HuaweiToken)) {
        return check_token(sh, req, token, scheme).ok_or_else(|| {
            by_roles(
                s,
                op,
                &[ErrorRole::InvalidToken, ErrorRole::SignatureMismatch],
                &[],
            )
        });
    }
    let roles: &[ErrorRole] = if req.has_header("authorization") {
        // Signed with a scheme this service does not take.
        &[ErrorRole::SignatureMismatch, ErrorRole::MissingCredentials]
    } else if token.is_some() {
        &[ErrorRole::InvalidToken, ErrorRole::MissingCredentials]
    } else {
        &[ErrorRole::MissingCredentials]
    };
    Err(by_roles(s, op, roles, &[]))
}

/// The access key an AK/SK request names (`Access=`), unverified.
fn claimed_key(req: &Incoming) -> Option<String> {
    req.authorization_field("Access=")
}

/// The caller a token stands for (`Some(None)`: the configured token), `None` when invalid.
fn check_token(
    sh: &Shared,
    req: &Incoming,
    token: &str,
    scheme: &Signing,
) -> Option<Option<String>> {
    if token == sh.creds.huawei_token || !scheme.checks(req.method()) {
        return Some(None);
    }
    sh.store
        .identity_by_token(token)
        .map(|identity| Some(identity.access_key_id))
}

/// AK/SK over what the spec's `signs` says the signature covers (the query, the request's own
/// SignedHeaders).
fn verify_aksk(
    sh: &Shared,
    req: &Incoming,
    query: &[(String, String)],
    signing: &Signing,
) -> Result<String, AuthError> {
    if !signing.checks(req.method()) {
        return Ok(claimed_key(req).unwrap_or_default());
    }
    let keys = Keys {
        access_key_id: &sh.creds.huawei_access_key_id,
        secret: &sh.creds.huawei_secret_access_key,
        store: &sh.store,
    };
    let parts = req.signed_parts(req.path(), query, signing);
    let fixed = (!signing.signs(SignedPart::RequestSignedHeaders))
        .then_some(&huawei_aksk::GUIDE_SIGNED_HEADERS[..]);
    let now = Utc::now();
    let result = huawei_aksk::verify_over(&parts, &keys, now, fixed, signing.window());
    // The Python SDK signs an id holding `/` (sent as `%2F`) as if it were two segments: it
    // unquotes the whole path before splitting it. Accept that form too.
    if matches!(result, Err(AuthError::SignatureMismatch { .. })) {
        if let Some(unsplit) = sdk_signed_path(req.path()) {
            let retry = HttpParts {
                path: &unsplit,
                ..parts
            };
            if let Ok(ak) = huawei_aksk::verify_over(&retry, &keys, now, fixed, signing.window()) {
                return Ok(ak);
            }
        }
    }
    result
}

fn aksk_error(call: &Call<'_>, e: AuthError) -> ErrorAnswer {
    let (s, op) = (call.service, call.op);
    match e {
        AuthError::Missing(what) => by_roles(
            s,
            op,
            &[ErrorRole::MissingCredentials, ErrorRole::SignatureMismatch],
            &[("param", &what)],
        ),
        AuthError::UnknownKey => by_roles(
            s,
            op,
            &[ErrorRole::UnknownAccessKey, ErrorRole::SignatureMismatch],
            &[],
        ),
        AuthError::Expired => by_roles(
            s,
            op,
            &[ErrorRole::ExpiredTimestamp, ErrorRole::SignatureMismatch],
            &[],
        ),
        AuthError::SignatureMismatch { string_to_sign } => by_role(
            s,
            op,
            ErrorRole::SignatureMismatch,
            &[("string_to_sign", &string_to_sign)],
        ),
        AuthError::Malformed(why) => {
            by_role(s, op, ErrorRole::SignatureMismatch, &[("value", &why)])
        }
        AuthError::NonceReused => by_roles(
            s,
            op,
            &[ErrorRole::NonceUsed, ErrorRole::SignatureMismatch],
            &[],
        ),
    }
}

/// The path as the Python SDK's signer sees it when it differs: `%2F` decoded to `/`.
fn sdk_signed_path(raw: &str) -> Option<String> {
    let lower = raw.to_ascii_lowercase();
    lower.contains("%2f").then(|| {
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(i) = rest.to_ascii_lowercase().find("%2f") {
            out.push_str(&rest[..i]);
            out.push('/');
            rest = &rest[i + 3..];
        }
        out.push_str(rest);
        out
    })
}

fn finish(call: &Call<'_>, result: Result<u16, ErrorAnswer>) -> Handled {
    let spec = &call.service.spec;
    let mut ctx = AnswerContext {
        service: spec.service.clone(),
        operation: call.op.map(|o| o.operation.clone()),
        format: Format::Json,
        request_id: call.request_id.clone(),
        error_code: None,
        error_role: None,
    };
    let (status, body) = match &result {
        Ok(status) => (*status, success_body(call, *status)),
        Err(err) => {
            ctx.error_code = Some(err.code.clone());
            ctx.error_role = err.role;
            (err.status, Some(error_body(call, err)))
        }
    };
    let mut headers = Vec::with_capacity(2);
    if let Some(h) = &spec.request_id.header {
        headers.push((h.clone(), call.request_id.clone()));
    }
    let bytes = match body {
        Some(b) => {
            let ct = super::answer::content_type(spec, Format::Json, status, JSON_CONTENT_TYPE);
            headers.push(("Content-Type".to_string(), ct.to_string()));
            b
        }
        None => Vec::new(),
    };
    Handled {
        answer: EmulatorAnswer {
            status,
            headers,
            body: bytes.into(),
        },
        ctx,
    }
}

/// A success's JSON body, filled from its schema; `None` where the spec documents no JSON body.
fn success_body(call: &Call<'_>, status: u16) -> Option<Vec<u8>> {
    let rid = call.request_id.as_str();
    let response = call.op.and_then(|o| o.response(status));
    match response {
        Some(r) if r.body == BodyKind::Json => {
            let known = [("request_id", Value::String(rid.to_string()))];
            let filler = Filler {
                known: &known,
                message: "",
                upper_ids: false,
                service: call.service,
                op: call.op,
            };
            let value = r
                .schema
                .as_deref()
                .and_then(|s| filler.named(s))
                .unwrap_or_else(|| Value::Object(Map::new()));
            Some(serde_json::to_vec(&value).unwrap_or_default())
        }
        // SMS documents a string body and shows none: answered empty (the SDK accepts it).
        _ => None,
    }
}

/// An error's JSON body: the envelope's code and message, and what else its schema needs.
fn error_body(call: &Call<'_>, err: &ErrorAnswer) -> Vec<u8> {
    let rid = call.request_id.as_str();
    let envelope = &call.service.spec.error_envelope;
    let code_field = top_field(&envelope.code);
    let message_field = top_field(&envelope.message);
    let schema = err.schema.as_deref().unwrap_or(&envelope.schema);
    let mut fields = vec![
        (code_field, err.code.as_str()),
        (message_field, err.message.as_str()),
    ];
    let covered = [code_field, message_field, "request_id"];
    let extra = if needs_filler(call.service, call.op, schema, &covered) {
        let known = [
            (code_field, Value::String(err.code.clone())),
            (message_field, Value::String(err.message.clone())),
            ("request_id", Value::String(rid.to_string())),
        ];
        let filler = Filler {
            known: &known,
            message: &err.message,
            upper_ids: false,
            service: call.service,
            op: call.op,
        };
        match filler.named(schema) {
            Some(Value::Object(m)) => Some(m),
            _ => None,
        }
    } else {
        // The gateway's body carries the request id too, when the schema names it.
        let names_rid = call
            .service
            .schema(call.op, schema)
            .and_then(|s| s.get("properties"))
            .is_some_and(|p| p.get("request_id").is_some());
        if names_rid {
            fields.push(("request_id", rid));
        }
        None
    };
    FlatBody { fields, extra }.to_json()
}
