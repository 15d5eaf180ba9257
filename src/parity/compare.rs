//! Comparing two sets of snapshots answer by answer: status, error code, named headers,
//! Content-Type, XML root, body shape (envelope keys and value types) and probe results.
//! Values other than the error code are not compared: messages and ids differ between any two
//! implementations.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::snapshot::{Snapshot, StepSnapshot};

/// What differs in one step (or trial).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    pub trial: String,
    /// The step's name; empty for a trial-level difference.
    pub step: String,
    /// `status`, `error_code`, `content_type`, `header`, `xml_root`, `body`, `exists`, `step`,
    /// or `trial` (it ran on one side only).
    pub aspect: String,
    /// The header name or the body pointer (`/Code`, `/items/*`); empty otherwise.
    pub at: String,
    /// The value on side A, or `absent`.
    pub a: String,
    pub b: String,
    /// The allow file's reason, when it lists this difference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<String>,
}

/// How a trial compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Same,
    Differs,
    OnlyA,
    OnlyB,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrialComparison {
    pub trial: String,
    /// `service/Operation`.
    pub operation: String,
    pub verdict: Verdict,
    pub differences: Vec<Difference>,
}

/// One operation's row of the matrix.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OperationRow {
    pub operation: String,
    pub same: usize,
    pub differs: usize,
    pub only_a: usize,
    pub only_b: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub a: String,
    pub b: String,
    pub trials: Vec<TrialComparison>,
}

impl Comparison {
    /// The matrix: per operation, how many trials are the same, differ, or ran on one side.
    pub fn matrix(&self) -> Vec<OperationRow> {
        let mut rows: BTreeMap<&str, OperationRow> = BTreeMap::new();
        for t in &self.trials {
            let row = rows.entry(&t.operation).or_insert_with(|| OperationRow {
                operation: t.operation.clone(),
                ..Default::default()
            });
            match t.verdict {
                Verdict::Same => row.same += 1,
                Verdict::Differs => row.differs += 1,
                Verdict::OnlyA => row.only_a += 1,
                Verdict::OnlyB => row.only_b += 1,
            }
        }
        rows.into_values().collect()
    }

    pub fn differences(&self) -> impl Iterator<Item = &Difference> {
        self.trials.iter().flat_map(|t| t.differences.iter())
    }

    /// Differences no allow-file entry accepts: these fail the run.
    pub fn unallowed(&self) -> impl Iterator<Item = &Difference> {
        self.differences().filter(|d| d.allowed.is_none())
    }
}

fn operation_of(trial: &str) -> String {
    trial.split("::").take(2).collect::<Vec<_>>().join("/")
}

/// Compares side A's snapshots with side B's, trial by trial, in A's order then B's extras.
pub fn compare(a_name: &str, a: &[Snapshot], b_name: &str, b: &[Snapshot]) -> Comparison {
    let b_by_id: BTreeMap<&str, &Snapshot> = b.iter().map(|s| (s.trial.as_str(), s)).collect();
    let mut trials = Vec::new();
    for sa in a {
        let (verdict, differences) = match b_by_id.get(sa.trial.as_str()) {
            None => (Verdict::OnlyA, vec![only(&sa.trial, "answered", "absent")]),
            Some(sb) => {
                let d = trial_differences(sa, sb);
                let v = if d.is_empty() {
                    Verdict::Same
                } else {
                    Verdict::Differs
                };
                (v, d)
            }
        };
        trials.push(TrialComparison {
            trial: sa.trial.clone(),
            operation: operation_of(&sa.trial),
            verdict,
            differences,
        });
    }
    for sb in b {
        if !a.iter().any(|sa| sa.trial == sb.trial) {
            trials.push(TrialComparison {
                trial: sb.trial.clone(),
                operation: operation_of(&sb.trial),
                verdict: Verdict::OnlyB,
                differences: vec![only(&sb.trial, "absent", "answered")],
            });
        }
    }
    Comparison {
        a: a_name.to_string(),
        b: b_name.to_string(),
        trials,
    }
}

/// A trial that ran on one side only (skipped or not recorded on the other).
fn only(trial: &str, a: &str, b: &str) -> Difference {
    difference(trial, "", "trial", "", a.to_string(), b.to_string())
}

/// Steps are matched by position and name: a step only one side reached is a difference.
fn trial_differences(a: &Snapshot, b: &Snapshot) -> Vec<Difference> {
    let mut out = Vec::new();
    for i in 0..a.steps.len().max(b.steps.len()) {
        match (a.steps.get(i), b.steps.get(i)) {
            (Some(sa), Some(sb)) if sa.step == sb.step => {
                step_differences(&a.trial, sa, sb, &mut out);
            }
            (sa, sb) => {
                let name = |s: Option<&StepSnapshot>| {
                    s.map_or_else(|| "absent".to_string(), |s| s.step.clone())
                };
                let step = sa.or(sb).map(|s| s.step.clone()).unwrap_or_default();
                out.push(difference(&a.trial, &step, "step", "", name(sa), name(sb)));
            }
        }
    }
    // Answers alike in every compared aspect can still differ where a case looks closer (a
    // message that must name the string to sign): the case's verdict on each side says so.
    if a.outcome != b.outcome {
        out.push(difference(
            &a.trial,
            "",
            "outcome",
            "",
            a.outcome.clone(),
            b.outcome.clone(),
        ));
    }
    out
}

fn difference(trial: &str, step: &str, aspect: &str, at: &str, a: String, b: String) -> Difference {
    Difference {
        trial: trial.to_string(),
        step: step.to_string(),
        aspect: aspect.to_string(),
        at: at.to_string(),
        a,
        b,
        allowed: None,
    }
}

fn shown<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "absent".to_string(), |v| v.to_string())
}

fn step_differences(trial: &str, a: &StepSnapshot, b: &StepSnapshot, out: &mut Vec<Difference>) {
    let mut push = |aspect: &str, at: &str, va: String, vb: String| {
        if va != vb {
            out.push(difference(trial, &a.step, aspect, at, va, vb));
        }
    };
    push("status", "", shown(a.status), shown(b.status));
    push(
        "error_code",
        "",
        shown(a.error_code.as_ref()),
        shown(b.error_code.as_ref()),
    );
    push(
        "content_type",
        "",
        shown(a.content_type.as_ref()),
        shown(b.content_type.as_ref()),
    );
    push(
        "xml_root",
        "",
        shown(a.xml_root.as_ref()),
        shown(b.xml_root.as_ref()),
    );
    push("exists", "", shown(a.exists), shown(b.exists));
    let names: std::collections::BTreeSet<&String> =
        a.headers.keys().chain(b.headers.keys()).collect();
    for name in names {
        push(
            "header",
            name,
            shown(a.headers.get(name)),
            shown(b.headers.get(name)),
        );
    }
    let (shape_a, shape_b) = (shape(a.body.as_ref()), shape(b.body.as_ref()));
    let pointers: std::collections::BTreeSet<&String> =
        shape_a.keys().chain(shape_b.keys()).collect();
    for p in pointers {
        push("body", p, shown(shape_a.get(p)), shown(shape_b.get(p)));
    }
}

/// A body's shape: each pointer with its JSON type; array items share the pointer `/*` and
/// their types are joined (`object|string`).
pub fn shape(body: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(v) = body {
        walk(v, String::new(), &mut out);
    }
    out
}

fn walk(v: &Value, pointer: String, out: &mut BTreeMap<String, String>) {
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let entry = out.entry(pointer.clone()).or_default();
    if !entry.split('|').any(|k| k == kind) {
        let mut kinds: Vec<&str> = entry.split('|').filter(|k| !k.is_empty()).collect();
        kinds.push(kind);
        kinds.sort_unstable();
        *entry = kinds.join("|");
    }
    match v {
        Value::Array(items) => {
            for item in items {
                walk(item, format!("{pointer}/*"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let key = crate::located::escape_pointer(k);
                walk(item, format!("{pointer}/{key}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snap(trial: &str, steps: Vec<StepSnapshot>) -> Snapshot {
        Snapshot {
            trial: trial.into(),
            outcome: "pass".into(),
            steps,
        }
    }

    fn step(status: u16, body: Value) -> StepSnapshot {
        StepSnapshot {
            step: "request".into(),
            status: Some(status),
            error_code: body.get("Code").map(crate::case::vars::text_of),
            body: Some(body),
            ..Default::default()
        }
    }

    #[test]
    fn same_answers_with_other_values_are_the_same() {
        let a = [snap(
            "s::Op::c",
            vec![step(404, json!({"Code": "X", "Message": "one"}))],
        )];
        let b = [snap(
            "s::Op::c",
            vec![step(404, json!({"Code": "X", "Message": "two"}))],
        )];
        let c = compare("A", &a, "B", &b);
        assert_eq!(c.trials[0].verdict, Verdict::Same);
        assert_eq!(c.differences().count(), 0);
    }

    #[test]
    fn status_code_shape_and_missing_steps_differ() {
        let a = [snap(
            "s::Op::c",
            vec![
                step(404, json!({"Code": "X", "Items": [1]})),
                step(200, json!({})),
            ],
        )];
        let b = [
            snap(
                "s::Op::c",
                vec![step(400, json!({"Code": "Y", "Items": ["1"], "Extra": {}}))],
            ),
            snap("s::Op::d", vec![]),
        ];
        let c = compare("A", &a, "B", &b);
        let got: Vec<(String, String, String, String)> = c
            .differences()
            .map(|d| (d.aspect.clone(), d.at.clone(), d.a.clone(), d.b.clone()))
            .collect();
        let want = |a: &str, at: &str, x: &str, y: &str| (a.into(), at.into(), x.into(), y.into());
        assert_eq!(
            got,
            vec![
                want("status", "", "404", "400"),
                want("error_code", "", "X", "Y"),
                want("body", "/Extra", "absent", "object"),
                want("body", "/Items/*", "number", "string"),
                want("step", "", "request", "absent"),
                want("trial", "", "absent", "answered"),
            ]
        );
        let m = c.matrix();
        assert_eq!((m[0].differs, m[0].only_b, m[0].same), (1, 1, 0));
    }

    #[test]
    fn a_case_passing_on_one_side_only_differs_in_outcome() {
        let a = [snap("s::Op::c", vec![step(400, json!({"Code": "X"}))])];
        let mut b = a.clone();
        b[0].outcome = "fail: body /Message".into();
        let c = compare("A", &a, "B", &b);
        assert_eq!(c.trials[0].verdict, Verdict::Differs);
        let d: Vec<_> = c.differences().collect();
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].aspect.as_str(), d[0].a.as_str(), d[0].b.as_str()),
            ("outcome", "pass", "fail: body /Message")
        );
    }
}
