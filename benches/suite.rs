//! Harness throughput: a generated suite of stateless cases (1,000 and 10,000 by default) run against the
//! embedded emulators. Prints load-and-compile time, cases per second, cost per case and peak
//! memory for each size, and the request rate `wrk` reaches against the same endpoint.
//!
//! `cargo bench --bench suite` (sizes 1,000 and 10,000); `cargo bench --bench suite -- 1000 10000
//! 100000` for others. Each size runs in its own process, so its peak memory is its own.

mod common;

use std::sync::Arc;
use std::time::Instant;

use conform::case::Suite;
use conform::check::schema::SchemaSet;
use conform::files::SourceFile;
use conform::run::{self, RunContext, Selection};
use conform::spec::Catalog;

/// N stateless cases, each one request of the kind `wrk` sends below (an SMS delete of a
/// 37-character id with `X-Auth-Token`, refused for its length), so the two rates compare.
fn generate(n: usize) -> Vec<SourceFile> {
    // Several files, as a real suite has, so loading uses every core.
    let per_file = 1000;
    (0..n.div_ceil(per_file))
        .map(|f| {
            let mut text = String::from("operation: huawei-sms/DeleteTask\ncases:\n");
            for i in f * per_file..((f + 1) * per_file).min(n) {
                text.push_str(&format!(
                    "  - name: generated-{i}\n    summary: generated\n    clause: \"seed:002_c8c73ce1aa61a576.txt#URI\"\n    tags: [safe]\n    request: {{params: {{task_id: \"${{unique:37}}\"}}, signing: token}}\n    expect:\n      status: {{any_of: [400, 404], why: generated}}\n"
                ));
            }
            SourceFile { path: format!("cases/bench/sms-{f}.yaml").into(), text }
        })
        .collect()
}

fn one_size(n: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let files = generate(n);
    let started = Instant::now();
    let catalog = Arc::new(Catalog::bundled().expect("specs"));
    let suite = Arc::new(Suite::from_files(&catalog, &files).expect("generated cases are valid"));
    let schemas = SchemaSet::compile(&catalog).expect("schemas");
    let trials = run::plan(&catalog, &suite, &Selection::default());
    let load = started.elapsed();
    drop(schemas);
    let (passed, elapsed) = runtime.block_on(async {
        let (running, target) = conform::embedded::start(Arc::clone(&catalog))
            .await
            .expect("emulators");
        let ctx = Arc::new(
            RunContext::new(Arc::clone(&catalog), Arc::clone(&suite), target).expect("context"),
        );
        let started = Instant::now();
        let results = ctx.run_all(trials, 64, |_| {}).await;
        let elapsed = started.elapsed();
        running.shutdown().await;
        (
            results
                .iter()
                .filter(|r| r.outcome == run::Outcome::Pass)
                .count(),
            elapsed,
        )
    });
    let rate = n as f64 / elapsed.as_secs_f64();
    println!(
        "{n:>7} cases: load+lint+compile {:>7.3} s | run {:>6.2} s | {:>8.0} cases/s | {:>6.1} µs/case | peak {:>6.1} MiB | {passed} passed",
        load.as_secs_f64(),
        elapsed.as_secs_f64(),
        rate,
        1e6 / rate,
        common::peak_rss_mib().unwrap_or(f64::NAN),
    );
    if passed != n {
        eprintln!("bench: {} of {n} generated cases did not pass", n - passed);
        std::process::exit(1);
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let Some(n) = args.first().and_then(|a| a.strip_prefix("size=")) {
        return one_size(n.parse().expect("a size"));
    }
    let sizes: Vec<usize> = if args.is_empty() {
        vec![1_000, 10_000]
    } else {
        args.iter().filter_map(|a| a.parse().ok()).collect()
    };
    let exe = std::env::current_exe().expect("the bench binary");
    println!("conform suite bench: stateless cases against the embedded emulators, 64 at a time");
    for n in sizes {
        let status = std::process::Command::new(&exe)
            .arg(format!("size={n}"))
            .status()
            .expect("run a size");
        if !status.success() {
            std::process::exit(1);
        }
    }
    // wrk against the same endpoint and request kind (an SMS delete of a 37-character id).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let catalog = Arc::new(Catalog::bundled().expect("specs"));
        let (running, _) = conform::embedded::start(catalog).await.expect("emulators");
        let url = running.running().base_url();
        let script = "wrk.method = \"DELETE\"\nwrk.path = \"/v3/tasks/0123456789012345678901234567890123456\"\nwrk.headers[\"X-Auth-Token\"] = \"conform-test-token\"\n";
        let out = tokio::task::spawn_blocking(move || common::wrk(&url, script, 5, 64)).await.expect("wrk task");
        match out {
            Ok(rate) => println!("wrk, same emulator, one fixed request: {rate:.0} requests/s"),
            Err(e) => println!("wrk: {e}"),
        }
        running.shutdown().await;
    });
}
