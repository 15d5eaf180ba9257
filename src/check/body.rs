//! Reading an answer's body as the spec says it is: JSON, XML (mapped to JSON), text, or
//! empty. A body that cannot be read so is a failure of `body-format`.

use serde_json::Value;

use super::body_format::NAME;
use super::{xml, Failure};
use crate::case::model::Format;
use crate::spec::model::BodyKind;

/// The body as JSON, ready for schemas and pointers.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub value: Value,
    /// The XML root element, when the body was XML.
    pub xml_root: Option<String>,
}

/// How much of a body failure messages show.
pub const SHOWN: usize = 600;

/// A body cut to a sane length for messages, on a character boundary.
pub fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.len() <= SHOWN {
        return text.into_owned();
    }
    let cut = (0..=SHOWN)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    format!("{}… ({} bytes in all)", &text[..cut], bytes.len())
}

/// Decodes a body of the given kind. `format` is the Alibaba format the request asked for.
pub fn decode(kind: BodyKind, format: Option<Format>, bytes: &[u8]) -> Result<Decoded, Failure> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Failure::new(NAME, "", "UTF-8 text", format!("invalid UTF-8 ({e})")))?;
    let json = |text: &str| {
        serde_json::from_str::<Value>(text)
            .map(|value| Decoded {
                value,
                xml_root: None,
            })
            .map_err(|e| {
                Failure::new(
                    NAME,
                    "",
                    "a JSON document",
                    format!("{e}: {}", shown(bytes)),
                )
            })
    };
    match (kind, format) {
        (BodyKind::Json, _) | (BodyKind::XmlOrJson, None | Some(Format::Json)) => json(text),
        (BodyKind::XmlOrJson, Some(Format::Xml)) => xml::to_json(text)
            .map(|(root, value)| Decoded {
                value,
                xml_root: Some(root),
            })
            .map_err(|e| {
                Failure::new(
                    NAME,
                    "",
                    "an XML document",
                    format!("{e}: {}", shown(bytes)),
                )
            }),
        // A text body that happens to be JSON is read as JSON, so a schema of `type: string`
        // catches an object where text is due.
        (BodyKind::Text, _) => Ok(Decoded {
            value: serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())),
            xml_root: None,
        }),
        (BodyKind::Empty, _) if text.trim().is_empty() => Ok(Decoded {
            value: Value::Null,
            xml_root: None,
        }),
        (BodyKind::Empty, _) => Err(Failure::new(NAME, "", "an empty body", shown(bytes))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_each_kind() {
        let d = decode(
            BodyKind::XmlOrJson,
            Some(Format::Json),
            br#"{"RequestId":"a"}"#,
        )
        .unwrap();
        assert_eq!(d.value, json!({"RequestId": "a"}));
        let d = decode(
            BodyKind::XmlOrJson,
            Some(Format::Xml),
            b"<R><RequestId>a</RequestId></R>",
        )
        .unwrap();
        assert_eq!(
            (d.value, d.xml_root.as_deref()),
            (json!({"RequestId": "a"}), Some("R"))
        );
        let f = decode(
            BodyKind::XmlOrJson,
            Some(Format::Xml),
            br#"{"RequestId":"a"}"#,
        )
        .unwrap_err();
        assert_eq!(f.expected, "an XML document");
        let f = decode(BodyKind::Json, None, b"<R/>").unwrap_err();
        assert_eq!(f.expected, "a JSON document");
        assert_eq!(
            decode(BodyKind::Text, None, b"deleted").unwrap().value,
            json!("deleted")
        );
        assert_eq!(decode(BodyKind::Text, None, b"").unwrap().value, json!(""));
        assert_eq!(
            decode(BodyKind::Text, None, br#"{"a":1}"#).unwrap().value,
            json!({"a": 1})
        );
        assert!(decode(BodyKind::Empty, None, b"x").is_err());
        assert!(decode(BodyKind::Json, None, &[0xff, 0xfe])
            .unwrap_err()
            .actual
            .contains("UTF-8"));
    }

    #[test]
    fn shown_is_cut_on_a_character_boundary() {
        let long = "é".repeat(1000);
        assert!(shown(long.as_bytes()).ends_with("(2000 bytes in all)"));
    }
}
