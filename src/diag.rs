//! Located diagnostics for case and spec files: `file:line:column: message`.

use std::fmt;
use std::path::{Path, PathBuf};

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    pub fn new(line: usize, col: usize) -> Pos {
        Pos { line, col }
    }
}

/// One problem found in a file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub file: Option<PathBuf>,
    pub pos: Option<Pos>,
    pub message: String,
}

impl Diagnostic {
    pub fn at(file: &Path, pos: Pos, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: Some(file.to_path_buf()),
            pos: Some(pos),
            message: message.into(),
        }
    }

    pub fn file(file: &Path, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: Some(file.to_path_buf()),
            pos: None,
            message: message.into(),
        }
    }
}

/// A word (a run without spaces) longer than this is elided in diagnostics.
const MAX_WORD: usize = 120;
/// A diagnostic's message is cut here: a value quoted from a file can be megabytes long.
const MAX_MESSAGE: usize = 2000;

/// A message with long values elided (`abc… (12345 characters)`), and cut as a whole.
pub fn elide_long_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_MESSAGE + 64));
    for (i, word) in message.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let n = word.chars().count();
        if n > MAX_WORD {
            out.extend(word.chars().take(MAX_WORD / 2));
            out.push_str(&format!("… ({n} characters)"));
        } else {
            out.push_str(word);
        }
        if out.len() > MAX_MESSAGE {
            break;
        }
    }
    if out.len() > MAX_MESSAGE {
        let cut = (0..=MAX_MESSAGE)
            .rev()
            .find(|i| out.is_char_boundary(*i))
            .unwrap_or(0);
        out.truncate(cut);
        out.push_str(&format!("… (message of {} bytes cut)", message.len()));
    }
    out
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = elide_long_values(&self.message);
        match (&self.file, self.pos) {
            (Some(file), Some(p)) => {
                write!(f, "{}:{}:{}: {}", file.display(), p.line, p.col, message)
            }
            (Some(file), None) => write!(f, "{}: {}", file.display(), message),
            _ => write!(f, "{}", message),
        }
    }
}

impl std::error::Error for Diagnostic {}

/// Every problem found while loading a set of files; loading reports them all, not the first.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn into_result<T>(self, ok: T) -> Result<T, Diagnostics> {
        if self.0.is_empty() {
            Ok(ok)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        write!(f, "{} problem(s)", self.0.len())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_elided() {
        let long = "x".repeat(10_000_000);
        let d = Diagnostic::at(
            Path::new("c.yaml"),
            Pos::new(3, 4),
            format!("unknown field `{long}`, expected one of `a`"),
        );
        let shown = d.to_string();
        assert!(shown.len() < 300, "{}", shown.len());
        assert!(
            shown.starts_with("c.yaml:3:4: unknown field `xxx"),
            "{shown}"
        );
        assert!(
            shown.contains("… (10000003 characters) expected one of `a`"),
            "{shown}"
        );
        let many = "word ".repeat(2_000);
        assert!(elide_long_values(&many).ends_with("(message of 10000 bytes cut)"));
        assert_eq!(elide_long_values("short `msg`"), "short `msg`");
    }
}
