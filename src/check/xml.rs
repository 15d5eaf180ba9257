//! XML answers mapped to JSON by one rule, so they are checked with the same schemas:
//!
//! - the root element is checked by name and then dropped: `<R><A>x</A></R>` → `{"A": "x"}`;
//! - an element with child elements becomes an object of its children;
//! - an element without child elements becomes its text as written, always a string (XML has
//!   no types); text beside child elements (indentation) is ignored;
//! - a name repeated among siblings becomes an array, in document order;
//! - attributes, comments, processing instructions and the declaration are ignored.

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::{Map, Value};

/// How deep elements may nest in an answer.
pub const MAX_DEPTH: usize = 128;

/// Parses an XML document: the root element's name and its content mapped to JSON.
pub fn to_json(text: &str) -> Result<(String, Value), String> {
    let mut reader = Reader::from_str(text);
    let mut stack: Open = Vec::new();
    let mut root: Option<(String, Value)> = None;
    loop {
        let pos = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed XML at byte {pos}: {e}"))?;
        match event {
            Event::Start(e) => {
                if root.is_some() {
                    return Err(format!("content after the root element at byte {pos}"));
                }
                // As deep as serde_json reads JSON: deeper values would exhaust the stack of
                // the code that walks or drops them.
                if stack.len() >= MAX_DEPTH {
                    return Err(format!(
                        "elements nested deeper than {MAX_DEPTH} at byte {pos}"
                    ));
                }
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                stack.push((name, Map::new(), String::new()));
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let value = Value::String(String::new());
                match stack.last_mut() {
                    Some((_, children, _)) => insert(children, name, value),
                    None if root.is_none() => root = Some((name, Value::Object(Map::new()))),
                    None => return Err(format!("content after the root element at byte {pos}")),
                }
            }
            Event::Text(t) => {
                let s = t
                    .xml_content()
                    .map_err(|e| format!("bad text at byte {pos}: {e}"))?;
                match stack.last_mut() {
                    Some((_, _, text)) => text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(format!("text outside the root element at byte {pos}")),
                }
            }
            Event::CData(t) => {
                if let Some((_, _, text)) = stack.last_mut() {
                    text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                let name = String::from_utf8_lossy(&r).into_owned();
                let ch = entity_text(&name, pos)?;
                if let Some((_, _, text)) = stack.last_mut() {
                    text.push_str(&ch);
                }
            }
            Event::End(_) => {
                let (name, value) = close_element(&mut stack, pos)?;
                match stack.last_mut() {
                    Some((_, siblings, _)) => insert(siblings, name, value),
                    None => root = Some((name, value)),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".into());
    }
    root.ok_or_else(|| "no root element".into())
}

/// Open elements: (name, children, text).
type Open = Vec<(String, Map<String, Value>, String)>;

/// Closes the innermost element: its name and value (an empty root is an empty object).
fn close_element(stack: &mut Open, pos: u64) -> Result<(String, Value), String> {
    let (name, children, text) = stack
        .pop()
        .ok_or_else(|| format!("unbalanced end tag at byte {pos}"))?;
    let value = if children.is_empty() {
        Value::String(text)
    } else {
        Value::Object(children)
    };
    let value = match value {
        Value::String(s) if s.is_empty() && stack.is_empty() => Value::Object(Map::new()),
        v => v,
    };
    Ok((name, value))
}

/// The text of an entity or character reference (`&amp;`, `&#38;`, `&#x26;`).
fn entity_text(name: &str, pos: u64) -> Result<String, String> {
    Ok(match name {
        "lt" => "<".to_string(),
        "gt" => ">".to_string(),
        "amp" => "&".to_string(),
        "apos" => "'".to_string(),
        "quot" => "\"".to_string(),
        n if n.starts_with('#') => {
            let code = if let Some(hex) = n.strip_prefix("#x") {
                u32::from_str_radix(hex, 16).ok()
            } else {
                n[1..].parse().ok()
            };
            code.and_then(char::from_u32)
                .map(String::from)
                .ok_or_else(|| format!("bad character reference &{n}; at byte {pos}"))?
        }
        n => return Err(format!("unknown entity &{n}; at byte {pos}")),
    })
}

fn insert(map: &mut Map<String, Value>, name: String, value: Value) {
    match map.get_mut(&name) {
        None => {
            map.insert(name, value);
        }
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}x{}", "<a>".repeat(300_000), "</a>".repeat(300_000));
        let e = to_json(&deep).unwrap_err();
        assert!(e.starts_with("elements nested deeper than 128"), "{e}");
        let ok = format!("{}x{}", "<a>".repeat(100), "</a>".repeat(100));
        assert!(to_json(&ok).is_ok());
    }

    #[test]
    fn maps_by_the_documented_rule() {
        let (root, v) = to_json("<?xml version=\"1.0\"?>\n<DeleteSourceServerResponse>\n  <RequestId>473469C7</RequestId>\n</DeleteSourceServerResponse>").unwrap();
        assert_eq!(root, "DeleteSourceServerResponse");
        assert_eq!(v, json!({"RequestId": "473469C7"}));
        let (_, v) = to_json("<E><A>1</A><A>2</A><B><C>x &amp; y</C></B><D/></E>").unwrap();
        assert_eq!(v, json!({"A": ["1", "2"], "B": {"C": "x & y"}, "D": ""}));
    }

    #[test]
    fn bad_xml_is_an_error() {
        assert!(to_json("<A><B></A>").unwrap_err().contains("malformed"));
        assert!(to_json("{\"RequestId\": 1}").is_err());
        assert!(to_json("<A>").is_err());
        assert!(to_json("").is_err());
    }
}
