//! The JSON report: the run's target, times, counts and every trial with its failures. Its
//! shape is `schemas/report.schema.json`; `schema_version` changes when that shape does.

use serde::Serialize;

use super::RunReport;
use crate::run::{Summary, TrialResult};

/// The version of the report's shape (`schemas/report.schema.json`).
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
    conform: &'static str,
    target: &'a str,
    started_at: String,
    finished_at: String,
    summary: Summary,
    /// The signal that interrupted the run; `null` when it ran to its end.
    interrupted: Option<&'a str>,
    duration_ms: u128,
    trials: &'a [TrialResult],
}

/// The report of a run that ends now.
pub fn render(target: &str, results: &[TrialResult], elapsed: std::time::Duration) -> String {
    render_run(&RunReport::ending_now(target, results, elapsed))
}

/// The JSON report of the run, written to `path` when it finishes.
pub fn reporter(path: std::path::PathBuf) -> super::FileReporter {
    super::FileReporter::new(path, |run| Ok(render_run(run)))
}

/// The report of `run` (which may have been interrupted).
pub fn render_run(run: &RunReport) -> String {
    let report = Report {
        schema_version: SCHEMA_VERSION,
        conform: env!("CARGO_PKG_VERSION"),
        target: run.target,
        started_at: super::timestamp(run.started_at),
        finished_at: super::timestamp(run.finished_at()),
        summary: Summary::of(run.results),
        interrupted: run.interrupted,
        duration_ms: run.elapsed.as_millis(),
        trials: run.results,
    };
    serde_json::to_string_pretty(&report).expect("the report serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    fn schema() -> jsonschema::Validator {
        let text = include_str!("../../schemas/report.schema.json");
        let schema: serde_json::Value = serde_json::from_str(text).expect("the schema is JSON");
        jsonschema::validator_for(&schema).expect("the schema compiles")
    }

    #[test]
    fn the_report_conforms_to_its_schema() {
        let results = sample::results();
        let mut run = sample::report(&results);
        let validator = schema();
        for interrupted in [None, Some("SIGINT")] {
            run.interrupted = interrupted;
            let report: serde_json::Value =
                serde_json::from_str(&render_run(&run)).expect("the report is JSON");
            let errors: Vec<String> = validator
                .iter_errors(&report)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{errors:#?}\n{report:#}");
            assert_eq!(report["schema_version"], SCHEMA_VERSION);
            assert_eq!(report["started_at"], "2026-01-02T03:04:05.000Z");
            assert_eq!(report["finished_at"], "2026-01-02T03:04:06.500Z");
        }
    }

    #[test]
    fn the_schema_rejects_a_report_without_its_version() {
        let results = sample::results();
        let mut report: serde_json::Value =
            serde_json::from_str(&render_run(&sample::report(&results))).expect("JSON");
        report
            .as_object_mut()
            .expect("an object")
            .remove("schema_version");
        assert!(!schema().is_valid(&report));
        report["schema_version"] = SCHEMA_VERSION.into();
        report["trials"][0]["outcome"] = "maybe".into();
        assert!(!schema().is_valid(&report));
    }

    #[test]
    fn retries_show_as_attempts_and_flaky() {
        let mut results = sample::results();
        (results[0].attempts, results[0].flaky) = (2, true);
        results[1].attempts = 3;
        let report: serde_json::Value =
            serde_json::from_str(&render_run(&sample::report(&results))).expect("JSON");
        assert!(schema().is_valid(&report), "{report:#}");
        assert_eq!(report["trials"][0]["attempts"], 2);
        assert_eq!(report["trials"][0]["flaky"], true);
        assert_eq!(report["trials"][1]["attempts"], 3);
        assert!(report["trials"][1].get("flaky").is_none());
        assert!(report["trials"][2].get("attempts").is_none());
        // The schema refuses what the runner never writes.
        let mut wrong = report.clone();
        wrong["trials"][2]["flaky"] = false.into();
        assert!(!schema().is_valid(&wrong));
        wrong["trials"][2]["flaky"] = true.into();
        wrong["trials"][2]["attempts"] = 1.into();
        assert!(!schema().is_valid(&wrong));
    }
}
