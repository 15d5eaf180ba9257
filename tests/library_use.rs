//! conform used as a library, as the README shows: a crate that implements these APIs runs the
//! suite against its own server from a `harness = false` test. The "own server" here is the
//! built-in emulator started on its own, reached only over HTTP like any other implementation.

use conform::emulator::{Emulator, EmulatorConfig};
use conform::harness::{Harness, KeepAlive};
use conform::run::Target;

fn main() -> std::process::ExitCode {
    Harness::bundled()
        .against(|| async {
            let server = Emulator::start(
                EmulatorConfig::default(),
                "127.0.0.1:0".parse().expect("an address"),
            )
            .await
            .map_err(|e| e.to_string())?;
            let target = Target::from_url(
                &server.base_url(),
                Some(&server.states_url()),
                &["alibaba-smc", "huawei-sms", "huawei-workspace"],
                &conform::embedded::default_credentials,
            )
            .map_err(|e| e.to_string())?;
            Ok((target, Box::new(server) as KeepAlive))
        })
        .main()
}
