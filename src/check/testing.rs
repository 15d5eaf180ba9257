//! Answers to run one check over in its unit tests, against the bundled specs.

use std::sync::OnceLock;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use super::{schema::SchemaSet, Answered, Check, Context, Failure, Received, Subject};
use crate::case::model::{Expect, Format};
use crate::case::vars::Vars;
use crate::spec::Catalog;

fn bundled() -> &'static (Catalog, SchemaSet) {
    static C: OnceLock<(Catalog, SchemaSet)> = OnceLock::new();
    C.get_or_init(|| {
        let catalog = Catalog::bundled().unwrap_or_else(|d| panic!("bundled specs:\n{d}"));
        let schemas = SchemaSet::compile(&catalog).expect("the bundled schemas compile");
        (catalog, schemas)
    })
}

/// One answer of one operation, with the step's expectation.
pub struct Fixture {
    service: &'static str,
    operation: &'static str,
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    expect: Expect,
    format: Option<Format>,
    pub vars: Vars,
    answered: Kind,
}

/// Which answer the fixture is.
#[derive(Clone, Copy)]
enum Kind {
    Step,
    FirstOfReplay,
    Probe { exists: bool },
}

impl Fixture {
    /// A Huawei SMS `DeleteTask` answer, with a request id header.
    pub fn huawei(status: u16, body: &str) -> Fixture {
        Fixture {
            service: "huawei-sms",
            operation: "DeleteTask",
            status,
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
            expect: Expect::default(),
            format: None,
            vars: Vars::new(),
            answered: Kind::Step,
        }
        .header("X-Request-Id", "req-1")
        .header("Content-Type", "application/json;charset=utf-8")
    }

    /// An Alibaba SMC `DeleteSourceServer` answer in `format`.
    pub fn alibaba(status: u16, format: Format, body: &str) -> Fixture {
        Fixture {
            service: "alibaba-smc",
            operation: "DeleteSourceServer",
            format: Some(format),
            ..Fixture::huawei(status, body)
        }
        .without("X-Request-Id")
        .without("Content-Type")
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Fixture {
        let value = HeaderValue::from_str(value).expect("a valid header value");
        let name = HeaderName::from_bytes(name.as_bytes()).expect("a valid header name");
        self.headers.insert(name, value);
        self
    }

    pub fn without(mut self, name: &'static str) -> Fixture {
        self.headers.remove(name);
        self
    }

    /// The answer to the first sending of a replayed request.
    pub fn first_of_replay(mut self) -> Fixture {
        self.answered = Kind::FirstOfReplay;
        self
    }

    /// A probe's answer about task `t-1` instead of an HTTP answer.
    pub fn probed(mut self, exists: bool) -> Fixture {
        self.answered = Kind::Probe { exists };
        self
    }

    /// The step's expectation, as a case file writes it (in JSON).
    pub fn expect(mut self, expect: Value) -> Fixture {
        self.expect = serde_json::from_value(expect).expect("a valid expectation");
        self
    }

    fn answered(&self) -> Answered<'_> {
        let received = Received {
            status: self.status,
            headers: &self.headers,
            body: &self.body,
        };
        match self.answered {
            Kind::Step => Answered::Step(received),
            Kind::FirstOfReplay => Answered::FirstOfReplay(received),
            Kind::Probe { exists } => Answered::Probe(super::Probed {
                resource: "task",
                id: "t-1",
                exists,
            }),
        }
    }

    /// The check's failures on this answer.
    pub fn run(&self, check: &dyn Check) -> Vec<Failure> {
        let (catalog, schemas) = bundled();
        let service = catalog.service(self.service).expect("a bundled service");
        let cx = Context::new(Subject {
            service,
            operation: &service.operations[self.operation].spec,
            expect: &self.expect,
            answered: self.answered(),
            format: self.format,
            schemas,
            vars: &self.vars,
        });
        let failures = check.run(&cx);
        for f in &failures {
            assert!(
                f.check == check.name() || f.check == "case" || f.check == "spec",
                "{f} is not named `{}`",
                check.name()
            );
        }
        failures
    }
}
