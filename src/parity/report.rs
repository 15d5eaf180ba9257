//! The parity report: terminal text (matrix and diffs), JSON, and one self-contained HTML file.

use std::fmt::Write as _;

use serde_json::json;

use super::compare::{Comparison, Difference, Verdict};
use crate::report::html::{escape, page};

/// One difference as a small diff: `- A` / `+ B` under its location.
pub fn diff_text(d: &Difference) -> String {
    let mut at = d.aspect.clone();
    if !d.at.is_empty() {
        at = format!("{at} {}", d.at);
    }
    if !d.step.is_empty() {
        at = format!("step `{}`: {at}", d.step);
    }
    let allowed = d
        .allowed
        .as_ref()
        .map(|r| format!("  (allowed: {r})"))
        .unwrap_or_default();
    format!("  {at}{allowed}\n    - {}\n    + {}", d.a, d.b)
}

/// The matrix per operation, then each differing trial with its diffs.
pub fn terminal(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "parity: A = {}\n        B = {}\n", c.a, c.b);
    let _ = writeln!(
        out,
        "{:<44} {:>5} {:>7} {:>7} {:>7}",
        "operation", "same", "differs", "only A", "only B"
    );
    for r in c.matrix() {
        let _ = writeln!(
            out,
            "{:<44} {:>5} {:>7} {:>7} {:>7}",
            r.operation, r.same, r.differs, r.only_a, r.only_b
        );
    }
    for t in c.trials.iter().filter(|t| t.verdict == Verdict::Differs) {
        let _ = writeln!(out, "\nDIFFERS {}", t.trial);
        for d in &t.differences {
            let _ = writeln!(out, "{}", diff_text(d));
        }
    }
    out
}

/// Counts for the summary line and the reports.
pub fn summary(c: &Comparison) -> serde_json::Value {
    let count = |v: Verdict| c.trials.iter().filter(|t| t.verdict == v).count();
    json!({
        "trials": c.trials.len(),
        "same": count(Verdict::Same),
        "differs": count(Verdict::Differs),
        "only_a": count(Verdict::OnlyA),
        "only_b": count(Verdict::OnlyB),
        "differences": c.differences().count(),
        "unallowed": c.unallowed().count(),
    })
}

pub fn json(c: &Comparison) -> String {
    let report = json!({
        "a": c.a,
        "b": c.b,
        "summary": summary(c),
        "matrix": c.matrix(),
        "trials": c.trials,
    });
    serde_json::to_string_pretty(&report).expect("the report serializes")
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.differs{background:#fdd}.same{background:#dfd}.only{background:#ffd}.allowed{color:#777}code{font-family:monospace}";

/// A single HTML file with inline styles, no scripts and nothing fetched.
pub fn html(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<h1>Parity</h1><p>A: <code>{}</code><br>B: <code>{}</code></p>",
        escape(&c.a),
        escape(&c.b)
    );
    out.push_str("<h2>Per operation</h2><table><tr><th>operation</th><th>same</th><th>differs</th><th>only A</th><th>only B</th></tr>\n");
    for r in c.matrix() {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.operation),
            r.same,
            r.differs,
            r.only_a,
            r.only_b
        );
    }
    out.push_str("</table>\n<h2>Trials</h2><table><tr><th>trial</th><th>verdict</th><th>differences</th></tr>\n");
    for t in &c.trials {
        let (class, verdict) = match t.verdict {
            Verdict::Same => ("same", "same"),
            Verdict::Differs => ("differs", "differs"),
            Verdict::OnlyA => ("only", "only in A"),
            Verdict::OnlyB => ("only", "only in B"),
        };
        let diffs: Vec<String> = t
            .differences
            .iter()
            .map(|d| {
                let class = if d.allowed.is_some() {
                    " class=\"allowed\""
                } else {
                    ""
                };
                format!("<pre{class}>{}</pre>", escape(&diff_text(d)))
            })
            .collect();
        let _ = writeln!(
            out,
            "<tr class=\"{class}\"><td><code>{}</code></td><td>{verdict}</td><td>{}</td></tr>",
            escape(&t.trial),
            diffs.join("")
        );
    }
    out.push_str("</table>\n");
    page("conform parity", STYLE, &out, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parity::{compare, Snapshot, StepSnapshot};

    #[test]
    fn reports_show_the_matrix_and_escaped_diffs() {
        let snap = |code: &str| Snapshot {
            trial: "s::Op::c".into(),
            outcome: "pass".into(),
            steps: vec![StepSnapshot {
                step: "request".into(),
                error_code: Some(code.into()),
                ..Default::default()
            }],
        };
        let c = compare("A", &[snap("<X>")], "B", &[snap("Y")]);
        let text = terminal(&c);
        assert!(text.contains("s/Op"), "{text}");
        assert!(
            text.contains("DIFFERS s::Op::c\n  step `request`: error_code\n    - <X>\n    + Y"),
            "{text}"
        );
        let html = html(&c);
        assert!(
            html.contains("&lt;X&gt;") && !html.contains("<X>"),
            "{html}"
        );
        // Self-contained: nothing loaded from elsewhere, no script.
        for outside in ["<script", "src=", "href=", "@import"] {
            assert!(!html.contains(outside), "{outside} in {html}");
        }
        let json: serde_json::Value = serde_json::from_str(&json(&c)).unwrap();
        assert_eq!(json["summary"]["unallowed"], 1);
        assert_eq!(json["matrix"][0]["differs"], 1);
    }
}
