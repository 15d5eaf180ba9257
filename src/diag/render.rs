//! Diagnostics as a person reads them, in the style of rustc: the `file:line:column: message`
//! header, the source line with a caret under the offending key or value, and the hint. Drawn
//! by `annotate-snippets`; coloured when asked ([`Color`]); the CLI
//! prints through `anstream`, which strips the colour where `--color`/`NO_COLOR`/the terminal say so.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::{elide_long_values, Diagnostic, Diagnostics};

/// Colour or plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Always,
    Never,
}

/// Every diagnostic, sorted by file and place, then the count: what `conform lint` prints.
pub fn render(diags: &Diagnostics, color: Color) -> String {
    let mut sorted = diags.clone();
    sorted.sort();
    let mut out = String::new();
    for d in &sorted.0 {
        out.push_str(&render_one(d, color));
        out.push('\n');
    }
    out.push_str(&summary(&sorted));
    out
}

/// `3 problems in 2 files`.
fn summary(diags: &Diagnostics) -> String {
    let mut files: Vec<_> = diags.0.iter().filter_map(|d| d.file.as_ref()).collect();
    files.sort();
    files.dedup();
    let problems = match diags.0.len() {
        1 => "1 problem".to_string(),
        n => format!("{n} problems"),
    };
    match files.len() {
        0 => problems,
        1 => format!("{problems} in 1 file"),
        n => format!("{problems} in {n} files"),
    }
}

/// One diagnostic: its header, then its line and caret when the line is known, then its hint.
pub fn render_one(d: &Diagnostic, color: Color) -> String {
    let renderer = match color {
        Color::Always => Renderer::styled(),
        Color::Never => Renderer::plain(),
    };
    let header = d.to_string();
    let mut group = Group::with_title(Level::ERROR.no_name().primary_title(header.as_str()));
    if let (Some(pos), Some(line)) = (d.pos, d.source_line.as_ref()) {
        let shown = line.text.as_str();
        let start = shown
            .char_indices()
            .nth(line.col.saturating_sub(1))
            .map_or(shown.len(), |(i, _)| i);
        let end = start + token_len(&shown[start..]);
        group = group.element(
            Snippet::source(shown)
                .line_start(pos.line)
                .annotation(AnnotationKind::Primary.span(start..end)),
        );
    }
    let hint = d.hint.as_deref().map(elide_long_values);
    if let Some(h) = &hint {
        group = group.element(Level::HELP.message(h.as_str()));
    }
    renderer.render(&[group]).trim_end().to_string()
}

/// How many bytes the key or scalar starting `rest` spans: a quoted scalar to its closing
/// quote, a plain one to where YAML ends it (`: `, `,`, `]`, `}`, ` #`); a bracket or a list
/// dash is one character.
fn token_len(rest: &str) -> usize {
    let mut chars = rest.char_indices();
    match chars.next() {
        None => 0,
        Some((_, q @ ('"' | '\''))) => {
            let mut escaped = false;
            for (i, c) in chars {
                if q == '"' && c == '\\' && !escaped {
                    escaped = true;
                    continue;
                }
                if c == q && !escaped {
                    return i + c.len_utf8();
                }
                escaped = false;
            }
            rest.len()
        }
        Some((_, c @ ('[' | '{' | '-' | '|' | '>'))) => c.len_utf8(),
        Some(_) => plain_len(rest),
    }
}

fn plain_len(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    let mut end = rest.len();
    for (i, b) in bytes.iter().enumerate() {
        let next = bytes.get(i + 1).copied();
        let ends = match b {
            b',' | b']' | b'}' => true,
            b':' => next.is_none_or(|n| n == b' '),
            b' ' => next == Some(b'#'),
            _ => false,
        };
        if ends {
            end = i;
            break;
        }
    }
    rest[..end].trim_end().len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Pos;
    use std::path::Path;

    fn shown(line: &str, col: usize, hint: Option<&str>) -> String {
        let mut d = Diagnostic::at(Path::new("c.yaml"), Pos::new(7, col), "msg");
        d.source_line = Some(Box::new(crate::diag::SourceLine::new(line, col)));
        d.hint = hint.map(String::from);
        render_one(&d, Color::Never)
    }

    #[test]
    fn a_key_is_underlined_with_the_hint_below() {
        let out = shown(
            "    expcet: {status: 200}",
            5,
            Some("did you mean `expect`?"),
        );
        assert_eq!(
            out,
            "c.yaml:7:5: msg\n  |\n7 |     expcet: {status: 200}\n  |     ^^^^^^\n  |\n  = help: did you mean `expect`?"
        );
    }

    #[test]
    fn values_quoted_plain_and_in_flow() {
        assert!(shown("  a: \"x, y\" # c", 6, None).ends_with("|      ^^^^^^"));
        assert!(shown("  p: {a: flying, b: 1}", 10, None).ends_with("|          ^^^^^^"));
        assert!(shown("  - [1, 2]", 5, None).ends_with("|     ^"));
        assert!(shown("  u: http://x:1/y", 6, None).ends_with("|      ^^^^^^^^^^^^"));
    }

    #[test]
    fn no_line_no_snippet_and_long_lines_are_windowed() {
        let d = Diagnostic::file(Path::new("c.yaml"), "cannot read");
        assert_eq!(render_one(&d, Color::Never), "c.yaml: cannot read");
        let long = format!("a: {}", "x".repeat(1_000_000));
        let out = shown(&long, 4, None);
        assert!(out.len() < 600, "{}", out.len());
        let out = shown("", 99, None);
        assert!(out.starts_with("c.yaml:7:99: msg"), "{out}");
    }

    #[test]
    fn the_count_closes_the_list_sorted() {
        let mut b = Diagnostic::at(Path::new("b.yaml"), Pos::new(1, 1), "second");
        b.source_line = Some(Box::new(crate::diag::SourceLine::new("x", 1)));
        let a = Diagnostic::at(Path::new("a.yaml"), Pos::new(3, 1), "first");
        let out = render(&Diagnostics(vec![b, a]), Color::Never);
        assert!(out.starts_with("a.yaml:3:1: first\n"), "{out}");
        assert!(out.ends_with("2 problems in 2 files"), "{out}");
    }
}
