//! Where spec, case and schema files come from (a directory, or the copy bundled at build
//! time), and validating a document against a shipped JSON Schema with located errors.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::diag::{Diagnostic, Diagnostics};
use crate::located::Located;

mod schema_errors;

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

pub use crate::diag::SourceFile;

fn from_bundle(files: &[(&str, &str)]) -> Vec<SourceFile> {
    files
        .iter()
        .map(|(p, t)| SourceFile {
            path: PathBuf::from(p),
            text: (*t).to_string(),
        })
        .collect()
}

pub fn bundled_specs() -> Vec<SourceFile> {
    from_bundle(bundled::SPECS)
}

pub fn bundled_cases() -> Vec<SourceFile> {
    from_bundle(bundled::CASES)
}

/// Every `*.yaml` file below `dir`, sorted by path.
pub fn read_dir(dir: &Path) -> Result<Vec<SourceFile>, Diagnostic> {
    let mut paths = Vec::new();
    walk(dir, &mut paths)?;
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = crate::located::read_text(&path)?;
            Ok(SourceFile { path, text })
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Diagnostic> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Diagnostic::file(dir, format!("cannot read directory: {e}")))?;
    for entry in entries {
        let path = entry
            .map_err(|e| Diagnostic::file(dir, format!("cannot read directory: {e}")))?
            .path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

fn bundled_schema(name: &str) -> serde_json::Value {
    let text = bundled::SCHEMAS
        .iter()
        .find(|(p, _)| p.ends_with(name))
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("schemas/{name} is bundled at build time"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("schemas/{name} is valid JSON: {e}"))
}

fn compile(name: &str) -> jsonschema::Validator {
    jsonschema::validator_for(&bundled_schema(name))
        .unwrap_or_else(|e| panic!("schemas/{name} is a valid JSON Schema: {e}"))
}

/// The schema of spec files, compiled once.
pub fn spec_schema() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| compile("spec.schema.json"))
}

/// The schema of case files, compiled once.
pub fn case_schema() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| compile("case.schema.json"))
}

/// The schema of `specs/sources.yaml`, compiled once.
pub fn sources_schema() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| compile("sources.schema.json"))
}

/// Validates a document, adding one located diagnostic per violation (an unknown field at its
/// key, with the closest valid name); returns where the violations are (JSON pointers).
pub fn validate(
    validator: &jsonschema::Validator,
    doc: &Located,
    diags: &mut Diagnostics,
) -> Vec<String> {
    let errors: Vec<_> = validator.iter_errors(&doc.value).collect();
    let meant: std::collections::HashSet<(String, String)> = errors
        .iter()
        .flat_map(schema_errors::misspellings)
        .map(|(at, _, meant)| (at, meant))
        .collect();
    for err in &errors {
        if !schema_errors::is_misspelt_required(err, &meant) {
            diags.0.extend(schema_errors::diagnostics_of(doc, err));
        }
    }
    errors
        .iter()
        .map(|e| e.instance_path().to_string())
        .collect()
}

/// Each unknown field of `doc` that misspells one the schema knows: (the mapping's pointer, the
/// key as written, the key as meant), so that a loader can type the rest of the document.
pub fn misspelt_keys(
    validator: &jsonschema::Validator,
    doc: &Located,
) -> Vec<(String, String, String)> {
    validator
        .iter_errors(&doc.value)
        .flat_map(|e| schema_errors::misspellings(&e))
        .collect()
}

/// A shipped schema by its `$id` (for the names a violation's hint lists).
fn schema_by_id(id: &str) -> Option<&'static serde_json::Value> {
    static SCHEMAS: OnceLock<Vec<serde_json::Value>> = OnceLock::new();
    let all = SCHEMAS.get_or_init(|| {
        [
            "spec.schema.json",
            "case.schema.json",
            "sources.schema.json",
        ]
        .map(bundled_schema)
        .into_iter()
        .collect()
    });
    all.iter()
        .find(|s| s.get("$id").and_then(serde_json::Value::as_str) == Some(id))
}
