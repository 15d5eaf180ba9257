//! The command line as CI uses it: reports on standard output, exit codes of usage errors.

use std::process::{Command, Output};

fn conform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(args)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("conform runs")
}

const ONE_OPERATION: &[&str] = &["run", "-f", "huawei-sms::DeleteTask::deletes-task"];

#[test]
fn a_json_report_to_stdout_is_the_only_thing_there() {
    let out = conform(&[ONE_OPERATION, &["--report-json", "-"]].concat());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("standard output is the JSON report");
    assert_eq!(report["summary"]["passed"], 1);
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(progress.contains("1 passed, 0 failed"), "{progress}");
    assert!(!std::env::temp_dir().join("-").exists());
}

#[test]
fn a_junit_report_to_stdout() {
    let out = conform(&[ONE_OPERATION, &["--report-junit", "-"]].concat());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains(r#"<testcase name="deletes-task""#), "{xml}");
}

#[test]
fn two_reports_cannot_share_stdout() {
    let out = conform(
        &[
            ONE_OPERATION,
            &["--report-json", "-", "--report-junit", "-"],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("only one report"));
}

#[test]
fn tap_and_markdown_reports_to_stdout() {
    let out = conform(&[ONE_OPERATION, &["--report-tap", "-"]].concat());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let tap = String::from_utf8_lossy(&out.stdout);
    assert!(tap.starts_with("TAP version 13\n1..1\n"), "{tap}");
    assert!(
        tap.contains("ok 1 - huawei-sms::DeleteTask::deletes-task\n"),
        "{tap}"
    );
    let out = conform(&[ONE_OPERATION, &["--report-markdown", "-"]].concat());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.starts_with("# ✅ conform: 1 passed, 0 failed, 0 skipped\n"),
        "{md}"
    );
}

/// A target without provider states: the selected case, which needs one, is skipped.
const ONLY_A_SKIP: &[&str] = &[
    "run",
    "--target",
    "http://127.0.0.1:9",
    "-f",
    "huawei-sms::DeleteTask::deletes-task",
];

#[test]
fn strict_makes_a_skip_fail_the_run() {
    let lenient = conform(ONLY_A_SKIP);
    assert_eq!(lenient.status.code(), Some(0), "{lenient:?}");
    let text = String::from_utf8_lossy(&lenient.stdout);
    assert!(
        text.contains("skipped, by reason:\n     1  needs provider states"),
        "{text}"
    );
    let strict = conform(&[ONLY_A_SKIP, &["--strict", "--report-markdown", "-"]].concat());
    assert_eq!(strict.status.code(), Some(1), "{strict:?}");
    let md = String::from_utf8_lossy(&strict.stdout);
    assert!(
        md.starts_with("# ❌ conform: 0 passed, 0 failed, 1 skipped\n"),
        "{md}"
    );
    assert!(
        md.contains("strict: 1 skipped trial(s) fail the run"),
        "{md}"
    );
    let progress = String::from_utf8_lossy(&strict.stderr);
    assert!(
        progress.contains("strict: 1 skipped trial(s) fail the run"),
        "{progress}"
    );
}

#[test]
fn version_names_the_commit() {
    let out = conform(&["--version"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let want = format!("conform {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&want), "{text}");
    let commit = env!("CONFORM_GIT_COMMIT");
    assert!(text.trim_end().ends_with(&format!("{commit})")), "{text}");
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = conform(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("report-junit"));
    }
    assert_eq!(conform(&["completions", "cmd"]).status.code(), Some(2));
}

#[test]
fn zero_jobs_is_a_usage_error() {
    for command in [&["run", "-j", "0"][..], &["mutate", "--jobs", "0"]] {
        let out = conform(command);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("at least 1"));
    }
}

/// `tests/sdk/run.sh`'s cleanup (its EXIT trap), run alone as the script runs it with an
/// external emulator (`CONFORM_ENDPOINT`: no emulator started, no log): the script's exit
/// status must survive it.
#[test]
fn the_sdk_script_keeps_its_exit_status_with_an_external_emulator() {
    let script = include_str!("sdk/run.sh");
    let start = script.find("cleanup() {").expect("run.sh has cleanup()");
    let end = start + script[start..].find("\n}\n").expect("cleanup() ends") + 3;
    for status in [0, 1, 5] {
        let program = format!(
            "set -euo pipefail\nemu_pid=\"\"\nemu_log=\"\"\n{}trap cleanup EXIT\nexit {status}\n",
            &script[start..end]
        );
        let out = Command::new("bash")
            .args(["-c", &program])
            .output()
            .expect("bash runs");
        assert_eq!(out.status.code(), Some(status), "{out:?}");
    }
}

#[test]
fn commands_whose_progress_owns_stdout_refuse_a_report_there() {
    for command in [
        &["mutate", "--report-json", "-"][..],
        &["parity", "--baseline", "x", "--report-html", "-"],
    ] {
        let out = conform(command);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("is for `conform run`'s reports"));
    }
}

#[test]
fn checks_lists_every_check_with_what_it_verifies() {
    let out = conform(&["checks"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("status "), "{text}");
    for name in [
        "error-code",
        "body-schema",
        "request-id",
        "xml-root",
        "captures",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(&format!("{name} "))),
            "{name} in {text}"
        );
    }
    let out = conform(&["checks", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let listed: Vec<serde_json::Value> =
        serde_json::from_slice(&out.stdout).expect("a JSON list of checks");
    assert_eq!(listed.len(), lines.len());
    assert_eq!(listed[0]["name"], "status");
    assert!(listed
        .iter()
        .all(|c| !c["verifies"].as_str().unwrap_or_default().is_empty()));
}
