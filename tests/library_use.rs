// tests/conformance.rs: conform's suite against your server, under `cargo test`.
use conform::harness::{Harness, Server};

fn main() -> std::process::ExitCode {
    Harness::bundled()
        // The services your server implements (this one: all three); the others' cases
        // are not planned.
        .services(&["alibaba-smc", "huawei-sms", "huawei-workspace"])
        .against_server(|| async {
            // Start your server on a free port. This stand-in is conform's own emulator,
            // started on its own and reached only over HTTP, like any other implementation.
            let server = conform::emulator::Emulator::start(
                conform::emulator::EmulatorConfig::default(),
                "127.0.0.1:0".parse().expect("a socket address"),
            )
            .await
            .map_err(|e| e.to_string())?;
            Ok(Server {
                base_url: server.base_url(),
                // Your provider-state endpoint; without one, cases that need states are skipped.
                provider_states: Some(server.states_url()),
                keep_alive: Box::new(server),
            })
        })
        .main()
}
