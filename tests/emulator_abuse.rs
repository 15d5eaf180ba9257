//! The emulator under abuse: idle and slow connections are closed after the header-read
//! timeout, connections beyond the limit are closed at once, and it keeps answering others;
//! every state it sets up is torn down, whatever its id.

use std::sync::Arc;
use std::time::Duration;

use conform::case::Suite;
use conform::emulator::server::ServerLimits;
use conform::emulator::{Emulator, EmulatorConfig, RunningEmulator};
use conform::run::{self, Outcome, RunContext, Selection};
use conform::spec::Catalog;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn emulator(limits: ServerLimits) -> RunningEmulator {
    let mut config = EmulatorConfig::bundled().unwrap();
    config.limits = limits;
    Emulator::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn limits(header_read_timeout: Duration, max_connections: usize) -> ServerLimits {
    ServerLimits {
        header_read_timeout,
        body_read_timeout: header_read_timeout,
        max_connections,
    }
}

/// A provider-state probe: the emulator answers it without credentials.
async fn probe(running: &RunningEmulator) -> Result<u16, String> {
    let client = reqwest::Client::new();
    let resp = client
        .post(running.states_url())
        .timeout(Duration::from_secs(5))
        .header("content-type", "application/json")
        .body(r#"{"action":"probe","resource":"migration_task","id":"x"}"#)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    Ok(resp.status().as_u16())
}

/// Whether the server closes `s` within `within` (a read ends or fails).
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(within, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeps_answering_with_a_thousand_idle_connections_and_closes_slow_ones() {
    let running = emulator(limits(Duration::from_secs(2), 4096)).await;
    let mut idle = Vec::new();
    for _ in 0..1000 {
        idle.push(TcpStream::connect(running.addr).await.unwrap());
    }
    let mut slow = TcpStream::connect(running.addr).await.unwrap();
    slow.write_all(b"POST /__conform/provider-states HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    // Answered within the probe's own timeout (5 s) while the thousand are open.
    assert_eq!(probe(&running).await, Ok(200));
    assert!(
        closed_within(&mut slow, Duration::from_secs(6)).await,
        "a connection whose headers never end is closed"
    );
    assert!(
        closed_within(&mut idle[0], Duration::from_secs(6)).await,
        "an idle connection is closed"
    );
    drop(idle);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_limit_are_closed_not_queued() {
    let running = emulator(limits(Duration::from_secs(3), 8)).await;
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(TcpStream::connect(running.addr).await.unwrap());
    }
    // Give the server time to accept the eight.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut ninth = TcpStream::connect(running.addr).await.unwrap();
    assert!(
        closed_within(&mut ninth, Duration::from_secs(2)).await,
        "the ninth connection is closed before the idle ones time out"
    );
    // Once the idle ones are closed by the timeout, requests are answered again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(probe(&running).await, Ok(200));
    drop(held);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_state_with_the_empty_id_is_torn_down_so_a_second_run_does_not_skip() {
    let catalog = Arc::new(Catalog::bundled().unwrap());
    let suite = Arc::new(Suite::bundled(&catalog).unwrap());
    let (emulator, target) = conform::embedded::start(Arc::clone(&catalog))
        .await
        .unwrap();
    let selection = Selection {
        filters: vec!["huawei-sms::DeleteTask::empty-id-task-is-not-deleted".into()],
        exact: true,
        ..Default::default()
    };
    for round in 0..2 {
        let ctx = Arc::new(
            RunContext::new(Arc::clone(&catalog), Arc::clone(&suite), target.clone()).unwrap(),
        );
        let trials = run::plan(&catalog, &suite, &selection);
        assert_eq!(trials.len(), 1);
        let results = ctx.run_all(trials, 1, |_| {}).await;
        assert_eq!(
            results[0].outcome,
            Outcome::Pass,
            "round {round}: {results:?}"
        );
        assert!(
            !emulator.running().store().exists("migration_task", ""),
            "round {round}: the empty-id task is torn down"
        );
    }
    emulator.shutdown().await;
}
