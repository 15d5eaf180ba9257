//! Every case in `cases/` against the built-in emulators: one trial per case (and per Alibaba
//! format). `cargo test --test cases -- <filter>` runs some; `-- --list` lists them.

fn main() -> std::process::ExitCode {
    conform::harness::Harness::bundled()
        .against_embedded()
        .main()
}
