//! The documented items of a service and its operations: every documented status and error
//! code, parameter limit, state rule (and each value it enumerates), signing situation,
//! protocol detail and behaviour class. Coverage (`crate::coverage`) says which cases exercise
//! each; case loading checks a case's `covers` against the declared ones.

use serde::Serialize;
use serde_json::Value;

use super::catalog::Service;
use super::model::{Condition, OperationSpec, Provenance};

/// A value as the text an item id shows (`"x"` → `x`).
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub service: String,
    /// `None` for the service's common errors.
    pub operation: Option<String>,
    /// `status:403`, `error:ReplicationJob.Related`, `param:task_id:max_length`,
    /// `rule:refuse-busy`, `rule:refuse-busy/source_state=cloning`.
    pub id: String,
    pub description: String,
    pub source: String,
    /// Covered through a case's `covers` (rules, limits) rather than its expectations.
    #[serde(skip)]
    pub declared: bool,
    pub covered_by: Vec<String>,
}

fn documented(source: &str) -> bool {
    Provenance::of(source).is_some_and(Provenance::is_documented)
}

/// The items of one service (and operation), in the order they are found.
struct Found {
    service: String,
    operation: Option<String>,
    items: Vec<Item>,
}

impl Found {
    fn push(&mut self, id: String, description: String, source: &str, declared: bool) {
        self.items.push(Item {
            service: self.service.clone(),
            operation: self.operation.clone(),
            id,
            description,
            source: source.to_string(),
            declared,
            covered_by: Vec::new(),
        })
    }

    /// Each documented error: its code.
    fn errors(&mut self, errors: &[crate::spec::model::ErrorEntry]) {
        for e in errors.iter().filter(|e| documented(&e.source)) {
            self.push(
                format!("error:{}", e.code),
                format!("{} {}", e.status, e.message),
                &e.source,
                false,
            );
        }
    }

    /// Each documented parameter limit (declared). Credentials are the target's business, not
    /// a case's: their limits are not items.
    fn parameters(&mut self, op: &OperationSpec) {
        for p in op
            .request
            .parameters
            .iter()
            .filter(|p| documented(&p.source) && !p.credential)
        {
            if p.required {
                self.push(
                    format!("param:{}:required", p.name),
                    format!("`{}` is required", p.name),
                    &p.source,
                    true,
                );
            }
            if let Some(n) = p.min_length {
                self.push(
                    format!("param:{}:min_length", p.name),
                    format!("`{}` at least {n} characters", p.name),
                    &p.source,
                    true,
                );
            }
            if let Some(n) = p.max_length {
                self.push(
                    format!("param:{}:max_length", p.name),
                    format!("`{}` at most {n} characters", p.name),
                    &p.source,
                    true,
                );
            }
        }
    }

    /// Each rule, and each value a rule enumerates (declared).
    fn rules(&mut self, service: &Service, op: &OperationSpec) {
        for rule in &op.rules {
            self.push(
                format!("rule:{}", rule.id),
                rule.description.clone(),
                &rule.source,
                true,
            );
            for (fact, values) in enumerated(service, op, &rule.when) {
                for v in values {
                    let attr = fact.split_once('.').map(|(_, a)| a).unwrap_or(&fact);
                    self.push(
                        format!("rule:{}/{attr}={}", rule.id, text_of(&v)),
                        format!("{} when {fact} is {v}", rule.description),
                        &rule.source,
                        true,
                    );
                }
            }
        }
    }

    /// Items found elsewhere (declared), as `(id, description, source)`.
    fn declared(&mut self, items: Vec<(String, String, String)>) {
        for (id, description, source) in items {
            self.push(id, description, &source, true);
        }
    }
}

/// The coverage items of one operation (with `op`) or of a service's common errors (`None`).
pub fn items_of(service: &Service, op: Option<&OperationSpec>) -> Vec<Item> {
    let mut found = Found {
        service: service.name().to_string(),
        operation: op.map(|o| o.operation.clone()),
        items: Vec::new(),
    };
    let Some(op) = op else {
        found.errors(&service.spec.errors);
        return dedup(found.items);
    };
    for r in op.responses.iter().filter(|r| documented(&r.source)) {
        found.push(
            format!("status:{}", r.status),
            r.description.clone(),
            &r.source,
            false,
        );
    }
    found.errors(&op.errors);
    found.parameters(op);
    found.declared(protocol_items(service, op));
    found.declared(signing_items(service, op));
    found.rules(service, op);
    found.declared(behaviour_items(service, op));
    dedup(found.items)
}

/// The situations of a signing scheme over one method, with what each one means.
fn signing_situations(
    signing: &crate::spec::model::Signing,
    op: &OperationSpec,
) -> Vec<(&'static str, &'static str)> {
    let mut out = vec![
        ("accepted", "a correctly signed request is accepted"),
        (
            "forged",
            "a signature made with a wrong secret (an invalid token) is refused",
        ),
        (
            "unsigned",
            "a request without signature or token is refused",
        ),
    ];
    if signing.scheme.keyed() {
        out.push((
            "unknown-key",
            "a signature made with an unknown access key is refused",
        ));
        out.push(("expired", "a signature outside the time window is refused"));
    }
    if signing.scheme.keyed() && signing.documented_window().is_some() {
        out.push((
            "late",
            "a request signed five minutes before the documented window closes is accepted",
        ));
    }
    if signing.nonce {
        out.push((
            "replayed",
            "a signed request sent again with the same nonce is refused",
        ));
    }
    let limited_token = op
        .request
        .parameters
        .iter()
        .any(|p| p.credential && p.max_length.is_some() && documented(&p.source));
    if !signing.scheme.keyed() && limited_token {
        out.push((
            "oversized",
            "a token longer than the documented maximum is refused and changes nothing",
        ));
    }
    out
}

/// The signing items of an operation, from its service's `signing` list:
/// `signing:<scheme>:<method>:<situation>` for every method the scheme comes with, and
/// `signing:<scheme>:signs:<part>` for every part its signature covers.
fn signing_items(service: &Service, op: &OperationSpec) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for signing in service
        .spec
        .signing
        .iter()
        .filter(|s| documented(&s.source))
    {
        let scheme = signing.scheme.as_str();
        for method in signing.methods_for(&op.request.methods) {
            for (situation, what) in signing_situations(signing, op) {
                out.push((
                    format!(
                        "signing:{scheme}:{}:{situation}",
                        method.to_ascii_lowercase()
                    ),
                    format!("{scheme} over {method}: {what}"),
                    signing.source.clone(),
                ));
            }
        }
        for part in &signing.signs {
            out.push((
                format!("signing:{scheme}:signs:{}", part.as_str()),
                format!("{scheme}: the signature covers the {}", part.as_str()),
                signing.source.clone(),
            ));
        }
    }
    out
}

// --- protocol

/// The protocol details of one operation the documents state, each covered by a case that
/// declares it: `protocol:content-type:<format>:<success|error>`, `protocol:format-case:<format>`,
/// `protocol:form-body:success|refusal`, `protocol:method:<METHOD>`, `protocol:xml-escape`,
/// `protocol:request-id-mirror`. As `(id, description, source)`.
fn protocol_items(service: &Service, op: &OperationSpec) -> Vec<(String, String, String)> {
    let spec = &service.spec;
    let mut out = Vec::new();
    for r in spec
        .content_types
        .iter()
        .filter(|r| r.asserts() && documented(&r.source))
    {
        let (fmt, kind) = (r.format.to_ascii_lowercase(), r.answers.as_str());
        let what = match (&r.equals, &r.not_equals) {
            (Some(e), _) => format!("exactly `{e}`"),
            (None, Some(n)) => format!("not `{n}`"),
            (None, None) => continue,
        };
        out.push((
            format!("protocol:content-type:{fmt}:{kind}"),
            format!("the Content-Type of a {fmt} {kind} answer is {what}"),
            r.source.clone(),
        ));
    }
    if let (Some(case), Some(formats)) = (&spec.format_case, &spec.formats) {
        if case.insensitive && documented(&case.source) {
            for f in &formats.supported {
                out.push((
                    format!("protocol:format-case:{}", f.to_ascii_lowercase()),
                    format!(
                        "Format={} (any letter case) selects {f}",
                        f.to_ascii_lowercase()
                    ),
                    case.source.clone(),
                ));
            }
        }
    }
    if let Some(form) = spec.form_body.as_ref().filter(|f| documented(&f.source)) {
        for (what, how) in [
            ("success", "succeeds"),
            ("refusal", "is refused by its rules"),
        ] {
            out.push((
                format!("protocol:form-body:{what}"),
                format!("a request with its parameters in a form body {how}"),
                form.source.clone(),
            ));
        }
    }
    if documented(&op.request.source) {
        for m in &op.request.other_methods {
            out.push((
                format!("protocol:method:{m}"),
                format!(
                    "{m} on the path does not run {} and changes nothing",
                    op.operation
                ),
                op.request.source.clone(),
            ));
        }
    }
    let xml = spec
        .formats
        .as_ref()
        .is_some_and(|f| f.supported.iter().any(|s| s.eq_ignore_ascii_case("xml")));
    if xml && documented(&spec.error_envelope.source) {
        out.push((
            "protocol:xml-escape".into(),
            "an XML error whose message holds `&` is well-formed and reads back with the `&`"
                .into(),
            spec.error_envelope.source.clone(),
        ));
    }
    if spec.request_id.mirror.is_some() && documented(&spec.request_id.source) {
        out.push((
            "protocol:request-id-mirror".into(),
            "a request id in both the header and the body is the same id".into(),
            spec.request_id.source.clone(),
        ));
    }
    out
}

/// The behaviour classes of an operation, generated from its spec, each covered through a
/// case's `covers` by a case with probe steps: `authz:caller-without-permission` (it has an
/// `authorization`); `isolation:other-account`, and for a project scope `isolation:other-project`
/// and one item per place a request names its project (its target resource's `owner`); `side-effect:refusal:<rule>`
/// for each refusing rule that has a target to keep and for the authorization refusal, and
/// `side-effect:success:<rule>` for each rule whose success removes something.
pub fn behaviour_items(service: &Service, op: &OperationSpec) -> Vec<(String, String, String)> {
    use crate::spec::model::{Effect, OwnerScope, RuleOutcome};
    let mut out = Vec::new();
    let target = &op.target.resource;
    if let Some(a) = &op.authorization {
        out.push((
            "authz:caller-without-permission".to_string(),
            format!(
                "a caller without permission is refused; the {target} and what goes with it stay"
            ),
            a.source.clone(),
        ));
    }
    if let Some(owner) = service
        .spec
        .resources
        .get(target)
        .and_then(|r| r.owner.as_ref())
    {
        // A project belongs to an account: both scopes isolate accounts.
        out.push((
            "isolation:other-account".to_string(),
            format!("a caller of another account does not delete the {target}"),
            owner.source.clone(),
        ));
        if owner.scope == OwnerScope::Project {
            out.push((
                "isolation:other-project".to_string(),
                format!("a request acting in another project does not delete the {target}"),
                owner.source.clone(),
            ));
            for n in &owner.named_by {
                let place = format!("{:?}", n.location).to_ascii_lowercase();
                out.push((
                    format!("isolation:other-project:{place}:{}", n.name),
                    format!(
                        "another project named only in {place} `{}` does not delete the {target}",
                        n.name
                    ),
                    n.source.clone(),
                ));
            }
        }
    }
    for rule in &op.rules {
        match &rule.then {
            RuleOutcome::Error(_) if !rule.when.contains_key("target") => out.push((
                format!("side-effect:refusal:{}", rule.id),
                format!(
                    "refused under `{}`: the {target} and what goes with it stay",
                    rule.id
                ),
                rule.source.clone(),
            )),
            RuleOutcome::Succeed(effects) if effects.iter().any(|e| *e != Effect::Nothing) => out
                .push((
                    format!("side-effect:success:{}", rule.id),
                    format!(
                        "deleted under `{}`: everything that goes with it ({effects:?}) is gone",
                        rule.id
                    ),
                    rule.source.clone(),
                )),
            _ => {}
        }
    }
    if let Some(a) = &op.authorization {
        out.push((
            "side-effect:refusal:authorization".to_string(),
            format!("refused for want of permission: the {target} and what goes with it stay"),
            a.source.clone(),
        ));
    }
    out
}

/// One item per id (a code can answer several roles, e.g. the gateway's `APIGW.0301`).
fn dedup(mut items: Vec<Item>) -> Vec<Item> {
    let mut seen = std::collections::BTreeSet::new();
    items.retain(|i| seen.insert(i.id.clone()));
    items
}

/// The attribute values a rule's conditions single out: its `in` list, or the documented
/// values outside its `not_in` list.
fn enumerated(
    service: &Service,
    op: &OperationSpec,
    when: &std::collections::BTreeMap<String, Condition>,
) -> Vec<(String, Vec<Value>)> {
    let mut out = Vec::new();
    for (fact, cond) in when {
        let Some((head, attr)) = fact.split_once('.') else {
            continue;
        };
        let resource = match head {
            "target" => Some(&op.target.resource),
            "param" => None,
            other => op.target.related.get(other),
        };
        let Some(all) = resource
            .and_then(|r| service.spec.resources.get(r))
            .and_then(|r| r.attributes.get(attr))
            .map(|a| &a.values)
        else {
            continue;
        };
        match cond {
            Condition::In(vs) => out.push((fact.clone(), vs.clone())),
            Condition::NotIn(vs) => out.push((
                fact.clone(),
                all.iter().filter(|v| !vs.contains(v)).cloned().collect(),
            )),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod signing_tests {
    use super::*;
    use crate::spec::Catalog;

    fn ids(service: &str, op: &str) -> Vec<String> {
        let catalog = Catalog::bundled().unwrap();
        let s = catalog.service(service).unwrap();
        signing_items(s, &s.operations[op].spec)
            .into_iter()
            .map(|(id, _, _)| id)
            .collect()
    }

    #[test]
    fn one_item_per_scheme_method_and_situation() {
        let ids = ids("alibaba-smc", "DeleteSourceServer");
        for id in [
            "signing:alibaba-v1:get:replayed",
            "signing:alibaba-v1:post:unsigned",
            "signing:alibaba-v1:signs:form-body",
            "signing:alibaba-v3:post:forged",
            "signing:alibaba-v3:signs:body-hash",
        ] {
            assert!(ids.contains(&id.to_string()), "{id} in {ids:?}");
        }
        // V3 comes with POST only (the spec's `methods`).
        assert!(!ids.iter().any(|i| i.starts_with("signing:alibaba-v3:get:")));
        assert_eq!(ids.len(), 2 * 7 + 2 + 7 + 2);
    }

    #[test]
    fn token_situations_follow_the_documented_limit() {
        let sms = ids("huawei-sms", "DeleteTask");
        assert!(sms.contains(&"signing:huawei-token:delete:oversized".to_string()));
        assert!(!sms.iter().any(|i| i.contains("aksk:delete:replayed")));
        assert!(!sms.iter().any(|i| i.contains("token:delete:unknown-key")));
        // Workspace documents no maximum for its optional token.
        let ws = ids("huawei-workspace", "DeleteServer");
        assert!(!ws.iter().any(|i| i.ends_with(":oversized")));
    }
}
