//! Checking request parameters against the spec's `Parameter`s (required, type, length).

use std::collections::BTreeMap;

use serde_json::Value;

use super::answer::{by_role, by_roles, ErrorAnswer};
use super::rules::typed_param;
use crate::spec::model::{ErrorRole, OperationSpec, ParamIn, Parameter};
use crate::spec::Service;

/// Why a parameter was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamProblem {
    /// Not sent, or sent empty when required (and no `min_length` decides).
    Missing(String, ParamIn),
    /// Name, value as sent, and why.
    Invalid(String, String, String),
}

impl ParamProblem {
    pub fn answer(&self, service: &Service, op: Option<&OperationSpec>) -> ErrorAnswer {
        match self {
            // A catalogue without a missing-parameter error answers it as an invalid parameter;
            // an empty path segment, failing both, as the gateway does: no such API.
            ParamProblem::Missing(name, location) => {
                let roles: &[ErrorRole] = if *location == ParamIn::Path {
                    &[
                        ErrorRole::MissingParameter,
                        ErrorRole::InvalidParameter,
                        ErrorRole::RouteNotFound,
                    ]
                } else {
                    &[ErrorRole::MissingParameter, ErrorRole::InvalidParameter]
                };
                by_roles(service, op, roles, &[("param", name)])
            }
            ParamProblem::Invalid(name, value, why) => by_role(
                service,
                op,
                ErrorRole::InvalidParameter,
                &[("param", name), ("value", value), ("reason", why)],
            ),
        }
    }
}

/// Checks one parameter's raw value; `Ok(None)` when it is optional and not sent.
pub fn check(p: &Parameter, raw: Option<&str>) -> Result<Option<Value>, ParamProblem> {
    let Some(raw) = raw else {
        return if p.required {
            Err(ParamProblem::Missing(p.name.clone(), p.location))
        } else {
            Ok(None)
        };
    };
    // A required parameter sent empty is missing, unless a minimum length says how it fails
    // (SMS: `DELETE /v3/tasks/` is an invalid task_id).
    if raw.is_empty() && p.required && p.min_length.is_none() {
        return Err(ParamProblem::Missing(p.name.clone(), p.location));
    }
    let invalid = |why: String| ParamProblem::Invalid(p.name.clone(), raw.to_string(), why);
    let len = raw.chars().count();
    if let Some(min) = p.min_length {
        if len < min {
            return Err(invalid(format!("shorter than {min} characters")));
        }
    }
    if let Some(max) = p.max_length {
        if len > max {
            return Err(invalid(format!("longer than {max} characters")));
        }
    }
    typed_param(p.ty, raw)
        .map(Some)
        .ok_or_else(|| invalid(format!("not a {:?}", p.ty).to_ascii_lowercase()))
}

/// Checks every non-credential parameter of `op`, reading each with `get(location, name)`;
/// returns the typed values of those sent.
pub fn check_all<'r>(
    op: &OperationSpec,
    get: impl Fn(ParamIn, &str) -> Option<&'r str>,
) -> Result<BTreeMap<String, Value>, ParamProblem> {
    let mut typed = BTreeMap::new();
    for p in op.request.parameters.iter().filter(|p| !p.credential) {
        if let Some(v) = check(p, get(p.location, &p.name))? {
            typed.insert(p.name.clone(), v);
        }
    }
    Ok(typed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn param(v: Value) -> Parameter {
        let mut base =
            json!({"name": "task_id", "in": "path", "type": "string", "source": "assumed:t"});
        base.as_object_mut()
            .unwrap()
            .extend(v.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn lengths_types_and_presence() {
        let p = param(json!({"required": true, "min_length": 1, "max_length": 36}));
        assert_eq!(
            check(&p, None),
            Err(ParamProblem::Missing("task_id".into(), ParamIn::Path))
        );
        assert!(matches!(
            check(&p, Some("")),
            Err(ParamProblem::Invalid(..))
        ));
        assert!(matches!(
            check(&p, Some(&"x".repeat(37))),
            Err(ParamProblem::Invalid(..))
        ));
        assert_eq!(
            check(&p, Some(&"é".repeat(36))),
            Ok(Some(json!("é".repeat(36))))
        );
        let b = param(json!({"name": "Force", "type": "boolean"}));
        assert_eq!(check(&b, None), Ok(None));
        assert_eq!(check(&b, Some("True")), Ok(Some(json!(true))));
        assert!(matches!(
            check(&b, Some("maybe")),
            Err(ParamProblem::Invalid(..))
        ));
        // Required and empty without a minimum length: missing; optional and empty: sent.
        let r = param(json!({"name": "server_id", "required": true}));
        assert_eq!(
            check(&r, Some("")),
            Err(ParamProblem::Missing("server_id".into(), ParamIn::Path))
        );
        let o = param(json!({"name": "server_id"}));
        assert_eq!(check(&o, Some("")), Ok(Some(json!(""))));
    }
}
