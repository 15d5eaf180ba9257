#!/usr/bin/env python3
"""Peak memory of `conform run` against hostile targets (issue: bounded memory).

Runs the bundled suite, and a suite of every hostile behaviour, against the hostile target of
`tests/hostile/server.rs` (`cargo run --example hostile`, on 127.0.0.1) and checks that the
peak resident memory of every run stays under the bound (default 100 MB). Uses release builds.

    python3 scripts/peak-memory.py [--bound-mb 100]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFORM = ROOT / "target" / "release" / "conform"
HOSTILE = ROOT / "target" / "release" / "examples" / "hostile"
BEHAVIOURS = [
    "never-answers", "slow-headers", "reset", "huge-body", "endless-chunked", "endless-close",
    "invalid-json", "invalid-utf8", "wrong-content-type", "redirect-loop", "redirect-other-host",
    "huge-headers", "gzip-bomb", "echo-token-at-cut",
]
CLAUSE = "seed:003_4d9f1c4dbf2ee0ed.txt#Status Codes"
# (every API answer, provider-state mode) for the bundled suite.
BUNDLED_SCENARIOS = [
    ("huge-body", "huge"),
    ("endless-chunked", "garbage"),
    ("endless-close", "ok"),
    ("gzip-bomb", "teardown-fails"),
    ("huge-headers", "huge"),
    ("slow-headers", "hang"),
]


def start_hostile(behaviour=None):
    args = [str(HOSTILE)] + ([behaviour] if behaviour else [])
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port, other = proc.stdout.readline().split()
    return proc, int(port)


def measure(args, timeout):
    """Runs conform; returns (exit code, peak RSS in MB, seconds)."""
    started = time.monotonic()
    proc = subprocess.Popen([str(CONFORM)] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = started + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            raise SystemExit(f"conform {' '.join(args)} did not end within {timeout}s")
        time.sleep(0.05)
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024, time.monotonic() - started


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bound-mb", type=float, default=100)
    bound = ap.parse_args().bound_mb
    subprocess.run(["cargo", "build", "--locked", "--release", "--bin", "conform", "--example", "hostile"],
                   cwd=ROOT, check=True)
    worst = 0.0
    failed = []

    def check(name, code, mb, secs):
        nonlocal worst
        worst = max(worst, mb)
        ok = mb < bound and code in (0, 1)
        print(f"{'ok ' if ok else 'BAD'} {mb:7.1f} MB {secs:6.1f}s exit {code}  {name}")
        if not ok:
            failed.append(name)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # Every behaviour as a case of its own, 16 at a time.
        (tmp / "cases").mkdir()
        cases = "".join(
            f"  - name: {b}\n    summary: s\n    clause: \"{CLAUSE}\"\n    tags: [safe]\n"
            f"    request: {{params: {{project_id: p, server_id: {b}}}}}\n"
            f"    expect: {{status: 401, error_code: APIGW.0301}}\n" for b in BEHAVIOURS)
        (tmp / "cases" / "ws.yaml").write_text(f"operation: huawei-workspace/DeleteServer\ncases:\n{cases}")
        proc, port = start_hostile()
        try:
            (tmp / "target.yaml").write_text(
                f"timeout_seconds: 3\nallow_destructive: true\nservices:\n  huawei-workspace:\n"
                f"    base_url: http://127.0.0.1:{port}\n    signing: none\n")
            check("every hostile behaviour", *measure(
                ["run", "--cases", str(tmp / "cases"), "--target", str(tmp / "target.yaml")], 120))
        finally:
            proc.stdin.close()
            proc.wait()
        # The bundled suite against targets that answer every request badly.
        for behaviour, states in BUNDLED_SCENARIOS:
            proc, port = start_hostile(behaviour)
            try:
                base = f"http://127.0.0.1:{port}"
                check(f"bundled suite: answers {behaviour}, provider states {states}", *measure(
                    ["run", "--target", base, "--states", f"{base}/states/{states}"], 300))
            finally:
                proc.stdin.close()
                proc.wait()
    print(f"peak RSS at most {worst:.1f} MB (bound {bound:.0f} MB)")
    if failed:
        sys.exit(f"over the bound or a wrong exit code: {', '.join(failed)}")


if __name__ == "__main__":
    main()
