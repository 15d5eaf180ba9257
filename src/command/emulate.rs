//! `conform emulate`: the built-in emulators as a standalone server until Ctrl-C.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use super::{ExitCode, Sources};
use crate::emulator::{serve_standalone_on, EmulatorCredentials};

pub fn emulate(sources: &Sources, host: IpAddr, port: u16, services: &[String]) -> ExitCode {
    let catalog = match sources.catalog() {
        Ok(c) => c,
        Err(d) => {
            super::print_diagnostics(&d);
            return ExitCode::BadFile;
        }
    };
    let runtime = match super::runtime(super::Threads::Many) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let addr = SocketAddr::new(host, port);
    match runtime.block_on(serve_standalone_on(
        &catalog,
        addr,
        services,
        EmulatorCredentials::default(),
        Arc::new(|event| eprintln!("{event}")),
    )) {
        Ok(()) => ExitCode::Ok,
        Err(e) => {
            eprintln!("conform emulate: {e}");
            ExitCode::Usage
        }
    }
}
