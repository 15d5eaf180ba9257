//! The runner against a target that answers wrongly: each deviation fails the case with a
//! message that says what was expected, what came and where; a slow or absent target fails
//! without hanging; secrets never reach the output.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use conform::auth::Secret;
use conform::case::Suite;
use conform::files::SourceFile;
use conform::run::target::{ServiceCredentials, ServiceTarget, SigningMode};
use conform::run::{self, Outcome, RunContext, Selection, Target, TrialResult};
use conform::spec::Catalog;

const SECRET_TOKEN: &str = "s3cr3t-token-value-0123456789";

/// Answers by the path's last segment (or the Alibaba `SourceId`), each a different deviation.
async fn wrong(uri: Uri, headers: HeaderMap) -> axum::response::Response {
    let rid = [
        ("x-request-id", "req-1"),
        ("content-type", "application/json"),
    ];
    let last = uri
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let source_id = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|kv| kv.strip_prefix("SourceId="))
        .unwrap_or_default()
        .to_string();
    match (last.as_str(), source_id.as_str()) {
        ("wrong-status", _) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            rid,
            r#"{"error_code":"X","error_msg":"y"}"#,
        )
            .into_response(),
        ("wrong-code", _) => (
            StatusCode::UNAUTHORIZED,
            rid,
            r#"{"error_code":"APIGW.9999","error_msg":"y"}"#,
        )
            .into_response(),
        ("bad-schema", _) => (
            StatusCode::UNAUTHORIZED,
            rid,
            r#"{"error_code":401,"error_msg":"y"}"#,
        )
            .into_response(),
        ("no-request-id", _) => (
            StatusCode::UNAUTHORIZED,
            [("content-type", "application/json")],
            r#"{"error_code":"APIGW.0301","error_msg":"y"}"#,
        )
            .into_response(),
        ("slow", _) => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            (StatusCode::UNAUTHORIZED, rid, "{}").into_response()
        }
        ("echo-token", _) => {
            let token = headers
                .get("x-auth-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                rid,
                format!(r#"{{"error_code":"X","error_msg":"token was {token}"}}"#),
            )
                .into_response()
        }
        (_, "replayed") => (StatusCode::BAD_REQUEST, rid, r#"{"RequestId":"r","HostId":"h","Code":"SignatureNonceUsed","Message":"Specified signature nonce was used already."}"#).into_response(),
        (_, "bad-xml") => (
            StatusCode::NOT_FOUND,
            [("content-type", "text/xml;charset=utf-8")],
            "<Error><RequestId>r</RequestId><Code>x</Error>",
        )
            .into_response(),
        (_, "wrong-root") => (
            StatusCode::NOT_FOUND,
            [("content-type", "text/xml;charset=utf-8")],
            "<Oops><RequestId>r</RequestId><Code>x</Code><Message>m</Message></Oops>",
        )
            .into_response(),
        _ => (StatusCode::IM_A_TEAPOT, rid, "{}").into_response(),
    }
}

fn cases() -> Vec<SourceFile> {
    let huawei = |name: &str, extra: &str| {
        format!("  - name: {name}\n    summary: s\n    clause: \"seed:003_4d9f1c4dbf2ee0ed.txt#Status Codes\"\n    tags: [safe]\n    request: {{params: {{project_id: p, server_id: {name}}}{extra}}}\n    expect: {{status: 401, error_code: APIGW.0301}}\n")
    };
    let mut wks = String::from("operation: huawei-workspace/DeleteServer\ncases:\n");
    for name in [
        "wrong-status",
        "wrong-code",
        "bad-schema",
        "no-request-id",
        "slow",
        "refused",
    ] {
        wks.push_str(&huawei(name, ""));
    }
    wks.push_str(&huawei("echo-token", ", signing: token"));
    let mut ali = String::from("operation: alibaba-smc/DeleteSourceServer\ncases:\n");
    for name in ["bad-xml", "wrong-root"] {
        ali.push_str(&format!(
            "  - name: {name}\n    summary: s\n    clause: \"seed:000_1b125f9be74a8cf8.txt#Error codes\"\n    tags: [safe]\n    formats: [xml]\n    request: {{params: {{SourceId: {name}}}}}\n    expect: {{status: 404}}\n"
        ));
    }
    // A target that refuses every sending as a replay must not pass the replay case.
    ali.push_str("  - name: replayed\n    summary: s\n    clause: \"notes:Alibaba Cloud SMC, version 2019-06-01 (RPC style, endpoint smc.aliyuncs.com)#Common errors\"\n    tags: [safe]\n    formats: [json]\n    request: {params: {SourceId: replayed}, auth: replayed}\n    expect: {status: 400, error_code: SignatureNonceUsed}\n");
    vec![
        SourceFile {
            path: "cases/wrong/wks.yaml".into(),
            text: wks,
        },
        SourceFile {
            path: "cases/wrong/ali.yaml".into(),
            text: ali,
        },
    ]
}

fn target(base: &str) -> Target {
    let service = |url: &str, signing| ServiceTarget {
        base_url: url::Url::parse(url).unwrap(),
        signing,
        credentials: ServiceCredentials {
            access_key_id: Some("ak".into()),
            secret: Some(Secret::new("sk-secret-value")),
            token: Some(Secret::new(SECRET_TOKEN)),
        },
        region: None,
    };
    let mut services = BTreeMap::new();
    services.insert(
        "huawei-workspace".to_string(),
        service(base, SigningMode::Aksk),
    );
    services.insert("alibaba-smc".to_string(), service(base, SigningMode::V1));
    Target {
        name: "wrong".into(),
        services,
        states_url: None,
        provider_states: None,
        request_timeout: Duration::from_millis(400),
        deadline: Duration::from_secs(60),
        allow_destructive: false,
        max_answer_bytes: run::target::DEFAULT_MAX_ANSWER_BYTES,
    }
}

async fn run_all(refused_only: bool) -> BTreeMap<String, TrialResult> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(wrong)).await });
    // A port that was just free and is closed again: connection refused.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let catalog = Arc::new(Catalog::bundled().unwrap());
    let suite = Arc::new(Suite::from_files(&catalog, &cases()).unwrap());
    let target = if refused_only {
        target(&closed)
    } else {
        target(&base)
    };
    let ctx = Arc::new(RunContext::new(Arc::clone(&catalog), Arc::clone(&suite), target).unwrap());
    let filter = if refused_only {
        vec!["::refused".to_string()]
    } else {
        vec![]
    };
    let trials = run::plan(
        &catalog,
        &suite,
        &Selection {
            filters: filter,
            ..Default::default()
        },
    );
    let results = ctx.run_all(trials, 8, |_| {}).await;
    results.into_iter().map(|r| (r.case.clone(), r)).collect()
}

/// A failed trial as every output shows it: terminal line, JSON report, JUnit report.
fn messages(r: &TrialResult) -> String {
    assert_eq!(r.outcome, Outcome::Fail, "{} should fail: {r:?}", r.id);
    rendered(r)
}

fn rendered(r: &TrialResult) -> String {
    let mut s = conform::report::terminal::line(r);
    s.push('\n');
    s.push_str(&conform::report::json::render(
        "t",
        std::slice::from_ref(r),
        Duration::ZERO,
    ));
    s.push_str(&conform::report::junit::render(std::slice::from_ref(r), Duration::ZERO).unwrap());
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn each_deviation_fails_with_a_clear_message() {
    let r = run_all(false).await;
    let m = messages(&r["wrong-status"]);
    assert!(m.contains("status: expected 401, got 500"), "{m}");
    assert!(
        m.contains("DELETE /v1/p/app-servers/wrong-status → 500"),
        "the answer is shown: {m}"
    );

    let m = messages(&r["wrong-code"]);
    assert!(
        m.contains("error-code at /error_code: expected \"APIGW.0301\", got \"APIGW.9999\""),
        "{m}"
    );

    let m = messages(&r["bad-schema"]);
    assert!(
        m.contains("body-schema at /error_code: expected a body valid against `Error`"),
        "{m}"
    );
    assert!(m.contains("401 is not of type"), "{m}");

    let m = messages(&r["no-request-id"]);
    assert!(
        m.contains("request-id at header X-Request-Id: expected a request id, got none"),
        "{m}"
    );

    let m = messages(&r["slow"]);
    assert!(
        m.contains("transport at DELETE /v1/p/app-servers/slow: expected an answer, got timed out"),
        "{m}"
    );

    let m = messages(&r["bad-xml"]);
    assert!(
        m.contains("body-format: expected an XML document, got malformed XML"),
        "{m}"
    );

    let m = messages(&r["replayed"]);
    assert!(m.contains("replay at first sending: expected a first sending that is not refused as a replay (SignatureNonceUsed), got 400 SignatureNonceUsed"), "{m}");

    let m = messages(&r["wrong-root"]);
    assert!(
        m.contains("xml-root at /: expected root element <Error>, got <Oops>"),
        "{m}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_refused_fails_the_case() {
    let r = run_all(true).await;
    let m = messages(&r["refused"]);
    assert!(m.contains("transport at DELETE /v1/p/app-servers/refused: expected an answer, got connection failed"), "{m}");
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_never_reach_the_output() {
    let r = run_all(false).await;
    let m = messages(&r["echo-token"]);
    assert!(
        m.contains("token was ***"),
        "the echoed token is redacted: {m}"
    );
    for (_, result) in r {
        let all = format!("{}{result:?}", rendered(&result));
        assert!(
            !all.contains(SECRET_TOKEN) && !all.contains("sk-secret-value"),
            "a secret leaked in {}: {all}",
            result.id
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_safe_cases_run_where_destructive_ones_are_not_allowed() {
    let catalog = Arc::new(Catalog::bundled().unwrap());
    let suite = Arc::new(Suite::bundled(&catalog).unwrap());
    let ctx = Arc::new(
        RunContext::new(
            Arc::clone(&catalog),
            Arc::clone(&suite),
            target("http://127.0.0.1:9"),
        )
        .unwrap(),
    );
    let trials = run::plan(
        &catalog,
        &suite,
        &Selection {
            filters: vec!["huawei-workspace::DeleteServer::deletes-server".into()],
            exact: true,
            ..Default::default()
        },
    );
    let results = ctx.run_all(trials, 1, |_| {}).await;
    assert_eq!(results.len(), 1);
    assert_eq!(
        results[0].outcome,
        Outcome::Skip("not tagged `safe`, and the target does not allow destructive cases".into())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_left_when_the_deadline_passed_fails() {
    let catalog = Arc::new(Catalog::bundled().unwrap());
    let suite = Arc::new(Suite::from_files(&catalog, &cases()).unwrap());
    let mut t = target("http://127.0.0.1:9");
    t.deadline = Duration::ZERO;
    let ctx = Arc::new(RunContext::new(Arc::clone(&catalog), Arc::clone(&suite), t).unwrap());
    let trials = run::plan(
        &catalog,
        &suite,
        &Selection {
            filters: vec!["::wrong-status".into()],
            ..Default::default()
        },
    );
    let results = ctx.run_all(trials, 1, |_| {}).await;
    let m = messages(&results[0]);
    assert!(m.contains("deadline: expected the case to start before the run's deadline, got the deadline had passed"), "{m}");
}
