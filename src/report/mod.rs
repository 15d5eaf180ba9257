//! Reports of a run: one file per format. Every text here has passed through the run's
//! redactor already (see `run::exec`).

pub mod json;
pub mod junit;
pub mod terminal;

use std::path::Path;

/// Writes a report atomically: a temporary file beside the target, then a rename, so a reader
/// never sees half a report.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("report"),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
