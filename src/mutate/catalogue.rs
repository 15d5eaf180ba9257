//! The mutants: each breaks exactly one clause of the specs. Most are generated from the spec
//! data (so a new clause gets its mutants): a rule skipped, narrowed, loosened or answering the
//! wrong code; an effect left out; an error answered with the wrong status or code; a limit
//! relaxed or tightened; a format default flipped; signing not enforced. The rest change the
//! answers on their way out (a field dropped, a field of the wrong type, the XML root renamed,
//! the request-id header dropped), generated from the response schemas.

use serde_json::Value;

use crate::spec::model::{
    Condition, ErrorEntry, OperationSpec, ParamType, Provenance, RuleOutcome,
};
use crate::spec::Catalog;

/// A change to the answers of one service (and operation, when given).
#[derive(Debug, Clone, PartialEq)]
pub enum AnswerEdit {
    /// Remove a top-level field of the body (JSON key or XML element).
    DropField { field: String },
    /// Replace a top-level JSON field's value with one of another type.
    Retype { field: String, value: Value },
    /// Rename the XML root element.
    RenameXmlRoot { from: String, to: String },
    /// Remove a response header.
    DropHeader { header: String },
    // --- protocol
    /// Replace a top-level JSON field's value (where the body has the field).
    Replace { field: String, value: Value },
    /// Write an XML body's text unescaped (`&amp;` back to `&`, …).
    UnescapeXml,
}

/// Which answers an [`AnswerEdit`] applies to.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerScope {
    pub service: String,
    pub operation: Option<String>,
    /// Only answers with this status; `None` for all.
    pub status: Option<u16>,
}

#[derive(Debug, Clone)]
pub enum Change {
    /// Run the emulator on this changed catalogue.
    Spec(Box<Catalog>),
    /// Run the emulator unchanged, with this edit on its answers.
    Answer(AnswerScope, AnswerEdit),
}

#[derive(Debug, Clone)]
pub struct Mutant {
    /// Stable and unique: `service/Operation/what`.
    pub id: String,
    /// What the mutant does wrong, in words.
    pub description: String,
    /// The source of the clause it breaks.
    pub clause: String,
    pub change: Change,
}

fn documented(source: &str) -> bool {
    Provenance::of(source).is_some_and(Provenance::is_documented)
}

struct Gen<'a> {
    base: &'a Catalog,
    out: Vec<Mutant>,
}

mod protocol;

impl Gen<'_> {
    fn spec(
        &mut self,
        id: String,
        description: String,
        clause: &str,
        edit: impl FnOnce(&mut Catalog) -> bool,
    ) {
        let mut c = self.base.clone();
        if edit(&mut c) {
            self.out.push(Mutant {
                id,
                description,
                clause: clause.to_string(),
                change: Change::Spec(Box::new(c)),
            });
        }
    }

    fn answer(
        &mut self,
        id: String,
        description: String,
        clause: &str,
        scope: AnswerScope,
        edit: AnswerEdit,
    ) {
        self.out.push(Mutant {
            id,
            description,
            clause: clause.to_string(),
            change: Change::Answer(scope, edit),
        });
    }
}

/// Another status to answer instead of `status`: a sibling of the same class among the
/// operation's responses, preferring a near one, else the other class's first.
fn other_status(status: u16, statuses: &[u16]) -> u16 {
    let same_class: Vec<u16> = statuses
        .iter()
        .copied()
        .filter(|s| *s / 100 == status / 100 && *s != status && *s >= 400)
        .collect();
    if let Some(s) = same_class
        .iter()
        .min_by_key(|s| (i32::from(**s) - i32::from(status)).abs())
    {
        return *s;
    }
    if status >= 500 {
        400
    } else {
        500
    }
}

/// A value of another JSON type than the schema's, for a retype mutant.
fn retyped(schema: &Value) -> Value {
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => Value::from(12345),
        Some("array") => Value::from("not-an-array"),
        Some("object") => Value::from("not-an-object"),
        Some("integer") | Some("number") => Value::from("12345"),
        Some("boolean") => Value::from("true"),
        _ => Value::Null,
    }
}

/// An edit of one operation of a copy of the catalogue; `false` when the copy lacks it.
fn on_operation(
    service: &str,
    operation: &str,
    edit: impl Fn(&mut crate::spec::model::OperationSpec),
) -> impl FnOnce(&mut Catalog) -> bool {
    let (service, operation) = (service.to_string(), operation.to_string());
    move |c: &mut Catalog| match c
        .services
        .get_mut(&service)
        .and_then(|s| s.operations.get_mut(&operation))
    {
        Some(o) => {
            edit(&mut o.spec);
            true
        }
        None => false,
    }
}

/// One operation of one service, as the per-operation generators see it.
struct OperationAt<'a> {
    svc: &'a str,
    op_name: &'a str,
    service: &'a crate::spec::Service,
    op: &'a OperationSpec,
}

impl OperationAt<'_> {
    /// An edit of this operation's `index`th rule in a copy of the catalogue.
    fn rule_edit(
        &self,
        index: usize,
        f: Box<dyn Fn(&mut crate::spec::model::Rule)>,
    ) -> impl FnOnce(&mut Catalog) -> bool {
        on_operation(self.svc, self.op_name, move |o| f(&mut o.rules[index]))
    }
}

pub fn generate(base: &Catalog) -> Vec<Mutant> {
    let mut g = Gen {
        base,
        out: Vec::new(),
    };
    for (svc, service) in &base.services {
        service_mutants(&mut g, svc, service);
        for (op_name, op) in &service.operations {
            let statuses: Vec<u16> = op.spec.responses.iter().map(|r| r.status).collect();
            for (i, e) in op.spec.errors.iter().enumerate() {
                error_mutants(&mut g, svc, Some(op_name.as_str()), i, e, &statuses);
            }
            let at = OperationAt {
                svc,
                op_name,
                service,
                op: &op.spec,
            };
            parameter_mutants(&mut g, &at);
            rule_mutants(&mut g, &at);
            response_mutants(&mut g, &at);
        }
    }
    protocol::generate(&mut g);
    tenancy_mutants(&mut g);
    g.out
}

/// The mutants of a service's own clauses: signing, format defaults, the envelope, the common
/// errors.
fn service_mutants(g: &mut Gen<'_>, svc: &str, service: &crate::spec::Service) {
    // Signing not enforced.
    if !service.spec.signing.is_empty() {
        let clause = service.spec.signing[0].source.clone();
        g.spec(
            format!("{svc}/signing/not-enforced"),
            format!("{svc} accepts unsigned and forged requests"),
            &clause,
            |c| {
                c.services
                    .get_mut(svc)
                    .map(|s| s.spec.signing.clear())
                    .is_some()
            },
        );
    }
    signing_mutants(g, svc, service);
    format_default_mutants(g, svc, service);
    envelope_mutants(g, svc, service);
    // Common errors: wrong status, wrong code.
    let statuses_all: Vec<u16> = service
        .operations
        .values()
        .flat_map(|o| o.spec.responses.iter().map(|r| r.status))
        .collect();
    for (i, e) in service.spec.errors.iter().enumerate() {
        error_mutants(g, svc, None, i, e, &statuses_all);
    }
}

/// Format defaults flipped.
fn format_default_mutants(g: &mut Gen<'_>, svc: &str, service: &crate::spec::Service) {
    let Some(f) = &service.spec.formats else {
        return;
    };
    let flip = |x: &str| {
        if x.eq_ignore_ascii_case("json") {
            "XML".to_string()
        } else {
            "JSON".to_string()
        }
    };
    let (d, v3, src) = (f.default.clone(), f.v3_default.clone(), f.source.clone());
    g.spec(
        format!("{svc}/formats/default-flipped"),
        format!(
            "{svc} answers {} when a V1 request names no format",
            flip(&d)
        ),
        &src,
        |c| {
            c.services
                .get_mut(svc)
                .and_then(|s| s.spec.formats.as_mut())
                .map(|f| f.default = flip(&d))
                .is_some()
        },
    );
    g.spec(
        format!("{svc}/formats/v3-default-flipped"),
        format!(
            "{svc} answers {} when a V3 request names no format",
            flip(&v3)
        ),
        &src,
        |c| {
            c.services
                .get_mut(svc)
                .and_then(|s| s.spec.formats.as_mut())
                .map(|f| f.v3_default = flip(&v3))
                .is_some()
        },
    );
}

/// The request-id header left out; the error root renamed.
fn envelope_mutants(g: &mut Gen<'_>, svc: &str, service: &crate::spec::Service) {
    let every_answer = || AnswerScope {
        service: svc.to_string(),
        operation: None,
        status: None,
    };
    if let Some(h) = &service.spec.request_id.header {
        g.answer(
            format!("{svc}/answers/no-{}", h.to_ascii_lowercase()),
            format!("{svc} answers without {h}"),
            &service.spec.request_id.source,
            every_answer(),
            AnswerEdit::DropHeader { header: h.clone() },
        );
    }
    if let Some(root) = &service.spec.error_envelope.xml_root {
        g.answer(
            format!("{svc}/answers/error-root-renamed"),
            format!("{svc} names the XML error root <{root}Response>"),
            &service.spec.error_envelope.source,
            every_answer(),
            AnswerEdit::RenameXmlRoot {
                from: root.clone(),
                to: format!("{root}Response"),
            },
        );
    }
}

/// Parameter limits: a required parameter not required, a length limit relaxed or tightened.
fn parameter_mutants(g: &mut Gen<'_>, at: &OperationAt<'_>) {
    let (svc, op_name) = (at.svc, at.op_name);
    for (pi, p) in at.op.request.parameters.iter().enumerate() {
        if p.credential || !documented(&p.source) {
            continue;
        }
        let name = p.name.clone();
        let edit_param = |f: Box<dyn Fn(&mut crate::spec::model::Parameter)>| {
            on_operation(svc, op_name, move |o| f(&mut o.request.parameters[pi]))
        };
        // A path parameter can only be missing as an empty segment, which a minimum
        // length of 1 or more refuses already: not requiring it changes nothing.
        let empty_refused_anyway =
            p.location == crate::spec::model::ParamIn::Path && p.min_length.unwrap_or(0) > 0;
        if p.required && !empty_refused_anyway {
            g.spec(
                format!("{svc}/{op_name}/param:{name}/not-required"),
                format!("{op_name} does not require {name}"),
                &p.source,
                edit_param(Box::new(|p| p.required = false)),
            );
        }
        if let Some(n) = p.min_length.filter(|n| *n > 0) {
            g.spec(
                format!("{svc}/{op_name}/param:{name}/min-relaxed"),
                format!("{op_name} accepts a {name} of {} characters", n - 1),
                &p.source,
                edit_param(Box::new(move |p| p.min_length = Some(n - 1))),
            );
            g.spec(
                format!("{svc}/{op_name}/param:{name}/min-tightened"),
                format!("{op_name} refuses a {name} of {n} characters"),
                &p.source,
                edit_param(Box::new(move |p| p.min_length = Some(n + 1))),
            );
        }
        if let Some(n) = p.max_length {
            g.spec(
                format!("{svc}/{op_name}/param:{name}/max-relaxed"),
                format!("{op_name} accepts a {name} of {} characters", n + 1),
                &p.source,
                edit_param(Box::new(move |p| p.max_length = Some(n + 1))),
            );
            g.spec(
                format!("{svc}/{op_name}/param:{name}/max-tightened"),
                format!("{op_name} refuses a {name} of {n} characters"),
                &p.source,
                edit_param(Box::new(move |p| p.max_length = Some(n.saturating_sub(1)))),
            );
        }
    }
}

/// Each state rule skipped, answering a sibling code, losing an effect, refusing, or with a
/// condition loosened.
fn rule_mutants(g: &mut Gen<'_>, at: &OperationAt<'_>) {
    let not_found = at
        .op
        .errors
        .iter()
        .find(|e| e.role == crate::spec::model::ErrorRole::NotFound)
        .or(at.op.errors.first())
        .map(|e| e.code.clone());
    for (ri, rule) in at.op.rules.iter().enumerate() {
        match &rule.then {
            RuleOutcome::Error(code) => error_rule_mutants(g, at, ri, rule, code),
            RuleOutcome::Succeed(effects) => {
                success_rule_mutants(g, at, ri, rule, effects, not_found.as_ref())
            }
        }
        condition_mutants(g, at, ri, rule);
    }
}

/// A rule that refuses: skipped, or answering another documented code of the same status.
fn error_rule_mutants(
    g: &mut Gen<'_>,
    at: &OperationAt<'_>,
    ri: usize,
    rule: &crate::spec::model::Rule,
    code: &str,
) {
    let (svc, op_name, rid) = (at.svc, at.op_name, rule.id.clone());
    g.spec(
        format!("{svc}/{op_name}/rule:{rid}/skipped"),
        format!("{op_name} ignores rule `{rid}` ({})", rule.description),
        &rule.source,
        on_operation(svc, op_name, move |o| {
            o.rules.remove(ri);
        }),
    );
    // Another documented code of the same status.
    let status = at.service.error(Some(at.op), code).map(|e| e.status);
    let sibling = at.op.errors.iter().find(|e| {
        Some(e.status) == status
            && e.code != code
            && documented(&e.source)
            && e.role == crate::spec::model::ErrorRole::StateRule
    });
    if let Some(sib) = sibling {
        let sib_code = sib.code.clone();
        g.spec(
            format!("{svc}/{op_name}/rule:{rid}/answers-{sib_code}"),
            format!("{op_name} answers {sib_code} where `{rid}` is due ({code})"),
            &rule.source,
            at.rule_edit(
                ri,
                Box::new(move |r| r.then = RuleOutcome::Error(sib_code.clone())),
            ),
        );
    }
}

/// A rule that succeeds: each effect left out, or refusing with the not-found code.
fn success_rule_mutants(
    g: &mut Gen<'_>,
    at: &OperationAt<'_>,
    ri: usize,
    rule: &crate::spec::model::Rule,
    effects: &[crate::spec::model::Effect],
    not_found: Option<&String>,
) {
    let (svc, op_name, rid) = (at.svc, at.op_name, rule.id.clone());
    for (ei, eff) in effects.iter().enumerate() {
        if *eff == crate::spec::model::Effect::Nothing {
            continue;
        }
        g.spec(
            format!("{svc}/{op_name}/rule:{rid}/without-{eff:?}"),
            format!("{op_name} succeeds under `{rid}` but skips {eff:?}"),
            &rule.source,
            at.rule_edit(
                ri,
                Box::new(move |r| {
                    if let RuleOutcome::Succeed(e) = &mut r.then {
                        e.remove(ei);
                    }
                }),
            ),
        );
    }
    if rule.when.is_empty() {
        return;
    }
    if let Some(code) = not_found {
        let code = code.clone();
        g.spec(
            format!("{svc}/{op_name}/rule:{rid}/refuses"),
            format!("{op_name} answers {code} where `{rid}` succeeds"),
            &rule.source,
            at.rule_edit(
                ri,
                Box::new(move |r| r.then = RuleOutcome::Error(code.clone())),
            ),
        );
    }
}

/// Conditions: one value dropped from an `in` list; a condition left out of a rule with
/// several; a boolean parameter's condition inverted.
fn condition_mutants(
    g: &mut Gen<'_>,
    at: &OperationAt<'_>,
    ri: usize,
    rule: &crate::spec::model::Rule,
) {
    let (svc, op_name, rid) = (at.svc, at.op_name, rule.id.clone());
    for (fact, cond) in &rule.when {
        if let Condition::In(values) = cond {
            for (vi, v) in values.iter().enumerate() {
                let shown = crate::case::vars::text_of(v);
                let f2 = fact.clone();
                g.spec(
                    format!("{svc}/{op_name}/rule:{rid}/{fact}-not-{shown}"),
                    format!("{op_name}: rule `{rid}` no longer applies when {fact} is {shown}"),
                    &rule.source,
                    at.rule_edit(
                        ri,
                        Box::new(move |r| {
                            if let Some(Condition::In(vs)) = r.when.get_mut(&f2) {
                                vs.remove(vi);
                            }
                        }),
                    ),
                );
            }
        }
        if rule.when.len() > 1 {
            let f2 = fact.clone();
            g.spec(
                format!("{svc}/{op_name}/rule:{rid}/ignores-{fact}"),
                format!("{op_name}: rule `{rid}` ignores {fact}"),
                &rule.source,
                at.rule_edit(
                    ri,
                    Box::new(move |r| {
                        r.when.remove(&f2);
                    }),
                ),
            );
        }
        let is_bool_param = fact
            .strip_prefix("param.")
            .and_then(|p| at.op.parameter(p))
            .is_some_and(|p| p.ty == ParamType::Boolean);
        if !is_bool_param {
            continue;
        }
        if let Some(inverted) = inverted(cond) {
            let f2 = fact.clone();
            g.spec(
                format!("{svc}/{op_name}/rule:{rid}/{fact}-inverted"),
                format!("{op_name}: rule `{rid}` reads {fact} inverted"),
                &rule.source,
                at.rule_edit(
                    ri,
                    Box::new(move |r| {
                        r.when.insert(f2.clone(), inverted.clone());
                    }),
                ),
            );
        }
    }
}

/// A boolean condition with its values negated; `None` for a condition of another kind.
fn inverted(c: &Condition) -> Option<Condition> {
    let flip = |vs: &Vec<Value>| {
        vs.iter()
            .map(|v| v.as_bool().map(|b| Value::Bool(!b)).unwrap_or(v.clone()))
            .collect::<Vec<_>>()
    };
    match c {
        Condition::In(vs) => Some(Condition::In(flip(vs))),
        Condition::NotIn(vs) => Some(Condition::NotIn(flip(vs))),
        Condition::Equals(Value::Bool(b)) => Some(Condition::Equals(Value::Bool(!b))),
        _ => None,
    }
}

/// Answers: each required field of each response body dropped or of the wrong type; each
/// XML root renamed.
fn response_mutants(g: &mut Gen<'_>, at: &OperationAt<'_>) {
    let (svc, op_name) = (at.svc, at.op_name);
    for r in &at.op.responses {
        let scope = AnswerScope {
            service: svc.to_string(),
            operation: Some(op_name.to_string()),
            status: Some(r.status),
        };
        if let Some(root) = &r.xml_root {
            if at.service.spec.error_envelope.xml_root.as_deref() != Some(root.as_str()) {
                g.answer(
                    format!("{svc}/{op_name}/{}/root-renamed", r.status),
                    format!(
                        "{op_name} names the XML root of its {} answer <{root}Result>",
                        r.status
                    ),
                    &r.source,
                    scope.clone(),
                    AnswerEdit::RenameXmlRoot {
                        from: root.clone(),
                        to: format!("{root}Result"),
                    },
                );
            }
        }
        let Some(schema) = r
            .schema
            .as_deref()
            .and_then(|n| at.service.schema(Some(at.op), n))
        else {
            continue;
        };
        body_field_mutants(g, at, r, &scope, schema);
    }
}

/// Each required field of a response body dropped, or sent with a value of another type.
fn body_field_mutants(
    g: &mut Gen<'_>,
    at: &OperationAt<'_>,
    r: &crate::spec::model::ResponseSpec,
    scope: &AnswerScope,
    schema: &Value,
) {
    let (svc, op_name) = (at.svc, at.op_name);
    let required: Vec<String> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    for field in required {
        let prop = schema
            .get("properties")
            .and_then(|p| p.get(&field))
            .cloned()
            .unwrap_or(Value::Null);
        g.answer(
            format!("{svc}/{op_name}/{}/drops-{field}", r.status),
            format!("{op_name} leaves `{field}` out of its {} answer", r.status),
            &r.source,
            scope.clone(),
            AnswerEdit::DropField {
                field: field.clone(),
            },
        );
        let value = retyped(&prop);
        if !value.is_null() {
            g.answer(
                format!("{svc}/{op_name}/{}/retypes-{field}", r.status),
                format!(
                    "{op_name} sends `{field}` as {} in its {} answer",
                    value, r.status
                ),
                &r.source,
                scope.clone(),
                AnswerEdit::Retype {
                    field: field.clone(),
                    value,
                },
            );
        }
    }
}

/// Authorization, tenancy and side-effect mutants, generated from the spec data: an
/// operation's `authorization` not enforced; a target resource's `owner` ignored (another
/// account or project deletes it), or one of its project namings ignored; and each refusal
/// (every refusing rule, and the authorization refusal) applying one of the effects the
/// operation's successes have (it answers the refusal, and deletes all the same).
fn tenancy_mutants(g: &mut Gen<'_>) {
    for (svc, service) in &g.base.services {
        let targets: std::collections::BTreeSet<&String> = service
            .operations
            .values()
            .map(|o| &o.spec.target.resource)
            .collect();
        for (res, resource) in &service.spec.resources {
            let Some(owner) = resource.owner.as_ref().filter(|_| targets.contains(res)) else {
                continue;
            };
            owner_mutants(g, svc, res, owner);
        }
        for (op_name, op) in &service.operations {
            if let Some(a) = &op.spec.authorization {
                g.spec(
                    format!("{svc}/{op_name}/authorization/not-enforced"),
                    format!("{op_name} lets a caller without permission act"),
                    &a.source,
                    on_operation(svc, op_name, |o| o.authorization = None),
                );
            }
            refusal_leak_mutants(g, svc, op_name, &op.spec);
        }
    }
}

/// An edit of a resource's `owner`.
type OwnerEdit = Box<dyn Fn(&mut Option<crate::spec::model::Owner>)>;

fn owner_mutants(g: &mut Gen<'_>, svc: &str, res: &str, owner: &crate::spec::model::Owner) {
    let on_owner = |f: OwnerEdit| {
        let (svc, res) = (svc.to_string(), res.to_string());
        move |c: &mut Catalog| match c
            .services
            .get_mut(&svc)
            .and_then(|s| s.spec.resources.get_mut(&res))
        {
            Some(r) => {
                f(&mut r.owner);
                true
            }
            None => false,
        }
    };
    let scope = format!("{:?}", owner.scope).to_ascii_lowercase();
    g.spec(
        format!("{svc}/resource:{res}/owner-ignored"),
        format!("{svc} lets a request of another {scope} act on its {res} resources"),
        &owner.source,
        on_owner(Box::new(|o| *o = None)),
    );
    for (i, naming) in owner.named_by.iter().enumerate() {
        let place = format!("{:?}:{}", naming.location, naming.name).to_ascii_lowercase();
        g.spec(
            format!("{svc}/resource:{res}/owner-ignores-{place}"),
            format!(
                "{svc} does not check the project a request names in {} `{}` against its {res} resources",
                format!("{:?}", naming.location).to_ascii_lowercase(),
                naming.name
            ),
            &naming.source,
            on_owner(Box::new(move |o| {
                if let Some(o) = o {
                    o.named_by.remove(i);
                }
            })),
        );
    }
}

fn refusal_leak_mutants(g: &mut Gen<'_>, svc: &str, op_name: &str, op: &OperationSpec) {
    use crate::spec::model::{Effect, AUTHORIZATION_REFUSAL};
    let mut effects: Vec<Effect> = Vec::new();
    for rule in &op.rules {
        if let RuleOutcome::Succeed(es) = &rule.then {
            for e in es {
                if *e != Effect::Nothing && !effects.contains(e) {
                    effects.push(*e);
                }
            }
        }
    }
    let mut refusals: Vec<(String, String)> = op
        .rules
        .iter()
        .filter(|r| matches!(r.then, RuleOutcome::Error(_)))
        .map(|r| (r.id.clone(), r.source.clone()))
        .collect();
    if let Some(a) = &op.authorization {
        refusals.push((AUTHORIZATION_REFUSAL.to_string(), a.source.clone()));
    }
    for (refusal, source) in refusals {
        for effect in &effects {
            let (refusal2, effect) = (refusal.clone(), *effect);
            let name = format!("{effect:?}");
            g.spec(
                format!("{svc}/{op_name}/refusal:{refusal}/also-{name}"),
                format!("{op_name} refuses under `{refusal}` but applies {name} all the same"),
                &source,
                on_operation(svc, op_name, move |o| {
                    o.refusal_leaks
                        .entry(refusal2.clone())
                        .or_default()
                        .push(effect)
                }),
            );
        }
    }
}

/// An entry of an operation's error catalogue (or the service's, without an operation).
fn error_entry<'c>(
    c: &'c mut Catalog,
    service: &str,
    operation: Option<&str>,
    index: usize,
) -> Option<&'c mut ErrorEntry> {
    let s = c.services.get_mut(service)?;
    match operation {
        Some(o) => s.operations.get_mut(o)?.spec.errors.get_mut(index),
        None => s.spec.errors.get_mut(index),
    }
}

fn error_mutants(
    g: &mut Gen<'_>,
    svc: &str,
    op: Option<&str>,
    index: usize,
    e: &ErrorEntry,
    statuses: &[u16],
) {
    let where_ = op
        .map(|o| format!("{svc}/{o}"))
        .unwrap_or_else(|| svc.to_string());
    let to = other_status(e.status, statuses);
    let (svc_s, op_s) = (svc.to_string(), op.map(str::to_string));
    let edit = move |f: Box<dyn Fn(&mut ErrorEntry)>| {
        let (svc_s, op_s) = (svc_s.clone(), op_s.clone());
        move |c: &mut Catalog| {
            let entry = error_entry(c, &svc_s, op_s.as_deref(), index);
            match entry {
                Some(entry) => {
                    f(entry);
                    true
                }
                None => false,
            }
        }
    };
    let role = format!("{:?}", e.role);
    g.spec(
        format!("{where_}/error:{}:{role}/status-{to}", e.code),
        format!(
            "{where_} answers {} ({role}) with status {to} instead of {}",
            e.code, e.status
        ),
        &e.source,
        edit(Box::new(move |x| x.status = to)),
    );
    if documented(&e.source) {
        // The situation keeps its status but answers another code: the entry and every rule
        // that names it change together.
        let wrong = format!("{}.Mutated", e.code);
        let (svc_s, op_s, code) = (svc.to_string(), op.map(str::to_string), e.code.clone());
        g.spec(
            format!("{where_}/error:{}:{role}/code-changed", e.code),
            format!("{where_} answers {wrong} where {} is due", e.code),
            &e.source,
            move |c| {
                let Some(entry) = error_entry(c, &svc_s, op_s.as_deref(), index) else {
                    return false;
                };
                entry.code = wrong.clone();
                let Some(s) = c.services.get_mut(&svc_s) else {
                    return false;
                };
                for o in s
                    .operations
                    .values_mut()
                    .filter(|o| op_s.as_ref().is_none_or(|n| *n == o.spec.operation))
                {
                    for r in &mut o.spec.rules {
                        if r.then == RuleOutcome::Error(code.clone()) {
                            r.then = RuleOutcome::Error(wrong.clone());
                        }
                    }
                }
                true
            },
        );
    }
}

/// The signing mutants of a service, from its `signing` list: each scheme's signatures left
/// unchecked over one of its methods; each part its signature covers (`signs`) left out of
/// the verification; its nonce forgotten; the signature-mismatch message without the server's
/// string to sign.
fn signing_mutants(g: &mut Gen<'_>, svc: &str, service: &crate::spec::Service) {
    let op_methods: Vec<String> = service
        .operations
        .values()
        .flat_map(|o| o.spec.request.methods.iter().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for (si, entry) in service.spec.signing.iter().enumerate() {
        if !documented(&entry.source) {
            continue;
        }
        let at = SigningAt { svc, si, entry };
        let scheme = entry.scheme.as_str();
        for method in entry.methods_for(&op_methods) {
            let m = method.clone();
            g.spec(
                format!(
                    "{svc}/signing:{scheme}/{}/unchecked",
                    m.to_ascii_lowercase()
                ),
                format!("{svc} accepts {scheme} signatures over {m} without checking them"),
                &entry.source,
                at.edit(move |e| e.unchecked_methods = vec![m.clone()]),
            );
        }
        for part in entry.signs.clone() {
            g.spec(
                format!("{svc}/signing:{scheme}/ignores-{}", part.as_str()),
                format!(
                    "{svc} verifies {scheme} signatures without the {}",
                    part.as_str()
                ),
                &entry.source,
                at.edit(move |e| e.signs.retain(|p| *p != part)),
            );
        }
        window_mutants(g, &at);
        if entry.nonce {
            g.spec(
                format!("{svc}/signing:{scheme}/nonce-forgotten"),
                format!("{svc} accepts a {scheme} nonce it has seen before"),
                &entry.source,
                at.edit(|e| e.nonce = false),
            );
        }
    }
    mismatch_message_mutants(g, svc, service);
}

/// One signing entry of a service, as its mutants edit it.
struct SigningAt<'a> {
    svc: &'a str,
    si: usize,
    entry: &'a crate::spec::model::Signing,
}

impl SigningAt<'_> {
    /// An edit of this entry in a mutant's catalogue (false when it is not there).
    fn edit(
        &self,
        f: impl Fn(&mut crate::spec::model::Signing) + 'static,
    ) -> impl FnOnce(&mut Catalog) -> bool + 'static {
        let (svc, si) = (self.svc.to_string(), self.si);
        move |c: &mut Catalog| match c
            .services
            .get_mut(&svc)
            .and_then(|s| s.spec.signing.get_mut(si))
        {
            Some(entry) => {
                f(entry);
                true
            }
            None => false,
        }
    }
}

/// A documented time window widened and narrowed.
fn window_mutants(g: &mut Gen<'_>, at: &SigningAt<'_>) {
    let Some(minutes) = at.entry.documented_window() else {
        return;
    };
    let (svc, scheme) = (at.svc, at.entry.scheme.as_str());
    let source = at
        .entry
        .window
        .as_ref()
        .map(|w| w.source.clone())
        .unwrap_or_default();
    for (what, to) in [("widened", minutes * 2), ("narrowed", (minutes / 3).max(1))] {
        g.spec(
            format!("{svc}/signing:{scheme}/window-{what}"),
            format!("{svc} accepts {scheme} timestamps up to {to} minutes off, not {minutes}"),
            &source,
            at.edit(move |e| {
                if let Some(w) = e.window.as_mut() {
                    w.minutes = to;
                }
            }),
        );
    }
}

/// The documented mismatch message names the server's string to sign (`%s`): a mutant whose
/// message does not.
fn mismatch_message_mutants(g: &mut Gen<'_>, svc: &str, service: &crate::spec::Service) {
    for (i, e) in service.spec.errors.iter().enumerate() {
        let names_string_to_sign = e.role == crate::spec::model::ErrorRole::SignatureMismatch
            && e.message.contains("%s")
            && documented(&e.source);
        if !names_string_to_sign {
            continue;
        }
        let svc_s = svc.to_string();
        g.spec(
            format!("{svc}/error:{}/message-without-string-to-sign", e.code),
            format!(
                "{svc} answers {} with a message that does not name the server's string to sign",
                e.code
            ),
            &e.source,
            move |c| match error_entry(c, &svc_s, None, i) {
                Some(entry) => {
                    entry.message = without_detail(&entry.message);
                    true
                }
                None => false,
            },
        );
    }
}

/// A message template without its `%s` detail and the words that introduce it: up to the end
/// of the last sentence before it (`A. b is:%s` → `A.`), else without the trailing `:` (the
/// emulator appends the string to sign to a mismatch message that ends in one).
fn without_detail(template: &str) -> String {
    let before = template.split("%s").next().unwrap_or("");
    match before.rfind(". ") {
        Some(i) => before[..=i].to_string(),
        None => before.trim_end().trim_end_matches(':').to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_status_prefers_a_near_sibling() {
        assert_eq!(other_status(405, &[200, 400, 404, 405, 409]), 404);
        assert_eq!(other_status(500, &[200, 400, 500, 503]), 503);
        assert_eq!(other_status(500, &[200, 400, 500]), 400);
        assert_eq!(other_status(403, &[200, 403]), 500);
    }

    #[test]
    fn a_message_without_its_detail() {
        assert_eq!(
            without_detail("Specified signature is not matched. server string to sign is:%s"),
            "Specified signature is not matched."
        );
        assert_eq!(without_detail("string to sign is:%s"), "string to sign is");
    }

    #[test]
    fn retyped_changes_the_type() {
        assert_eq!(
            retyped(&serde_json::json!({"type": "string"})),
            serde_json::json!(12345)
        );
        assert_eq!(
            retyped(&serde_json::json!({"type": "array"})),
            serde_json::json!("not-an-array")
        );
        assert!(retyped(&serde_json::json!({})).is_null());
    }
}
