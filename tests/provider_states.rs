//! The provider-state trait's two implementations: the HTTP client of the endpoint, and the
//! emulator's states reached in-process (the whole suite passes through the latter, with no
//! provider-state URL at all).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};

use conform::case::Suite;
use conform::emulator::{Emulator, EmulatorConfig};
use conform::run::states::{ProviderStates, StateError, StatesClient};
use conform::run::{self, Outcome, Redactor, RunContext, Selection};
use conform::spec::Catalog;

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Setup, probe, teardown and a refused state, through any implementation.
async fn exercise(states: &dyn ProviderStates) {
    let params = object(json!({
        "service": "huawei-sms", "source_state": "stopped", "agent_connected": false
    }));
    let made = states
        .setup("migration task exists", &params)
        .await
        .expect("set up");
    let id = made.values["task_id"]
        .as_str()
        .expect("a task id")
        .to_string();
    assert!(made.credentials.is_none());
    let none = Map::new();
    assert!(states.probe("migration_task", &id, &none).await.unwrap());
    states
        .teardown("migration task exists", &params, &made.values)
        .await
        .expect("torn down");
    assert!(!states.probe("migration_task", &id, &none).await.unwrap());

    let caller = object(json!({"service": "huawei-sms"}));
    let lacks = states
        .setup("caller lacks permission", &caller)
        .await
        .unwrap();
    let creds = lacks.credentials.expect("credentials of the caller");
    assert!(creds.access_key_id.is_some_and(|k| !k.is_empty()));
    assert!(!lacks.values.contains_key("credentials"));

    let refused = states.setup("no such state", &params).await.unwrap_err();
    assert!(
        matches!(&refused, StateError::Unsupported(why) if why.contains("no provider state")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_http_client_sets_states_up_at_the_endpoint() {
    let running = Emulator::start(EmulatorConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = url::Url::parse(&running.states_url()).unwrap();
    conform::run::install_crypto();
    let client = reqwest::Client::new();
    let redactor = Redactor::default();
    let http = StatesClient {
        client: &client,
        url: &url,
        timeout: Duration::from_secs(10),
        max_answer_bytes: 1 << 20,
        redactor: &redactor,
    };
    exercise(&http).await;
    running.shutdown().await;
}

#[tokio::test]
async fn the_emulator_sets_states_up_in_process() {
    let running = Emulator::start(EmulatorConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    exercise(&running.provider_states()).await;
    running.shutdown().await;
}

/// The bundled suite against the embedded emulators, its states set up by `states` (or by
/// nothing): the outcomes.
async fn run_suite(in_process: bool) -> (usize, Vec<Outcome>) {
    let catalog = Arc::new(Catalog::bundled().unwrap());
    let suite = Arc::new(Suite::bundled(&catalog).unwrap());
    let (emulator, mut target) = conform::embedded::start(Arc::clone(&catalog))
        .await
        .unwrap();
    target.states_url = None;
    if in_process {
        target = target.with_provider_states(emulator.running().provider_states());
    }
    let ctx = Arc::new(RunContext::new(Arc::clone(&catalog), Arc::clone(&suite), target).unwrap());
    let trials = run::plan(&catalog, &suite, &Selection::default());
    let with_states = trials
        .iter()
        .filter(|t| !suite.files[t.file].file.cases[t.case].given.is_empty())
        .count();
    let results = ctx.run_all(trials, 4, |_| {}).await;
    emulator.shutdown().await;
    (
        with_states,
        results.into_iter().map(|r| r.outcome).collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_suite_passes_with_states_set_up_in_process() {
    let (with_states, outcomes) = run_suite(true).await;
    assert!(with_states > 100, "{with_states} trials need states");
    let failed: Vec<_> = outcomes.iter().filter(|o| **o != Outcome::Pass).collect();
    assert!(failed.is_empty(), "{failed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_provider_states_the_cases_that_need_them_skip() {
    let (with_states, outcomes) = run_suite(false).await;
    let skipped = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Skip(why) if why.contains("provider states")))
        .count();
    assert_eq!(skipped, with_states);
}
