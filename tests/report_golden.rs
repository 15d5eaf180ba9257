//! Golden files of every report format (`tests/golden/report.*`), rendered from a fixed run:
//! a change in a format shows as a diff here. After an intended change, rewrite them with
//! `UPDATE_GOLDEN=1 cargo test --test report_golden` and review the diff.

use std::path::PathBuf;
use std::time::Duration;

use chrono::TimeZone as _;
use conform::case::model::Format;
use conform::check::Failure;
use conform::report::{self, RunReport};
use conform::run::{Outcome, TrialResult};

fn trial(service: &str, operation: &str, case: &str, outcome: Outcome) -> TrialResult {
    TrialResult {
        id: format!("{service}::{operation}::{case}"),
        service: service.into(),
        operation: operation.into(),
        case: case.into(),
        format: None,
        clause: format!("seed:{operation}.txt#errors"),
        source_url: None,
        outcome,
        failures: vec![],
        response: None,
        notes: vec![],
        duration: Duration::from_micros(12_340),
        attempts: 1,
        flaky: false,
    }
}

fn results() -> Vec<TrialResult> {
    let mut failed = trial(
        "alibaba-smc",
        "DeleteSourceServer",
        "unknown-id",
        Outcome::Fail,
    );
    failed.id.push_str("::xml");
    failed.format = Some(Format::Xml);
    failed.failures = vec![
        Failure::new("status", "", "404", "200"),
        Failure::new(
            "error-code",
            "/Code",
            "InvalidSourceServerId.NotFound",
            "a|b",
        ),
    ];
    failed.source_url = Some("https://api.example.test/#product=smc&api=DeleteSourceServer".into());
    failed.response = Some("DELETE / → 200\n<Response>```</Response>".into());
    vec![
        trial("huawei-sms", "DeleteTask", "deletes-task", Outcome::Pass),
        trial(
            "huawei-sms",
            "DeleteTask",
            "refused-while-running",
            Outcome::Skip("the target has no provider states".into()),
        ),
        failed,
        trial(
            "alibaba-smc",
            "DeleteSourceServer",
            "deletes # server",
            Outcome::Skip("the target has no provider states".into()),
        ),
    ]
}

fn run(results: &[TrialResult]) -> RunReport<'_> {
    RunReport {
        target: "https://sms.example.test/",
        results,
        started_at: chrono::Utc
            .with_ymd_and_hms(2026, 3, 4, 5, 6, 7)
            .single()
            .expect("a valid time"),
        elapsed: Duration::from_millis(2345),
        interrupted: None,
        strict: false,
    }
}

/// Compares with the golden file, or rewrites it under `UPDATE_GOLDEN=1`.
fn check(name: &str, rendered: &str) {
    // The version changes with every release; the shape is what the golden file pins.
    let rendered = rendered.replace(env!("CARGO_PKG_VERSION"), "<version>");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &rendered).expect("write the golden file");
        return;
    }
    let golden = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert!(
        golden == rendered,
        "{} differs (UPDATE_GOLDEN=1 rewrites it); rendered:\n{rendered}",
        path.display()
    );
}

#[test]
fn every_format_matches_its_golden_file() {
    let results = results();
    let run = run(&results);
    check("report.json", &report::json::render_run(&run));
    check(
        "report.junit.xml",
        &report::junit::render_run(&run).expect("renders"),
    );
    check("report.tap", &report::tap::render_run(&run));
    check("report.md", &report::markdown::render_run(&run));
    check("report.html", &report::html::render_run(&run));
}
