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

/// `conform` with the colour variables of the caller's environment replaced by `env`.
fn conform_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_conform"));
    for name in ["NO_COLOR", "CLICOLOR_FORCE", "CLICOLOR"] {
        command.env_remove(name);
    }
    command
        .args(args)
        .envs(env.iter().copied())
        .current_dir(std::env::temp_dir())
        .output()
        .expect("conform runs")
}

fn has_escape_codes(out: &Output) -> bool {
    out.stdout.contains(&0x1b) || out.stderr.contains(&0x1b)
}

#[test]
fn colour_follows_the_flag_and_the_environment() {
    let always = conform_with_env(&[ONE_OPERATION, &["--color", "always"]].concat(), &[]);
    assert_eq!(always.status.code(), Some(0), "{always:?}");
    assert!(has_escape_codes(&always), "{always:?}");
    // Not a terminal: auto has no colour; `CLICOLOR_FORCE` forces it; `NO_COLOR` wins over both.
    let auto = conform_with_env(ONE_OPERATION, &[]);
    assert!(!has_escape_codes(&auto), "{auto:?}");
    let forced = conform_with_env(ONE_OPERATION, &[("CLICOLOR_FORCE", "1")]);
    assert!(has_escape_codes(&forced), "{forced:?}");
    let no_color = conform_with_env(ONE_OPERATION, &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert!(!has_escape_codes(&no_color), "{no_color:?}");
    let never = conform_with_env(
        &[ONE_OPERATION, &["--color", "never"]].concat(),
        &[("CLICOLOR_FORCE", "1")],
    );
    assert!(!has_escape_codes(&never), "{never:?}");
    let plain = String::from_utf8_lossy(&never.stdout);
    assert!(
        plain.contains("pass  ") && plain.contains("1 passed, 0 failed"),
        "{plain}"
    );
}

#[test]
fn quiet_prints_failures_and_the_summary_only() {
    let out = conform(&["run", "-q", "-f", "huawei-sms::DeleteTask::"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("pass  "), "{text}");
    assert!(!text.contains("trials against"), "{text}");
    assert!(text.contains(" passed, 0 failed"), "{text}");
    // A failure is still printed in full.
    let failing = conform(&[
        "run",
        "-q",
        "--target",
        "http://127.0.0.1:9",
        "-f",
        "huawei-sms::",
        "-j",
        "1",
        "--fail-fast",
    ]);
    assert_eq!(failing.status.code(), Some(1), "{failing:?}");
    let text = String::from_utf8_lossy(&failing.stdout);
    assert_eq!(text.matches("FAIL  ").count(), 1, "{text}");
    assert!(text.contains("clause: "), "{text}");
}

#[test]
fn verbose_prints_each_request_and_answer_without_secrets() {
    let out = conform(&[ONE_OPERATION, &["-v"]].concat());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let id = "huawei-sms::DeleteTask::deletes-task";
    assert!(
        text.contains(&format!("→ {id}  DELETE /v3/tasks/")),
        "{text}"
    );
    assert!(text.contains(&format!("← {id}  404  (")), "{text}");
    let credentials = conform::credentials::default_credentials("huawei-sms");
    for secret in [credentials.secret, credentials.token]
        .into_iter()
        .flatten()
    {
        assert!(!text.contains(secret.expose()), "a secret in\n{text}");
    }
    assert!(
        !text.contains("Authorization") && !text.contains('?'),
        "{text}"
    );
}

#[test]
fn max_fail_stops_early_and_fails_the_run() {
    let refused = [
        "run",
        "--target",
        "http://127.0.0.1:9",
        "-f",
        "huawei-sms::",
        "-j",
        "1",
    ];
    let out = conform(&[&refused[..], &["--max-fail", "1"]].concat());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("FAIL  ").count(), 1, "{text}");
    assert!(
        text.contains("not run: the run stopped starting trials after 1 failure(s)"),
        "{text}"
    );
    let all = conform(&refused);
    let failed_without = String::from_utf8_lossy(&all.stdout)
        .matches("FAIL  ")
        .count();
    assert!(
        failed_without > 1,
        "the selection has more than one failing trial"
    );
}

#[test]
fn a_transport_error_is_retried_and_counted() {
    let out = conform(&[
        "run",
        "--target",
        "http://127.0.0.1:9",
        "-f",
        "huawei-sms::",
        "--fail-fast",
        "-j",
        "1",
        "--retries",
        "2",
        "--report-json",
        "-",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let failed: Vec<&serde_json::Value> = report["trials"]
        .as_array()
        .expect("trials")
        .iter()
        .filter(|t| t["outcome"] == "fail")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["attempts"], 3);
    assert!(failed[0].get("flaky").is_none());
    assert!(String::from_utf8_lossy(&out.stderr).contains("(3 attempts)"));
}

#[test]
fn run_flags_are_checked() {
    for bad in [
        &["--max-fail", "0"][..],
        &["--rate", "0"],
        &["--fail-fast", "--max-fail", "2"],
        &["-q", "-v"],
        &["--color", "sometimes"],
    ] {
        let out = conform(&[&["run", "--list"][..], bad].concat());
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {out:?}");
    }
}

/// The trial ids and outcomes of a JSON report, in order.
fn ids_and_outcomes(report: &serde_json::Value) -> Vec<(String, String)> {
    report["trials"]
        .as_array()
        .expect("trials")
        .iter()
        .map(|t| (t["id"].to_string(), t["outcome"].to_string()))
        .collect()
}

#[test]
fn two_shards_merged_are_the_unsharded_run() {
    let dir = tempdir("merge");
    let json = |name: &str| dir.join(name).display().to_string();
    let selection = [
        "run",
        "-f",
        "huawei-sms::DeleteTask",
        "-f",
        "DeleteSourceServer::deletes",
    ];
    let whole = conform(&[&selection[..], &["--report-json", &json("whole.json")]].concat());
    assert_eq!(whole.status.code(), Some(0), "{whole:?}");
    for k in ["1/2", "2/2"] {
        let name = json(&format!("shard-{}.json", &k[..1]));
        let out = conform(&[&selection[..], &["--partition", k, "--report-json", &name]].concat());
        assert_eq!(out.status.code(), Some(0), "{out:?}");
    }
    let merged = conform(&[
        "merge",
        &json("shard-2.json"),
        &json("shard-1.json"),
        "--report-json",
        &json("merged.json"),
        "--report-html",
        &json("merged.html"),
    ]);
    assert_eq!(merged.status.code(), Some(0), "{merged:?}");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).expect("written"))
            .expect("JSON")
    };
    let (whole, merged_report) = (read("whole.json"), read("merged.json"));
    let shard = read("shard-1.json");
    let all = ids_and_outcomes(&whole);
    assert!(all.len() > 4, "{all:?}");
    assert!(ids_and_outcomes(&shard).len() < all.len());
    assert_eq!(ids_and_outcomes(&merged_report), all);
    assert_eq!(merged_report["summary"], whole["summary"]);
    let summary = String::from_utf8_lossy(&merged.stdout);
    let passed = whole["summary"]["passed"].to_string();
    assert!(
        summary.contains(&format!("\n{passed} passed, 0 failed, 0 skipped")),
        "{summary}"
    );
    assert!(std::fs::read_to_string(dir.join("merged.html"))
        .expect("html")
        .contains("<!DOCTYPE html>"));
    // The same shard twice is an overlap, and a report that is not one is located.
    let twice = conform(&["merge", &json("shard-1.json"), &json("shard-1.json")]);
    assert_eq!(twice.status.code(), Some(3), "{twice:?}");
    std::fs::write(
        dir.join("bad.json"),
        "{\"schema_version\": 1,\n\"trials\": 7}",
    )
    .expect("write");
    let bad = conform(&["merge", &json("bad.json")]);
    assert_eq!(bad.status.code(), Some(3), "{bad:?}");
    let words = String::from_utf8_lossy(&bad.stderr);
    assert!(words.contains("bad.json:2:"), "{words}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("conform-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
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

#[test]
fn color_is_global_and_governs_diagnostics() {
    let dir = tempdir("lint-color");
    std::fs::write(
        dir.join("t.yaml"),
        "operation: huawei-sms/DeleteTask\ncases:\n  - name: x\n    summary: s\n    \
         clause: \"seed:002_c8c73ce1aa61a576.txt#URI\"\n    expcet: {status: 200}\n",
    )
    .expect("a broken case file");
    let cases = dir.to_string_lossy().into_owned();
    let lint = |color: &str, env: &[(&str, &str)]| {
        let out = conform_with_env(&["lint", "--cases", &cases, "--color", color], env);
        assert_eq!(out.status.code(), Some(3), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(stderr.contains("did you mean `expect`"), "{stderr}");
        stderr
    };
    assert!(lint("always", &[]).contains("\u{1b}["));
    assert!(!lint("never", &[("CLICOLOR_FORCE", "1")]).contains("\u{1b}["));
    // auto on a pipe: plain, unless forced.
    assert!(!lint("auto", &[]).contains("\u{1b}["));
    assert!(lint("auto", &[("CLICOLOR_FORCE", "1")]).contains("\u{1b}["));
    let _ = std::fs::remove_dir_all(&dir);
}
