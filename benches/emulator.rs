//! The emulator's request rate under `wrk` beside a bare axum handler's on the same machine
//! (aim: at least 0.7 of it). Both answer the same small JSON error with an `X-Request-Id`; the
//! emulator also routes, checks the token, validates the id against the spec and builds its
//! envelope. `cargo bench --bench emulator`.

mod common;

use std::sync::Arc;

use conform::emulator::{Emulator, EmulatorConfig};

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let bare = axum::Router::new().fallback(|| async {
            (
                [("content-type", "application/json"), ("x-request-id", "0123456789abcdef0123456789abcdef")],
                "{\"error_code\":\"SMS.0400\",\"error_msg\":\"The task_id is longer than 36 characters.\"}",
            )
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let bare_url = format!("http://{}", listener.local_addr().expect("addr"));
        let bare_server = tokio::spawn(async move { axum::serve(listener, bare).await });
        let config = EmulatorConfig::new(Arc::new(conform::spec::Catalog::bundled().expect("specs")));
        let emulator = Emulator::start(config, "127.0.0.1:0".parse().expect("addr")).await.expect("emulator");
        let script = "wrk.method = \"DELETE\"\nwrk.path = \"/v3/tasks/0123456789012345678901234567890123456\"\nwrk.headers[\"X-Auth-Token\"] = \"conform-test-token\"\n";
        let emu_url = emulator.base_url();
        let rates = tokio::task::spawn_blocking(move || {
            // Warm up both, then measure each for 5 s.
            let _ = common::wrk(&bare_url, script, 1, 64);
            let _ = common::wrk(&emu_url, script, 1, 64);
            (common::wrk(&bare_url, script, 5, 64), common::wrk(&emu_url, script, 5, 64))
        })
        .await
        .expect("wrk task");
        match rates {
            (Ok(bare), Ok(emu)) => {
                println!("bare axum handler: {bare:>9.0} requests/s");
                println!("conform emulator:  {emu:>9.0} requests/s  ({:.2} of bare)", emu / bare);
            }
            (Err(e), _) | (_, Err(e)) => println!("wrk: {e}"),
        }
        emulator.shutdown().await;
        bare_server.abort();
    });
}
