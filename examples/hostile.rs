//! A hostile target for `scripts/peak-memory.py`: serves `tests/hostile/server.rs` on
//! 127.0.0.1, prints `PORT OTHER_PORT`, and runs until its standard input closes.
//!
//! `cargo run --example hostile [BEHAVIOUR]`: with a behaviour (say `endless-chunked`), every
//! API request answers that way.

#[path = "../tests/hostile/server.rs"]
mod server;

use std::io::{Read, Write};

fn main() {
    let default = std::env::args().nth(1);
    if let Some(b) = &default {
        if !server::API_BEHAVIOURS.contains(&b.as_str()) {
            eprintln!(
                "hostile: unknown behaviour `{b}`; known: {}",
                server::API_BEHAVIOURS.join(", ")
            );
            std::process::exit(2);
        }
    }
    let h = server::start_with(default);
    println!("{} {}", h.port, h.other_port);
    let _ = std::io::stdout().flush();
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
}
