//! The checks of one answer, one file each, all behind one [`Check`] trait: a stable name, what
//! it verifies, and one run signature over a [`Context`] (the step's expectation, the answer,
//! the spec's service and operation, compiled schemas, the case's variables) returning typed
//! [`Failure`]s; an empty list is a pass. The runner runs [`registry`] over every answer, in
//! its fixed order.
//!
//! Support modules: [`body`] (decoding a body as the spec says it is), [`value`] (one value
//! against a `ValueCheck`), [`xml`] (XML mapped to JSON), [`schema`] (the compiled schemas).

pub mod body;
pub mod body_format;
pub mod body_pointers;
pub mod body_schema;
pub mod captures;
pub mod content_type;
pub mod error_code;
mod failure;
pub mod headers;
pub mod probe;
pub mod replay;
pub mod request_id;
pub mod request_id_mirror;
pub mod schema;
pub mod spec_headers;
pub mod status;
pub mod value;
pub mod xml;
pub mod xml_root;

#[cfg(test)]
pub(crate) mod testing;

pub use failure::Failure;

use serde::Serialize;

use crate::case::model::{Expect, Format};
use crate::case::vars::Vars;
use crate::spec::model::{BodyKind, OperationSpec, Protocol, ResponseSpec};
use crate::spec::Service;
use body::Decoded;
use schema::SchemaSet;

/// One check of an answer.
pub trait Check: Sync {
    /// Its stable name, kebab-case: the `check` of its failures in every report.
    fn name(&self) -> &'static str;
    /// What it verifies, in one line.
    fn verifies(&self) -> &'static str;
    /// The failures it finds in the context's answer; none is a pass.
    fn run(&self, cx: &Context<'_>) -> Vec<Failure>;
}

/// Every check, in the order the runner runs them.
static REGISTRY: &[&dyn Check] = &[
    &status::Status,
    &request_id::RequestId,
    &content_type::ContentType,
    &body_format::BodyFormat,
    &request_id_mirror::RequestIdMirror,
    &xml_root::XmlRoot,
    &body_schema::BodySchema,
    &error_code::ErrorCode,
    &spec_headers::SpecHeaders,
    &headers::Headers,
    &body_pointers::BodyPointers,
    &captures::Captures,
    &replay::Replay,
    &probe::Probe,
];

/// Every check, in the order the runner runs them.
pub fn registry() -> &'static [&'static dyn Check] {
    REGISTRY
}

/// A check by its name.
pub fn by_name(name: &str) -> Option<&'static dyn Check> {
    REGISTRY.iter().copied().find(|c| c.name() == name)
}

/// A check's name and what it verifies, as `conform checks` lists them.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    pub name: &'static str,
    pub verifies: &'static str,
}

/// The registry as `conform checks --json` prints it.
pub fn listed() -> Vec<Listed> {
    REGISTRY
        .iter()
        .map(|c| Listed {
            name: c.name(),
            verifies: c.verifies(),
        })
        .collect()
}

/// Every check of the registry over one answer, in order.
pub fn run_all(cx: &Context<'_>) -> Vec<Failure> {
    REGISTRY.iter().flat_map(|c| c.run(cx)).collect()
}

/// An answer as received: status, headers and body (already redacted).
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    pub status: u16,
    pub headers: &'a reqwest::header::HeaderMap,
    pub body: &'a [u8],
}

impl Received<'_> {
    /// A header's value as text (invalid UTF-8 replaced), `None` when absent.
    pub fn header_text(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    /// A header's value when it is visible ASCII, `None` when absent or not.
    pub fn header_ascii(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What the checks look at.
#[derive(Debug, Clone, Copy)]
pub enum Answered<'a> {
    /// The answer to the step's request (for a replayed request, to its second sending).
    Step(Received<'a>),
    /// The answer to the first sending of a replayed request.
    FirstOfReplay(Received<'a>),
    /// The provider-state endpoint's answer to a probe step.
    Probe(Probed<'a>),
}

/// A probe's answer: whether the resource exists.
#[derive(Debug, Clone, Copy)]
pub struct Probed<'a> {
    pub resource: &'a str,
    pub id: &'a str,
    pub exists: bool,
}

/// What one answer is checked against, as the runner gives it.
pub struct Subject<'a> {
    pub service: &'a Service,
    pub operation: &'a OperationSpec,
    /// The step's expectation.
    pub expect: &'a Expect,
    pub answered: Answered<'a>,
    /// The Alibaba format the trial asked for.
    pub format: Option<Format>,
    pub schemas: &'a SchemaSet,
    /// The case's variables as they stand for this step.
    pub vars: &'a Vars,
}

/// A [`Subject`] with what every check reads off it worked out once: the spec's response for
/// the status, the body format, the decoded body.
pub struct Context<'a> {
    /// What the runner gave.
    pub subject: Subject<'a>,
    /// The body format asked for: the trial's for Alibaba; `None` for Huawei (always JSON).
    pub format: Option<Format>,
    /// The spec's response for the step answer's status, if it documents one.
    pub response: Option<&'a ResponseSpec>,
    /// The step answer's body decoded as the spec says it is, or why it cannot be; `None` for
    /// other answers.
    pub body: Option<Result<Decoded, Failure>>,
}

impl<'a> Context<'a> {
    pub fn new(s: Subject<'a>) -> Context<'a> {
        let protocol = s.service.spec.protocol;
        let format = if protocol == Protocol::AlibabaRpc {
            s.format
        } else {
            None
        };
        let (operation, answered) = (s.operation, s.answered);
        let mut cx = Context {
            subject: s,
            format,
            response: None,
            body: None,
        };
        if let Answered::Step(answer) = answered {
            cx.response = operation.response(answer.status);
            let kind = match (cx.response, protocol) {
                (Some(r), _) => r.body,
                (None, Protocol::AlibabaRpc) => BodyKind::XmlOrJson,
                (None, Protocol::HuaweiRest) => BodyKind::Json,
            };
            cx.body = Some(body::decode(kind, format, answer.body));
        }
        cx
    }

    /// The step's answer; `None` when the checks look at another one.
    pub fn answer(&self) -> Option<Received<'a>> {
        match self.subject.answered {
            Answered::Step(a) => Some(a),
            _ => None,
        }
    }

    /// The step's answer with its decoded body's JSON; `None` when the body could not be
    /// decoded (`body-format` says why) or the checks look at another answer.
    pub fn decoded(&self) -> Option<(Received<'a>, &serde_json::Value)> {
        match (&self.body, self.answer()) {
            (Some(Ok(d)), Some(a)) => Some((a, &d.value)),
            _ => None,
        }
    }
}

/// Whether an answer of this status is an error (400 and up).
pub fn is_error(status: u16) -> bool {
    status >= 400
}

/// Reads the value at a JSON pointer; the empty pointer is the whole document.
pub fn pointer_get<'v>(v: &'v serde_json::Value, pointer: &str) -> Option<&'v serde_json::Value> {
    if pointer.is_empty() {
        Some(v)
    } else {
        v.pointer(pointer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_kebab_case_and_unique() {
        let names: Vec<&str> = registry().iter().map(|c| c.name()).collect();
        for name in &names {
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{name}"
            );
            assert!(!by_name(name).expect("found").verifies().is_empty());
        }
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        assert_eq!(names[0], "status");
        assert_eq!(names.last(), Some(&"probe"));
        assert_eq!(listed().len(), names.len());
    }

    /// Each answer is seen by its own checks only: a probe's by `probe`, a replayed request's
    /// first sending by `replay`, the step's answer by the rest.
    #[test]
    fn each_check_looks_at_its_own_answers() {
        use super::testing::Fixture;
        use crate::case::model::Format;
        use serde_json::json;
        let all =
            |f: &Fixture| -> Vec<Failure> { registry().iter().flat_map(|c| f.run(*c)).collect() };
        let wrong = r#"{"Code": "SignatureNonceUsed"}"#;
        let expect = json!({"status": 200, "exists": true, "error_code": "x"});
        let step = Fixture::alibaba(400, Format::Json, wrong).expect(expect.clone());
        let names: Vec<_> = all(&step).into_iter().map(|f| f.check).collect();
        assert!(names.contains(&"status".into()) && !names.contains(&"replay".into()));
        assert!(!names.contains(&"probe".into()), "{names:?}");
        let first = Fixture::alibaba(400, Format::Json, wrong)
            .expect(expect.clone())
            .first_of_replay();
        let names: Vec<_> = all(&first).into_iter().map(|f| f.check).collect();
        assert_eq!(names, ["replay"]);
        let probe = Fixture::huawei(0, "").expect(expect).probed(false);
        let names: Vec<_> = all(&probe).into_iter().map(|f| f.check).collect();
        assert_eq!(names, ["probe"]);
    }
}
