//! What the documents say, item by item, and which cases exercise each: every documented
//! status and error code (read off the cases' expectations), every parameter limit and state
//! rule (declared by a case's `covers`), and every value a rule enumerates (read off the
//! declaring case's provider-state parameters).

use serde_json::Value;

use crate::case::model::{Case, Expect, Step};
use crate::case::Suite;
pub use crate::spec::items::{behaviour_items, items_of, Item};
use crate::spec::{Catalog, Service};

/// Behaviour items are about what a request leaves behind: only a case that probes covers one.
fn needs_probe(item_id: &str) -> bool {
    ["authz:", "isolation:", "side-effect:"]
        .iter()
        .any(|p| item_id.starts_with(p))
}

/// The resource attribute a provider-state parameter sets, as `resource.Attr`.
fn attribute_values_set(service: &Service, case: &Case) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for g in &case.given {
        let Some(state) = service.provider_state(&g.state) else {
            continue;
        };
        for (name, value) in &g.params {
            if let Some(path) = state.params.get(name).and_then(|p| p.values_of.as_ref()) {
                if let Some((_, attr)) = path.split_once('.') {
                    out.push((attr.to_string(), value.clone()));
                }
            }
        }
    }
    out
}

/// Whether a step's expectations name this error code, also for one of its statuses
/// (`by_status: {401: {error_code: APIGW.0301}}`).
fn expects_code(expect: &Expect, code: &str) -> bool {
    let named = |e: &Expect| {
        e.error_code
            .as_ref()
            .is_some_and(|c| c.codes().iter().any(|x| x == code))
    };
    named(expect) || expect.by_status.values().any(named)
}

fn steps(case: &Case) -> impl Iterator<Item = &Step> {
    std::iter::once(&case.step).chain(case.then.iter().map(|n| &n.step))
}

/// Every item of every operation, with the cases that cover it.
pub fn compute(catalog: &Catalog, suite: &Suite) -> Vec<Item> {
    let mut items = Vec::new();
    for service in catalog.services.values() {
        items.extend(items_of(service, None));
        for op in service.operations.values() {
            items.extend(items_of(service, Some(&op.spec)));
        }
    }
    for (file, case) in suite.cases() {
        let Some(service) = catalog.service(&file.service) else {
            continue;
        };
        let case_id = format!("{}::{}::{}", file.service, file.operation, case.name);
        let set_values = attribute_values_set(service, case);
        for item in items.iter_mut().filter(|i| i.service == file.service) {
            let hit = if item.declared {
                item.operation.as_deref() == Some(file.operation.as_str())
                    && match item.id.split_once('/') {
                        None => case.covers.contains(&item.id),
                        Some((rule, attr_value)) => {
                            case.covers.iter().any(|c| c == rule)
                                && set_values.iter().any(|(a, v)| {
                                    format!("{a}={}", crate::case::vars::text_of(v)) == attr_value
                                })
                        }
                    }
            } else {
                steps(case).any(|step| {
                    let step_op = step.operation.as_deref().unwrap_or(&file.operation);
                    let same_op = item.operation.as_deref().is_none_or(|o| o == step_op);
                    same_op
                        && match item.id.split_once(':') {
                            Some(("status", s)) => {
                                step.expect.status.as_ref().is_some_and(|st| {
                                    st.statuses().iter().any(|x| x.to_string() == s)
                                })
                            }
                            Some(("error", code)) => expects_code(&step.expect, code),
                            _ => false,
                        }
                })
            };
            let probes = steps(case).any(|s| s.probe.is_some());
            let hit = hit && (probes || !needs_probe(&item.id));
            if hit && !item.covered_by.contains(&case_id) {
                item.covered_by.push(case_id.clone());
            }
        }
    }
    items
}
