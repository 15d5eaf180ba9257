//! Integration tests: the emulators on `127.0.0.1:0`, driven over HTTP with requests signed by
//! the `auth` module, on the bundled specs. Expected statuses and codes are read from the
//! catalogue (by role, or by the rule that decides), so the tests follow the spec data.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use chrono::{TimeDelta, Utc};
use serde_json::{json, Map, Value};

use super::*;
use crate::auth::encode::{canonical_query, rfc3986};
use crate::auth::{alibaba_v1, alibaba_v3, huawei_aksk, Credentials, HttpParts, SigningContext};
use crate::spec::model::RuleOutcome;

const SMC: &str = "alibaba-smc";
const SMS: &str = "huawei-sms";
const WKS: &str = "huawei-workspace";

fn catalog() -> Arc<Catalog> {
    static C: OnceLock<Arc<Catalog>> = OnceLock::new();
    C.get_or_init(|| Arc::new(Catalog::bundled().unwrap_or_else(|d| panic!("bundled specs:\n{d}"))))
        .clone()
}

/// (status, code) of the error a fixed check answers.
fn by_role_of(service: &str, operation: Option<&str>, role: ErrorRole) -> (u16, String) {
    let c = catalog();
    let s = c.service(service).unwrap();
    let o = operation.map(|o| &s.operations[o].spec);
    let e = s
        .error_for(o, role)
        .unwrap_or_else(|| panic!("{service} has no {role:?}"));
    (e.status, e.code.clone())
}

/// (status, code) of the error a rule answers.
fn by_rule(service: &str, operation: &str, rule: &str) -> (u16, String) {
    let c = catalog();
    let s = c.service(service).unwrap();
    let o = &s.operations[operation].spec;
    let r = o
        .rules
        .iter()
        .find(|r| r.id == rule)
        .unwrap_or_else(|| panic!("no rule {rule}"));
    let RuleOutcome::Error(code) = &r.then else {
        panic!("rule {rule} does not answer an error")
    };
    (s.error(Some(o), code).unwrap().status, code.clone())
}

struct Env {
    em: RunningEmulator,
    http: reqwest::Client,
}

async fn start() -> Env {
    start_with(EmulatorConfig::new(catalog())).await
}

async fn start_with(config: EmulatorConfig) -> Env {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let em = Emulator::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    Env {
        em,
        http: reqwest::Client::builder().build().unwrap(),
    }
}

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }
    /// Alibaba: status, Code, and the RequestId is an upper-case UUID.
    fn ali(&self) -> (u16, String) {
        let v = self.json();
        let rid = v["RequestId"]
            .as_str()
            .unwrap_or_else(|| panic!("no RequestId: {v}"));
        assert_eq!(rid.len(), 36, "{rid}");
        assert_eq!(rid, rid.to_ascii_uppercase());
        (self.status, v["Code"].as_str().unwrap_or("").to_string())
    }
    /// Huawei: status, error_code, and an X-Request-Id header.
    fn hw(&self) -> (u16, String) {
        let rid = self
            .header("x-request-id")
            .unwrap_or_else(|| panic!("no X-Request-Id: {self:?}"));
        assert!(!rid.is_empty());
        let code = if self.body.is_empty() {
            String::new()
        } else {
            self.json()["error_code"].as_str().unwrap_or("").to_string()
        };
        (self.status, code)
    }
}

async fn send(req: reqwest::RequestBuilder) -> Resp {
    let r = req.send().await.unwrap();
    Resp {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.bytes().await.unwrap().to_vec(),
    }
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn query_string(p: &[(String, String)]) -> String {
    p.iter()
        .map(|(k, v)| format!("{}={}", rfc3986(k), rfc3986(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Env {
    fn host(&self) -> String {
        self.em.addr.to_string()
    }

    fn ali_creds(&self) -> Credentials {
        EmulatorCredentials::default().alibaba()
    }

    fn hw_creds(&self) -> Credentials {
        EmulatorCredentials::default().huawei()
    }

    async fn states(&self, body: Value) -> Resp {
        send(self.http.post(self.em.states_url()).body(body.to_string())).await
    }

    async fn setup(&self, service: &str, state: &str, params: Value) -> Map<String, Value> {
        let mut params = params;
        params["service"] = json!(service);
        let r = self
            .states(json!({"action": "setup", "state": state, "params": params}))
            .await;
        assert_eq!(r.status, 200, "setup {state}: {}", r.text());
        r.json().as_object().unwrap().clone()
    }

    async fn probe(&self, resource: &str, id: &str) -> bool {
        let r = self
            .states(json!({"action": "probe", "resource": resource, "id": id}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["exists"].as_bool().unwrap()
    }

    /// A V3-signed Alibaba request (what the current SDK sends): POST, parameters in the query.
    async fn v3_with(
        &self,
        action: &str,
        params: &[(&str, &str)],
        creds: &Credentials,
        ctx: &SigningContext,
    ) -> Resp {
        let query = pairs(params);
        let host = self.host();
        let base = [("host".to_string(), host.clone())];
        let parts = HttpParts {
            method: "POST",
            path: "/",
            query: &query,
            headers: &base,
            body: b"",
        };
        let signed = alibaba_v3::sign(&parts, action, "2019-06-01", creds, ctx);
        let mut req = self
            .http
            .post(format!(
                "{}/?{}",
                self.em.base_url(),
                canonical_query(&query)
            ))
            .header("host", host);
        for (k, v) in signed.headers {
            req = req.header(k, v);
        }
        send(req).await
    }

    async fn v3(&self, action: &str, params: &[(&str, &str)]) -> Resp {
        self.v3_with(action, params, &self.ali_creds(), &SigningContext::fresh())
            .await
    }

    /// The parameters of a V1 request, signed (everything but the signature parameters given).
    fn v1_params(
        &self,
        method: &str,
        params: &[(&str, &str)],
        creds: &Credentials,
        ctx: &SigningContext,
    ) -> Vec<(String, String)> {
        let mut all = pairs(params);
        let signed = alibaba_v1::sign(method, &all, creds, ctx);
        all.extend(signed.query);
        all
    }

    /// A V1-signed request; `form` puts the parameters in a form body.
    async fn v1_with(
        &self,
        method: &str,
        params: &[(&str, &str)],
        creds: &Credentials,
        ctx: &SigningContext,
        form: bool,
    ) -> Resp {
        let all = self.v1_params(method, params, creds, ctx);
        let url = self.em.base_url() + "/";
        let req = match (method, form) {
            ("GET", _) => self.http.get(format!("{url}?{}", query_string(&all))),
            (_, false) => self.http.post(format!("{url}?{}", query_string(&all))),
            (_, true) => self
                .http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(query_string(&all)),
        };
        send(req).await
    }

    async fn v1(&self, method: &str, params: &[(&str, &str)]) -> Resp {
        self.v1_with(
            method,
            params,
            &self.ali_creds(),
            &SigningContext::fresh(),
            false,
        )
        .await
    }

    /// A Huawei request signed with AK/SK (as the SDK: content-type, host, x-sdk-date and,
    /// for Workspace, x-project-id).
    async fn hw_aksk(
        &self,
        method: &str,
        path: &str,
        creds: &Credentials,
        ctx: &SigningContext,
        extra: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        let mut headers = pairs(&[("host", &self.host()), ("content-type", "application/json")]);
        headers.extend(pairs(extra));
        let parts = HttpParts {
            method,
            path,
            query: &[],
            headers: &headers,
            body,
        };
        let signed = huawei_aksk::sign(&parts, creds, ctx);
        let mut req = self
            .http
            .request(
                method.parse().unwrap(),
                format!("{}{path}", self.em.base_url()),
            )
            .body(body.to_vec());
        for (k, v) in headers.into_iter().chain(signed.headers) {
            req = req.header(k, v);
        }
        send(req).await
    }

    async fn hw(&self, method: &str, path: &str) -> Resp {
        self.hw_aksk(
            method,
            path,
            &self.hw_creds(),
            &SigningContext::fresh(),
            &[],
            b"",
        )
        .await
    }

    async fn hw_token(&self, method: &str, path: &str, token: Option<&str>) -> Resp {
        let mut req = self.http.request(
            method.parse().unwrap(),
            format!("{}{path}", self.em.base_url()),
        );
        if let Some(t) = token {
            req = req.header("x-auth-token", t);
        }
        send(req).await
    }

    async fn ws_delete(&self, project: &str, server: &str) -> Resp {
        self.hw_aksk(
            "DELETE",
            &format!("/v1/{project}/app-servers/{server}"),
            &self.hw_creds(),
            &SigningContext::fresh(),
            &[("x-project-id", project)],
            b"",
        )
        .await
    }
}

fn s<'a>(m: &'a Map<String, Value>, k: &str) -> &'a str {
    m[k].as_str().unwrap_or_else(|| panic!("no {k} in {m:?}"))
}

// ---------------------------------------------------------------- Alibaba SMC

#[tokio::test]
async fn smc_v3_deletes_a_source_and_answers_json() {
    let env = start().await;
    let st = env.setup(SMC, "source server exists", json!({})).await;
    let sid = s(&st, "SourceId");
    assert!(env.probe("source_server", sid).await);
    let r = env.v3("DeleteSourceServer", &[("SourceId", sid)]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.content_type(), "application/json;charset=utf-8");
    let (_, code) = r.ali();
    assert_eq!(code, "");
    assert_eq!(
        r.json().as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["RequestId"]
    );
    assert!(!env.probe("source_server", sid).await);
    // Deleted is gone: the same delete again is the not-found answer.
    let r = env.v3("DeleteSourceServer", &[("SourceId", sid)]).await;
    assert_eq!(
        r.ali(),
        by_rule(SMC, "DeleteSourceServer", "source-not-found")
    );
}

#[tokio::test]
async fn smc_v1_formats_methods_and_form_bodies() {
    let env = start().await;
    // GET, Format=XML: the success root from the spec, the XML content type.
    let sid = s(
        &env.setup(SMC, "source server exists", json!({})).await,
        "SourceId",
    )
    .to_string();
    let r = env
        .v1(
            "GET",
            &[
                ("Action", "DeleteSourceServer"),
                ("Version", "2019-06-01"),
                ("Format", "XML"),
                ("SourceId", &sid),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.content_type(), "text/xml;charset=utf-8");
    let text = r.text();
    assert!(
        text.contains("<DeleteSourceServerResponse><RequestId>"),
        "{text}"
    );
    // No Format on a V1 request: the spec's default (XML).
    let sid = s(
        &env.setup(SMC, "source server exists", json!({})).await,
        "SourceId",
    )
    .to_string();
    let r = env
        .v1(
            "POST",
            &[
                ("Action", "DeleteSourceServer"),
                ("Version", "2019-06-01"),
                ("SourceId", &sid),
            ],
        )
        .await;
    let default = catalog()
        .service(SMC)
        .unwrap()
        .spec
        .formats
        .as_ref()
        .unwrap()
        .default
        .clone();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.content_type().starts_with("text/xml"),
        default.eq_ignore_ascii_case("xml"),
        "{}",
        r.text()
    );
    // Form body, lower-case json (the current SDK's V1), Force=True.
    let st = env
        .setup(
            SMC,
            "source server has replication job",
            json!({"job_status": "Stopped"}),
        )
        .await;
    let all = [
        ("Action", "DeleteSourceServer"),
        ("Version", "2019-06-01"),
        ("Format", "json"),
        ("SourceId", s(&st, "SourceId")),
        ("Force", "True"),
    ];
    let r = env
        .v1_with(
            "POST",
            &all,
            &env.ali_creds(),
            &SigningContext::fresh(),
            true,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.content_type(), "application/json;charset=utf-8");
    assert!(!env.probe("replication_job", s(&st, "JobId")).await);
    assert!(
        !env.probe("intermediate_instance", s(&st, "IntermediateInstanceId"))
            .await
    );
}

#[tokio::test]
async fn smc_v1_sdk_shape_routes_on_action_even_with_the_header() {
    // The current SDK signing V1 sends Action in the query and x-acs-action too, no Authorization.
    let env = start().await;
    let sid = s(
        &env.setup(SMC, "source server exists", json!({})).await,
        "SourceId",
    )
    .to_string();
    let all = env.v1_params(
        "POST",
        &[
            ("Action", "DeleteSourceServer"),
            ("Version", "2019-06-01"),
            ("SourceId", &sid),
        ],
        &env.ali_creds(),
        &SigningContext::fresh(),
    );
    let r = send(
        env.http
            .post(format!("{}/?{}", env.em.base_url(), query_string(&all)))
            .header("x-acs-action", "NotThisOne")
            .header("x-acs-version", "2019-06-01"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // A V1 request (no Authorization): the V1 default format, not V3's.
    let default = catalog()
        .service(SMC)
        .unwrap()
        .spec
        .formats
        .as_ref()
        .unwrap()
        .default
        .clone();
    assert_eq!(
        r.content_type().starts_with("text/xml"),
        default.eq_ignore_ascii_case("xml"),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn smc_delete_source_server_rules() {
    let env = start().await;
    let op_name = "DeleteSourceServer";
    let del = |sid: String, force: Option<&'static str>| {
        let env = &env;
        async move {
            let mut p = vec![("SourceId", sid.as_str())];
            if let Some(f) = force {
                p.push(("Force", f));
            }
            env.v3(op_name, &p).await
        }
    };
    // Unknown source.
    assert_eq!(
        del("s-doesnotexist".into(), None).await.ali(),
        by_rule(SMC, op_name, "source-not-found")
    );
    // The source's own state forbids it.
    let st = env
        .setup(SMC, "source server exists", json!({"state": "Deleting"}))
        .await;
    assert_eq!(
        del(s(&st, "SourceId").into(), None).await.ali(),
        by_rule(SMC, op_name, "source-state-forbids")
    );
    assert!(env.probe("source_server", s(&st, "SourceId")).await);
    // A Running job blocks it, Force or not.
    let st = env
        .setup(
            SMC,
            "source server has replication job",
            json!({"job_status": "Running"}),
        )
        .await;
    assert_eq!(
        del(s(&st, "SourceId").into(), Some("TRUE")).await.ali(),
        by_rule(SMC, op_name, "running-job-blocks")
    );
    // A job that is not running needs Force=true: absent or false is refused.
    let st = env
        .setup(
            SMC,
            "source server has replication job",
            json!({"job_status": "Stopped"}),
        )
        .await;
    let sid = s(&st, "SourceId").to_string();
    assert_eq!(
        del(sid.clone(), None).await.ali(),
        by_rule(SMC, op_name, "job-needs-force")
    );
    assert_eq!(
        del(sid.clone(), Some("False")).await.ali(),
        by_rule(SMC, op_name, "job-needs-force")
    );
    assert!(env.probe("replication_job", s(&st, "JobId")).await);
    // Force=true deletes the source, its job and the job's intermediate instance.
    let r = del(sid.clone(), Some("true")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    for (kind, key) in [
        ("source_server", "SourceId"),
        ("replication_job", "JobId"),
        ("intermediate_instance", "IntermediateInstanceId"),
    ] {
        assert!(!env.probe(kind, s(&st, key)).await, "{kind} survived");
    }
    // Invalid Force value, missing SourceId.
    let st = env.setup(SMC, "source server exists", json!({})).await;
    assert_eq!(del(s(&st, "SourceId").into(), Some("maybe")).await.ali(), {
        let (st, c) = by_role_of(SMC, Some(op_name), ErrorRole::InvalidParameter);
        (st, c)
    });
    let r = env.v3(op_name, &[]).await;
    assert_eq!(
        r.ali(),
        by_role_of(SMC, Some(op_name), ErrorRole::MissingParameter)
    );
    assert!(
        r.json()["Message"]
            .as_str()
            .unwrap()
            .contains("\"SourceId\""),
        "{}",
        r.text()
    );
    let r = env.v3(op_name, &[("SourceId", "")]).await;
    assert_eq!(
        r.ali(),
        by_role_of(SMC, Some(op_name), ErrorRole::MissingParameter)
    );
}

#[tokio::test]
async fn smc_delete_replication_job_rules() {
    let env = start().await;
    let op_name = "DeleteReplicationJob";
    assert_eq!(
        env.v3(op_name, &[("JobId", "j-nope")]).await.ali(),
        by_rule(SMC, op_name, "job-not-found")
    );
    for status in ["Running", "Deleting"] {
        let st = env
            .setup(SMC, "replication job exists", json!({"status": status}))
            .await;
        assert_eq!(
            env.v3(op_name, &[("JobId", s(&st, "JobId"))]).await.ali(),
            by_rule(SMC, op_name, "status-forbids")
        );
    }
    let st = env
        .setup(SMC, "replication job exists", json!({"status": "Finished"}))
        .await;
    let r = env.v3(op_name, &[("JobId", s(&st, "JobId"))]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!env.probe("replication_job", s(&st, "JobId")).await);
    assert!(
        !env.probe("intermediate_instance", s(&st, "IntermediateInstanceId"))
            .await
    );
    // The source stays, and can now be deleted without Force.
    assert!(env.probe("source_server", s(&st, "SourceId")).await);
    assert_eq!(
        env.v3("DeleteSourceServer", &[("SourceId", s(&st, "SourceId"))])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn smc_auth_failures() {
    let env = start().await;
    let op_name = "DeleteSourceServer";
    let sid = s(
        &env.setup(SMC, "source server exists", json!({})).await,
        "SourceId",
    )
    .to_string();
    let params = [("SourceId", sid.as_str())];
    let role = |r| by_role_of(SMC, Some(op_name), r);

    // Unsigned.
    let r = send(env.http.post(format!(
        "{}/?Action=DeleteSourceServer&Format=JSON&SourceId={sid}",
        env.em.base_url()
    )))
    .await;
    assert_eq!(r.ali(), role(ErrorRole::MissingCredentials));
    // V3 with a wrong secret, an unknown key, an old date, a replayed nonce.
    let wrong = Credentials::new(EmulatorCredentials::DEFAULT_ALIBABA_AK, "not-the-secret");
    let r = env
        .v3_with(op_name, &params, &wrong, &SigningContext::fresh())
        .await;
    assert_eq!(r.ali(), role(ErrorRole::SignatureMismatch));
    let r = env
        .v3_with(
            op_name,
            &params,
            &Credentials::new("nobody", "x"),
            &SigningContext::fresh(),
        )
        .await;
    assert_eq!(r.ali(), role(ErrorRole::UnknownAccessKey));
    let old = SigningContext::new(Utc::now() - TimeDelta::minutes(20), "old-nonce");
    let r = env.v3_with(op_name, &params, &env.ali_creds(), &old).await;
    assert_eq!(r.ali(), role(ErrorRole::ExpiredTimestamp));
    let ctx = SigningContext::fresh();
    let bogus = [("SourceId", "s-nothere")];
    let first = env.v3_with(op_name, &bogus, &env.ali_creds(), &ctx).await;
    assert_eq!(first.status, 404);
    let again = env.v3_with(op_name, &bogus, &env.ali_creds(), &ctx).await;
    assert_eq!(again.ali(), role(ErrorRole::NonceUsed));
    // V1 with a wrong secret: the message carries the server's string to sign after a colon,
    // byte-identical to the signer's (the legacy SDK compares them).
    let p = [
        ("Action", op_name),
        ("Format", "JSON"),
        ("Version", "2019-06-01"),
        ("SignatureType", ""),
        ("SourceId", sid.as_str()),
    ];
    let ctx = SigningContext::fresh();
    let sent = env.v1_params("POST", &p, &wrong, &ctx);
    let r = env.v1_with("POST", &p, &wrong, &ctx, false).await;
    assert_eq!(r.ali(), role(ErrorRole::SignatureMismatch));
    let message = r.json()["Message"].as_str().unwrap().to_string();
    let (_, sts) = message.split_once(':').expect("a colon in the message");
    assert_eq!(sts, alibaba_v1::string_to_sign("POST", &sent));
    // The source is still there.
    assert!(env.probe("source_server", &sid).await);
    // Unknown action.
    let r = env.v3("DeleteEverything", &[]).await;
    assert_eq!(r.ali(), by_role_of(SMC, None, ErrorRole::UnknownAction));
}

#[tokio::test]
async fn smc_caller_without_permission_and_failures() {
    let env = start().await;
    let st = env.setup(SMC, "caller lacks permission", json!({})).await;
    let c = st["credentials"].as_object().unwrap();
    let creds = Credentials::new(s(c, "access_key_id"), s(c, "access_key_secret"));
    assert!(!s(c, "token").is_empty());
    let sid = s(
        &env.setup(SMC, "source server exists", json!({})).await,
        "SourceId",
    )
    .to_string();
    let r = env
        .v3_with(
            "DeleteSourceServer",
            &[("SourceId", &sid)],
            &creds,
            &SigningContext::fresh(),
        )
        .await;
    assert_eq!(
        r.ali(),
        by_role_of(SMC, Some("DeleteSourceServer"), ErrorRole::Forbidden)
    );
    assert!(env.probe("source_server", &sid).await);
    // Teardown removes the identity: its key is then unknown.
    let r = env.states(json!({"action": "teardown", "state": "caller lacks permission", "params": {"service": SMC}, "values": st})).await;
    assert_eq!(r.status, 200);
    let r = env
        .v3_with(
            "DeleteSourceServer",
            &[("SourceId", &sid)],
            &creds,
            &SigningContext::fresh(),
        )
        .await;
    assert_eq!(
        r.ali(),
        by_role_of(SMC, Some("DeleteSourceServer"), ErrorRole::UnknownAccessKey)
    );

    // service fails: both deletions answer the internal error, in JSON and XML.
    let st = env
        .setup(SMC, "service fails", json!({"status": 500}))
        .await;
    let r = env
        .v3(
            "DeleteSourceServer",
            &[("SourceId", s(&st, "SourceId")), ("Force", "true")],
        )
        .await;
    assert_eq!(
        r.ali(),
        by_role_of(SMC, Some("DeleteSourceServer"), ErrorRole::InternalError)
    );
    let r = env
        .v3(
            "DeleteReplicationJob",
            &[("JobId", s(&st, "JobId")), ("Format", "XML")],
        )
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(r.content_type(), "text/xml;charset=utf-8");
    let text = r.text();
    for element in [
        "<Error>",
        "<RequestId>",
        "<HostId>",
        "<Code>InternalError</Code>",
        "<Message>",
        "<Recommend>",
    ] {
        assert!(text.contains(element), "{element} in {text}");
    }
    assert!(env.probe("replication_job", s(&st, "JobId")).await);
}

#[tokio::test]
async fn smc_errors_have_the_full_envelope_in_both_formats() {
    let env = start().await;
    let r = env.v3("DeleteSourceServer", &[("SourceId", "s-x")]).await;
    let v = r.json();
    assert_eq!(
        v.as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        vec!["RequestId", "HostId", "Code", "Message", "Recommend"]
    );
    assert_eq!(r.content_type(), "application/json;charset=utf-8");
    let r = env
        .v1(
            "GET",
            &[
                ("Action", "DeleteSourceServer"),
                ("Version", "2019-06-01"),
                ("SourceId", "s-x"),
            ],
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.content_type(), "text/xml;charset=utf-8");
    assert!(r.text().starts_with("<?xml"), "{}", r.text());
    assert!(r.text().contains("<Error><RequestId>"), "{}", r.text());
}

#[tokio::test]
async fn smc_never_panics_on_odd_input() {
    let env = start().await;
    let base = env.em.base_url();
    // Bad UTF-8 in the query, bad percent-encoding, a form body that is not UTF-8, no Action.
    for (q, body) in [
        ("Action=%FF%FE", None),
        ("Action=DeleteSourceServer&SourceId=%zz", None),
        ("", Some(b"a=\xff".to_vec())),
        ("", None),
    ] {
        let mut req = env.http.post(format!("{base}/?{q}"));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(b);
        }
        let r = send(req).await;
        assert!(
            (400..500).contains(&r.status),
            "{q}: {} {}",
            r.status,
            r.text()
        );
        // No Format: the V1 default (XML), with its request id.
        assert!(r.text().contains("<RequestId>"), "{}", r.text());
    }
    // A header that is not UTF-8 and a long one.
    let r = send(
        env.http
            .post(format!("{base}/?Action=DeleteSourceServer"))
            .header(
                "authorization",
                reqwest::header::HeaderValue::from_bytes(b"ACS3-HMAC-SHA256 \xff").unwrap(),
            )
            .header("x-long", "a".repeat(20_000)),
    )
    .await;
    assert!((400..500).contains(&r.status), "{}", r.text());
    r.ali();
}

// ---------------------------------------------------------------- Huawei SMS

#[tokio::test]
async fn sms_deletes_with_aksk_and_with_token() {
    let env = start().await;
    let st = env
        .setup(
            SMS,
            "migration task exists",
            json!({"source_state": "stopped", "agent_connected": true}),
        )
        .await;
    let tid = s(&st, "task_id").to_string();
    assert_eq!(tid.len(), 36);
    let r = env.hw("DELETE", &format!("/v3/tasks/{tid}")).await;
    assert_eq!(r.hw(), (200, String::new()));
    assert!(r.body.is_empty());
    assert!(!env.probe("migration_task", &tid).await);
    assert_eq!(
        r.hw_status_again(&env, &tid).await,
        by_rule(SMS, "DeleteTask", "task-not-found")
    );

    let tid = s(
        &env.setup(SMS, "migration task exists", json!({})).await,
        "task_id",
    )
    .to_string();
    let r = env
        .hw_token(
            "DELETE",
            &format!("/v3/tasks/{tid}"),
            Some(EmulatorCredentials::DEFAULT_TOKEN),
        )
        .await;
    assert_eq!(r.hw(), (200, String::new()));
}

impl Resp {
    async fn hw_status_again(&self, env: &Env, tid: &str) -> (u16, String) {
        env.hw("DELETE", &format!("/v3/tasks/{tid}")).await.hw()
    }
}

#[tokio::test]
async fn sms_state_rule_and_parameter_limits() {
    let env = start().await;
    let st = env
        .setup(
            SMS,
            "migration task exists",
            json!({"source_state": "syncing", "agent_connected": true}),
        )
        .await;
    let tid = s(&st, "task_id").to_string();
    assert_eq!(
        env.hw("DELETE", &format!("/v3/tasks/{tid}")).await.hw(),
        by_rule(SMS, "DeleteTask", "connected-state-forbids")
    );
    assert!(env.probe("migration_task", &tid).await);
    // Disconnected: the same state does not block.
    let st = env
        .setup(
            SMS,
            "migration task exists",
            json!({"source_state": "syncing", "agent_connected": false}),
        )
        .await;
    assert_eq!(
        env.hw("DELETE", &format!("/v3/tasks/{}", s(&st, "task_id")))
            .await
            .status,
        200
    );
    // task_id limits: "" and 37 characters are invalid, 1 and 36 fine.
    let invalid = by_role_of(SMS, Some("DeleteTask"), ErrorRole::InvalidParameter);
    assert_eq!(env.hw("DELETE", "/v3/tasks/").await.hw(), invalid);
    let long = s(
        &env.setup(SMS, "migration task exists", json!({"id_length": 37}))
            .await,
        "task_id",
    )
    .to_string();
    assert_eq!(long.len(), 37);
    assert_eq!(
        env.hw("DELETE", &format!("/v3/tasks/{long}")).await.hw(),
        invalid
    );
    assert!(env.probe("migration_task", &long).await);
    let one = s(
        &env.setup(SMS, "migration task exists", json!({"id_length": 1}))
            .await,
        "task_id",
    )
    .to_string();
    assert_eq!(one.len(), 1);
    assert_eq!(
        env.hw("DELETE", &format!("/v3/tasks/{one}")).await.status,
        200
    );
    let empty = env
        .setup(SMS, "migration task exists", json!({"id_length": 0}))
        .await;
    assert_eq!(s(&empty, "task_id"), "");
    // A segment that is not UTF-8.
    assert_eq!(env.hw("DELETE", "/v3/tasks/%FF").await.hw(), invalid);
}

#[tokio::test]
async fn sms_auth_failures_and_forbidden_body() {
    let env = start().await;
    let tid = s(
        &env.setup(SMS, "migration task exists", json!({})).await,
        "task_id",
    )
    .to_string();
    let path = format!("/v3/tasks/{tid}");
    let role = |r| by_role_of(SMS, Some("DeleteTask"), r);
    assert_eq!(
        env.hw_token("DELETE", &path, None).await.hw(),
        role(ErrorRole::MissingCredentials)
    );
    assert_eq!(
        env.hw_token("DELETE", &path, Some("bogus")).await.hw(),
        role(ErrorRole::InvalidToken)
    );
    let wrong = Credentials::new(EmulatorCredentials::DEFAULT_HUAWEI_AK, "wrong");
    let r = env
        .hw_aksk("DELETE", &path, &wrong, &SigningContext::fresh(), &[], b"")
        .await;
    assert_eq!(r.hw(), role(ErrorRole::SignatureMismatch));
    let r = env
        .hw_aksk(
            "DELETE",
            &path,
            &Credentials::new("NOBODY", "x"),
            &SigningContext::fresh(),
            &[],
            b"",
        )
        .await;
    assert_eq!(r.hw(), role(ErrorRole::UnknownAccessKey));
    let old = SigningContext::new(Utc::now() - TimeDelta::minutes(20), "n");
    let r = env
        .hw_aksk("DELETE", &path, &env.hw_creds(), &old, &[], b"")
        .await;
    assert_eq!(r.hw(), role(ErrorRole::ExpiredTimestamp));
    assert!(env.probe("migration_task", &tid).await);

    // A caller without permission, with AK/SK and with its token: the seed's full 403 body.
    let st = env.setup(SMS, "caller lacks permission", json!({})).await;
    let c = st["credentials"].as_object().unwrap();
    let creds = Credentials::new(s(c, "access_key_id"), s(c, "access_key_secret"));
    for r in [
        env.hw_aksk("DELETE", &path, &creds, &SigningContext::fresh(), &[], b"")
            .await,
        env.hw_token("DELETE", &path, Some(s(c, "token"))).await,
    ] {
        assert_eq!(r.hw(), role(ErrorRole::Forbidden));
        let v = r.json();
        assert!(
            v["error_msg"].is_string() && v["encoded_authorization_message"].is_string(),
            "{v}"
        );
        assert_eq!(v["error_param"].as_array().unwrap().len(), 1, "{v}");
        let details = v["details"].as_array().unwrap();
        assert_eq!(details.len(), 1);
        assert_eq!(details[0]["error_code"], v["error_code"]);
        assert!(details[0]["error_msg"].is_string());
    }
    assert!(env.probe("migration_task", &tid).await);
}

#[tokio::test]
async fn sms_ids_with_a_slash_verify_as_the_sdk_signs_them() {
    // The SDK sends `a%2Fb` but signs the canonical URI `/v3/tasks/a/b/`.
    let env = start().await;
    let headers = pairs(&[("host", &env.host()), ("content-type", "application/json")]);
    let signed_as = HttpParts {
        method: "DELETE",
        path: "/v3/tasks/a/b",
        query: &[],
        headers: &headers,
        body: b"",
    };
    let signed = huawei_aksk::sign(&signed_as, &env.hw_creds(), &SigningContext::fresh());
    let mut req = env
        .http
        .delete(format!("{}/v3/tasks/a%2Fb", env.em.base_url()));
    for (k, v) in headers.into_iter().chain(signed.headers) {
        req = req.header(k, v);
    }
    let r = send(req).await;
    assert_eq!(r.hw(), by_rule(SMS, "DeleteTask", "task-not-found"));
    // Signed as sent works too.
    let r = env.hw("DELETE", "/v3/tasks/a%2Fb").await;
    assert_eq!(r.hw(), by_rule(SMS, "DeleteTask", "task-not-found"));
}

#[tokio::test]
async fn huawei_routing() {
    let env = start().await;
    let (status, code) = env.hw("DELETE", "/v3/nothing/here").await.hw();
    assert_eq!(
        (status, code),
        by_role_of(SMS, None, ErrorRole::RouteNotFound)
    );
    let r = env.hw("DELETE", "/v3/tasks/a/b").await;
    assert_eq!(r.status, 404);
    r.hw();
    // Another method on an operation's path: the catalogue's 405, or the gateway's 404.
    let r = env.hw("GET", "/v3/tasks/abc").await;
    let sms = catalog();
    let sms = sms.service(SMS).unwrap();
    let expected = if sms
        .error_for(
            Some(&sms.operations["DeleteTask"].spec),
            ErrorRole::MethodNotAllowed,
        )
        .is_some()
    {
        by_role_of(SMS, Some("DeleteTask"), ErrorRole::MethodNotAllowed)
    } else {
        by_role_of(SMS, Some("DeleteTask"), ErrorRole::RouteNotFound)
    };
    assert_eq!(r.hw(), expected);
    let st = env.setup(WKS, "app server exists", json!({})).await;
    let path = format!(
        "/v1/{}/app-servers/{}",
        s(&st, "project_id"),
        s(&st, "server_id")
    );
    let r = env
        .hw_aksk(
            "POST",
            &path,
            &env.hw_creds(),
            &SigningContext::fresh(),
            &[("x-project-id", s(&st, "project_id"))],
            b"",
        )
        .await;
    assert_eq!(
        r.hw(),
        by_role_of(WKS, Some("DeleteServer"), ErrorRole::MethodNotAllowed)
    );
    assert!(env.probe("app_server", s(&st, "server_id")).await);
}

// ---------------------------------------------------------------- Huawei Workspace

#[tokio::test]
async fn workspace_rules() {
    let env = start().await;
    let st = env.setup(WKS, "app server exists", json!({})).await;
    let (project, server) = (
        s(&st, "project_id").to_string(),
        s(&st, "server_id").to_string(),
    );
    let r = env.ws_delete(&project, &server).await;
    assert_eq!(r.hw(), (200, String::new()));
    let job = r.json()["job_id"].as_str().unwrap().to_string();
    assert_eq!(job.len(), 36);
    assert!(!env.probe("app_server", &server).await);
    // Deleting it again: a server that does not exist is a success.
    assert_eq!(env.ws_delete(&project, &server).await.status, 200);
    // Unknown project, locked server.
    assert_eq!(
        env.ws_delete("0123456789abcdef0123456789abcdef", &server)
            .await
            .hw(),
        by_rule(WKS, "DeleteServer", "project-not-found")
    );
    let st = env
        .setup(WKS, "app server exists", json!({"locked": true}))
        .await;
    assert_eq!(
        env.ws_delete(s(&st, "project_id"), s(&st, "server_id"))
            .await
            .hw(),
        by_rule(WKS, "DeleteServer", "server-locked")
    );
    // Empty ids: required path parameters without a minimum length are missing; Workspace has
    // no parameter errors, so the gateway's "no such API" answers, and nothing is deleted.
    let r = env.ws_delete(s(&st, "project_id"), "").await;
    assert_eq!(
        r.hw(),
        by_role_of(WKS, Some("DeleteServer"), ErrorRole::RouteNotFound)
    );
    let r = env.ws_delete("", s(&st, "server_id")).await;
    assert_eq!(
        r.hw(),
        by_role_of(WKS, Some("DeleteServer"), ErrorRole::RouteNotFound)
    );
    assert!(env.probe("app_server", s(&st, "server_id")).await);
    // Token auth works too.
    let st = env
        .setup(WKS, "app server exists", json!({"locked": false}))
        .await;
    let path = format!(
        "/v1/{}/app-servers/{}",
        s(&st, "project_id"),
        s(&st, "server_id")
    );
    assert_eq!(
        env.hw_token("DELETE", &path, Some(EmulatorCredentials::DEFAULT_TOKEN))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn workspace_malformed_body_failures_and_permission() {
    let env = start().await;
    let st = env.setup(WKS, "app server exists", json!({})).await;
    let (project, server) = (s(&st, "project_id"), s(&st, "server_id"));
    let path = format!("/v1/{project}/app-servers/{server}");
    let r = env
        .hw_aksk(
            "DELETE",
            &path,
            &env.hw_creds(),
            &SigningContext::fresh(),
            &[("x-project-id", project)],
            b"{\"truncated\": ",
        )
        .await;
    assert_eq!(
        r.hw(),
        by_role_of(WKS, Some("DeleteServer"), ErrorRole::MalformedRequest)
    );
    // A well-formed body is fine.
    let r = env
        .hw_aksk(
            "DELETE",
            &path,
            &env.hw_creds(),
            &SigningContext::fresh(),
            &[("x-project-id", project)],
            b"{}",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    for (status, role) in [
        (500, ErrorRole::InternalError),
        (503, ErrorRole::ServiceUnavailable),
    ] {
        let st = env
            .setup(WKS, "service fails", json!({"status": status}))
            .await;
        let r = env
            .ws_delete(s(&st, "project_id"), s(&st, "server_id"))
            .await;
        assert_eq!(r.hw(), by_role_of(WKS, Some("DeleteServer"), role));
        assert_eq!(r.status, status);
    }
    let st = env.setup(WKS, "caller lacks permission", json!({})).await;
    let c = st["credentials"].as_object().unwrap();
    let creds = Credentials::new(s(c, "access_key_id"), s(c, "access_key_secret"));
    let st = env.setup(WKS, "app server exists", json!({})).await;
    let path = format!(
        "/v1/{}/app-servers/{}",
        s(&st, "project_id"),
        s(&st, "server_id")
    );
    let r = env
        .hw_aksk(
            "DELETE",
            &path,
            &creds,
            &SigningContext::fresh(),
            &[("x-project-id", s(&st, "project_id"))],
            b"",
        )
        .await;
    assert_eq!(
        r.hw(),
        by_role_of(WKS, Some("DeleteServer"), ErrorRole::Forbidden)
    );
    let missing = env.hw_token("DELETE", &path, None).await;
    assert_eq!(
        missing.hw(),
        by_role_of(WKS, Some("DeleteServer"), ErrorRole::MissingCredentials)
    );
}

// ---------------------------------------------------------------- provider states

#[tokio::test]
async fn provider_state_protocol() {
    let env = start().await;
    // Setup, probe, teardown (twice: idempotent), probe.
    let st = env
        .setup(
            SMC,
            "source server has replication job",
            json!({"job_status": "Ready", "state": "InUse"}),
        )
        .await;
    assert_eq!(
        st.keys().collect::<Vec<_>>(),
        vec!["SourceId", "JobId", "IntermediateInstanceId"]
    );
    let store_state = env
        .em
        .store()
        .get("source_server", s(&st, "SourceId"))
        .unwrap();
    assert_eq!(store_state.attrs["State"], json!("InUse"));
    for _ in 0..2 {
        let r = env
            .states(json!({"action": "teardown", "state": "source server has replication job", "params": {"job_status": "Ready", "service": SMC}, "values": st}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    for (kind, key) in [
        ("source_server", "SourceId"),
        ("replication_job", "JobId"),
        ("intermediate_instance", "IntermediateInstanceId"),
    ] {
        assert!(!env.probe(kind, s(&st, key)).await);
    }
    // Fresh ids every time.
    let a = env.setup(WKS, "app server exists", json!({})).await;
    let b = env.setup(WKS, "app server exists", json!({})).await;
    assert_ne!(a["server_id"], b["server_id"]);
    assert_ne!(a["project_id"], b["project_id"]);
    // `service` may be left out when one service has the state.
    let r = env
        .states(json!({"action": "setup", "state": "app server exists", "params": {}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // Refusals, each with a message.
    for body in [
        json!({"action": "setup", "state": "no such state", "params": {}}),
        json!({"action": "setup", "state": "service fails", "params": {"status": 500}}),
        json!({"action": "setup", "state": "service fails", "params": {"status": 404, "service": WKS}}),
        json!({"action": "setup", "state": "replication job exists", "params": {"service": SMC}}),
        json!({"action": "setup", "state": "replication job exists", "params": {"service": SMC, "status": "Sleeping"}}),
        json!({"action": "setup", "state": "source server exists", "params": {"service": SMC, "colour": "red"}}),
        json!({"action": "setup", "state": "app server exists", "params": {"service": WKS, "locked": "perhaps"}}),
        json!({"action": "setup", "state": "source server exists", "params": {"service": "nope"}}),
        json!({"action": "probe", "resource": "unicorn", "id": "x"}),
        json!({"action": "dance"}),
        json!([1, 2]),
    ] {
        let r = env.states(body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert!(
            r.json()["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{body}: {}",
            r.text()
        );
    }
    let r = send(env.http.post(env.em.states_url()).body("{not json")).await;
    assert_eq!(r.status, 400);
    let r = send(env.http.get(env.em.states_url())).await;
    assert_eq!(r.status, 405);
    // Strings for typed parameters are accepted.
    let r = env.states(json!({"action": "setup", "state": "service fails", "params": {"status": "503", "service": WKS}})).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

// ---------------------------------------------------------------- concurrency

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deletes_of_one_resource_exactly_one_wins() {
    let env = Arc::new(start().await);
    let st = env
        .setup(
            SMC,
            "source server has replication job",
            json!({"job_status": "Stopped"}),
        )
        .await;
    let sid = s(&st, "SourceId").to_string();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let env = Arc::clone(&env);
            let sid = sid.clone();
            tokio::spawn(async move {
                env.v3(
                    "DeleteSourceServer",
                    &[("SourceId", &sid), ("Force", "true")],
                )
                .await
                .ali()
            })
        })
        .collect();
    let mut outcomes: BTreeMap<(u16, String), usize> = BTreeMap::new();
    for t in tasks {
        *outcomes.entry(t.await.unwrap()).or_default() += 1;
    }
    let not_found = by_rule(SMC, "DeleteSourceServer", "source-not-found");
    assert_eq!(
        outcomes.get(&(200, String::new())),
        Some(&1),
        "{outcomes:?}"
    );
    assert_eq!(outcomes.get(&not_found), Some(&49), "{outcomes:?}");
    assert!(!env.probe("replication_job", s(&st, "JobId")).await);
    env.em.store().with(|t| t.check_consistency()).unwrap();

    // The same for an SMS task.
    let tid = s(
        &env.setup(SMS, "migration task exists", json!({})).await,
        "task_id",
    )
    .to_string();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let env = Arc::clone(&env);
            let path = format!("/v3/tasks/{tid}");
            tokio::spawn(async move { env.hw("DELETE", &path).await.status })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            404 => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 1);
    env.em.store().with(|t| t.check_consistency()).unwrap();
}

// ---------------------------------------------------------------- mutants

#[tokio::test]
async fn behaviour_follows_the_spec_data() {
    let mut c = (*catalog()).clone();
    // Signing emptied: unsigned requests are accepted.
    c.services.get_mut(SMC).unwrap().spec.signing.clear();
    c.services.get_mut(SMS).unwrap().spec.signing.clear();
    let sms = c
        .services
        .get_mut(SMS)
        .unwrap()
        .operations
        .get_mut("DeleteTask")
        .unwrap();
    // A length limit relaxed.
    sms.spec
        .request
        .parameters
        .iter_mut()
        .find(|p| p.name == "task_id")
        .unwrap()
        .max_length = Some(40);
    // A rule flipped: the connected-state refusal answers not-found's code.
    let rule = sms
        .spec
        .rules
        .iter_mut()
        .find(|r| r.id == "connected-state-forbids")
        .unwrap();
    rule.then = RuleOutcome::Error("SMS.2252".into());
    // A status changed.
    let smc_op = c
        .services
        .get_mut(SMC)
        .unwrap()
        .operations
        .get_mut("DeleteSourceServer")
        .unwrap();
    smc_op
        .spec
        .errors
        .iter_mut()
        .find(|e| e.code == "InvalidSourceId.NotFound")
        .unwrap()
        .status = 410;
    // A format default flipped.
    c.services
        .get_mut(SMC)
        .unwrap()
        .spec
        .formats
        .as_mut()
        .unwrap()
        .v3_default = "XML".into();
    let env = start_with(EmulatorConfig::new(Arc::new(c))).await;

    let sid = s(
        &env.setup(SMC, "source server exists", json!({})).await,
        "SourceId",
    )
    .to_string();
    let r = send(env.http.post(format!(
        "{}/?Action=DeleteSourceServer&Format=JSON&SourceId={sid}",
        env.em.base_url()
    )))
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = env.v3("DeleteSourceServer", &[("SourceId", &sid)]).await;
    assert_eq!(r.status, 410);
    assert!(r.content_type().starts_with("text/xml"), "{}", r.text());
    let long = s(
        &env.setup(SMS, "migration task exists", json!({"id_length": 37}))
            .await,
        "task_id",
    )
    .to_string();
    assert_eq!(
        env.hw_token("DELETE", &format!("/v3/tasks/{long}"), None)
            .await
            .status,
        200
    );
    let st = env
        .setup(
            SMS,
            "migration task exists",
            json!({"source_state": "cloning", "agent_connected": true}),
        )
        .await;
    let r = env
        .hw_token("DELETE", &format!("/v3/tasks/{}", s(&st, "task_id")), None)
        .await;
    assert_eq!(r.hw(), (404, "SMS.2252".to_string()));
}

#[tokio::test]
async fn answer_layer_sees_every_answer() {
    let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let mut config = EmulatorConfig::new(catalog());
    config.answer_layer = Some(Arc::new(
        move |ctx: &AnswerContext, mut answer: EmulatorAnswer| {
            log.lock().push(ctx.clone());
            if ctx.service == SMC {
                if let Some(Value::Object(mut m)) = answer.json() {
                    m.remove("RequestId");
                    answer.body = serde_json::to_vec(&m).unwrap().into();
                }
            }
            answer
                .headers
                .retain(|(n, _)| !n.eq_ignore_ascii_case("x-request-id"));
            answer
        },
    ));
    let env = start_with(config).await;
    let r = env
        .v3("DeleteSourceServer", &[("SourceId", "s-none")])
        .await;
    assert_eq!(r.status, 404);
    assert!(r.json().get("RequestId").is_none());
    let r = env.hw("DELETE", "/v3/tasks/x").await;
    assert!(r.header("x-request-id").is_none());
    let seen = seen.lock();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].operation.as_deref(), Some("DeleteSourceServer"));
    assert_eq!(seen[0].format, Format::Json);
    assert_eq!(
        seen[0].error_code.as_deref(),
        Some("InvalidSourceId.NotFound")
    );
    assert_eq!(seen[1].service, SMS);
    assert_eq!(seen[1].error_role, None);
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let env = start().await;
    let url = env.em.base_url();
    let before = send(env.http.delete(format!("{url}/v3/tasks/x"))).await;
    assert_eq!(before.status, 401, "{}", before.text());
    env.em.shutdown().await;
    assert!(env
        .http
        .get(format!("{url}/v3/tasks/x"))
        .send()
        .await
        .is_err());
}

// ---------------------------------------------------------------- throughput

/// Requests per second of `make` over `conns` concurrent loops for `secs`.
async fn rate<F, Fut>(conns: usize, secs: f64, make: F) -> f64
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = u16> + Send,
{
    let make = Arc::new(make);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(secs);
    let tasks: Vec<_> = (0..conns)
        .map(|_| {
            let make = Arc::clone(&make);
            tokio::spawn(async move {
                let mut n = 0u64;
                while std::time::Instant::now() < deadline {
                    make().await;
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / secs
}

/// `cargo test --release --lib emulator::tests::throughput -- --ignored --nocapture`: the
/// emulator's request rate against a bare axum handler's, same client, same machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn throughput_against_a_bare_handler() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let bare = Router::new().fallback(|| async {
        (
            [
                ("content-type", "application/json"),
                ("x-request-id", "0123456789abcdef0123456789abcdef"),
            ],
            "{\"error_code\":\"X\",\"error_msg\":\"y\"}",
        )
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, bare).await });
    let env = Arc::new(start().await);
    let http = reqwest::Client::new();
    let conns = 16;
    let secs = 3.0;

    let h = http.clone();
    let url = format!("http://{bare_addr}/v3/tasks/nope");
    let bare_rate = rate(conns, secs, move || {
        let (h, url) = (h.clone(), url.clone());
        async move {
            h.delete(url)
                .header("x-auth-token", "t")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    })
    .await;

    let h = http.clone();
    let url = format!("{}/v3/tasks/nope", env.em.base_url());
    let token_rate = rate(conns, secs, move || {
        let (h, url) = (h.clone(), url.clone());
        async move {
            h.delete(url)
                .header("x-auth-token", EmulatorCredentials::DEFAULT_TOKEN)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    })
    .await;

    let e = Arc::clone(&env);
    let v3_rate = rate(conns, secs, move || {
        let e = Arc::clone(&e);
        async move {
            e.v3("DeleteSourceServer", &[("SourceId", "s-none")])
                .await
                .status
        }
    })
    .await;
    eprintln!(
        "bare {bare_rate:.0}/s; emulator SMS token {token_rate:.0}/s ({:.2}); emulator SMC V3-signed {v3_rate:.0}/s ({:.2}, client signing included)",
        token_rate / bare_rate,
        v3_rate / bare_rate
    );
}

/// `cargo test --release --lib emulator::tests::dispatch_cost -- --ignored --nocapture`
#[test]
#[ignore]
fn dispatch_cost() {
    let sh = Shared::new(EmulatorConfig::new(catalog()));
    let make = |method: &str, uri: &str| {
        let req = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .header("x-auth-token", EmulatorCredentials::DEFAULT_TOKEN)
            .header("host", "127.0.0.1:1")
            .body(())
            .unwrap();
        Incoming::new(req.into_parts().0, Some(bytes::Bytes::new()))
    };
    for (method, uri) in [
        ("DELETE", "/v3/tasks/nope"),
        ("POST", "/?Action=DeleteSourceServer&SourceId=s-1"),
        (
            "POST",
            "/?Action=DeleteSourceServer&Format=JSON&SourceId=s-1",
        ),
    ] {
        let n = 100_000;
        let reqs: Vec<Incoming> = (0..n).map(|_| make(method, uri)).collect();
        let t = std::time::Instant::now();
        for r in &reqs {
            let h = dispatch(&sh, r);
            std::hint::black_box(into_response(h.answer));
        }
        eprintln!(
            "{method} {uri}: dispatch+into_response {:.2} us",
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
    }
}

// --- protocol

/// V1 `DeleteSourceServer` of a fresh source, with `Format` spelled as given.
async fn smc_delete_with_format(env: &Env, format: &str, form: bool) -> (Resp, String) {
    let sid = s(
        &env.setup(SMC, "source server exists", json!({})).await,
        "SourceId",
    )
    .to_string();
    let params = [
        ("Action", "DeleteSourceServer"),
        ("Version", "2019-06-01"),
        ("Format", format),
        ("SourceId", sid.as_str()),
    ];
    let r = env
        .v1_with(
            "POST",
            &params,
            &env.ali_creds(),
            &SigningContext::fresh(),
            form,
        )
        .await;
    (r, sid)
}

#[tokio::test]
async fn protocol_details_as_the_bundled_specs_say() {
    let env = start().await;
    for (spelled, xml) in [
        ("json", false),
        ("Json", false),
        ("xml", true),
        ("Xml", true),
    ] {
        let (r, _) = smc_delete_with_format(&env, spelled, false).await;
        assert_eq!(r.status, 200, "{spelled}: {}", r.text());
        assert_eq!(
            r.text().starts_with("<?xml"),
            xml,
            "{spelled}: {}",
            r.text()
        );
    }
    // An XML error: the exact content type, and `&` escaped.
    let r = env
        .v1(
            "POST",
            &[
                ("Action", "DeleteNoSuchThing"),
                ("Version", "2019-06-01"),
                ("Format", "XML"),
            ],
        )
        .await;
    assert_eq!(r.content_type(), "text/xml;charset=utf-8");
    assert!(r.text().contains("&amp;product="), "{}", r.text());
    // A gateway error carries the request id in the header and the body, the same.
    let tid = s(
        &env.setup(SMS, "migration task exists", json!({})).await,
        "task_id",
    )
    .to_string();
    for method in ["GET", "POST", "PUT", "PATCH"] {
        let r = env.hw(method, &format!("/v3/tasks/{tid}")).await;
        let (status, code) = r.hw();
        assert_eq!((status, code.as_str()), (404, "APIGW.0101"), "{method}");
        assert_eq!(r.json()["request_id"].as_str(), r.header("x-request-id"));
        assert!(
            env.probe("migration_task", &tid).await,
            "{method} deleted the task"
        );
    }
}

#[tokio::test]
async fn protocol_details_follow_the_spec_data() {
    let mut c = (*catalog()).clone();
    let smc = &mut c.services.get_mut(SMC).unwrap().spec;
    smc.form_body = None;
    smc.format_case.as_mut().unwrap().insensitive = false;
    for rule in &mut smc.content_types {
        rule.sends = Some(format!("x-test/{}", rule.format.to_ascii_lowercase()));
    }
    c.services
        .get_mut(SMS)
        .unwrap()
        .operations
        .get_mut("DeleteTask")
        .unwrap()
        .spec
        .request
        .methods
        .push("GET".into());
    let env = start_with(EmulatorConfig::new(Arc::new(c))).await;
    // `json` is not `JSON` now: the V1 default (XML), with the spec's content type.
    let (r, _) = smc_delete_with_format(&env, "json", false).await;
    assert!(r.text().starts_with("<?xml"), "{}", r.text());
    assert_eq!(r.content_type(), "x-test/xml");
    // A form body is not read: the signature (over the body's parameters) does not match.
    let (r, sid) = smc_delete_with_format(&env, "JSON", true).await;
    assert_ne!(r.status, 200, "{}", r.text());
    assert!(env.probe("source_server", &sid).await);
    // GET now runs the SMS operation.
    let tid = s(
        &env.setup(SMS, "migration task exists", json!({})).await,
        "task_id",
    )
    .to_string();
    assert_eq!(env.hw("GET", &format!("/v3/tasks/{tid}")).await.status, 200);
    assert!(!env.probe("migration_task", &tid).await);
}

#[tokio::test]
async fn tenancy_states_and_scoped_probes() {
    let env = start().await;
    let a = env.setup(WKS, "app server exists", json!({})).await;
    let b = env.setup(WKS, "another project exists", json!({})).await;
    let (server, project, other) = (
        s(&a, "server_id"),
        s(&a, "project_id"),
        s(&b, "other_project_id"),
    );
    assert_ne!(project, other);
    assert!(env.probe("project", other).await);
    let scoped = |p: &str| json!({"action": "probe", "resource": "app_server", "id": server, "scope": {"project_id": p}});
    assert_eq!(
        env.states(scoped(project)).await.json()["exists"],
        json!(true)
    );
    assert_eq!(
        env.states(scoped(other)).await.json()["exists"],
        json!(false)
    );
    // A scope value that is not a string is refused.
    let r = env
        .states(json!({"action": "probe", "resource": "app_server", "id": server, "scope": {"project_id": 7}}))
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    // Another account's caller: valid credentials, permitted; a different identity each time.
    let c1 = env.setup(SMC, "caller of another account", json!({})).await;
    let c2 = env
        .setup("huawei-sms", "caller of another account", json!({}))
        .await;
    for c in [&c1, &c2] {
        let creds = &c["credentials"];
        assert!(
            creds["access_key_id"]
                .as_str()
                .is_some_and(|k| !k.is_empty()),
            "{c:?}"
        );
        assert!(creds["access_key_secret"]
            .as_str()
            .is_some_and(|k| !k.is_empty()));
    }
    assert_ne!(
        c1["credentials"]["access_key_id"],
        c2["credentials"]["access_key_id"]
    );
}

// --- signing schemes: the verifiers read the spec's `signing` entries ------------

fn with_v1(edit: impl Fn(&mut crate::spec::model::Signing)) -> EmulatorConfig {
    let mut c = (*catalog()).clone();
    for s in c.services.get_mut(SMC).unwrap().spec.signing.iter_mut() {
        if s.scheme == crate::spec::model::SigningScheme::AlibabaV1 {
            edit(s);
        }
    }
    EmulatorConfig::new(Arc::new(c))
}

#[tokio::test]
async fn v1_verification_follows_the_signing_entry() {
    use crate::spec::model::SignedPart;
    let legacy = [
        ("Action", "DeleteSourceServer"),
        ("Version", "2019-06-01"),
        ("Format", "JSON"),
        ("SourceId", "s-none"),
        ("SignatureType", ""),
    ];
    let not_found = by_role_of(SMC, Some("DeleteSourceServer"), ErrorRole::NotFound);
    let mismatch = by_role_of(SMC, None, ErrorRole::SignatureMismatch);
    // As documented: the empty value is signed, so the legacy SDK's request verifies.
    let env = start().await;
    assert_eq!(env.v1("GET", &legacy).await.ali(), not_found);
    // A verifier that leaves empty values out refuses it.
    let env = start_with(with_v1(|s| {
        s.signs.retain(|p| *p != SignedPart::EmptyValues)
    }))
    .await;
    assert_eq!(env.v1("GET", &legacy).await.ali(), mismatch);
    // Unchecked over GET only: a forged GET passes, a forged POST does not.
    let env = start_with(with_v1(|s| s.unchecked_methods = vec!["GET".into()])).await;
    let wrong = Credentials::new(EmulatorCredentials::DEFAULT_ALIBABA_AK, "not-the-secret");
    let forged = |method: &'static str| {
        let (env, wrong) = (&env, &wrong);
        async move {
            env.v1_with(method, &legacy, wrong, &SigningContext::fresh(), false)
                .await
                .ali()
        }
    };
    assert_eq!(forged("GET").await, not_found);
    assert_eq!(forged("POST").await, mismatch);
    // Without a nonce, a replay passes.
    let env = start_with(with_v1(|s| s.nonce = false)).await;
    let ctx = SigningContext::fresh();
    for _ in 0..2 {
        let r = env
            .v1_with("GET", &legacy, &env.ali_creds(), &ctx, false)
            .await;
        assert_eq!(r.ali(), not_found);
    }
}

#[tokio::test]
async fn v1_time_window_follows_the_signing_entry() {
    let params = [
        ("Action", "DeleteSourceServer"),
        ("Version", "2019-06-01"),
        ("Format", "JSON"),
        ("SourceId", "s-none"),
    ];
    let twenty_minutes_ago = || {
        let mut ctx = SigningContext::fresh();
        ctx.now -= chrono::TimeDelta::minutes(20);
        ctx
    };
    let env = start().await;
    let r = env
        .v1_with(
            "GET",
            &params,
            &env.ali_creds(),
            &twenty_minutes_ago(),
            false,
        )
        .await;
    assert_eq!(r.ali(), by_role_of(SMC, None, ErrorRole::ExpiredTimestamp));
    let env = start_with(with_v1(|s| {
        if let Some(w) = s.window.as_mut() {
            w.minutes = 30;
        }
    }))
    .await;
    let r = env
        .v1_with(
            "GET",
            &params,
            &env.ali_creds(),
            &twenty_minutes_ago(),
            false,
        )
        .await;
    assert_eq!(
        r.ali(),
        by_role_of(SMC, Some("DeleteSourceServer"), ErrorRole::NotFound)
    );
}
