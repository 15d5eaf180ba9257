//! Answers before they go out, error lookup in the catalogue, and bodies shaped by the spec's
//! schemas.

use bytes::Bytes;
use serde_json::{Map, Value};

pub use crate::spec::model::Format;
use crate::spec::model::{ErrorRole, OperationSpec};
use crate::spec::Service;

/// The emulator's response before it goes out (and before the answer layer sees it).
#[derive(Debug, Clone, PartialEq)]
pub struct EmulatorAnswer {
    pub status: u16,
    /// Header names as sent (`Content-Type`, `X-Request-Id`).
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl EmulatorAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Replaces (or adds) a header.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.into()));
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// What an answer is for, as the answer layer sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerContext {
    /// Service name (`alibaba-smc`); empty when no service could be told.
    pub service: String,
    /// Operation, when the request was routed to one.
    pub operation: Option<String>,
    /// Format of the body (Huawei answers are always JSON).
    pub format: Format,
    pub request_id: String,
    /// The error code answered, if an error.
    pub error_code: Option<String>,
    /// The situation, for errors from fixed checks (`None` for state rules and successes).
    pub error_role: Option<ErrorRole>,
}

/// An error as the catalogue gives it, message filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorAnswer {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// Schema of the body when it is more than the envelope.
    pub schema: Option<String>,
    pub role: Option<ErrorRole>,
}

/// Values a catalogue message may name as `{param}`, `{value}`, `{string_to_sign}`,
/// `{action}`, `{method}`, `{path}`, `{state}`, `{status}`.
pub type MessageVars<'a> = &'a [(&'a str, &'a str)];

/// Fills `{name}` placeholders (unknown ones stay), then each `%s` in turn with the values of
/// `vars` in order (the catalogue's Alibaba messages use `%s`: the parameter name of
/// `MissingParameter`, the string to sign of `SignatureDoesNotMatch`).
pub fn render_message(template: &str, vars: MessageVars<'_>) -> String {
    if !template.contains('{') && !template.contains("%s") {
        return template.to_string();
    }
    let mut out = template.to_string();
    for (name, value) in vars {
        let placeholder = format!("{{{name}}}");
        if out.contains(&placeholder) {
            out = out.replace(&placeholder, value);
        }
    }
    if out.contains("%s") {
        let mut values = vars.iter().map(|(_, v)| *v);
        let mut filled = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(i) = rest.find("%s") {
            filled.push_str(&rest[..i]);
            filled.push_str(values.next().unwrap_or(""));
            rest = &rest[i + 2..];
        }
        filled.push_str(rest);
        out = filled;
    }
    out
}

fn default_status(role: ErrorRole) -> u16 {
    use ErrorRole::*;
    match role {
        StateRule | MissingParameter | InvalidParameter | MalformedRequest | NonceUsed => 400,
        MissingCredentials | SignatureMismatch | UnknownAccessKey | ExpiredTimestamp
        | InvalidToken => 401,
        Forbidden => 403,
        NotFound | UnknownAction | RouteNotFound => 404,
        MethodNotAllowed => 405,
        Conflict => 409,
        InternalError => 500,
        ServiceUnavailable => 503,
    }
}

fn role_name(role: ErrorRole) -> String {
    serde_json::to_value(role)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{role:?}"))
}

/// How the code of a stand-in error begins (`Emulator.<role>`): the spec has no error for it.
pub const STAND_IN_PREFIX: &str = "Emulator.";

/// The catalogue's error for a situation (operation first, then service). A catalogue without
/// one gets a stand-in `Emulator.<role>` error with a plausible status (the server reports the
/// first one to its event sink): that is a gap in the spec data.
pub fn by_role(
    service: &Service,
    op: Option<&OperationSpec>,
    role: ErrorRole,
    vars: MessageVars<'_>,
) -> ErrorAnswer {
    match service.error_for(op, role) {
        Some(e) => {
            let mut message = render_message(&e.message, vars);
            if role == ErrorRole::SignatureMismatch
                && !e.message.contains("{string_to_sign}")
                && !e.message.contains("%s")
            {
                // The legacy Alibaba SDK splits this message on ':' and shows the server's
                // string to sign after it; a template ending in ':' gets it appended.
                if message.trim_end().ends_with(':') {
                    if let Some((_, sts)) = vars.iter().find(|(n, _)| *n == "string_to_sign") {
                        message.push_str(sts);
                    }
                }
            }
            ErrorAnswer {
                status: e.status,
                code: e.code.clone(),
                message,
                schema: e.schema.clone(),
                role: Some(role),
            }
        }
        None => ErrorAnswer {
            status: default_status(role),
            code: format!("{STAND_IN_PREFIX}{}", role_name(role)),
            message: format!(
                "no error with role `{}` in the spec of {}",
                role_name(role),
                service.name()
            ),
            schema: None,
            role: Some(role),
        },
    }
}

/// The first of several roles the catalogue has (for situations the platforms name
/// differently), else the stand-in for the first.
pub fn by_roles(
    service: &Service,
    op: Option<&OperationSpec>,
    roles: &[ErrorRole],
    vars: MessageVars<'_>,
) -> ErrorAnswer {
    let role = roles
        .iter()
        .copied()
        .find(|r| service.error_for(op, *r).is_some())
        .unwrap_or(roles[0]);
    by_role(service, op, role, vars)
}

/// The catalogue's error for a code a rule named.
pub fn by_code(
    service: &Service,
    op: Option<&OperationSpec>,
    code: &str,
    vars: MessageVars<'_>,
) -> ErrorAnswer {
    match service.error(op, code) {
        Some(e) => ErrorAnswer {
            status: e.status,
            code: e.code.clone(),
            message: render_message(&e.message, vars),
            schema: e.schema.clone(),
            role: None,
        },
        None => ErrorAnswer {
            status: 400,
            code: code.to_string(),
            message: format!(
                "error `{code}` is not in the catalogue of {}",
                service.name()
            ),
            schema: None,
            role: None,
        },
    }
}

/// The field name a `/Name` pointer addresses at the top level.
pub fn top_field(pointer: &str) -> &str {
    pointer
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("")
}

/// Builds a body from a JSON Schema: each property gets a value by its name (`known` first),
/// else by its type. Arrays get `max(minItems, 1)` items (capped by `maxItems`).
pub struct Filler<'a> {
    /// Values by property name, wherever the property occurs.
    pub known: &'a [(&'a str, Value)],
    /// Text for other string properties that carry a message, and array items.
    pub message: &'a str,
    /// Fresh ids in upper case (Alibaba) or lower case (Huawei).
    pub upper_ids: bool,
    pub service: &'a Service,
    pub op: Option<&'a OperationSpec>,
}

impl Filler<'_> {
    /// The body of a named schema, or `None` if the spec has no such schema.
    pub fn named(&self, name: &str) -> Option<Value> {
        let schema = self.service.schema(self.op, name)?;
        Some(self.fill(schema, schema, None, 0))
    }

    fn resolve<'s>(&'s self, root: &'s Value, reference: &str) -> Option<&'s Value> {
        if let Some(pointer) = reference.strip_prefix('#') {
            if let Some(v) = root.pointer(pointer) {
                return Some(v);
            }
        }
        let name = reference.rsplit('/').next()?;
        self.service.schema(self.op, name)
    }

    fn fill(&self, schema: &Value, root: &Value, name: Option<&str>, depth: u8) -> Value {
        if depth > 8 {
            return Value::Null;
        }
        if let Some(name) = name {
            if let Some((_, v)) = self.known.iter().find(|(k, _)| *k == name) {
                return v.clone();
            }
        }
        let Some(obj) = schema.as_object() else {
            return Value::Null;
        };
        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            return match self.resolve(root, r) {
                Some(target) => self.fill(target, root, name, depth + 1),
                None => Value::Null,
            };
        }
        if let Some(c) = obj.get("const") {
            return c.clone();
        }
        if let Some(first) = obj
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            return first.clone();
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(first) = obj
                .get(key)
                .and_then(Value::as_array)
                .and_then(|a| a.first())
            {
                return self.fill(first, root, name, depth + 1);
            }
        }
        if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
            return self.fill_all_of(obj, all, root, name, depth);
        }
        self.fill_typed(obj, root, name, depth)
    }

    /// The parts of an `allOf` merged, with the schema's own properties over them.
    fn fill_all_of(
        &self,
        obj: &Map<String, Value>,
        all: &[Value],
        root: &Value,
        name: Option<&str>,
        depth: u8,
    ) -> Value {
        let mut merged = Map::new();
        for part in all {
            if let Value::Object(m) = self.fill(part, root, name, depth + 1) {
                merged.extend(m);
            }
        }
        if let Some(Value::Object(own)) = obj.contains_key("properties").then(|| {
            let mut without = obj.clone();
            without.remove("allOf");
            self.fill(&Value::Object(without), root, name, depth + 1)
        }) {
            merged.extend(own);
        }
        Value::Object(merged)
    }

    /// A value of the schema's `type` (the first non-null one; guessed from `properties` or
    /// `items` when absent).
    fn fill_typed(
        &self,
        obj: &Map<String, Value>,
        root: &Value,
        name: Option<&str>,
        depth: u8,
    ) -> Value {
        let ty = match obj.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or("null"),
            _ if obj.contains_key("properties") => "object",
            _ if obj.contains_key("items") => "array",
            _ => "string",
        };
        match ty {
            "object" => {
                let mut out = Map::new();
                if let Some(props) = obj.get("properties").and_then(Value::as_object) {
                    for (prop, sub) in props {
                        out.insert(prop.clone(), self.fill(sub, root, Some(prop), depth + 1));
                    }
                }
                Value::Object(out)
            }
            "array" => self.fill_array(obj, root, depth),
            "integer" | "number" => {
                Value::from(obj.get("minimum").and_then(Value::as_i64).unwrap_or(0))
            }
            "boolean" => Value::Bool(false),
            "null" => Value::Null,
            _ => Value::String(self.string_for(name)),
        }
    }

    /// As many items as `minItems` asks (at least one, at most `maxItems`).
    fn fill_array(&self, obj: &Map<String, Value>, root: &Value, depth: u8) -> Value {
        let min = obj
            .get("minItems")
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .max(1);
        let n = obj
            .get("maxItems")
            .and_then(Value::as_u64)
            .map_or(min, |max| min.min(max));
        let items = obj
            .get("items")
            .cloned()
            .unwrap_or(Value::Object(Map::new()));
        Value::Array(
            (0..n)
                .map(|_| self.fill(&items, root, None, depth + 1))
                .collect(),
        )
    }

    fn string_for(&self, name: Option<&str>) -> String {
        let Some(name) = name else {
            return self.message.to_string();
        };
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("encoded") {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(self.message)
        } else if lower.ends_with("id") {
            super::request::uuid(self.upper_ids)
        } else {
            self.message.to_string()
        }
    }
}

// --- protocol

/// The Content-Type the spec says to send with an answer of this format and status, else
/// `fallback`.
pub fn content_type<'s>(
    spec: &'s crate::spec::model::ServiceSpec,
    format: Format,
    status: u16,
    fallback: &'s str,
) -> &'s str {
    let kind = crate::spec::model::AnswerKind::of(status);
    spec.content_types
        .iter()
        .find(|r| r.applies(format.as_str(), kind))
        .and_then(|r| r.sent())
        .unwrap_or(fallback)
}

/// Escapes text for an XML element.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Appends `<name>…</name>` for a JSON value (arrays repeat the element).
fn xml_element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Array(items) => {
            for item in items {
                xml_element(out, name, item);
            }
        }
        Value::Object(map) => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            for (k, v) in map {
                xml_element(out, k, v);
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        Value::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
        }
        Value::String(s) => xml_text_element(out, name, s),
        other => xml_text_element(out, name, &other.to_string()),
    }
}

fn xml_text_element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&xml_escape(text));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

const XML_DECLARATION: &str = "<?xml version='1.0' encoding='UTF-8'?>";

/// `<root>` with one element per field of a JSON object (arrays repeat the element).
pub fn to_xml(root: &str, value: &Value) -> String {
    let mut out = String::from(XML_DECLARATION);
    xml_element(&mut out, root, value);
    out
}

/// Whether a named schema has top-level properties other than `covered` (or a shape this
/// module does not read at a glance: `$ref`, `allOf`, …), so the [`Filler`] must build the
/// rest of the body.
pub fn needs_filler(
    service: &Service,
    op: Option<&OperationSpec>,
    schema: &str,
    covered: &[&str],
) -> bool {
    let Some(Value::Object(s)) = service.schema(op, schema) else {
        return false;
    };
    match s.get("properties") {
        Some(Value::Object(props)) => {
            props.keys().any(|k| !covered.contains(&k.as_str()))
                || ["$ref", "allOf", "oneOf", "anyOf"]
                    .iter()
                    .any(|k| s.contains_key(*k))
        }
        _ => ["$ref", "allOf", "oneOf", "anyOf"]
            .iter()
            .any(|k| s.contains_key(*k)),
    }
}

/// A body of top-level string fields in order, then any other fields (from the [`Filler`]).
/// Written straight to JSON or XML: the hot path builds no `serde_json::Map` for the usual
/// envelopes.
pub struct FlatBody<'a> {
    pub fields: Vec<(&'a str, &'a str)>,
    pub extra: Option<Map<String, Value>>,
}

impl FlatBody<'_> {
    fn extras(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.extra
            .iter()
            .flat_map(|m| m.iter())
            .filter(|(k, _)| !self.fields.iter().any(|(f, _)| f == k))
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.push(b'{');
        let mut first = true;
        let mut sep = |out: &mut Vec<u8>| {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
        };
        for (k, v) in &self.fields {
            sep(&mut out);
            let _ = serde_json::to_writer(&mut out, k);
            out.push(b':');
            let _ = serde_json::to_writer(&mut out, v);
        }
        for (k, v) in self.extras() {
            sep(&mut out);
            let _ = serde_json::to_writer(&mut out, k);
            out.push(b':');
            let _ = serde_json::to_writer(&mut out, v);
        }
        out.push(b'}');
        out
    }

    pub fn to_xml(&self, root: &str) -> String {
        let mut out = String::with_capacity(320);
        out.push_str(XML_DECLARATION);
        out.push('<');
        out.push_str(root);
        out.push('>');
        for (k, v) in &self.fields {
            xml_text_element(&mut out, k, v);
        }
        for (k, v) in self.extras() {
            xml_element(&mut out, k, v);
        }
        out.push_str("</");
        out.push_str(root);
        out.push('>');
        out
    }
}

/// The Content-Type of a JSON answer (both vendor families), unless the spec says otherwise.
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=utf-8";
/// The Content-Type of an XML answer, unless the spec says otherwise.
pub const XML_CONTENT_TYPE: &str = "text/xml;charset=utf-8";

/// The catalogue's error for a resource marked to fail with `status`.
pub fn failure(service: &Service, op: &OperationSpec, status: u16) -> ErrorAnswer {
    let role = if status == 503 {
        ErrorRole::ServiceUnavailable
    } else {
        ErrorRole::InternalError
    };
    by_role(service, Some(op), role, &[("status", &status.to_string())])
}

/// The first 2xx status the operation lists (200 when it lists none).
pub fn success_status(op: &OperationSpec) -> u16 {
    op.responses
        .iter()
        .map(|r| r.status)
        .find(|s| (200..300).contains(s))
        .unwrap_or(200)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders() {
        assert_eq!(
            render_message(
                "The input parameter \"{param}\" is missing {x}",
                &[("param", "SourceId")]
            ),
            "The input parameter \"SourceId\" is missing {x}"
        );
        assert_eq!(render_message("plain", &[("param", "x")]), "plain");
        assert_eq!(
            render_message(
                "The input parameter \"%s\" is missing",
                &[("param", "JobId")]
            ),
            "The input parameter \"JobId\" is missing"
        );
        assert_eq!(
            render_message(
                "string to sign is:%s",
                &[("string_to_sign", "POST&%2F&A%3D1")]
            ),
            "string to sign is:POST&%2F&A%3D1"
        );
        assert_eq!(render_message("%s and %s", &[("a", "1")]), "1 and ");
    }

    #[test]
    fn flat_bodies() {
        let mut extra = Map::new();
        extra.insert("Code".into(), json!("ignored: a field wins"));
        extra.insert("List".into(), json!(["a", "b"]));
        let b = FlatBody {
            fields: vec![("RequestId", "R"), ("Code", "A\"<")],
            extra: Some(extra),
        };
        assert_eq!(
            String::from_utf8(b.to_json()).unwrap(),
            r#"{"RequestId":"R","Code":"A\"<","List":["a","b"]}"#
        );
        assert_eq!(
            b.to_xml("Error"),
            "<?xml version='1.0' encoding='UTF-8'?><Error><RequestId>R</RequestId><Code>A&quot;&lt;</Code><List>a</List><List>b</List></Error>"
        );
        let empty = FlatBody {
            fields: vec![],
            extra: None,
        };
        assert_eq!(empty.to_json(), b"{}");
    }

    #[test]
    fn xml_shapes() {
        let v = json!({"RequestId": "R", "Code": "A&B", "List": ["x", "y"], "N": 1, "Nil": null});
        assert_eq!(
            to_xml("Error", &v),
            "<?xml version='1.0' encoding='UTF-8'?><Error><RequestId>R</RequestId><Code>A&amp;B</Code><List>x</List><List>y</List><N>1</N><Nil/></Error>"
        );
        assert_eq!(xml_escape("a\u{1}b<"), "a\u{FFFD}b&lt;");
    }
}
