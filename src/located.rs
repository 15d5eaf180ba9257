//! YAML documents read into `serde_json::Value` together with the source position of every
//! node, so that schema violations, type errors and broken references found later can be
//! reported as `file:line:column`.

use std::path::{Path, PathBuf};

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diag::{Diagnostic, Pos};

/// A parsed YAML file: its value and where each node starts.
#[derive(Debug, Clone)]
pub struct Located {
    pub path: PathBuf,
    pub value: Value,
    /// Positions in a tree parallel to `value` (no string per node: loading is on the hot path
    /// of large suites).
    positions: PosNode,
}

/// Where a node starts, where its key is (for mapping entries), and its children in the order
/// of the value's array items or object entries.
#[derive(Debug, Clone, Default)]
struct PosNode {
    pos: Pos,
    key: Option<Pos>,
    children: Vec<PosNode>,
}

impl Default for Pos {
    fn default() -> Self {
        Pos::new(1, 1)
    }
}

impl Located {
    /// Parses one YAML document. Anchors and aliases are refused: a case file should read the
    /// same to a person and to the loader.
    pub fn parse(path: &Path, text: &str) -> Result<Located, Diagnostic> {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(text);
        // Events are pulled here rather than with `Parser::load`, which recurses once per
        // nesting level: a deeply nested file would overflow the stack before any limit.
        loop {
            let (event, mark) = parser.next_token().map_err(|e| {
                let m = e.marker();
                Diagnostic::at(
                    path,
                    Pos::new(m.line(), m.col() + 1),
                    format!("YAML syntax: {}", e.info()),
                )
            })?;
            // One document: the first one's end ends the reading.
            if matches!(event, Event::StreamEnd | Event::DocumentEnd) {
                break;
            }
            builder.on_event(event, mark);
            if builder.error.is_some() {
                break;
            }
        }
        if let Some((pos, msg)) = builder.error {
            return Err(Diagnostic::at(path, pos, msg));
        }
        let (value, positions) = builder.root.unwrap_or((Value::Null, PosNode::default()));
        Ok(Located {
            path: path.to_path_buf(),
            value,
            positions,
        })
    }

    /// Reads and parses a file.
    pub fn read(path: &Path) -> Result<Located, Diagnostic> {
        Located::parse(path, &read_text(path)?)
    }

    /// The deepest node on the way to `pointer` (the node itself when it exists).
    fn walk(&self, pointer: &str) -> &PosNode {
        let mut value = &self.value;
        let mut node = &self.positions;
        for token in pointer.split('/').skip(1) {
            let token = token.replace("~1", "/").replace("~0", "~");
            let index = match value {
                Value::Object(map) => map.keys().position(|k| *k == token),
                Value::Array(items) => token.parse::<usize>().ok().filter(|i| *i < items.len()),
                _ => None,
            };
            let (Some(i), Some(child)) = (index, index.and_then(|i| node.children.get(i))) else {
                break;
            };
            value = match value {
                Value::Object(map) => map.values().nth(i).expect("index from the keys"),
                Value::Array(items) => &items[i],
                _ => unreachable!("only containers have children"),
            };
            node = child;
        }
        node
    }

    /// The position of the node at `pointer`, or of its nearest ancestor that has one.
    pub fn pos(&self, pointer: &str) -> Pos {
        self.walk(pointer).pos
    }

    /// A diagnostic located at the key of the mapping entry `pointer` (for a wrong name).
    pub fn error_at_key(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        let node = self.walk(pointer);
        Diagnostic::at(&self.path, node.key.unwrap_or(node.pos), message)
    }

    /// A diagnostic located at the node `pointer`.
    pub fn error_at(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::at(&self.path, self.pos(pointer), message)
    }

    /// Deserializes the node at `pointer` into `T`; a type error points at the offending node.
    pub fn deserialize_at<T: serde::de::DeserializeOwned>(
        &self,
        pointer: &str,
    ) -> Result<T, Diagnostic> {
        let value = self.value.pointer(pointer).unwrap_or(&Value::Null);
        serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
            let inner = path_to_pointer(e.path());
            self.type_error(&format!("{pointer}{inner}"), e.inner().to_string())
        })
    }

    /// A type error from serde at `pointer`: an unknown field at its key, and for an unknown
    /// field or variant the closest expected name as the hint.
    fn type_error(&self, pointer: &str, message: String) -> Diagnostic {
        let Some((name, expected)) = unknown_name(&message) else {
            return self.error_at(pointer, message);
        };
        // serde_path_to_error's path ends at the unknown field itself, or at its mapping.
        let token = format!("/{}", escape_pointer(name));
        let field = match pointer.ends_with(&token) {
            true => pointer.to_string(),
            false => format!("{pointer}{token}"),
        };
        let is_field = message.starts_with("unknown field") && self.value.pointer(&field).is_some();
        let d = match is_field {
            true => self.error_at_key(&field, message.clone()),
            false => self.error_at(pointer, message.clone()),
        };
        match crate::diag::suggest(name, expected.iter().copied()) {
            Some(hint) if hint.starts_with("did you mean") => d.with_hint(hint),
            _ => d,
        }
    }

    /// Deserializes the whole document into `T`; a type error points at the offending node.
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> Result<T, Diagnostic> {
        serde_path_to_error::deserialize::<_, T>(&self.value).map_err(|e| {
            let pointer = path_to_pointer(e.path());
            self.type_error(&pointer, e.inner().to_string())
        })
    }
}

/// The name and the expected names of serde's "unknown field `x`, expected one of `a`, `b`"
/// (or "unknown variant …", or "expected `a` or `b`").
fn unknown_name(message: &str) -> Option<(&str, Vec<&str>)> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))?;
    let (name, expected) = rest.split_once('`')?;
    let names = expected.split('`').skip(1).step_by(2).collect();
    Some((name, names))
}

/// Converts serde_path_to_error's `a.b[0].c` into the JSON pointer `/a/b/0/c`.
fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push('/');
                out.push_str(&escape_pointer(key));
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// Escapes one JSON-pointer reference token (RFC 6901).
pub fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// How deep YAML may nest in conform files: far more than any spec or case needs, and far
/// from what would exhaust the stack of code that walks the values recursively.
pub const MAX_DEPTH: usize = 64;

/// Reads a text file; invalid UTF-8 is reported at its line and column.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let bytes =
        std::fs::read(path).map_err(|e| Diagnostic::file(path, format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        // Columns count characters, as the YAML positions do.
        let col = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1;
        let mut d = Diagnostic::at(
            path,
            Pos::new(line, col),
            "invalid UTF-8: the file must be UTF-8 text",
        );
        d.attach_source(&String::from_utf8_lossy(e.as_bytes()));
        d
    })
}

enum Frame {
    Seq(Vec<Value>, PosNode),
    /// The map, its positions, and the key being read (with its position).
    Map(Map<String, Value>, PosNode, Option<(String, Pos)>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<(Value, PosNode)>,
    error: Option<(Pos, String)>,
}

impl Builder {
    fn fail(&mut self, mark: Marker, msg: &str) {
        if self.error.is_none() {
            self.error = Some((Pos::new(mark.line(), mark.col() + 1), msg.to_string()));
        }
    }

    fn is_key_position(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map(_, _, None)))
    }

    /// A finished value (scalar or container) with its positions.
    fn push_value(&mut self, value: Value, mut node: PosNode, mark: Marker) {
        match self.stack.last_mut() {
            None => self.root = Some((value, node)),
            Some(Frame::Seq(items, pos)) => {
                items.push(value);
                pos.children.push(node);
            }
            Some(Frame::Map(map, pos, key)) => {
                let Some((k, key_pos)) = key.take() else {
                    return self.fail(mark, "mapping keys must be plain strings");
                };
                node.key = Some(key_pos);
                map.insert(k, value);
                pos.children.push(node);
            }
        }
    }

    /// A key of the current mapping.
    fn push_key(&mut self, text: String, pos: Pos, mark: Marker) {
        let Some(Frame::Map(map, node, key)) = self.stack.last_mut() else {
            return;
        };
        if map.contains_key(&text) {
            let msg = format!("duplicate key `{text}`");
            return self.fail(mark, &msg);
        }
        // A block mapping's start event is marked after its first key; the key itself is
        // where a reader sees the mapping begin.
        if map.is_empty() {
            node.pos = pos;
        }
        *key = Some((text, pos));
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let pos = Pos::new(mark.line(), mark.col() + 1);
        let at = PosNode {
            pos,
            key: None,
            children: Vec::new(),
        };
        match ev {
            Event::Scalar(text, style, anchor, _tag) => {
                if anchor != 0 {
                    return self.fail(mark, "anchors are not supported in conform files");
                }
                if self.is_key_position() {
                    self.push_key(text, pos, mark);
                } else {
                    self.push_value(scalar(text, style), at, mark);
                }
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) if anchor != 0 => {
                self.fail(mark, "anchors are not supported in conform files")
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if self.is_key_position() => {
                self.fail(mark, "mapping keys must be plain strings")
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if self.stack.len() >= MAX_DEPTH => {
                self.fail(
                    mark,
                    &format!("nested deeper than {MAX_DEPTH} levels (the limit of conform files)"),
                )
            }
            Event::SequenceStart(..) => self.stack.push(Frame::Seq(Vec::new(), at)),
            Event::MappingStart(..) => self.stack.push(Frame::Map(Map::new(), at, None)),
            Event::SequenceEnd => {
                if let Some(Frame::Seq(items, node)) = self.stack.pop() {
                    self.push_value(Value::Array(items), node, mark);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map(map, node, _)) = self.stack.pop() {
                    self.push_value(Value::Object(map), node, mark);
                }
            }
            Event::Alias(_) => self.fail(mark, "aliases are not supported in conform files"),
            _ => {}
        }
    }
}

/// Plain scalars follow the YAML 1.2 core schema; quoted and block scalars are strings.
fn scalar(text: String, style: TScalarStyle) -> Value {
    if style != TScalarStyle::Plain {
        return Value::String(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let looks_numeric = text
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || b == b'-' || b == b'+');
    if looks_numeric {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Number(i.into());
        }
        if let Ok(f) = text.parse::<f64>() {
            if let Some(n) = Number::from_f64(f) {
                return Value::Number(n);
            }
        }
    }
    Value::String(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Located, Diagnostic> {
        Located::parse(Path::new("t.yaml"), text)
    }

    #[test]
    fn values_and_positions() {
        let doc = parse("a: 1\nb:\n  - x\n  - 'true'\n  - true\nc: ~\n").unwrap();
        assert_eq!(
            doc.value,
            serde_json::json!({"a": 1, "b": ["x", "true", true], "c": null})
        );
        assert_eq!(doc.pos("/a"), Pos::new(1, 4));
        assert_eq!(doc.pos("/b"), Pos::new(3, 3));
        assert_eq!(doc.pos("/b/1"), Pos::new(4, 5));
        // A pointer below a scalar falls back to the scalar.
        assert_eq!(doc.pos("/b/1/zz"), Pos::new(4, 5));
        assert_eq!(doc.error_at_key("/b", "x").pos, Some(Pos::new(2, 1)));
    }

    #[test]
    fn syntax_error_is_located() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(err.file.as_deref(), Some(Path::new("t.yaml")));
        assert!(err.pos.is_some());
        assert!(err.message.starts_with("YAML syntax"), "{err}");
    }

    #[test]
    fn duplicate_keys_and_anchors_are_refused() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.pos, Some(Pos::new(3, 1)));
        assert!(err.message.contains("duplicate key `a`"));
        let err = parse("a: &x 1\nb: *x\n").unwrap_err();
        assert!(err.message.contains("anchors"), "{err}");
    }

    #[test]
    fn deep_nesting_is_a_located_error_not_a_crash() {
        for text in [
            format!("a: {}1{}\n", "[".repeat(100_000), "]".repeat(100_000)),
            format!("a: {}\n", "{b: ".repeat(5_000)),
            (0..3_000)
                .map(|i| format!("{}- \n", "  ".repeat(i)))
                .collect::<String>(),
        ] {
            let err = parse(&text).unwrap_err();
            assert!(err.pos.is_some(), "{err}");
            assert!(
                err.message.contains("nested deeper than 64")
                    || err.message.starts_with("YAML syntax"),
                "{err}"
            );
        }
        let ok = format!("a: {}1{}\n", "[".repeat(60), "]".repeat(60));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn invalid_utf8_is_located() {
        let dir = std::env::temp_dir().join(format!("conform-utf8-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("bad.yaml");
        std::fs::write(&p, b"a: 1\nb: x\xc3\x28y\n").unwrap();
        let err = read_text(&p).unwrap_err();
        assert_eq!(err.pos, Some(Pos::new(2, 5)), "{err}");
        assert!(err.message.contains("invalid UTF-8"), "{err}");
    }

    #[test]
    fn unknown_names_from_serde_get_a_hint_at_their_key() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct T {
            signing: Mode,
            #[serde(default)]
            region: Option<String>,
        }
        #[derive(serde::Deserialize, Debug)]
        #[serde(rename_all = "lowercase")]
        enum Mode {
            Aksk,
            Token,
        }
        let doc = parse("signing: akskk\n").unwrap();
        let err = doc.deserialize::<T>().unwrap_err();
        assert_eq!(err.pos, Some(Pos::new(1, 10)), "{err}");
        assert_eq!(err.hint.as_deref(), Some("did you mean `aksk`?"));
        let doc = parse("signing: aksk\nregoin: x\n").unwrap();
        let err = doc.deserialize::<T>().unwrap_err();
        assert_eq!(err.pos, Some(Pos::new(2, 1)), "{err}");
        assert_eq!(err.hint.as_deref(), Some("did you mean `region`?"));
        assert_eq!(
            unknown_name("unknown field `x`, expected `a` or `b`"),
            Some(("x", vec!["a", "b"]))
        );
    }

    #[test]
    fn type_errors_point_at_the_node() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            items: Vec<Item>,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Item {
            n: u32,
        }
        let doc = parse("items:\n  - n: 1\n  - n: nope\n").unwrap();
        let err = doc.deserialize::<T>().unwrap_err();
        assert_eq!(err.pos, Some(Pos::new(3, 8)), "{err}");
        assert!(err.to_string().starts_with("t.yaml:3:8: "), "{err}");
    }
}
