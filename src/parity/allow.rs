//! The allow file: differences accepted, each with its reason.
//!
//! ```yaml
//! allow:
//!   - trial: huawei-sms::DeleteTask::task-not-found
//!     aspect: error_code      # status, error_code, content_type, header, xml_root, body, exists, step, trial
//!     step: request           # optional: only this step
//!     at: /error_msg          # optional: only this header or body pointer
//!     reason: the emulator answers the code the seed names; the cloud answers its alias
//! ```

use std::path::Path;

use serde::Deserialize;

use super::compare::Comparison;
use crate::diag::Diagnostics;
use crate::located::Located;

pub const ASPECTS: &[&str] = &[
    "status",
    "error_code",
    "content_type",
    "header",
    "xml_root",
    "body",
    "exists",
    "step",
    "trial",
    "outcome",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowEntry {
    pub trial: String,
    pub aspect: String,
    #[serde(default)]
    pub step: Option<String>,
    #[serde(default)]
    pub at: Option<String>,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowFile {
    #[serde(default)]
    allow: Vec<AllowEntry>,
}

/// Reads and lints an allow file: each entry names a trial of the suite (`trials`), a known
/// aspect and a reason. Errors are located (file:line:column).
pub fn read(path: &Path, trials: &[String]) -> Result<Vec<AllowEntry>, Diagnostics> {
    let doc = Located::read(path).map_err(|d| Diagnostics(vec![d]))?;
    parse(&doc, trials)
}

pub fn parse(doc: &Located, trials: &[String]) -> Result<Vec<AllowEntry>, Diagnostics> {
    let file: AllowFile = doc.deserialize().map_err(|d| Diagnostics(vec![d]))?;
    let mut diags = Diagnostics::default();
    for (i, e) in file.allow.iter().enumerate() {
        if !trials.contains(&e.trial) {
            diags.push(doc.error_at(
                &format!("/allow/{i}/trial"),
                format!(
                    "`{}` is not a trial of the suite (see `conform run --list`)",
                    e.trial
                ),
            ));
        }
        if !ASPECTS.contains(&e.aspect.as_str()) {
            diags.push(doc.error_at(
                &format!("/allow/{i}/aspect"),
                format!("`{}`: the aspects are {}", e.aspect, ASPECTS.join(", ")),
            ));
        }
        if e.reason.trim().is_empty() {
            diags.push(doc.error_at(
                &format!("/allow/{i}/reason"),
                "say why the difference is accepted",
            ));
        }
    }
    diags.into_result(file.allow)
}

impl AllowEntry {
    fn accepts(&self, d: &super::Difference) -> bool {
        self.trial == d.trial
            && self.aspect == d.aspect
            && self.step.as_ref().is_none_or(|s| *s == d.step)
            && self.at.as_ref().is_none_or(|a| *a == d.at)
    }
}

/// Marks the differences the entries accept; returns the entries that accepted none (stale).
pub fn apply<'e>(comparison: &mut Comparison, entries: &'e [AllowEntry]) -> Vec<&'e AllowEntry> {
    let mut used = vec![false; entries.len()];
    for t in &mut comparison.trials {
        for d in &mut t.differences {
            if let Some(i) = entries.iter().position(|e| e.accepts(d)) {
                d.allowed = Some(entries[i].reason.clone());
                used[i] = true;
            }
        }
    }
    entries
        .iter()
        .zip(used)
        .filter(|(_, u)| !u)
        .map(|(e, _)| e)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parity::{compare, Snapshot, StepSnapshot};

    fn doc(text: &str) -> Located {
        Located::parse(Path::new("allow.yaml"), text).unwrap()
    }

    #[test]
    fn lint_locates_unknown_trials_aspects_and_empty_reasons() {
        let trials = vec!["s::Op::c".to_string()];
        let text = "allow:\n  - trial: s::Op::c\n    aspect: status\n    reason: known\n  - trial: s::Op::nope\n    aspect: colour\n    reason: ' '\n";
        let err = parse(&doc(text), &trials).unwrap_err().to_string();
        assert!(
            err.contains("allow.yaml:5:12: `s::Op::nope` is not a trial"),
            "{err}"
        );
        assert!(err.contains("allow.yaml:6:13: `colour`"), "{err}");
        assert!(err.contains("allow.yaml:7:13: say why"), "{err}");
        let err = parse(
            &doc("allow:\n  - trial: s::Op::c\n    aspect: status\n"),
            &trials,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("reason"), "{err}");
    }

    #[test]
    fn entries_accept_matching_differences_and_stale_ones_are_returned() {
        let trials = vec!["s::Op::c".to_string()];
        let text = "allow:\n  - trial: s::Op::c\n    aspect: status\n    reason: known\n  - trial: s::Op::c\n    aspect: body\n    reason: unused\n";
        let entries = parse(&doc(text), &trials).unwrap();
        let snap = |status| Snapshot {
            trial: "s::Op::c".into(),
            outcome: "pass".into(),
            steps: vec![StepSnapshot {
                step: "request".into(),
                status: Some(status),
                ..Default::default()
            }],
        };
        let mut c = compare("A", &[snap(404)], "B", &[snap(400)]);
        let stale = apply(&mut c, &entries);
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].reason, "unused");
        assert_eq!(c.unallowed().count(), 0);
        assert_eq!(
            c.differences().next().unwrap().allowed.as_deref(),
            Some("known")
        );
    }
}
