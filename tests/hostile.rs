//! `conform run` against hostile targets (`tests/hostile/server.rs`, on 127.0.0.1): every
//! misbehaviour fails its case with a message, within the run's bound, without following
//! redirects or leaking a secret; teardown failures fail the run; an interrupt tears down and
//! reports; bad input files are located errors.

#[path = "hostile/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::Value;
use server::{Hostile, API_BEHAVIOURS, SECRET_TOKEN};

const CLAUSE: &str = "seed:003_4d9f1c4dbf2ee0ed.txt#Status Codes";

/// A scratch directory for one run: cases, target file, reports.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("conform-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("cases")).unwrap();
    dir
}

/// A Workspace case naming `server_id`, with provider state `given` when asked.
fn case(name: &str, server_id: &str, given: bool) -> String {
    let given = if given {
        "    given: [{state: app server exists}]\n"
    } else {
        ""
    };
    let tags = if given.is_empty() {
        "[safe]"
    } else {
        "[safe, needs-state]"
    };
    format!("  - name: {name}\n    summary: s\n    clause: \"{CLAUSE}\"\n    tags: {tags}\n{given}    request: {{params: {{project_id: p, server_id: {server_id}}}}}\n    expect: {{status: 401, error_code: APIGW.0301}}\n")
}

fn write_cases(dir: &Path, cases: &[String]) {
    let text = format!(
        "operation: huawei-workspace/DeleteServer\ncases:\n{}",
        cases.concat()
    );
    std::fs::write(dir.join("cases/ws.yaml"), text).unwrap();
}

fn write_target(dir: &Path, h: &Hostile, extra: &str) -> PathBuf {
    let p = dir.join("target.yaml");
    let text = format!(
        "allow_destructive: true\n{extra}services:\n  huawei-workspace:\n    base_url: {}\n    signing: token\n    token_env: CONFORM_HOSTILE_TOKEN\n",
        h.base_url()
    );
    std::fs::write(&p, text).unwrap();
    p
}

struct Ran {
    code: i32,
    out: String,
    took: Duration,
    json: Value,
    junit: String,
}

fn spawn(dir: &Path, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(args)
        .env("CONFORM_HOSTILE_TOKEN", SECRET_TOKEN)
        .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
        .stdin(Stdio::null())
        .spawn()
        .expect("conform starts")
}

/// Waits for the child, failing the test if it outlives `bound`.
fn wait(dir: &Path, mut child: std::process::Child, started: Instant, bound: Duration) -> Ran {
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > bound {
            let _ = child.kill();
            let _ = child.wait();
            panic!("conform did not end within {bound:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap_or_default();
    Ran {
        code: status.code().unwrap_or(-1),
        out: format!("{}{}", read("stdout"), read("stderr")),
        took,
        json: serde_json::from_str(&read("run.json")).unwrap_or(Value::Null),
        junit: read("run.junit.xml"),
    }
}

/// `conform run` on the scratch dir's cases and target, with reports, within `bound`.
fn run(dir: &Path, extra_args: &[&str], bound: Duration) -> Ran {
    let (cases, target) = (dir.join("cases"), dir.join("target.yaml"));
    let (json, junit) = (dir.join("run.json"), dir.join("run.junit.xml"));
    let mut args = vec![
        "run",
        "--cases",
        cases.to_str().unwrap(),
        "--target",
        target.to_str().unwrap(),
    ];
    args.extend([
        "--report-json",
        json.to_str().unwrap(),
        "--report-junit",
        junit.to_str().unwrap(),
    ]);
    args.extend(extra_args);
    let started = Instant::now();
    wait(dir, spawn(dir, &args), started, bound)
}

/// One trial of the JSON report in words: `outcome: …`, each failure as
/// `check at where: expected …, got …`, the reason of a skip and the answer shown.
fn failures_of(ran: &Ran, case: &str) -> String {
    let Some(trials) = ran.json["trials"].as_array() else {
        panic!("no JSON report: {}", ran.out)
    };
    let t = trials
        .iter()
        .find(|t| t["case"] == case)
        .unwrap_or_else(|| panic!("no trial {case}: {}", ran.out));
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let mut out = format!("outcome: {}; {}\n", text(&t["outcome"]), text(&t["reason"]));
    for f in t["failures"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "{} at {}: expected {}, got {}\n",
            text(&f["check"]),
            text(&f["at"]),
            text(&f["expected"]),
            text(&f["actual"])
        ));
    }
    out.push_str(&text(&t["response"]));
    out
}

fn assert_no_secret_fragment(text: &str) {
    let chars: Vec<char> = SECRET_TOKEN.chars().collect();
    for w in chars.windows(8) {
        let fragment: String = w.iter().collect();
        assert!(
            !text.contains(&fragment),
            "a fragment `{fragment}` of the token leaked"
        );
    }
}

#[test]
fn every_hostile_answer_fails_its_case_with_a_message_within_the_bound() {
    let h = server::start();
    let dir = scratch("answers");
    let mut cases: Vec<String> = API_BEHAVIOURS.iter().map(|b| case(b, b, false)).collect();
    cases.push(case("conforming", "conforming", false));
    write_cases(&dir, &cases);
    write_target(&dir, &h, "timeout_seconds: 1\n");
    let ran = run(&dir, &["-j", "16"], Duration::from_secs(30));
    assert_eq!(ran.code, 1, "{}", ran.out);
    let expect = [
        ("never-answers", "expected an answer, got timed out"),
        ("slow-headers", "expected an answer, got timed out"),
        ("reset", "expected an answer, got"),
        (
            "huge-body",
            "401 with an answer larger than the limit of 1048576 bytes",
        ),
        (
            "endless-chunked",
            "401 with an answer larger than the limit of 1048576 bytes",
        ),
        (
            "endless-close",
            "401 with an answer larger than the limit of 1048576 bytes",
        ),
        ("invalid-json", "expected a JSON document"),
        ("invalid-utf8", "invalid UTF-8"),
        ("wrong-content-type", "expected a JSON document"),
        ("redirect-loop", "expected 401, got 302"),
        ("redirect-other-host", "expected 401, got 307"),
        ("huge-headers", "expected an answer, got"),
        ("gzip-bomb", "invalid UTF-8"),
        ("echo-token-at-cut", "expected 401, got 500"),
    ];
    for (name, message) in expect {
        let f = failures_of(&ran, name);
        assert!(f.starts_with("outcome: fail"), "{name} should fail: {f}");
        assert!(f.contains(message), "{name}: `{message}` not in {f}");
    }
    assert!(failures_of(&ran, "redirect-loop")
        .contains("(Location: /v1/p/app-servers/redirect-loop, not followed)"));
    assert!(failures_of(&ran, "redirect-other-host")
        .contains(&format!("(Location: http://127.0.0.1:{}/", h.other_port)));
    assert!(
        failures_of(&ran, "conforming").starts_with("outcome: pass"),
        "{}",
        ran.out
    );
    assert_eq!(
        h.seen.other_host.load(Ordering::SeqCst),
        0,
        "a request went to another host"
    );
    assert!(
        ran.out.contains("aaa***\"}"),
        "the echoed token is redacted: {}",
        ran.out
    );
    for text in [&ran.out, &ran.json.to_string(), &ran.junit] {
        assert_no_secret_fragment(text);
    }
}

#[test]
fn the_deadline_bounds_steps_and_teardown_and_a_hung_teardown_fails_the_run() {
    let h = server::start();
    let dir = scratch("deadline");
    write_cases(&dir, &[case("hangs", "never-answers", true)]);
    let extra = format!(
        "timeout_seconds: 60\ndeadline_seconds: 3\nprovider_states: {}\n",
        h.states_url("teardown-hangs")
    );
    write_target(&dir, &h, &extra);
    let ran = run(&dir, &[], Duration::from_secs(20));
    assert_eq!(ran.code, 1, "{}", ran.out);
    // The deadline plus a second, and a little for starting the process.
    assert!(ran.took < Duration::from_secs(5), "took {:?}", ran.took);
    let f = failures_of(&ran, "hangs");
    assert!(
        f.contains("the case to finish before the run's deadline"),
        "{f}"
    );
    assert!(f.contains("teardown at app server exists: expected the state torn down (else its resources are left behind), got it did not finish before the run's deadline"), "{f}");
    assert!(
        ran.out.contains(
            "teardown failed in 1 trial(s): resources they set up may be left on the target"
        ),
        "{}",
        ran.out
    );
    assert_eq!(ran.json["summary"]["teardown_failed"], 1);
    assert!(ran.junit.contains("teardown"), "{}", ran.junit);
    assert_eq!(h.seen.teardowns.load(Ordering::SeqCst), 1);
}

#[test]
fn a_failed_teardown_fails_a_case_that_passed() {
    let h = server::start();
    let dir = scratch("teardown-fails");
    write_cases(&dir, &[case("passes", "conforming", true)]);
    let extra = format!(
        "timeout_seconds: 2\nprovider_states: {}\n",
        h.states_url("teardown-fails")
    );
    write_target(&dir, &h, &extra);
    let ran = run(&dir, &[], Duration::from_secs(20));
    assert_eq!(ran.code, 1, "{}", ran.out);
    let f = failures_of(&ran, "passes");
    assert!(f.contains("provider-state endpoint answered 500"), "{f}");
    assert!(
        !ran.out.contains("Failed(\""),
        "no Rust debug form: {}",
        ran.out
    );
    assert!(
        ran.junit.contains("teardown at app server exists"),
        "{}",
        ran.junit
    );
}

#[test]
fn provider_state_endpoints_that_misbehave_fail_the_case() {
    let h = server::start();
    for (mode, message) in [
        ("hang", "timed out"),
        ("garbage", "with a body that is not JSON"),
        (
            "huge",
            "with an answer larger than the limit of 1048576 bytes",
        ),
    ] {
        let dir = scratch(&format!("states-{mode}"));
        write_cases(&dir, &[case("stateful", "conforming", true)]);
        let extra = format!(
            "timeout_seconds: 1\nprovider_states: {}\n",
            h.states_url(mode)
        );
        write_target(&dir, &h, &extra);
        let ran = run(&dir, &[], Duration::from_secs(20));
        assert_eq!(ran.code, 1, "{mode}: {}", ran.out);
        let f = failures_of(&ran, "stateful");
        assert!(
            f.contains("provider state") && f.contains(message),
            "{mode}: {f}"
        );
    }
}

#[test]
fn an_interrupt_stops_tears_down_reports_and_exits_130() {
    let h = server::start();
    let dir = scratch("interrupt");
    write_cases(
        &dir,
        &[
            case("in-flight", "never-answers", true),
            case("never-started", "conforming", true),
        ],
    );
    let extra = format!(
        "timeout_seconds: 60\nprovider_states: {}\n",
        h.states_url("ok")
    );
    write_target(&dir, &h, &extra);
    let (cases, target) = (dir.join("cases"), dir.join("target.yaml"));
    let (json, junit) = (dir.join("run.json"), dir.join("run.junit.xml"));
    let args = [
        "run",
        "-j",
        "1",
        "--cases",
        cases.to_str().unwrap(),
        "--target",
        target.to_str().unwrap(),
        "--report-json",
        json.to_str().unwrap(),
        "--report-junit",
        junit.to_str().unwrap(),
    ];
    let started = Instant::now();
    let child = spawn(&dir, &args);
    while h.seen.api.load(Ordering::SeqCst) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the first case never sent its request"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let interrupted_at = Instant::now();
    // SAFETY: signalling the child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let ran = wait(&dir, child, started, Duration::from_secs(30));
    assert_eq!(ran.code, 130, "{}", ran.out);
    // The grace (2 s) and a teardown.
    assert!(
        interrupted_at.elapsed() < Duration::from_secs(6),
        "took {:?}",
        interrupted_at.elapsed()
    );
    assert_eq!(
        h.seen.teardowns.load(Ordering::SeqCst),
        1,
        "the state set up is torn down"
    );
    assert_eq!(ran.json["interrupted"], "SIGINT", "{}", ran.json);
    assert!(failures_of(&ran, "never-started").contains("not run: the run was interrupted"));
    assert!(failures_of(&ran, "in-flight").contains("the run was interrupted"));
    assert!(
        ran.junit
            .contains("the run was interrupted (SIGINT): 1 trial(s) not run"),
        "{}",
        ran.junit
    );
    assert!(
        ran.out.contains("the run was interrupted (SIGINT)")
            && ran.out.contains("0 passed, 1 failed, 1 skipped"),
        "{}",
        ran.out
    );
}

#[test]
fn an_interrupt_during_a_setup_awaits_it_and_tears_it_down() {
    let h = server::start();
    let dir = scratch("interrupt-setup");
    write_cases(&dir, &[case("setting-up", "conforming", true)]);
    let extra = format!(
        "timeout_seconds: 10\nprovider_states: {}\n",
        h.states_url("slow-setup")
    );
    write_target(&dir, &h, &extra);
    let started = Instant::now();
    let (cases, target) = (dir.join("cases"), dir.join("target.yaml"));
    let json = dir.join("run.json");
    let child = spawn(
        &dir,
        &[
            "run",
            "--cases",
            cases.to_str().unwrap(),
            "--target",
            target.to_str().unwrap(),
            "--report-json",
            json.to_str().unwrap(),
        ],
    );
    while h.seen.setups.load(Ordering::SeqCst) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the setup never came"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signalling the child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let ran = wait(&dir, child, started, Duration::from_secs(30));
    assert_eq!(ran.code, 130, "{}", ran.out);
    assert_eq!(
        h.seen.teardowns.load(Ordering::SeqCst),
        1,
        "the state made by the setup in flight is torn down"
    );
    assert_eq!(
        h.seen.api.load(Ordering::SeqCst),
        0,
        "no step starts after the interrupt"
    );
    assert!(failures_of(&ran, "setting-up").contains("the run was interrupted"));
}

#[test]
fn a_second_interrupt_aborts_at_once() {
    let h = server::start();
    let dir = scratch("interrupt-twice");
    write_cases(&dir, &[case("in-flight", "never-answers", true)]);
    let extra = format!(
        "timeout_seconds: 60\nprovider_states: {}\n",
        h.states_url("teardown-hangs")
    );
    write_target(&dir, &h, &extra);
    let (cases, target) = (dir.join("cases"), dir.join("target.yaml"));
    let started = Instant::now();
    let child = spawn(
        &dir,
        &[
            "run",
            "--cases",
            cases.to_str().unwrap(),
            "--target",
            target.to_str().unwrap(),
        ],
    );
    while h.seen.api.load(Ordering::SeqCst) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the case never sent its request"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signalling the child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    std::thread::sleep(Duration::from_millis(300));
    let second = Instant::now();
    // SAFETY: as above.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let ran = wait(&dir, child, started, Duration::from_secs(30));
    assert_eq!(ran.code, 130, "{}", ran.out);
    assert!(
        second.elapsed() < Duration::from_secs(2),
        "took {:?}",
        second.elapsed()
    );
    assert!(
        ran.out.contains("interrupted again: aborting"),
        "{}",
        ran.out
    );
}

#[test]
fn the_answer_limit_is_set_by_target_file_and_command_line() {
    let h = server::start();
    let dir = scratch("limit");
    write_cases(&dir, &[case("two-kib", "two-kib", false)]);
    write_target(&dir, &h, "timeout_seconds: 2\n");
    let ran = run(&dir, &[], Duration::from_secs(20));
    assert_eq!(ran.code, 0, "2 KiB is under the default limit: {}", ran.out);
    let ran = run(
        &dir,
        &["--max-answer-bytes", "1024"],
        Duration::from_secs(20),
    );
    assert_eq!(ran.code, 1, "{}", ran.out);
    assert!(failures_of(&ran, "two-kib").contains("an answer larger than the limit of 1024 bytes"));
    write_target(&dir, &h, "max_answer_bytes: 1000\n");
    let ran = run(&dir, &[], Duration::from_secs(20));
    assert_eq!(ran.code, 1, "{}", ran.out);
    write_target(&dir, &h, "max_answer_bytes: 0\n");
    let ran = run(&dir, &[], Duration::from_secs(20));
    assert_eq!(ran.code, 3, "{}", ran.out);
    assert!(
        ran.out
            .contains("target.yaml:2:19: must be a number of bytes from 1 to"),
        "{}",
        ran.out
    );
    write_target(&dir, &h, "");
    let ran = run(&dir, &["--max-answer-bytes", "0"], Duration::from_secs(20));
    assert_eq!(ran.code, 2, "{}", ran.out);
}

/// `conform lint --cases DIR` on one case file.
fn lint_case_text(name: &str, text: &[u8]) -> Ran {
    let dir = scratch(name);
    std::fs::write(dir.join("cases/ws.yaml"), text).unwrap();
    let cases = dir.join("cases");
    let started = Instant::now();
    wait(
        &dir,
        spawn(&dir, &["lint", "--cases", cases.to_str().unwrap()]),
        started,
        Duration::from_secs(30),
    )
}

#[test]
fn bad_input_files_are_located_errors() {
    let flow = format!(
        "operation: huawei-workspace/DeleteServer\ncases: {}1{}\n",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let ran = lint_case_text("flow", flow.as_bytes());
    assert_eq!(ran.code, 3, "{}", ran.out);
    assert!(
        ran.out.contains("ws.yaml:2:")
            && (ran.out.contains("nested deeper than 64 levels")
                || ran.out.contains("recursion limit")),
        "{}",
        ran.out
    );
    let block: String = (0..3000)
        .map(|i| format!("{}k:\n", "  ".repeat(i)))
        .collect();
    let ran = lint_case_text(
        "block",
        format!("operation: huawei-workspace/DeleteServer\ncases:\n{block}").as_bytes(),
    );
    assert_eq!(ran.code, 3, "{}", ran.out);
    assert!(
        ran.out.contains("ws.yaml:67:") && ran.out.contains("nested deeper than 64 levels"),
        "{}",
        ran.out
    );

    let unique = format!(
        "operation: huawei-workspace/DeleteServer\ncases:\n{}",
        case("huge-id", "\"${unique:10000000000}\"", false)
    );
    let ran = lint_case_text("unique", unique.as_bytes());
    assert_eq!(ran.code, 3, "{}", ran.out);
    assert!(
        ran.out
            .contains("the length after `unique:` is at most 4096"),
        "{}",
        ran.out
    );

    let mut bad = b"operation: huawei-workspace/DeleteServer\ncases: [\xff]\n".to_vec();
    bad.extend_from_slice(b"\n");
    let ran = lint_case_text("utf8", &bad);
    assert_eq!(ran.code, 3, "{}", ran.out);
    assert!(
        ran.out.contains("ws.yaml:2:9: invalid UTF-8"),
        "{}",
        ran.out
    );

    let long = format!(
        "operation: huawei-workspace/DeleteServer\ncases:\n  - name: x\n    {}: 1\n",
        "k".repeat(1_000_000)
    );
    let ran = lint_case_text("long", long.as_bytes());
    assert_eq!(ran.code, 3, "{}", ran.out);
    assert!(
        ran.out.len() < 20_000,
        "a long value is elided: {} bytes",
        ran.out.len()
    );

    let h = server::start();
    let dir = scratch("deep-target");
    write_cases(&dir, &[case("x", "conforming", false)]);
    write_target(
        &dir,
        &h,
        &format!(
            "timeout_seconds: {}1{}\n",
            "[".repeat(3000),
            "]".repeat(3000)
        ),
    );
    let ran = run(&dir, &[], Duration::from_secs(20));
    assert_eq!(ran.code, 3, "{}", ran.out);
    assert!(ran.out.contains("target.yaml:2:"), "{}", ran.out);
}
