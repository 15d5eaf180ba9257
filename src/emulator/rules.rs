//! State rules: an operation's `rules` evaluated over facts about the store and the request,
//! and the effects of a successful delete.
//!
//! Facts (see [`crate::spec::model::Rule`]): `target` (the resource the request names, absent
//! when it is not stored), `target.<Attr>`, `<related>` and `<related>.<Attr>` for each entry of
//! the operation's `target.related` (a resource of that kind that the target uses or that uses
//! the target, or the one a request parameter names when the operation has a parameter called
//! like that resource's id attribute: Workspace's `project_id`), and `param.<Name>` (the value
//! sent, typed per the parameter: `Force=True` is the boolean `true`). A missing fact counts as
//! null for `in`, `not_in` and `equals`, and as absent for `present`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::store::{Key, Record, Tables};
use super::tenancy::Caller;
use crate::spec::model::{
    Condition, Effect, OperationSpec, ParamType, Rule, RuleOutcome, ServiceSpec,
};

/// Something facts can be read from.
pub trait Facts {
    fn fact(&self, path: &str) -> Option<Value>;
}

impl Facts for BTreeMap<String, Value> {
    fn fact(&self, path: &str) -> Option<Value> {
        self.get(path).cloned()
    }
}

/// JSON equality where numbers compare by value (`1` equals `1.0`).
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        _ => a == b,
    }
}

/// Whether a condition holds for a fact (`None`: the fact is missing).
pub fn holds(condition: &Condition, fact: Option<&Value>) -> bool {
    let value = fact.unwrap_or(&Value::Null);
    match condition {
        Condition::Present(want) => fact.is_some() == *want,
        Condition::In(values) => values.iter().any(|v| values_equal(v, value)),
        Condition::NotIn(values) => !values.iter().any(|v| values_equal(v, value)),
        Condition::Equals(v) => values_equal(v, value),
    }
}

/// The first rule whose every condition holds.
pub fn decide<'r>(rules: &'r [Rule], facts: &dyn Facts) -> Option<&'r Rule> {
    rules.iter().find(|rule| {
        rule.when
            .iter()
            .all(|(path, cond)| holds(cond, facts.fact(path).as_ref()))
    })
}

/// A request parameter's raw value typed per the parameter; `None` if it does not parse.
/// Booleans are case-insensitive (`True` from the Python SDKs).
pub fn typed_param(ty: ParamType, raw: &str) -> Option<Value> {
    match ty {
        ParamType::String => Some(Value::String(raw.to_string())),
        ParamType::Boolean => {
            if raw.eq_ignore_ascii_case("true") {
                Some(Value::Bool(true))
            } else if raw.eq_ignore_ascii_case("false") {
                Some(Value::Bool(false))
            } else {
                None
            }
        }
        ParamType::Integer => raw.trim().parse::<i64>().ok().map(Value::from),
    }
}

/// Facts of one request, read from the locked store.
pub struct StoreFacts<'a> {
    pub tables: &'a Tables,
    pub service: &'a ServiceSpec,
    pub op: &'a OperationSpec,
    /// The target's id as sent (`None`: not sent).
    pub target_id: Option<&'a str>,
    /// Parameters sent, typed (`param.<Name>` facts), by parameter name.
    pub params: &'a BTreeMap<String, Value>,
    /// Who asks: a target of another account or project is not there for it.
    pub caller: &'a Caller,
}

impl StoreFacts<'_> {
    fn target(&self) -> Option<&Record> {
        self.tables
            .get(&self.op.target.resource, self.target_id?)
            .filter(|r| self.caller.sees(self.service, r))
    }

    fn related(&self, name: &str) -> Option<&Record> {
        let kind = self.op.target.related.get(name)?;
        // A parameter naming the related resource directly (Workspace's project_id).
        if let Some(id_attr) = self.service.resources.get(kind).map(|r| &r.id) {
            if self.op.parameter(id_attr).is_some() && *id_attr != self.op.target.id_param {
                return match self.params.get(id_attr) {
                    Some(Value::String(id)) => self.tables.get(kind, id),
                    _ => None,
                };
            }
        }
        self.target()?;
        self.tables
            .related(&self.op.target.resource, self.target_id?, kind)
    }
}

impl Facts for StoreFacts<'_> {
    fn fact(&self, path: &str) -> Option<Value> {
        let (head, attr) = match path.split_once('.') {
            Some((h, a)) => (h, Some(a)),
            None => (path, None),
        };
        let record = match head {
            "param" => return self.params.get(attr?).cloned(),
            "target" => self.target()?,
            other => self.related(other)?,
        };
        match attr {
            None => Some(Value::String(record.id.clone())),
            Some(a) => record.attrs.get(a).cloned(),
        }
    }
}

/// What deciding a request came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Answer this error code (rule id for logs).
    Error { rule: String, code: String },
    /// Succeeded; these resources were removed.
    Success { rule: String, removed: Vec<Key> },
    /// No rule applied (the spec's last rule should always hold; answered as an internal error).
    NoRule,
}

/// Under the store's lock: the failure status a `service fails` state marked the target with,
/// else the decision of the operation's rules (with its effects applied).
pub fn decide_in(
    store: &super::store::Store,
    service: &ServiceSpec,
    op: &OperationSpec,
    target_id: Option<&str>,
    params: &BTreeMap<String, Value>,
    caller: &Caller,
) -> Result<Decision, u16> {
    let kind = op.target.resource.as_str();
    store.with(|t| {
        if let Some(status) = target_id
            .and_then(|id| t.get(kind, id))
            .filter(|r| caller.sees(service, r))
            .and_then(|r| r.fail_status)
        {
            return Err(status);
        }
        Ok(decide_and_apply_as(
            t, service, op, target_id, params, caller,
        ))
    })
}

/// [`decide_and_apply_as`] for the configured credentials.
pub fn decide_and_apply(
    tables: &mut Tables,
    service: &ServiceSpec,
    op: &OperationSpec,
    target_id: Option<&str>,
    params: &BTreeMap<String, Value>,
) -> Decision {
    decide_and_apply_as(tables, service, op, target_id, params, &Caller::home())
}

/// Evaluates the operation's rules against the locked store, as `caller` sees it, and applies
/// the winning rule's effects (to a target the caller sees), all while the caller holds the lock.
pub fn decide_and_apply_as(
    tables: &mut Tables,
    service: &ServiceSpec,
    op: &OperationSpec,
    target_id: Option<&str>,
    params: &BTreeMap<String, Value>,
    caller: &Caller,
) -> Decision {
    let (rule, seen_target) = {
        let facts = StoreFacts {
            tables,
            service,
            op,
            target_id,
            params,
            caller,
        };
        let seen = facts.target().map(|_| ());
        (decide(&op.rules, &facts), seen)
    };
    let Some(rule) = rule else {
        return Decision::NoRule;
    };
    match &rule.then {
        RuleOutcome::Error(code) => {
            apply_refusal_leaks(tables, op, &rule.id, target_id);
            Decision::Error {
                rule: rule.id.clone(),
                code: code.clone(),
            }
        }
        RuleOutcome::Succeed(effects) => Decision::Success {
            rule: rule.id.clone(),
            removed: target_id
                .filter(|_| seen_target.is_some())
                .map(|id| apply_effects(tables, op, id, effects))
                .unwrap_or_default(),
        },
    }
}

/// The effects a mutant makes the refusal `refusal` (a rule id, or the authorization refusal)
/// apply anyway, to the target the request names whoever owns it. None in an honest spec.
pub fn apply_refusal_leaks(
    tables: &mut Tables,
    op: &OperationSpec,
    refusal: &str,
    target_id: Option<&str>,
) {
    if let (Some(effects), Some(id)) = (op.refusal_leaks.get(refusal), target_id) {
        apply_effects(tables, op, id, effects);
    }
}

/// Applies effects in order to the target `id` of `op`; returns what was removed.
pub fn apply_effects(
    tables: &mut Tables,
    op: &OperationSpec,
    id: &str,
    effects: &[Effect],
) -> Vec<Key> {
    let kind = op.target.resource.as_str();
    // Taken before any effect, so the order of effects does not lose the target's dependents.
    let dependents: Vec<Key> = tables.dependents_of(kind, id, |_| true);
    let related_kinds: BTreeSet<&str> = op.target.related.values().map(String::as_str).collect();
    let mut removed = Vec::new();
    for effect in effects {
        match effect {
            Effect::DeleteTarget => {
                if let Some(r) = tables.remove(kind, id) {
                    removed.push(r.key());
                }
            }
            Effect::DeleteRelatedJobs => {
                for (k, i) in &dependents {
                    if related_kinds.is_empty() || related_kinds.contains(k.as_str()) {
                        removed.extend(tables.remove_cascade(k, i).iter().map(Record::key));
                    }
                }
            }
            Effect::ReleaseIntermediateResources => {
                for (k, i) in &dependents {
                    removed.extend(tables.remove_cascade(k, i).iter().map(Record::key));
                }
            }
            Effect::Nothing => {}
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(id: &str, when: Value, then: Value) -> Rule {
        serde_json::from_value(json!({
            "id": id, "description": id, "when": when, "then": then, "source": "assumed:test"
        }))
        .unwrap()
    }

    fn facts(v: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn conditions_on_present_and_missing_facts() {
        let one = json!(1);
        assert!(holds(&Condition::Present(true), Some(&one)));
        assert!(!holds(&Condition::Present(true), None));
        assert!(holds(&Condition::Present(false), None));
        // A missing fact is null for in / not_in / equals.
        assert!(holds(&Condition::In(vec![Value::Null]), None));
        assert!(!holds(&Condition::In(vec![json!(true)]), None));
        assert!(holds(&Condition::NotIn(vec![json!(true)]), None));
        assert!(holds(&Condition::Equals(Value::Null), None));
        assert!(!holds(&Condition::Equals(json!("Running")), None));
        assert!(holds(&Condition::Equals(json!(1.0)), Some(&one)));
        assert!(holds(
            &Condition::In(vec![json!("a"), json!("b")]),
            Some(&json!("b"))
        ));
        assert!(!holds(
            &Condition::NotIn(vec![json!("a"), json!("b")]),
            Some(&json!("b"))
        ));
        // No coercion between types.
        assert!(!holds(
            &Condition::Equals(json!(true)),
            Some(&json!("true"))
        ));
    }

    #[test]
    fn first_matching_rule_decides() {
        let rules = vec![
            rule(
                "missing",
                json!({"target": {"present": false}}),
                json!({"error": "NotFound"}),
            ),
            rule(
                "running",
                json!({"job.Status": {"equals": "Running"}}),
                json!({"error": "Running"}),
            ),
            rule(
                "needs-force",
                json!({"job": {"present": true}, "param.Force": {"not_in": [true]}}),
                json!({"error": "Related"}),
            ),
            rule(
                "force",
                json!({"job": {"present": true}}),
                json!({"succeed": ["delete_related_jobs", "delete_target"]}),
            ),
            rule("plain", json!({}), json!({"succeed": ["delete_target"]})),
        ];
        let pick = |f: Value| decide(&rules, &facts(f)).map(|r| r.id.clone()).unwrap();
        assert_eq!(pick(json!({})), "missing");
        assert_eq!(pick(json!({"target": "s"})), "plain");
        assert_eq!(
            pick(json!({"target": "s", "job": "j", "job.Status": "Running"})),
            "running"
        );
        assert_eq!(
            pick(json!({"target": "s", "job": "j", "job.Status": "Stopped"})),
            "needs-force"
        );
        assert_eq!(
            pick(json!({"target": "s", "job": "j", "job.Status": "Stopped", "param.Force": false})),
            "needs-force"
        );
        assert_eq!(
            pick(json!({"target": "s", "job": "j", "job.Status": "Stopped", "param.Force": true})),
            "force"
        );
        // No rule at all.
        assert!(decide(&rules[..1], &facts(json!({"target": "s"}))).is_none());
    }

    #[test]
    fn params_are_typed() {
        assert_eq!(typed_param(ParamType::Boolean, "True"), Some(json!(true)));
        assert_eq!(typed_param(ParamType::Boolean, "FALSE"), Some(json!(false)));
        assert_eq!(typed_param(ParamType::Boolean, "yes"), None);
        assert_eq!(typed_param(ParamType::Integer, "42"), Some(json!(42)));
        assert_eq!(typed_param(ParamType::Integer, "4x"), None);
        assert_eq!(typed_param(ParamType::String, ""), Some(json!("")));
    }

    fn smc() -> (ServiceSpec, OperationSpec, OperationSpec) {
        let service: ServiceSpec = serde_json::from_value(json!({
            "service": "alibaba-smc", "title": "t", "protocol": "alibaba-rpc",
            "signing": [], "request_id": {"body": "/RequestId", "source": "assumed:t"},
            "error_envelope": {"code": "/Code", "message": "/Message", "schema": "E", "source": "assumed:t"},
            "resources": {
                "source_server": {"description": "d", "id": "SourceId", "source": "assumed:t",
                    "attributes": {"State": {"values": ["Available"], "source": "assumed:t"}}},
                "replication_job": {"description": "d", "id": "JobId", "source": "assumed:t",
                    "attributes": {"Status": {"values": ["Running", "Stopped"], "source": "assumed:t"}}},
                "intermediate_instance": {"description": "d", "id": "InstanceId", "source": "assumed:t"}
            },
            "source": "assumed:t"
        }))
        .unwrap();
        let op = |name: &str, target: Value, params: Value, rules: Value| -> OperationSpec {
            serde_json::from_value(json!({
                "operation": name, "service": "alibaba-smc", "summary": "s",
                "request": {"action": name, "methods": ["POST"], "parameters": params, "source": "assumed:t"},
                "responses": [], "target": target, "rules": rules, "source": "assumed:t"
            }))
            .unwrap()
        };
        let dss = op(
            "DeleteSourceServer",
            json!({"resource": "source_server", "id_param": "SourceId", "related": {"job": "replication_job"}}),
            json!([
                {"name": "SourceId", "in": "query", "type": "string", "required": true, "source": "assumed:t"},
                {"name": "Force", "in": "query", "type": "boolean", "source": "assumed:t"}
            ]),
            json!([
                {"id": "missing", "description": "d", "when": {"target": {"present": false}}, "then": {"error": "NotFound"}, "source": "assumed:t"},
                {"id": "running", "description": "d", "when": {"job.Status": {"equals": "Running"}}, "then": {"error": "Running"}, "source": "assumed:t"},
                {"id": "needs-force", "description": "d", "when": {"job": {"present": true}, "param.Force": {"not_in": [true]}}, "then": {"error": "Related"}, "source": "assumed:t"},
                {"id": "force", "description": "d", "when": {"job": {"present": true}}, "then": {"succeed": ["delete_target", "delete_related_jobs"]}, "source": "assumed:t"},
                {"id": "plain", "description": "d", "then": {"succeed": ["delete_target"]}, "source": "assumed:t"}
            ]),
        );
        let drj = op(
            "DeleteReplicationJob",
            json!({"resource": "replication_job", "id_param": "JobId", "related": {"source": "source_server"}}),
            json!([{"name": "JobId", "in": "query", "type": "string", "required": true, "source": "assumed:t"}]),
            json!([
                {"id": "missing", "description": "d", "when": {"target": {"present": false}}, "then": {"error": "NotFound"}, "source": "assumed:t"},
                {"id": "status", "description": "d", "when": {"target.Status": {"in": ["Running"]}}, "then": {"error": "InvalidStatus"}, "source": "assumed:t"},
                {"id": "ok", "description": "d", "then": {"succeed": ["release_intermediate_resources", "delete_target"]}, "source": "assumed:t"}
            ]),
        );
        (service, dss, drj)
    }

    fn seeded(job_status: &str) -> Tables {
        let mut t = Tables::default();
        t.insert(Record::new("source_server", "s-1").attr("State", "Available"))
            .unwrap();
        t.insert(
            Record::new("replication_job", "j-1")
                .attr("Status", job_status)
                .uses("source_server", "s-1"),
        )
        .unwrap();
        t.insert(Record::new("intermediate_instance", "i-1").uses("replication_job", "j-1"))
            .unwrap();
        t
    }

    fn run(
        t: &mut Tables,
        service: &ServiceSpec,
        op: &OperationSpec,
        id: &str,
        params: Value,
    ) -> Decision {
        let params: BTreeMap<String, Value> = serde_json::from_value(params).unwrap();
        decide_and_apply(t, service, op, Some(id), &params)
    }

    #[test]
    fn source_server_rules_over_the_store() {
        let (service, dss, _) = smc();
        let mut t = seeded("Running");
        assert_eq!(
            run(
                &mut t,
                &service,
                &dss,
                "s-1",
                json!({"SourceId": "s-1", "Force": true})
            ),
            Decision::Error {
                rule: "running".into(),
                code: "Running".into()
            }
        );
        let mut t = seeded("Stopped");
        assert_eq!(
            run(&mut t, &service, &dss, "s-1", json!({"SourceId": "s-1"})),
            Decision::Error {
                rule: "needs-force".into(),
                code: "Related".into()
            }
        );
        assert_eq!(
            run(
                &mut t,
                &service,
                &dss,
                "s-nope",
                json!({"SourceId": "s-nope"})
            ),
            Decision::Error {
                rule: "missing".into(),
                code: "NotFound".into()
            }
        );
        // Force: the source, its job and the job's intermediate instance go, whatever the
        // order of effects.
        match run(
            &mut t,
            &service,
            &dss,
            "s-1",
            json!({"SourceId": "s-1", "Force": true}),
        ) {
            Decision::Success { rule, removed } => {
                assert_eq!(rule, "force");
                assert_eq!(removed.len(), 3, "{removed:?}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            t.count("source_server")
                + t.count("replication_job")
                + t.count("intermediate_instance"),
            0
        );
        t.check_consistency().unwrap();
    }

    #[test]
    fn replication_job_rules_release_intermediates_and_keep_the_source() {
        let (service, _, drj) = smc();
        let mut t = seeded("Running");
        assert_eq!(
            run(&mut t, &service, &drj, "j-1", json!({"JobId": "j-1"})),
            Decision::Error {
                rule: "status".into(),
                code: "InvalidStatus".into()
            }
        );
        let mut t = seeded("Stopped");
        let facts_params = BTreeMap::new();
        let facts = StoreFacts {
            tables: &t,
            service: &service,
            op: &drj,
            target_id: Some("j-1"),
            params: &facts_params,
            caller: &Caller::home(),
        };
        assert_eq!(facts.fact("source"), Some(json!("s-1")));
        assert_eq!(facts.fact("target.Status"), Some(json!("Stopped")));
        assert_eq!(facts.fact("target.Nope"), None);
        assert_eq!(facts.fact("param.JobId"), None);
        match run(&mut t, &service, &drj, "j-1", json!({"JobId": "j-1"})) {
            Decision::Success { removed, .. } => assert_eq!(removed.len(), 2),
            other => panic!("{other:?}"),
        }
        assert!(t.contains("source_server", "s-1"));
        assert_eq!(t.count("intermediate_instance"), 0);

        // A refusal that leaks an effect (only mutants do): refused, and released all the same.
        let mut leaky = drj.clone();
        leaky
            .refusal_leaks
            .insert("status".into(), vec![Effect::ReleaseIntermediateResources]);
        let mut t = seeded("Running");
        assert!(matches!(
            run(&mut t, &service, &leaky, "j-1", json!({"JobId": "j-1"})),
            Decision::Error { .. }
        ));
        assert!(t.contains("replication_job", "j-1"));
        assert_eq!(t.count("intermediate_instance"), 0);
        t.check_consistency().unwrap();
    }

    #[test]
    fn no_rule_and_no_target() {
        let (service, dss, _) = smc();
        let mut short = dss.clone();
        short.rules.truncate(1);
        let mut t = seeded("Stopped");
        assert_eq!(
            run(&mut t, &service, &short, "s-1", json!({})),
            Decision::NoRule
        );
        // Target not sent: `target` is missing.
        let d = decide_and_apply(&mut t, &service, &dss, None, &BTreeMap::new());
        assert_eq!(
            d,
            Decision::Error {
                rule: "missing".into(),
                code: "NotFound".into()
            }
        );
    }
}
