//! `conform merge`: the JSON reports of a run's shards (`run --partition k/n`) read back and
//! made one run, from which every other report is written.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::json::SCHEMA_VERSION;
use super::RunReport;
use crate::run::TrialResult;

/// What a report file holds that a merge needs (the counts are recomputed from the trials).
#[derive(Deserialize)]
struct ReportFile {
    target: String,
    started_at: String,
    finished_at: String,
    interrupted: Option<String>,
    trials: Vec<TrialResult>,
}

/// One shard's report, read.
#[derive(Debug)]
pub struct Shard {
    pub path: PathBuf,
    pub target: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub interrupted: Option<String>,
    pub trials: Vec<TrialResult>,
}

/// Why a report cannot be merged; each names the file, and the line and column where it can.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{path}: cannot read it: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: schema_version {found}: this conform reads JSON reports of versions 1 to {SCHEMA_VERSION} (written by `conform run --report-json`)")]
    Version { path: String, found: String },
    #[error("{path}: `{field}` is not an RFC 3339 time: {reason}")]
    Time {
        path: String,
        field: &'static str,
        reason: String,
    },
    #[error("trial `{id}` is in both {first} and {second}: the shards overlap (or one report was given twice)")]
    Duplicate {
        id: String,
        first: String,
        second: String,
    },
}

impl MergeError {
    /// Whether the problem is the file's content (rather than reaching it).
    pub fn is_bad_content(&self) -> bool {
        !matches!(self, MergeError::Read { .. })
    }
}

fn invalid(path: &Path, e: &serde_json::Error, message: String) -> MergeError {
    MergeError::Invalid {
        path: path.display().to_string(),
        line: e.line(),
        column: e.column(),
        message,
    }
}

fn check_version(path: &Path, text: &str) -> Result<(), MergeError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| invalid(path, &e, format!("not JSON: {e}")))?;
    let found = value.get("schema_version");
    // Version 1 lacks only `source_url`, which reads as none.
    if !found
        .and_then(|v| v.as_u64())
        .is_some_and(|v| (1..=u64::from(SCHEMA_VERSION)).contains(&v))
    {
        let found = found.map_or("missing".into(), |v| v.to_string());
        return Err(MergeError::Version {
            path: path.display().to_string(),
            found,
        });
    }
    Ok(())
}

fn time(path: &Path, field: &'static str, text: &str) -> Result<DateTime<Utc>, MergeError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| MergeError::Time {
            path: path.display().to_string(),
            field,
            reason: e.to_string(),
        })
}

/// Reads one shard's report from `text` (the contents of `path`).
pub fn parse(path: &Path, text: &str) -> Result<Shard, MergeError> {
    check_version(path, text)?;
    let mut de = serde_json::Deserializer::from_str(text);
    let file: ReportFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let at = e.path().to_string();
        let inner = e.into_inner();
        invalid(path, &inner, format!("at `{at}`: {inner}"))
    })?;
    Ok(Shard {
        path: path.to_path_buf(),
        started_at: time(path, "started_at", &file.started_at)?,
        finished_at: time(path, "finished_at", &file.finished_at)?,
        target: file.target,
        interrupted: file.interrupted,
        trials: file.trials,
    })
}

/// Reads one shard's report from a file.
pub fn read(path: &Path) -> Result<Shard, MergeError> {
    let text = std::fs::read_to_string(path).map_err(|e| MergeError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    parse(path, &text)
}

/// The shards made one run.
#[derive(Debug)]
pub struct Merged {
    /// The shards' targets, each once, in the order given.
    pub target: String,
    pub started_at: DateTime<Utc>,
    pub elapsed: Duration,
    /// The signal that interrupted any shard.
    pub interrupted: Option<String>,
    pub results: Vec<TrialResult>,
}

impl Merged {
    pub fn report(&self, strict: bool) -> RunReport<'_> {
        RunReport {
            target: &self.target,
            results: &self.results,
            started_at: self.started_at,
            elapsed: self.elapsed,
            interrupted: self.interrupted.as_deref(),
            strict,
        }
    }
}

/// Merges `shards`: the trials in the order of `plan` (the ids of the whole suite as it plans
/// them; ids it lacks come last, as given), the run from the first start to the last end.
pub fn merge(shards: Vec<Shard>, plan: &[String]) -> Result<Merged, MergeError> {
    let mut seen: std::collections::HashMap<String, String> = Default::default();
    let mut targets: Vec<String> = Vec::new();
    let mut results = Vec::new();
    for shard in &shards {
        let here = shard.path.display().to_string();
        for t in &shard.trials {
            if let Some(first) = seen.insert(t.id.clone(), here.clone()) {
                return Err(MergeError::Duplicate {
                    id: t.id.clone(),
                    first,
                    second: here,
                });
            }
        }
        if !targets.contains(&shard.target) {
            targets.push(shard.target.clone());
        }
    }
    let started_at = shards
        .iter()
        .map(|s| s.started_at)
        .min()
        .unwrap_or_default();
    let finished_at = shards
        .iter()
        .map(|s| s.finished_at)
        .max()
        .unwrap_or_default();
    let interrupted = shards.iter().find_map(|s| s.interrupted.clone());
    for shard in shards {
        results.extend(shard.trials);
    }
    let position: std::collections::HashMap<&str, usize> = plan
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    // Stable: trials the plan does not know keep their order, after the rest.
    results.sort_by_key(|r| position.get(r.id.as_str()).copied().unwrap_or(usize::MAX));
    Ok(Merged {
        target: targets.join(", "),
        started_at,
        elapsed: (finished_at - started_at).to_std().unwrap_or_default(),
        interrupted,
        results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;
    use crate::run::Outcome;

    fn shard_text(results: &[TrialResult]) -> String {
        super::super::json::render_run(&sample::report(results))
    }

    #[test]
    fn a_report_reads_back_as_it_was_written() {
        let results = sample::results();
        let shard = parse(Path::new("a.json"), &shard_text(&results)).expect("reads");
        assert_eq!(shard.trials.len(), 3);
        assert_eq!(
            shard.trials[2].outcome,
            Outcome::Skip("no provider state".into())
        );
        assert_eq!(shard.trials[1].failures, results[1].failures);
        assert_eq!(shard.trials[1].duration, Duration::from_millis(3));
        assert_eq!(shard.target, "http://127.0.0.1:8080/");
    }

    #[test]
    fn shards_merge_in_plan_order_and_may_not_overlap() {
        let results = sample::results();
        let first = parse(Path::new("1.json"), &shard_text(&results[1..])).expect("reads");
        let second = parse(Path::new("2.json"), &shard_text(&results[..1])).expect("reads");
        let plan: Vec<String> = results.iter().map(|r| r.id.clone()).collect();
        let merged = merge(vec![first, second], &plan).expect("merges");
        let ids: Vec<&str> = merged.results.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["s::Op::passes", "s::Op::fails", "s::Op::skips"]);
        assert_eq!(merged.target, "http://127.0.0.1:8080/");
        assert_eq!(merged.elapsed, Duration::from_millis(1500));
        assert!(merged.report(false).failed());
        let again = || parse(Path::new("1.json"), &shard_text(&results)).expect("reads");
        let err = merge(vec![again(), again()], &plan).expect_err("overlap");
        assert!(
            err.to_string().contains("is in both 1.json and 1.json"),
            "{err}"
        );
    }

    #[test]
    fn bad_reports_are_refused_where_they_are_wrong() {
        let path = Path::new("r.json");
        let err = parse(path, "{\n  \"schema_version\": 1,\n  oops").expect_err("not JSON");
        assert!(err.to_string().starts_with("r.json:3:3: not JSON"), "{err}");
        let err = parse(path, "{\"schema_version\": 3}").expect_err("version");
        assert!(
            err.to_string()
                .contains("schema_version 3: this conform reads JSON reports of versions 1 to 2"),
            "{err}"
        );
        // A version 1 report (no `source_url`) still reads.
        let results = sample::results();
        let v1 = shard_text(&results)
            .replace("\"schema_version\": 2", "\"schema_version\": 1")
            .replace("\"source_url\": null,", "");
        assert!(!v1.contains("source_url"));
        let shard = parse(path, &v1).expect("a version 1 report reads");
        assert_eq!(shard.trials[0].source_url, None);
        let err = parse(path, "[]").expect_err("no version");
        assert!(err.to_string().contains("schema_version missing"), "{err}");
        let text = shard_text(&results).replace("\"outcome\": \"pass\"", "\"outcome\": \"maybe\"");
        let err = parse(path, &text).expect_err("bad outcome");
        let MergeError::Invalid { line, message, .. } = &err else {
            panic!("{err}")
        };
        assert!(*line > 1 && message.contains("trials[0]"), "{err}");
        let text = shard_text(&results).replace("2026-01-02T03:04:05.000Z", "yesterday");
        assert!(matches!(
            parse(path, &text),
            Err(MergeError::Time {
                field: "started_at",
                ..
            })
        ));
        assert!(!read(Path::new("/nonexistent/r.json"))
            .expect_err("missing")
            .is_bad_content());
    }
}
