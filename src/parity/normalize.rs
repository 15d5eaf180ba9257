//! From an exchange as received to its snapshot: the body parsed, the named headers picked,
//! volatile values (request ids, generated ids, timestamps) replaced by placeholders, values
//! that came from the case's variables written as `${name}`, and every secret redacted.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::snapshot::StepSnapshot;
use crate::case::model::{Expect, Format};
use crate::check::body;
use crate::run::Redactor;
use crate::spec::model::{BodyKind, OperationSpec, Protocol};
use crate::spec::Service;

/// A request step's exchange as received (kept raw until the run ends: the redactor learns
/// secrets while the run goes on).
#[derive(Debug, Clone)]
pub struct RawAnswer {
    pub step: String,
    pub operation: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
    pub vars: BTreeMap<String, Value>,
    /// (value sent, its template): parameters rendered from templates (`${unique}`).
    pub sent: Vec<(String, String)>,
    /// The step's expectations: the headers they name are recorded.
    pub expect: Expect,
}

/// A probe step's result as received.
#[derive(Debug, Clone)]
pub struct RawProbe {
    pub step: String,
    pub resource: String,
    pub id: String,
    pub exists: Option<bool>,
    pub vars: BTreeMap<String, Value>,
}

#[derive(Debug, Clone)]
pub enum RawStep {
    Answer(Box<RawAnswer>),
    Probe(RawProbe),
}

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
        .expect("a valid pattern")
});
static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
        .expect("a valid pattern")
});
/// Long runs of letters and digits holding both: generated ids (`${unique}`, hex ids).
static GENERATED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[0-9A-Za-z]{16,}").expect("a valid pattern"));

/// How one trial's texts are normalized.
pub struct Normalizer<'a> {
    pub redactor: &'a Redactor,
    /// (value, `${name}`), longest value first.
    replacements: Vec<(String, String)>,
    /// Every text variable, of any length: a whole value equal to one becomes `${name}`.
    exact: BTreeMap<String, String>,
}

impl<'a> Normalizer<'a> {
    /// Text variables become `${name}`: inside longer text only values of at least 4
    /// characters (shorter ones would replace ordinary text). `hosts` (the target's
    /// `host:port`s, which answers may echo) become `${host}`.
    pub fn new(
        redactor: &'a Redactor,
        vars: &BTreeMap<String, Value>,
        hosts: &[String],
    ) -> Normalizer<'a> {
        Normalizer::with_sent(redactor, vars, hosts, &[])
    }

    /// Also the values sent from templates (`sent`: value, template), written as the template;
    /// they win over variables of the same value.
    pub fn with_sent(
        redactor: &'a Redactor,
        vars: &BTreeMap<String, Value>,
        hosts: &[String],
        sent: &[(String, String)],
    ) -> Normalizer<'a> {
        let named: Vec<(String, String)> = vars
            .iter()
            .filter_map(|(name, v)| match v {
                Value::String(s) if !s.is_empty() => Some((s.clone(), format!("${{{name}}}"))),
                _ => None,
            })
            .chain(hosts.iter().map(|h| (h.clone(), "${host}".to_string())))
            .chain(sent.iter().cloned())
            .collect();
        // Later entries win: a value sent from a template is written as that template.
        let exact: BTreeMap<String, String> = named.iter().cloned().collect();
        let named: Vec<(String, String)> = exact.clone().into_iter().collect();
        let mut replacements: Vec<(String, String)> = named
            .into_iter()
            .filter(|(s, _)| s.chars().count() >= 4)
            .collect();
        replacements.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        Normalizer {
            redactor,
            replacements,
            exact,
        }
    }

    /// A path with each segment equal to a variable written as `${name}`, then normalized.
    pub fn path(&self, path: &str) -> String {
        let segments: Vec<String> = path
            .split('/')
            .map(|seg| {
                self.exact
                    .get(seg)
                    .cloned()
                    .unwrap_or_else(|| seg.to_string())
            })
            .collect();
        self.text(&segments.join("/"))
    }

    /// Secrets out, variables named, volatile values replaced.
    pub fn text(&self, text: &str) -> String {
        if let Some(name) = self.exact.get(text) {
            return name.clone();
        }
        let mut out = self.redactor.redact(text);
        for (value, name) in &self.replacements {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), name);
            }
        }
        let out = UUID.replace_all(&out, "$${uuid}");
        let out = TIMESTAMP.replace_all(&out, "$${timestamp}");
        GENERATED
            .replace_all(&out, |c: &regex::Captures<'_>| {
                let s = &c[0];
                let digit = s.bytes().any(|b| b.is_ascii_digit());
                let letter = s.bytes().any(|b| b.is_ascii_alphabetic());
                if digit && letter {
                    "${generated}".to_string()
                } else {
                    s.to_string()
                }
            })
            .into_owned()
    }

    /// Every string (and object key) of a value normalized.
    pub fn value(&self, value: Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.text(&s)),
            Value::Array(items) => Value::Array(items.into_iter().map(|v| self.value(v)).collect()),
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (self.text(&k), self.value(v)))
                    .collect(),
            ),
            other => other,
        }
    }
}

/// What a step's answer is checked with: its service, operation and Alibaba format.
pub struct StepContext<'a> {
    pub service: &'a Service,
    pub operation: &'a OperationSpec,
    pub format: Option<Format>,
    pub redactor: &'a Redactor,
    /// The target's `host:port`s.
    pub hosts: &'a [String],
}

/// The snapshot of a probe step.
pub fn probe(raw: &RawProbe, redactor: &Redactor, hosts: &[String]) -> StepSnapshot {
    let n = Normalizer::new(redactor, &raw.vars, hosts);
    StepSnapshot {
        step: raw.step.clone(),
        probe: Some(format!("{} {}", n.text(&raw.resource), n.text(&raw.id))),
        exists: raw.exists,
        ..Default::default()
    }
}

/// The snapshot of a request step.
pub fn answer(raw: &RawAnswer, ctx: &StepContext<'_>) -> StepSnapshot {
    let n = Normalizer::with_sent(ctx.redactor, &raw.vars, ctx.hosts, &raw.sent);
    let path = percent_encoding::percent_decode_str(&raw.path).decode_utf8_lossy();
    let (body, xml_root) = parsed_body(raw, ctx);
    let body = body.map(|b| {
        let mut b = n.value(b);
        if let Some(p) = &ctx.service.spec.request_id.body {
            // Only a string: a request id of another type is a difference to show.
            if let Some(v @ Value::String(_)) = b.pointer_mut(p) {
                *v = Value::String("${request_id}".into());
            }
        }
        b
    });
    let error_code = body
        .as_ref()
        .and_then(|b| b.pointer(&ctx.service.spec.error_envelope.code))
        .map(crate::case::vars::text_of);
    let content_type = raw
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| {
            n.text(&String::from_utf8_lossy(v.as_bytes()))
                .to_ascii_lowercase()
        })
        .map(|v| v.split(';').map(str::trim).collect::<Vec<_>>().join("; "));
    StepSnapshot {
        step: raw.step.clone(),
        request: Some(format!("{} {}", raw.method, n.path(&path))),
        status: Some(raw.status),
        headers: named_headers(raw, ctx, &n),
        content_type,
        error_code,
        xml_root,
        body,
        probe: None,
        exists: None,
    }
}

/// The body parsed as the spec says (as `conform run` reads it), else its text; none if empty.
fn parsed_body(raw: &RawAnswer, ctx: &StepContext<'_>) -> (Option<Value>, Option<String>) {
    if raw.body.iter().all(u8::is_ascii_whitespace) {
        return (None, None);
    }
    let kind = match (
        ctx.operation.response(raw.status),
        ctx.service.spec.protocol,
    ) {
        (Some(r), _) if r.body != BodyKind::Empty => r.body,
        (_, Protocol::AlibabaRpc) => BodyKind::XmlOrJson,
        (_, Protocol::HuaweiRest) => BodyKind::Json,
    };
    let format = match ctx.service.spec.protocol {
        Protocol::AlibabaRpc => ctx.format,
        Protocol::HuaweiRest => None,
    };
    match body::decode(kind, format, &raw.body) {
        Ok(d) => (Some(d.value), d.xml_root),
        Err(_) => (
            Some(Value::String(
                String::from_utf8_lossy(&raw.body).into_owned(),
            )),
            None,
        ),
    }
}

/// The request-id header (as `present`), the headers the operation's responses list, and the
/// headers the step's expectations name, except Content-Type (recorded on its own).
fn named_headers(
    raw: &RawAnswer,
    ctx: &StepContext<'_>,
    n: &Normalizer<'_>,
) -> BTreeMap<String, String> {
    let request_id = ctx.service.spec.request_id.header.as_deref();
    let mut names: Vec<&str> = request_id.into_iter().collect();
    for r in &ctx.operation.responses {
        names.extend(r.headers.iter().map(String::as_str));
    }
    names.extend(raw.expect.headers.keys().map(String::as_str));
    for extra in raw.expect.by_status.values() {
        names.extend(extra.headers.keys().map(String::as_str));
    }
    let mut out = BTreeMap::new();
    for name in names {
        if name.eq_ignore_ascii_case("content-type") {
            continue;
        }
        let Some(value) = raw.headers.get(name) else {
            continue;
        };
        let is_request_id = request_id.is_some_and(|h| h.eq_ignore_ascii_case(name));
        let shown = if is_request_id {
            "present".to_string()
        } else {
            n.text(&String::from_utf8_lossy(value.as_bytes()))
        };
        out.insert(name.to_string(), shown);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn variables_secrets_ids_and_timestamps_are_normalized() {
        let redactor = Redactor::new(vec!["TOPSECRETKEY".into()]);
        let mut vars = BTreeMap::new();
        vars.insert("task_id".into(), json!("t-abc"));
        vars.insert("short".into(), json!("ab"));
        let n = Normalizer::new(&redactor, &vars, &["127.0.0.1:8080".into()]);
        assert_eq!(n.text("task t-abc gone"), "task ${task_id} gone");
        assert_eq!(n.text("ab stays"), "ab stays");
        assert_eq!(n.text("ab"), "${short}");
        assert_eq!(n.path("/v3/tasks/ab"), "/v3/tasks/${short}");
        assert_eq!(n.text("host 127.0.0.1:8080"), "host ${host}");
        let sent = [("abc".to_string(), "${unique:3}".to_string())];
        let n2 = Normalizer::with_sent(&redactor, &vars, &[], &sent);
        assert_eq!(n2.path("/v3/tasks/abc"), "/v3/tasks/${unique:3}");
        assert_eq!(n2.path("/v3/tasks/t-abc"), "/v3/tasks/${task_id}");
        assert_eq!(n.text("key TOPSECRETKEY"), "key ***");
        assert_eq!(
            n.text("id 3F2504E0-4F89-11D3-9A0C-0305E82C3301."),
            "id ${uuid}."
        );
        assert_eq!(n.text("at 2026-11-30T00:14:36Z"), "at ${timestamp}");
        assert_eq!(
            n.text("x 0123456789abcdef0123456789abcdef y"),
            "x ${generated} y"
        );
        assert_eq!(
            n.text("InvalidParameterValueLong stays"),
            "InvalidParameterValueLong stays"
        );
        assert_eq!(
            n.value(json!({"t-abc": ["t-abc", 1]})),
            json!({"${task_id}": ["${task_id}", 1]})
        );
    }
}
