//! Mutants of the protocol details the SDKs depend on, generated from the spec data: a
//! documented Content-Type broken (per format and kind of answer), `Format` matched in one
//! letter case only, form bodies ignored, an undocumented method running the operation, XML
//! text not escaped, the body's copy of the request id differing from the header's.

use serde_json::Value;

use super::{documented, on_operation, AnswerEdit, AnswerScope, Gen};
use crate::spec::model::{ContentTypeRule, ServiceSpec};
use crate::spec::{Catalog, Service};

pub(super) fn generate(g: &mut Gen<'_>) {
    let base = g.base;
    for (name, service) in &base.services {
        content_types(g, name, service);
        format_case(g, name, service);
        form_body(g, name, service);
        methods(g, name, service);
        answers(g, name, service);
    }
}

/// An edit of the service spec of a copy of the catalogue.
fn on_service(svc: &str, edit: impl FnOnce(&mut ServiceSpec)) -> impl FnOnce(&mut Catalog) -> bool {
    let svc = svc.to_string();
    move |c: &mut Catalog| match c.services.get_mut(&svc) {
        Some(s) => {
            edit(&mut s.spec);
            true
        }
        None => false,
    }
}

/// A Content-Type the rule refuses: the one it forbids, or the one it wants spelled as the
/// SDK does not accept (`text/xml; charset=UTF-8`).
fn violating(rule: &ContentTypeRule) -> Option<String> {
    if let Some(not) = &rule.not_equals {
        return Some(not.clone());
    }
    let want = rule.equals.as_deref()?;
    Some(match want.split_once(';') {
        Some((media, params)) => format!("{media}; {}", params.trim().to_ascii_uppercase()),
        None => format!("{want}; charset=utf-8"),
    })
}

fn content_types(g: &mut Gen<'_>, svc: &str, service: &Service) {
    for (i, rule) in service.spec.content_types.iter().enumerate() {
        if !rule.asserts() || !documented(&rule.source) {
            continue;
        }
        let Some(bad) = violating(rule) else { continue };
        let (fmt, kind) = (rule.format.to_ascii_lowercase(), rule.answers.as_str());
        g.spec(
            format!("{svc}/content-type/{fmt}-{kind}/changed"),
            format!("{svc} sends Content-Type `{bad}` with its {fmt} {kind} answers"),
            &rule.source,
            on_service(svc, move |s| s.content_types[i].sends = Some(bad)),
        );
    }
}

/// Per supported format: only its exact spelling selects it, and any other spelling gets
/// another format (`format == "XML" ? xml : json`).
fn format_case(g: &mut Gen<'_>, svc: &str, service: &Service) {
    let (Some(case), Some(formats)) = (&service.spec.format_case, &service.spec.formats) else {
        return;
    };
    if !case.insensitive || !documented(&case.source) {
        return;
    }
    for f in &formats.supported {
        let Some(other) = formats.supported.iter().find(|o| *o != f).cloned() else {
            continue;
        };
        g.spec(
            format!("{svc}/format-case/{}-exact", f.to_ascii_lowercase()),
            format!(
                "{svc} takes Format={f} in that spelling only; any other spelling gets {other}"
            ),
            &case.source,
            on_service(svc, move |s| {
                if let Some(c) = s.format_case.as_mut() {
                    c.insensitive = false;
                }
                if let Some(fs) = s.formats.as_mut() {
                    fs.default = other;
                }
            }),
        );
    }
}

fn form_body(g: &mut Gen<'_>, svc: &str, service: &Service) {
    let Some(form) = &service.spec.form_body else {
        return;
    };
    if !documented(&form.source) {
        return;
    }
    g.spec(
        format!("{svc}/form-body/ignored"),
        format!("{svc} reads parameters from the query only, never from a form body"),
        &form.source,
        on_service(svc, |s| s.form_body = None),
    );
}

/// Each method an operation's path must not run it with, running it.
fn methods(g: &mut Gen<'_>, svc: &str, service: &Service) {
    for (op_name, op) in &service.operations {
        let request = &op.spec.request;
        if !documented(&request.source) {
            continue;
        }
        for m in &request.other_methods {
            let method = m.clone();
            g.spec(
                format!("{svc}/{op_name}/method:{m}/runs-operation"),
                format!("{op_name} runs (and deletes) on {m} as on its documented method"),
                &request.source,
                on_operation(svc, op_name, move |o| {
                    o.request.methods.push(method.clone())
                }),
            );
        }
    }
}

fn answers(g: &mut Gen<'_>, svc: &str, service: &Service) {
    let all = AnswerScope {
        service: svc.to_string(),
        operation: None,
        status: None,
    };
    let xml = service
        .spec
        .formats
        .as_ref()
        .is_some_and(|f| f.supported.iter().any(|s| s.eq_ignore_ascii_case("xml")));
    if xml {
        g.answer(
            format!("{svc}/answers/xml-unescaped"),
            format!("{svc} writes XML text without escaping `&`, `<`, `>`"),
            &service.spec.error_envelope.source,
            all.clone(),
            AnswerEdit::UnescapeXml,
        );
    }
    let rule = &service.spec.request_id;
    if let (Some(h), Some(pointer)) = (&rule.header, &rule.mirror) {
        let field = pointer.trim_start_matches('/').to_string();
        g.answer(
            format!("{svc}/answers/request-id-body-differs"),
            format!("{svc} puts another id in the body's `{field}` than in {h}"),
            &rule.source,
            all,
            AnswerEdit::Replace {
                field,
                value: Value::String("0123456789abcdef0123456789abcdef".into()),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::model::AnswerKind;

    #[test]
    fn violating_content_types() {
        let mut rule = ContentTypeRule {
            format: "XML".into(),
            answers: AnswerKind::Error,
            sends: None,
            equals: Some("text/xml;charset=utf-8".into()),
            not_equals: None,
            source: "notes:x#y".into(),
        };
        assert_eq!(violating(&rule).as_deref(), Some("text/xml; CHARSET=UTF-8"));
        rule.equals = Some("application/json".into());
        assert_eq!(
            violating(&rule).as_deref(),
            Some("application/json; charset=utf-8")
        );
        rule.equals = None;
        rule.not_equals = Some("text/xml;charset=utf-8".into());
        assert_eq!(violating(&rule).as_deref(), Some("text/xml;charset=utf-8"));
    }

    #[test]
    fn generated_from_the_bundled_specs() {
        let catalog = Catalog::bundled().expect("bundled specs load");
        let ids: Vec<String> = super::super::generate(&catalog)
            .into_iter()
            .map(|m| m.id)
            .collect();
        for want in [
            "alibaba-smc/content-type/xml-error/changed",
            "alibaba-smc/content-type/json-error/changed",
            "alibaba-smc/format-case/json-exact",
            "alibaba-smc/format-case/xml-exact",
            "alibaba-smc/form-body/ignored",
            "alibaba-smc/answers/xml-unescaped",
            "huawei-sms/DeleteTask/method:GET/runs-operation",
            "huawei-workspace/DeleteServer/method:PATCH/runs-operation",
            "huawei-sms/answers/request-id-body-differs",
        ] {
            assert!(ids.iter().any(|i| i == want), "{want} missing");
        }
        // Assumed content types (success answers, Huawei) make no mutant.
        assert!(!ids.iter().any(|i| i.contains("content-type/json-success")));
    }
}
