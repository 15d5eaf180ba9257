//! The crate's layering, kept: module edges are read off `src/**/*.rs` (every `crate::`,
//! `super::` and `self::` path, brace groups too, test modules left out) at the granularity of
//! `src/<top>` and `src/<top>/<file>`, and the test fails naming any cycle between modules and
//! any edge the layering forbids.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The model: specs, cases, positions, diagnostics, files, signing, credentials. It uses
/// nothing above it.
const MODEL: &[&str] = &[
    "auth",
    "case",
    "credentials",
    "diag",
    "files",
    "located",
    "spec",
];

/// What the emulator may use besides itself: the model's specs and signing (and the
/// positions, diagnostics and files the specs come with).
const EMULATOR_MAY_USE: &[&str] = &["auth", "credentials", "diag", "files", "located", "spec"];

/// What the runner must not use: it runs cases and checks, and knows nothing of what reports,
/// emulates or mutates.
const RUNNER_MUST_NOT_USE: &[&str] = &[
    "command", "coverage", "embedded", "emulator", "harness", "mutate", "parity", "report",
];

/// Module edges, `from → to`, both as `top` or `top/file`.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn top(node: &str) -> &str {
    node.split('/').next().unwrap_or(node)
}

/// The module path of a file below `src` (`run/exec.rs` → `[run, exec]`, `run/mod.rs` → `[run]`).
fn module_path(rel: &Path) -> Vec<String> {
    let mut segs: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if segs.last().is_some_and(|s| s == "mod" || s == "lib") {
        segs.pop();
    }
    segs
}

/// The node of a module path: its first two segments joined (`lib` for the crate root).
fn node_of(segs: &[String]) -> String {
    if segs.is_empty() {
        return "lib".to_string();
    }
    segs[..segs.len().min(2)].join("/")
}

/// The source without comments and without `#[cfg(test)] mod … { … }` blocks (also
/// `#[cfg(all(test, …))]`).
fn code_of(text: &str) -> String {
    let no_comments: String = text
        .lines()
        .map(|l| l.split_once("//").map_or(l, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = String::new();
    let mut rest = no_comments.as_str();
    while let Some(at) = next_test_cfg(rest) {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let head_end = after.find(['{', ';']).unwrap_or(after.len());
        if !after[..head_end].contains("mod ") || !after[head_end..].starts_with('{') {
            out.push_str(&after[..head_end.min(after.len())]);
            rest = &after[head_end.min(after.len())..];
            continue;
        }
        rest = &after[head_end + matching_brace(&after[head_end..])..];
    }
    out.push_str(rest);
    out
}

/// Where the next test-only attribute starts: `#[cfg(test)]`, or `#[cfg(all(test, …))]`.
fn next_test_cfg(text: &str) -> Option<usize> {
    ["#[cfg(test)]", "#[cfg(all(test,"]
        .iter()
        .filter_map(|a| text.find(a))
        .min()
}

/// The length of the brace group `text` starts with, its closing brace included.
fn matching_brace(text: &str) -> usize {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    text.len()
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The top-level items of a brace group's inside (`a::b, c::{d, e}` → `a::b`, `c::{d, e}`).
fn group_items(inside: &str) -> Vec<&str> {
    let (mut items, mut depth, mut start) = (Vec::new(), 0usize, 0);
    for (i, c) in inside.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(inside[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(inside[start..].trim());
    items.retain(|s| !s.is_empty());
    items
}

/// The paths a `crate::`/`super::`/`self::` path at the start of `text` names, as segments
/// (a brace group gives one path per item).
fn paths_at(text: &str) -> Vec<Vec<String>> {
    let mut segs = Vec::new();
    let mut rest = text;
    loop {
        let len = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
        if len > 0 {
            segs.push(rest[..len].to_string());
        }
        rest = rest[len..].trim_start();
        let Some(next) = rest.strip_prefix("::") else {
            return vec![segs];
        };
        rest = next.trim_start();
        if rest.starts_with('{') {
            let end = matching_brace(rest);
            let inside = &rest[1..end.saturating_sub(1)];
            return group_items(inside)
                .into_iter()
                .flat_map(paths_at)
                .map(|tail| segs.iter().cloned().chain(tail).collect())
                .collect();
        }
    }
}

/// The absolute module segments of a path written in module `here`.
fn absolute(here: &[String], path: &[String]) -> Vec<String> {
    let mut base: Vec<String> = here.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        _ => {}
    }
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    base
}

/// Every path in `code` that starts with `crate`, `super` or `self`.
fn written_paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for word in ["crate", "super", "self"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(word) {
            let at = from + i;
            from = at + word.len();
            let before_ok = !code[..at].ends_with(|c: char| is_ident(c) || c == ':');
            let after = code[from..].trim_start();
            if before_ok && after.starts_with("::") {
                out.extend(paths_at(&code[at..]));
            }
        }
    }
    out
}

/// The module edges of one file's code, given which module paths exist.
fn edges_of(here: &[String], code: &str, exists: &dyn Fn(&[String]) -> bool) -> BTreeSet<String> {
    let from = node_of(here);
    let mut to = BTreeSet::new();
    for path in written_paths(code) {
        let abs = absolute(here, &path);
        let known = (1..=abs.len().min(2))
            .rev()
            .find(|&n| exists(&abs[..n]))
            .map(|n| node_of(&abs[..n]));
        if let Some(node) = known.filter(|n| *n != from) {
            to.insert(node);
        }
    }
    to
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The crate's module graph.
fn crate_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let exists = |segs: &[String]| {
        let base = src.join(segs.join("/"));
        base.with_extension("rs").is_file() || base.join("mod.rs").is_file()
    };
    let mut graph = Graph::new();
    for file in files {
        let rel = file.strip_prefix(&src).expect("below src");
        // Test-only files (`#[cfg(test)] mod tests;`).
        if rel.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let here = module_path(rel);
        let code = code_of(&std::fs::read_to_string(&file).expect("a readable source file"));
        graph
            .entry(node_of(&here))
            .or_default()
            .extend(edges_of(&here, &code, &exists));
    }
    graph
}

/// The graph between top-level modules.
fn top_graph(graph: &Graph) -> Graph {
    let mut out = Graph::new();
    for (from, tos) in graph {
        for to in tos.iter().filter(|t| top(t) != top(from)) {
            out.entry(top(from).to_string())
                .or_default()
                .insert(top(to).to_string());
        }
    }
    out
}

/// A cycle, as the nodes along it (first repeated at the end), if the graph has one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        graph: &Graph,
        node: &str,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = stack.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = stack[from..].to_vec();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_string(), Mark::Open);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(graph, next, marks, stack) {
                return Some(c);
            }
        }
        stack.pop();
        marks.insert(node.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|n| visit(graph, n, &mut marks, &mut Vec::new()))
}

/// The edges the layering forbids, each with why.
fn forbidden(graph: &Graph) -> Vec<String> {
    let mut out = Vec::new();
    for (from, tos) in top_graph(graph) {
        for to in tos {
            let why = if to == "command" && from != "main" {
                Some("only main.rs uses the CLI commands")
            } else if from == "emulator" && !EMULATOR_MAY_USE.contains(&to.as_str()) {
                Some("the emulator uses the model and auth only")
            } else if MODEL.contains(&from.as_str()) && !MODEL.contains(&to.as_str()) {
                Some("the model uses nothing above it")
            } else if from == "run" && RUNNER_MUST_NOT_USE.contains(&to.as_str()) {
                Some("the runner knows nothing of reports, emulators, mutants or commands")
            } else {
                None
            };
            if let Some(why) = why {
                out.push(format!("{from} → {to}: {why}"));
            }
        }
    }
    out
}

#[test]
fn no_cycle_between_modules() {
    let graph = crate_graph();
    assert!(graph.len() > 20, "the sources were not found: {graph:?}");
    if let Some(c) = find_cycle(&graph) {
        panic!("a cycle between modules: {}", c.join(" → "));
    }
    if let Some(c) = find_cycle(&top_graph(&graph)) {
        panic!("a cycle between top-level modules: {}", c.join(" → "));
    }
}

#[test]
fn no_edge_against_the_layering() {
    let bad = forbidden(&crate_graph());
    assert!(
        bad.is_empty(),
        "edges against the layering:\n{}",
        bad.join("\n")
    );
}

// ---- the checker itself, on small synthetic sources ----

fn synthetic(files: &[(&str, &str)]) -> Graph {
    let exists = |segs: &[String]| {
        let name = segs.join("/");
        files
            .iter()
            .any(|(f, _)| *f == format!("{name}.rs") || *f == format!("{name}/mod.rs"))
    };
    let mut graph = Graph::new();
    for (file, text) in files {
        let here = module_path(Path::new(file));
        graph
            .entry(node_of(&here))
            .or_default()
            .extend(edges_of(&here, &code_of(text), &exists));
    }
    graph
}

#[test]
fn a_cycle_through_a_brace_group_is_found_and_named() {
    let graph = synthetic(&[
        ("run/mod.rs", "mod exec; mod states;"),
        ("run/exec.rs", "use super::{states::StatesClient, Outcome};"),
        ("run/states.rs", "use crate::run::{exec::transport_error};"),
    ]);
    let cycle = find_cycle(&graph).expect("a cycle");
    assert!(cycle.contains(&"run/exec".to_string()) && cycle.contains(&"run/states".to_string()));
    assert_eq!(cycle.first(), cycle.last());
}

#[test]
fn a_cycle_between_top_level_modules_is_found() {
    let graph = synthetic(&[
        ("case/mod.rs", "pub mod load;"),
        ("case/load.rs", "fn f() { crate::coverage::items_of(); }"),
        ("coverage.rs", "use crate::case::Suite;"),
    ]);
    assert!(find_cycle(&graph).is_none(), "no cycle file by file");
    let cycle = find_cycle(&top_graph(&graph)).expect("a cycle between tops");
    assert_eq!(cycle.len(), 3, "{cycle:?}");
}

#[test]
fn test_modules_and_comments_are_not_edges() {
    let graph = synthetic(&[
        (
            "spec/mod.rs",
            "// see crate::run::x\n#[cfg(test)]\nmod tests { use crate::run::Target; }\n\
             #[cfg(all(test, feature = \"emulator\"))]\nmod more { use crate::run::Trial; }",
        ),
        ("run/mod.rs", "use crate::spec::Catalog;"),
    ]);
    assert!(find_cycle(&graph).is_none());
    assert!(graph["spec"].is_empty());
}

#[test]
fn forbidden_edges_are_named() {
    let graph = synthetic(&[
        ("emulator/mod.rs", "use crate::case::model::Format;"),
        (
            "credentials.rs",
            "use crate::run::target::ServiceCredentials;",
        ),
        ("mutate/mod.rs", "use crate::command::embedded;"),
        ("case/model.rs", ""),
        ("run/target.rs", ""),
        ("command/embedded.rs", ""),
    ]);
    let bad = forbidden(&graph);
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert!(bad.iter().any(|b| b.starts_with("emulator → case")));
    assert!(bad.iter().any(|b| b.starts_with("credentials → run")));
    assert!(bad.iter().any(|b| b.starts_with("mutate → command")));
}
