//! The snapshot of one trial: what each step answered, normalized. One JSON file per trial,
//! keys sorted, so recording twice gives the same bytes and a review diff shows only changes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::diag::{Diagnostic, Pos};

/// One trial's answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// The trial id: `service::Operation::case[::format]`.
    pub trial: String,
    /// Whether the target passed the case (informative; parity compares the answers).
    pub outcome: String,
    pub steps: Vec<StepSnapshot>,
}

/// One step: a request and its answer, or a probe and its result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSnapshot {
    /// `request` for a case's first step, else the name of its `then` step.
    pub step: String,
    /// `METHOD /path`, values from variables written as `${name}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The headers the specs and the case name; a request-id header as `present`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Read by the service's error-envelope rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xml_root: Option<String>,
    /// The body parsed (XML mapped to JSON), or its text when it does not parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// `resource ${id}` of a probe step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<String>,
    /// A probe's result; absent when the probe got no answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
}

/// Problems reading or writing snapshot files.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{0}")]
    File(Diagnostic),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("trial id `{0}` cannot name a snapshot file")]
    BadTrialId(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SnapshotError + '_ {
    move |source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A value with every object's keys in sorted order.
pub fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sorted(v)))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

impl Snapshot {
    /// The file text: pretty JSON with sorted keys and a final newline.
    pub fn to_text(&self) -> String {
        let value = sorted(serde_json::to_value(self).expect("a snapshot serializes"));
        let mut text = serde_json::to_string_pretty(&value).expect("a value serializes");
        text.push('\n');
        text
    }

    /// `service/Operation/case[.format].json`, from the trial id.
    pub fn relative_path(trial: &str) -> Result<PathBuf, SnapshotError> {
        let parts: Vec<&str> = trial.split("::").collect();
        let safe = |p: &&str| {
            !p.is_empty()
                && !p.starts_with('.')
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        if !(3..=4).contains(&parts.len()) || !parts.iter().all(safe) {
            return Err(SnapshotError::BadTrialId(trial.to_string()));
        }
        let file = match parts.get(3) {
            Some(format) => format!("{}.{format}.json", parts[2]),
            None => format!("{}.json", parts[2]),
        };
        Ok(Path::new(parts[0]).join(parts[1]).join(file))
    }
}

/// Writes each snapshot under `dir`; with `prune`, removes the snapshot files of trials not
/// written (cases renamed or removed). Returns the number of files pruned.
pub fn write_dir(dir: &Path, snapshots: &[Snapshot], prune: bool) -> Result<usize, SnapshotError> {
    let mut written = std::collections::BTreeSet::new();
    for s in snapshots {
        let path = dir.join(Snapshot::relative_path(&s.trial)?);
        crate::report::write_atomically(&path, s.to_text().as_bytes()).map_err(io(&path))?;
        written.insert(path);
    }
    let mut pruned = 0;
    if prune {
        for path in snapshot_files(dir)? {
            if !written.contains(&path) {
                std::fs::remove_file(&path).map_err(io(&path))?;
                pruned += 1;
            }
        }
    }
    Ok(pruned)
}

/// The `*.json` files two levels under `dir` (`service/Operation/*.json`), sorted.
fn snapshot_files(dir: &Path) -> Result<Vec<PathBuf>, SnapshotError> {
    let mut out = Vec::new();
    let entries = |p: &Path| -> Result<Vec<PathBuf>, SnapshotError> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(io(p))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        v.sort();
        Ok(v)
    };
    for service in entries(dir)?.into_iter().filter(|p| p.is_dir()) {
        for operation in entries(&service)?.into_iter().filter(|p| p.is_dir()) {
            out.extend(
                entries(&operation)?
                    .into_iter()
                    .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json")),
            );
        }
    }
    Ok(out)
}

/// Reads every snapshot under `dir`; a file that is not a snapshot is a located error.
pub fn read_dir(dir: &Path) -> Result<Vec<Snapshot>, SnapshotError> {
    let mut out = Vec::new();
    for path in snapshot_files(dir)? {
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let snapshot: Snapshot = serde_json::from_str(&text).map_err(|e| {
            SnapshotError::File(Diagnostic::at(
                &path,
                Pos::new(e.line(), e.column()),
                format!("not a snapshot: {e}"),
            ))
        })?;
        out.push(snapshot);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trial_ids_name_files_and_bad_ones_are_refused() {
        assert_eq!(
            Snapshot::relative_path("alibaba-smc::DeleteSourceServer::gone::xml").unwrap(),
            Path::new("alibaba-smc/DeleteSourceServer/gone.xml.json")
        );
        assert_eq!(
            Snapshot::relative_path("huawei-sms::DeleteTask::gone").unwrap(),
            Path::new("huawei-sms/DeleteTask/gone.json")
        );
        for bad in ["a::b", "a::..::c", "a::b/c::d", "a::b::c::d::e", "a::::c"] {
            assert!(Snapshot::relative_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_has_sorted_keys_and_reads_back() {
        let s = Snapshot {
            trial: "s::Op::c".into(),
            outcome: "pass".into(),
            steps: vec![StepSnapshot {
                step: "request".into(),
                status: Some(404),
                body: Some(serde_json::json!({"b": 1, "a": {"z": 1, "y": 2}})),
                ..Default::default()
            }],
        };
        let text = s.to_text();
        assert!(text.find("\"a\"").unwrap() < text.find("\"b\"").unwrap());
        assert!(text.find("\"y\"").unwrap() < text.find("\"z\"").unwrap());
        let dir = std::env::temp_dir().join(format!("conform-snap-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write_dir(&dir, std::slice::from_ref(&s), false).unwrap();
        std::fs::write(dir.join("s/Op/stale.json"), "{}").unwrap();
        let err = read_dir(&dir).unwrap_err().to_string();
        assert!(err.contains("stale.json:1:"), "{err}");
        assert_eq!(write_dir(&dir, std::slice::from_ref(&s), true).unwrap(), 1);
        assert_eq!(read_dir(&dir).unwrap(), vec![s]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
