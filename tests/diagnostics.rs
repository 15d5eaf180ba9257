//! Snapshots of diagnostics as `conform lint` prints them (source line, caret, hint, count),
//! so a change of their text is reviewed as a diff. Paths are relative and there is no colour,
//! so the snapshots are the same on every machine. After an intended change:
//! `INSTA_UPDATE=always cargo test --test diagnostics`, then review `git diff tests/snapshots`.

use std::path::{Path, PathBuf};

use conform::case::Suite;
use conform::diag::render::{render, Color};
use conform::diag::{Diagnostic, Diagnostics};
use conform::files::{bundled_cases, bundled_specs, SourceFile};
use conform::spec::Catalog;

fn file(path: &str, text: &str) -> SourceFile {
    SourceFile {
        path: PathBuf::from(path),
        text: text.to_string(),
    }
}

/// What lint prints for the bundled specs (one edited, if any) and cases with `extra` added.
fn lint(spec_edit: Option<(&str, &str, &str)>, extra: &[SourceFile]) -> String {
    let mut specs = bundled_specs();
    if let Some((path_end, from, to)) = spec_edit {
        let f = specs
            .iter_mut()
            .find(|f| f.path.to_string_lossy().ends_with(path_end))
            .expect("the spec file exists");
        assert!(f.text.contains(from), "`{from}` is in {path_end}");
        f.text = f.text.replacen(from, to, 1);
    }
    let linted = Catalog::lint_files(&specs);
    let mut cases = bundled_cases();
    cases.extend_from_slice(extra);
    let (_, case_diags) = Suite::lint_files(&linted.catalog, &cases, &linted.unloaded);
    let mut all = linted.diags;
    all.0.extend(case_diags.0);
    render(&all, Color::Never)
}

fn lint_case(text: &str) -> String {
    lint(None, &[file("cases/t.yaml", text)])
}

const HEAD: &str = "operation: huawei-sms/DeleteTask\ncases:\n";

fn case(name: &str, body: &str) -> String {
    format!("  - name: {name}\n    summary: s\n    clause: \"seed:002_c8c73ce1aa61a576.txt#URI\"\n{body}")
}

#[test]
fn misspelt_key() {
    let text = format!(
        "{HEAD}{}",
        case("t", "    tags: [safe]\n    expcet: {status: 200}\n")
    );
    insta::assert_snapshot!(lint_case(&text));
}

/// A misspelt key does not hide a dangling name elsewhere in the same case.
#[test]
fn misspelt_key_and_unknown_state_in_one_case() {
    let text = format!(
        "{HEAD}{}",
        case(
            "t",
            "    tags: [needs-state]\n    given:\n      - state: task is there\n    expcet: {status: 200}\n"
        )
    );
    insta::assert_snapshot!(lint_case(&text));
}

#[test]
fn wrong_type() {
    let text = format!(
        "{HEAD}{}",
        case("t", "    tags: [safe]\n    expect: {status: two-hundred}\n")
    );
    insta::assert_snapshot!(lint_case(&text));
}

#[test]
fn unknown_enum_value() {
    let text = format!(
        "{HEAD}{}",
        case(
            "t",
            "    tags: [safe]\n    request: {auth: forgd}\n    expect: {status: 401}\n"
        )
    );
    insta::assert_snapshot!(lint_case(&text));
}

#[test]
fn unknown_provider_state() {
    let text = format!(
        "{HEAD}{}",
        case(
            "t",
            "    tags: [needs-state]\n    given:\n      - state: migration task exist\n    expect: {status: 200}\n"
        )
    );
    insta::assert_snapshot!(lint_case(&text));
}

#[test]
fn unknown_error_code() {
    let text = format!(
        "{HEAD}{}",
        case(
            "t",
            "    tags: [safe]\n    expect: {status: 403, error_code: SMS.99999}\n"
        )
    );
    insta::assert_snapshot!(lint_case(&text));
}

#[test]
fn unknown_operation() {
    insta::assert_snapshot!(lint_case("operation: huawei-sms/DeleteTusk\ncases: []\n"));
}

#[test]
fn unknown_error_code_in_a_spec() {
    insta::assert_snapshot!(lint(
        Some((
            "alibaba-smc/DeleteSourceServer.yaml",
            "{error: SourceServerState.Invalid}",
            "{error: SourceServerState.Invalide}",
        )),
        &[]
    ));
}

#[test]
fn misspelt_key_in_a_spec() {
    insta::assert_snapshot!(lint(
        Some((
            "huawei-sms/DeleteTask.yaml",
            "max_length: 36",
            "max_lenght: 36"
        )),
        &[]
    ));
}

/// A schema error in one case hides nothing in the others, nor in other files.
#[test]
fn every_problem_of_every_file_at_once() {
    let first = format!(
        "{HEAD}{}{}",
        case("t", "    tags: [safe]\n    expcet: {status: 200}\n"),
        case(
            "u",
            "    tags: [safe]\n    expect: {status: 403, error_code: SMS.99999}\n"
        )
    );
    let second = format!(
        "{HEAD}{}",
        case(
            "w",
            "    tags: [safe]\n    request: {params: {task_id: \"${task}\"}}\n    expect: {status: 200}\n"
        )
    );
    insta::assert_snapshot!(lint(
        None,
        &[file("cases/t.yaml", &first), file("cases/a.yaml", &second)]
    ));
}

/// A spec file that does not load: its problem alone, not every case of its operation as naming
/// an unknown one.
#[test]
fn a_broken_spec_does_not_hide_case_problems() {
    let text = format!(
        "{HEAD}{}",
        case(
            "t",
            "    tags: [safe]\n    expect: {status: 200}\n    extra: 1\n"
        )
    );
    insta::assert_snapshot!(lint(
        Some((
            "huawei-sms/DeleteTask.yaml",
            "max_length: 36",
            "max_length: thirty-six"
        )),
        &[file("cases/t.yaml", &text)]
    ));
}

#[test]
fn yaml_syntax_error() {
    insta::assert_snapshot!(lint_case("operation: [huawei-sms/DeleteTask\ncases: []\n"));
}

#[test]
fn invalid_utf8() {
    let dir = std::env::temp_dir().join(format!("conform-diag-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.yaml");
    std::fs::write(
        &path,
        b"operation: huawei-sms/DeleteTask\ncases: [\xc3\x28]\n",
    )
    .unwrap();
    let err = conform::located::read_text(&path).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    // The same diagnostic under a path that does not depend on the machine.
    let shown = relative(err, &path, "cases/bad.yaml");
    insta::assert_snapshot!(render(&Diagnostics(vec![shown]), Color::Never));
}

fn relative(mut d: Diagnostic, from: &Path, to: &str) -> Diagnostic {
    assert_eq!(d.file.as_deref(), Some(from));
    d.file = Some(PathBuf::from(to));
    d
}
