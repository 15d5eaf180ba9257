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

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
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
