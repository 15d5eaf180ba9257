//! Applying an [`AnswerEdit`] to a body: JSON is edited as a value; XML is rewritten event by
//! event (a top-level element dropped, the root renamed). XML has no types, so a retype leaves
//! an XML body as it is.

use quick_xml::events::{BytesEnd, BytesStart, Event};
use quick_xml::{Reader, Writer};
use serde_json::Value;

use super::catalogue::AnswerEdit;

/// The edited body, or `None` when the edit does not apply to it.
pub fn edit_body(edit: &AnswerEdit, body: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(body).ok()?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let mut v: Value = serde_json::from_str(text).ok()?;
        let obj = v.as_object_mut()?;
        match edit {
            AnswerEdit::DropField { field } => {
                obj.remove(field)?;
            }
            AnswerEdit::Retype { field, value } | AnswerEdit::Replace { field, value } => {
                *obj.get_mut(field)? = value.clone();
            }
            _ => return None,
        }
        return serde_json::to_vec(&v).ok();
    }
    if trimmed.starts_with('<') {
        return match edit {
            AnswerEdit::DropField { field } => rewrite_xml(text, |depth, name| {
                (depth == 1 && name == field).then_some(None)
            }),
            AnswerEdit::RenameXmlRoot { from, to } => rewrite_xml(text, |depth, name| {
                (depth == 0 && name == from).then(|| Some(to.clone()))
            }),
            AnswerEdit::UnescapeXml => unescape_xml(text),
            _ => None,
        };
    }
    None
}

/// The XML with its character references written raw (what an emulator that does not escape
/// would send); `None` when it has none.
fn unescape_xml(text: &str) -> Option<Vec<u8>> {
    let refs = [
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&apos;", "'"),
        ("&amp;", "&"),
    ];
    if !refs.iter().any(|(r, _)| text.contains(r)) {
        return None;
    }
    let out = refs
        .iter()
        .fold(text.to_string(), |t, (r, raw)| t.replace(r, raw));
    Some(out.into_bytes())
}

/// Rewrites XML; `decide(depth, name)` returns `Some(None)` to drop an element, `Some(Some(n))`
/// to rename it, `None` to keep it. Returns `None` when nothing was changed.
fn rewrite_xml(
    text: &str,
    decide: impl Fn(usize, &str) -> Option<Option<String>>,
) -> Option<Vec<u8>> {
    let mut reader = Reader::from_str(text);
    let mut writer = Writer::new(Vec::new());
    let mut depth = 0usize;
    let mut skipping: Option<usize> = None;
    let mut renamed: Vec<Option<String>> = Vec::new();
    let mut changed = false;
    loop {
        let event = reader.read_event().ok()?;
        match event {
            Event::Eof => break,
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if skipping.is_none() {
                    match decide(depth, &name) {
                        Some(None) => {
                            skipping = Some(depth);
                            changed = true;
                        }
                        Some(Some(new)) => {
                            writer
                                .write_event(Event::Start(BytesStart::new(new.clone())))
                                .ok()?;
                            renamed.push(Some(new));
                            changed = true;
                        }
                        None => {
                            writer.write_event(Event::Start(e.clone())).ok()?;
                            renamed.push(None);
                        }
                    }
                }
                depth += 1;
            }
            Event::End(e) => {
                depth -= 1;
                match skipping {
                    Some(d) if d == depth => skipping = None,
                    Some(_) => {}
                    None => match renamed.pop().flatten() {
                        Some(new) => writer.write_event(Event::End(BytesEnd::new(new))).ok()?,
                        None => writer.write_event(Event::End(e)).ok()?,
                    },
                }
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if skipping.is_none() {
                    match decide(depth, &name) {
                        Some(None) => changed = true,
                        Some(Some(new)) => {
                            writer
                                .write_event(Event::Empty(BytesStart::new(new)))
                                .ok()?;
                            changed = true;
                        }
                        None => writer.write_event(Event::Empty(e)).ok()?,
                    }
                }
            }
            other => {
                if skipping.is_none() {
                    writer.write_event(other).ok()?;
                }
            }
        }
    }
    changed.then(|| writer.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_edits() {
        let body = br#"{"RequestId":"A","Code":"X"}"#;
        let out = edit_body(
            &AnswerEdit::DropField {
                field: "RequestId".into(),
            },
            body,
        )
        .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&out).unwrap(),
            json!({"Code": "X"})
        );
        let out = edit_body(
            &AnswerEdit::Retype {
                field: "RequestId".into(),
                value: json!(5),
            },
            body,
        )
        .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&out).unwrap(),
            json!({"RequestId": 5, "Code": "X"})
        );
        assert!(edit_body(
            &AnswerEdit::DropField {
                field: "Nope".into()
            },
            body
        )
        .is_none());
    }

    #[test]
    fn xml_edits() {
        let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><RequestId>A</RequestId><Code>X</Code></Error>";
        let out = edit_body(
            &AnswerEdit::DropField {
                field: "RequestId".into(),
            },
            body,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>X</Code></Error>"
        );
        let out = edit_body(
            &AnswerEdit::RenameXmlRoot {
                from: "Error".into(),
                to: "Oops".into(),
            },
            body,
        )
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Oops><RequestId>A</RequestId><Code>X</Code></Oops>");
        assert!(edit_body(
            &AnswerEdit::RenameXmlRoot {
                from: "Other".into(),
                to: "X".into()
            },
            body
        )
        .is_none());
        assert!(edit_body(
            &AnswerEdit::Retype {
                field: "Code".into(),
                value: json!(1)
            },
            body
        )
        .is_none());
    }
}
