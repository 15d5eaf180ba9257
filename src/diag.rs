//! Located diagnostics for case and spec files: `file:line:column: message`, with the line they
//! point into and a hint (did you mean, the valid names). Rendering with the source line and a
//! caret is [`render`]'s: the one place the CLI and the harness turn diagnostics into text.

pub mod render;

use std::fmt;
use std::path::{Path, PathBuf};

/// A file's path (as shown in diagnostics) and text: what a diagnostic's source line is read from.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

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
    /// What would fix it: "did you mean `expect`?", the valid names or values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Line `pos.line` as shown, once the file's text was at hand (see [`Diagnostics::attach_sources`]).
    #[serde(skip)]
    pub source_line: Option<Box<SourceLine>>,
}

/// The line a diagnostic points into, as shown: a long line is cut to a window around the
/// column (marked `…`), so that a hostile file of one huge line costs little per diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLine {
    pub text: String,
    /// The diagnostic's column within `text` (1-based, in characters).
    pub col: usize,
}

/// A line longer than this (in characters) is shown as a window around the column.
const MAX_SHOWN_LINE: usize = 160;

impl SourceLine {
    pub fn new(line: &str, col: usize) -> SourceLine {
        let col = col.saturating_sub(1);
        if line.len() <= MAX_SHOWN_LINE {
            let col = col.min(line.chars().count());
            return SourceLine {
                text: line.to_string(),
                col: col + 1,
            };
        }
        let from = col.saturating_sub(40);
        let mut text = String::new();
        if from > 0 {
            text.push('…');
        }
        let shown: String = line.chars().skip(from).take(MAX_SHOWN_LINE).collect();
        let caret = (col - from).min(shown.chars().count()) + usize::from(from > 0);
        let cut = line.chars().nth(from + MAX_SHOWN_LINE).is_some();
        text.push_str(&shown);
        if cut {
            text.push('…');
        }
        SourceLine {
            text,
            col: caret + 1,
        }
    }
}

impl Diagnostic {
    pub fn at(file: &Path, pos: Pos, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: Some(file.to_path_buf()),
            pos: Some(pos),
            message: message.into(),
            hint: None,
            source_line: None,
        }
    }

    pub fn file(file: &Path, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: Some(file.to_path_buf()),
            pos: None,
            message: message.into(),
            hint: None,
            source_line: None,
        }
    }

    /// The same diagnostic with a hint (one is kept: the last given).
    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    /// Keeps the line the diagnostic points at, from the text of its file.
    pub fn attach_source(&mut self, text: &str) {
        if self.source_line.is_some() {
            return;
        }
        if let Some(pos) = self.pos {
            self.source_line = text
                .split('\n')
                .nth(pos.line.saturating_sub(1))
                .map(|l| Box::new(SourceLine::new(l.strip_suffix('\r').unwrap_or(l), pos.col)));
        }
    }
}

/// A hint for a name that is not one of `known`: the closest name when one is close
/// ("did you mean `expect`?"), else every name ("expected one of `a`, `b`"). None when nothing
/// is known.
pub fn suggest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut known: Vec<&str> = known.into_iter().collect();
    let mut seen = std::collections::HashSet::new();
    known.retain(|k| seen.insert(*k));
    if known.is_empty() {
        return None;
    }
    Some(match closest(name, known.iter().copied()) {
        Some(k) => format!("did you mean `{k}`?"),
        None => format!("expected one of {}", quoted_list(&known)),
    })
}

/// The name of `known` close enough to `name` to be what was meant, if one is.
pub fn closest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (strsim::normalized_damerau_levenshtein(name, k), k))
        .filter(|(score, _)| *score >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// `a`, `b`, `c` (long lists cut, with the count of the rest).
pub fn quoted_list(names: &[&str]) -> String {
    const MAX: usize = 24;
    let mut out: Vec<String> = names.iter().take(MAX).map(|n| format!("`{n}`")).collect();
    if names.len() > MAX {
        out.push(format!("and {} more", names.len() - MAX));
    }
    out.join(", ")
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
    /// Keeps, in each diagnostic, the line it points at, from the file of the same path.
    pub fn attach_sources(&mut self, files: &[SourceFile]) {
        // Each file split into lines once: a file may have a problem on each of many lines.
        let mut lines: std::collections::HashMap<&Path, Vec<&str>> = Default::default();
        for d in &mut self.0 {
            let (Some(path), Some(pos)) = (&d.file, d.pos) else {
                continue;
            };
            if d.source_line.is_some() {
                continue;
            }
            let Some(f) = files.iter().find(|f| &f.path == path) else {
                continue;
            };
            let of_file = lines
                .entry(f.path.as_path())
                .or_insert_with(|| f.text.split('\n').collect());
            if let Some(line) = of_file.get(pos.line.saturating_sub(1)) {
                let line = line.strip_suffix('\r').unwrap_or(line);
                d.source_line = Some(Box::new(SourceLine::new(line, pos.col)));
            }
        }
    }

    /// By file, then line and column (stable: problems at one place keep their order).
    pub fn sort(&mut self) {
        self.0
            .sort_by(|a, b| (&a.file, a.pos).cmp(&(&b.file, b.pos)));
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

    #[test]
    fn suggestions_name_the_closest_or_all() {
        let fields = ["name", "expect", "request", "then"];
        assert_eq!(
            suggest("expcet", fields).as_deref(),
            Some("did you mean `expect`?")
        );
        assert_eq!(
            suggest("zzz", fields).as_deref(),
            Some("expected one of `name`, `expect`, `request`, `then`")
        );
        assert_eq!(suggest("x", []), None);
        // Sharing a prefix is not being close.
        assert_eq!(
            suggest("SMS.99999", ["SMS.9004", "SMS.1810", "SMS.9004"]).as_deref(),
            Some("expected one of `SMS.9004`, `SMS.1810`")
        );
    }

    #[test]
    fn the_source_line_is_attached_and_sorting_is_by_place() {
        let mut d = Diagnostic::at(Path::new("a.yaml"), Pos::new(2, 1), "m");
        d.attach_source("one\r\ntwo\r\n");
        assert_eq!(d.source_line.map(|l| l.text).as_deref(), Some("two"));
        let long = format!("k: {}", "é".repeat(1_000_000));
        let line = SourceLine::new(&long, 500_000);
        assert!(line.text.starts_with('…') && line.text.ends_with('…'));
        assert_eq!(line.col, 42);
        assert_eq!(SourceLine::new("ab", 99).col, 3);
        let mut all = Diagnostics(vec![
            Diagnostic::at(Path::new("b.yaml"), Pos::new(1, 1), "b"),
            Diagnostic::at(Path::new("a.yaml"), Pos::new(9, 1), "a9"),
            Diagnostic::at(Path::new("a.yaml"), Pos::new(2, 3), "a2"),
        ]);
        all.sort();
        let order: Vec<_> = all.0.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(order, ["a2", "a9", "b"]);
    }
}
