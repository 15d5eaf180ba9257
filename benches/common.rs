//! Shared by the benches: peak memory, and running `wrk` against an endpoint.

#![allow(dead_code)]

use std::process::Command;

/// The process's peak resident set (VmHWM), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Requests per second `wrk` reaches with `script` (Lua) against `url`, or why not.
pub fn wrk(url: &str, script: &str, seconds: u32, connections: u32) -> Result<f64, String> {
    let dir = std::env::temp_dir().join(format!("conform-wrk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let lua = dir.join("request.lua");
    std::fs::write(&lua, script).map_err(|e| e.to_string())?;
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "-s",
        ])
        .arg(&lua)
        .arg(url)
        .output()
        .map_err(|e| format!("wrk is not installed ({e}); `apt-get install wrk`"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let rate = text
        .lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| format!("no rate in wrk's output: {text}"))?;
    let non2xx = text
        .lines()
        .find(|l| l.contains("Non-2xx"))
        .map(str::to_string);
    if let Some(n) = non2xx {
        eprintln!("    (wrk: {})", n.trim());
    }
    Ok(rate)
}
