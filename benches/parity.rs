//! Parity of the bundled suite against the embedded emulators: the time of one
//! `conform parity --baseline tests/recordings/emulator` (record every trial in-process,
//! normalize, compare) and of one `--against` run (two emulators recorded and compared),
//! each the median of several runs, without process start-up.
//!
//! `cargo bench --bench parity` (5 runs each); `cargo bench --bench parity -- 20` for more.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use conform::case::Suite;
use conform::parity::{self, snapshot, Snapshot};
use conform::run::{self, RunContext, Selection};
use conform::spec::Catalog;

const JOBS: usize = 16;

async fn record(catalog: &Arc<Catalog>, suite: &Arc<Suite>) -> Vec<Snapshot> {
    let (emulator, target) = conform::embedded::start(Arc::clone(catalog))
        .await
        .expect("the emulators start");
    let ctx = Arc::new(
        RunContext::new(Arc::clone(catalog), Arc::clone(suite), target).expect("a context"),
    );
    let trials = run::plan(catalog, suite, &Selection::default());
    let recording = parity::record(&ctx, trials, JOBS).await;
    emulator.shutdown().await;
    recording.snapshots
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5)
        .max(1);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let catalog = Arc::new(Catalog::bundled().expect("specs"));
    let suite = Arc::new(Suite::bundled(&catalog).expect("cases"));
    let trials = run::plan(&catalog, &suite, &Selection::default()).len();
    let mut baseline_times = Vec::new();
    let mut against_times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let a = runtime.block_on(record(&catalog, &suite));
        let shipped = snapshot::read_dir(Path::new("tests/recordings/emulator"))
            .expect("the shipped recording reads");
        let c = parity::compare("emulator", &a, "recording", &shipped);
        baseline_times.push(started.elapsed());
        assert_eq!(
            c.differences().count(),
            0,
            "the emulator differs from its recording"
        );

        let started = Instant::now();
        let (a, b) = runtime
            .block_on(async { tokio::join!(record(&catalog, &suite), record(&catalog, &suite)) });
        let c = parity::compare("emulator A", &a, "emulator B", &b);
        against_times.push(started.elapsed());
        assert_eq!(c.differences().count(), 0, "two emulators differ");
    }
    println!("conform parity bench: {trials} trials, median of {runs} runs");
    println!(
        "  --baseline tests/recordings/emulator  {:>8.1} ms",
        median(baseline_times).as_secs_f64() * 1e3
    );
    println!(
        "  --against (two emulators)             {:>8.1} ms",
        median(against_times).as_secs_f64() * 1e3
    );
}
