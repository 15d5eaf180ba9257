//! Cross-checks of the protocol facts (`content_types`, `format_case`, `form_body`,
//! `request_id.mirror`, `request.other_methods`): what the schema cannot say.

use super::model::{OperationSpec, Protocol, Provenance, ServiceSpec};
use crate::diag::Diagnostics;
use crate::located::Located;

fn documented(source: &str) -> bool {
    Provenance::of(source).is_some_and(Provenance::is_documented)
}

/// The service file's protocol facts.
pub(super) fn check_service(spec: &ServiceSpec, doc: &Located, diags: &mut Diagnostics) {
    let alibaba = spec.protocol == Protocol::AlibabaRpc;
    let formats: Vec<&str> = match &spec.formats {
        Some(f) => f.supported.iter().map(String::as_str).collect(),
        None => vec!["JSON"],
    };
    for (i, rule) in spec.content_types.iter().enumerate() {
        let at = format!("/content_types/{i}");
        if !formats.iter().any(|f| f.eq_ignore_ascii_case(&rule.format)) {
            diags.push(doc.error_at(
                &format!("{at}/format"),
                format!("`{}` is not a format this service answers in", rule.format),
            ));
        }
        if rule.asserts() && !documented(&rule.source) {
            diags.push(doc.error_at(
                &at,
                "`equals` and `not_equals` are asserted on every answer: they need a `seed:` or `notes:` source (an assumed value goes in `sends`)",
            ));
        }
        if rule.sent().is_none() && !rule.asserts() {
            diags.push(doc.error_at(&at, "say what is sent (`sends`) or asserted"));
        }
        if let (Some(e), Some(n)) = (&rule.equals, &rule.not_equals) {
            if e == n {
                diags.push(doc.error_at(&at, "`equals` and `not_equals` contradict"));
            }
        }
        let twice = spec.content_types[..i]
            .iter()
            .any(|r| r.applies(&rule.format, rule.answers));
        if twice {
            diags.push(doc.error_at(&at, "a second rule for this format and kind of answer"));
        }
    }
    if !alibaba && spec.format_case.is_some() {
        diags.push(doc.error_at("/format_case", "`format_case` applies to alibaba-rpc only"));
    }
    if !alibaba && spec.form_body.is_some() {
        diags.push(doc.error_at("/form_body", "`form_body` applies to alibaba-rpc only"));
    }
    if spec.request_id.mirror.is_some() && spec.request_id.header.is_none() {
        diags.push(doc.error_at(
            "/request_id/mirror",
            "`mirror` is a body copy of the `header` id: name the header",
        ));
    }
}

/// An operation's `other_methods`: never one it accepts.
pub(super) fn check_operation(spec: &OperationSpec, doc: &Located, diags: &mut Diagnostics) {
    let request = &spec.request;
    for (i, m) in request.other_methods.iter().enumerate() {
        if request.methods.iter().any(|a| a.eq_ignore_ascii_case(m)) {
            diags.push(doc.error_at(
                &format!("/request/other_methods/{i}"),
                format!("`{m}` is one of the operation's `methods`"),
            ));
        }
    }
}
