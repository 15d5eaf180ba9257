//! Bundles `specs/`, `cases/` and `schemas/` into the library, so the suite runs from any
//! directory and from a dependent crate's tests.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "json") {
            out.push(path);
        }
    }
}

/// `git` with `args` in the manifest dir: its trimmed output, or `None` when git is missing,
/// fails, or this is no git checkout (a crate tarball).
fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

/// Sets `CONFORM_GIT_COMMIT` for `conform --version`: the commit built, or words saying the
/// build had no git to ask. (No `-dirty` mark: it would rerun this script on every `git add`.)
fn git_commit(root: &Path) {
    let commit = git(root, &["rev-parse", "--short=12", "HEAD"])
        .unwrap_or_else(|| "unknown: built without git".to_string());
    // Rebuild when HEAD moves: HEAD itself and the branch it points to (a worktree has its own
    // HEAD, found by --git-path).
    if let Some(p) = git(root, &["rev-parse", "--git-path", "HEAD"]) {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    if let Some(branch) = git(root, &["symbolic-ref", "-q", "HEAD"]) {
        if let Some(p) = git(root, &["rev-parse", "--git-path", &branch]) {
            println!("cargo:rerun-if-changed={}", root.join(p).display());
        }
    }
    println!("cargo:rustc-env=CONFORM_GIT_COMMIT={commit}");
}

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    git_commit(&root);
    let mut code = String::new();
    for dir in ["specs", "cases", "schemas"] {
        println!("cargo:rerun-if-changed={dir}");
        let mut files = Vec::new();
        collect(&root.join(dir), &mut files);
        writeln!(
            code,
            "pub static {}: &[(&str, &str)] = &[",
            dir.to_uppercase()
        )
        .unwrap();
        for f in files {
            println!("cargo:rerun-if-changed={}", f.display());
            let rel = f.strip_prefix(&root).expect("below the manifest dir");
            writeln!(
                code,
                "    ({:?}, include_str!({:?})),",
                rel.to_string_lossy(),
                f.to_string_lossy()
            )
            .unwrap();
        }
        writeln!(code, "];").unwrap();
    }
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("bundled.rs");
    std::fs::write(out, code).expect("write bundled.rs");
}
