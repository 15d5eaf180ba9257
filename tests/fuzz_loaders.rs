//! A bounded, seeded fuzz loop over the spec, case and target loaders: the bundled files,
//! mutated byte-wise and structurally, must load or be refused with a located error, never
//! panic or abort (a stack overflow would end this test's process, failing it).
//!
//! `CONFORM_FUZZ_ITERATIONS` (default 120) and `CONFORM_FUZZ_SEED` (default 1) set the run;
//! a failure names the seed and iteration that reproduce it.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;

use conform::case::Suite;
use conform::diag::render::{render, Color};
use conform::files::{bundled_cases, bundled_specs, SourceFile};
use conform::run::Target;
use conform::spec::Catalog;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const TARGET: &str = "timeout_seconds: 2\ndeadline_seconds: 30\nmax_answer_bytes: 4096\nallow_destructive: false\nprovider_states: http://127.0.0.1:9/states\nservices:\n  huawei-sms:\n    base_url: http://127.0.0.1:9\n    signing: none\n  alibaba-smc:\n    base_url: http://127.0.0.1:9\n    signing: none\n    region: cn-hangzhou\n";

/// Bytes that mean something to YAML, and some that mean something to us.
const SIGNIFICANT: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    ":",
    "- ",
    "\n",
    "  ",
    "'",
    "\"",
    "&a ",
    "*a",
    "!!str ",
    "|\n",
    ">\n",
    "#",
    "\t",
    "~",
    "${",
    "${unique:99999999999}",
    "${unique:18446744073709551616}",
    "\u{0}",
    "\u{feff}",
    "---\n",
    "...\n",
    "? ",
    "1e400",
    "-9223372036854775809",
    "%YAML 1.2\n",
];

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One mutation of `text`, chosen by `rng`.
fn mutate(rng: &mut StdRng, text: &[u8]) -> Vec<u8> {
    let mut out = text.to_vec();
    let at = |rng: &mut StdRng, len: usize| rng.random_range(0..=len);
    for _ in 0..rng.random_range(1..4) {
        let len = out.len();
        match rng.random_range(0..9) {
            0 => {
                let i = at(rng, len.saturating_sub(1));
                if i < len {
                    out[i] ^= 1 << rng.random_range(0..8);
                }
            }
            1 => {
                let i = at(rng, len);
                let s = SIGNIFICANT[rng.random_range(0..SIGNIFICANT.len())];
                out.splice(i..i, s.bytes());
            }
            2 => {
                let i = at(rng, len);
                let n = rng.random_range(0..64).min(len - i.min(len));
                out.drain(i..i + n);
            }
            3 => {
                // A line repeated (duplicate keys, list items).
                let lines: Vec<&[u8]> = out.split(|b| *b == b'\n').collect();
                let k = rng.random_range(0..lines.len());
                let mut joined = Vec::new();
                for (j, l) in lines.iter().enumerate() {
                    joined.extend_from_slice(l);
                    joined.push(b'\n');
                    if j == k {
                        joined.extend_from_slice(l);
                        joined.push(b'\n');
                    }
                }
                out = joined;
            }
            4 => {
                // Deep nesting, flow or block.
                let depth = rng.random_range(10..3000);
                let i = at(rng, len);
                let nested = if rng.random_bool(0.5) {
                    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
                } else {
                    (0..depth)
                        .map(|d| format!("\n{}k:", " ".repeat(d + 1)))
                        .collect()
                };
                out.splice(i..i, nested.bytes());
            }
            5 => {
                // A very long value.
                let i = at(rng, len);
                let long = "v".repeat(rng.random_range(1_000..200_000));
                out.splice(i..i, long.bytes());
            }
            6 => {
                // Invalid UTF-8.
                let i = at(rng, len);
                out.splice(i..i, [0xff, 0xc3, 0x28]);
            }
            7 => {
                // Indentation shifted on one line.
                if let Some(pos) = out
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'\n')
                    .map(|(i, _)| i)
                    .nth(rng.random_range(0..20))
                {
                    let spaces = rng.random_range(1..5);
                    out.splice(pos + 1..pos + 1, std::iter::repeat_n(b' ', spaces));
                }
            }
            _ => {
                // Truncated.
                out.truncate(at(rng, len));
            }
        }
    }
    out
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("conform-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Feeds one mutated file to its loader; `Err` (a located diagnostic or a refusal) is fine.
fn feed(
    kind: usize,
    bytes: Vec<u8>,
    path: &str,
    specs: &[SourceFile],
    catalog: &Catalog,
    dir: &std::path::Path,
) {
    let Ok(text) = String::from_utf8(bytes.clone()) else {
        // Files are read through `read_text`, which locates invalid UTF-8.
        let p = dir.join("bad-utf8.yaml");
        std::fs::write(&p, &bytes).unwrap();
        let e = conform::located::read_text(&p).expect_err("invalid UTF-8 is refused");
        assert!(e.pos.is_some(), "invalid UTF-8 is located: {e}");
        let _ = render(&conform::diag::Diagnostics(vec![e]), Color::Always);
        return;
    };
    match kind {
        0 => {
            let mut files = specs.to_vec();
            if let Some(f) = files.iter_mut().find(|f| f.path.to_str() == Some(path)) {
                f.text = text;
            }
            if let Err(d) = Catalog::from_files(&files) {
                assert!(!d.0.is_empty());
                let _ = d.to_string();
                let _ = render(&d, Color::Never);
            }
        }
        1 => {
            let file = SourceFile {
                path: path.into(),
                text,
            };
            if let Err(d) = Suite::from_files(catalog, &[file]) {
                let _ = d.to_string();
                let _ = render(&d, Color::Always);
            }
        }
        _ => {
            let p = dir.join("target.yaml");
            std::fs::write(&p, text).unwrap();
            if let Err(e) =
                Target::from_file(&p, &["huawei-sms", "alibaba-smc", "huawei-workspace"])
            {
                let _ = e.to_string();
            }
        }
    }
}

#[test]
fn loaders_survive_mutated_files() {
    let iterations = env_number("CONFORM_FUZZ_ITERATIONS", 120);
    let seed = env_number("CONFORM_FUZZ_SEED", 1);
    let specs = bundled_specs();
    let cases = bundled_cases();
    let catalog = Catalog::bundled().unwrap();
    let dir = scratch();
    let target = SourceFile {
        path: "target.yaml".into(),
        text: TARGET.into(),
    };
    for i in 0..iterations {
        let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(i));
        let kind = rng.random_range(0..3);
        let pool: &[SourceFile] = match kind {
            0 => &specs,
            1 => &cases,
            _ => std::slice::from_ref(&target),
        };
        let original = &pool[rng.random_range(0..pool.len())];
        let mutated = mutate(&mut rng, original.text.as_bytes());
        let path = original.path.to_string_lossy().into_owned();
        let fed = std::panic::catch_unwind(AssertUnwindSafe(|| {
            feed(kind, mutated, &path, &specs, &catalog, &dir)
        }));
        assert!(
            fed.is_ok(),
            "a loader panicked on {path} (CONFORM_FUZZ_SEED={seed}, iteration {i})"
        );
    }
}
