#!/usr/bin/env python3
"""The HTML run report, rendered by a real browser (headless Chromium, Debian's package).

A real run with passes, failures and skips: the emulator serving huawei-sms only, and
`conform run` against it without a provider-state URL, over the huawei-sms,
huawei-workspace and Alibaba DeleteReplicationJob cases. The huawei-sms cases that need no
state pass, those that need one are skipped, and the others that need none fail (the
gateway answers APIGW.0101: no such API), the Alibaba ones with their seed's public page. The report is then rendered with `chromium --headless --dump-dom`
(after its script ran), and the rendered text is checked against the run's JSON report: the
counts, a failure's id, clause, checks and answer, a clause's link to its source document,
a skip reason, and that the filter by
outcome hides what it should. A screenshot goes to the reports directory.

    python3 scripts/html-check.py [--conform target/release/conform] [--out reports]
"""

import argparse
import html.parser
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SELECTION = [
    "-f", "huawei-sms::DeleteTask",
    "-f", "huawei-workspace::DeleteServer",
    "-f", "alibaba-smc::DeleteReplicationJob",
]


def fail(message):
    print(f"html-check: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def ensure_chromium():
    """Debian's chromium; installed when missing (as root, or through sudo when there)."""
    found = shutil.which("chromium")
    if found:
        return found
    prefix = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if prefix is None:
        fail("chromium is not installed, and neither root nor sudo is there to install it")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(prefix + ["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(prefix + ["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
    return shutil.which("chromium") or fail("chromium is still not on PATH after installing it")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer: it is listening
        except OSError:
            time.sleep(0.2)
    fail(f"the emulator did not answer at {url} within {seconds}s")


def run_against_half_emulator(conform, out):
    """The run: returns the paths of its HTML and JSON reports."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(out, "html-check-emulator.log"), "w")
    emulator = subprocess.Popen(
        [conform, "emulate", "--port", str(port), "--services", "huawei-sms"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_for(base + "/")
        page, report = os.path.join(out, "html-check.html"), os.path.join(out, "html-check.json")
        done = subprocess.run(
            [conform, "run", "--target", base, *SELECTION, "--report-html", page, "--report-json", report],
            stdout=subprocess.DEVNULL,
        )
        if done.returncode != 1:
            fail(f"the run should fail (exit 1), it exited {done.returncode}")
        return page, report
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
        log.close()


class Dom(html.parser.HTMLParser):
    """The rendered DOM: its visible text, and each trial row's outcome and whether hidden."""

    def __init__(self):
        super().__init__()
        self.text, self.rows, self.links, self.skipping = [], [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "style", "title"):
            self.skipping += 1
        if tag == "a":
            self.links.append(a.get("href"))
        if tag == "tr" and "data-trial" in a:
            self.rows.append((a.get("data-outcome"), "hidden" in a))

    def handle_endtag(self, tag):
        if tag in ("script", "style", "title"):
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.text.append(data)


# A closed network refuses Chromium's own background connections, many at a time: these keep
# it from trying (flags as the machine notes give them).
QUIET_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def render(chromium, page, fragment=""):
    url = "file://" + os.path.abspath(page) + fragment
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [chromium, *QUIET_FLAGS, f"--user-data-dir={profile}",
             "--virtual-time-budget=2000", "--dump-dom", url],
            capture_output=True, text=True, timeout=120,
        )
    if done.returncode != 0 or "<html" not in done.stdout:
        fail(f"chromium could not render {url}: {done.stderr[-2000:]}")
    dom = Dom()
    dom.feed(done.stdout)
    return dom, " ".join(" ".join(dom.text).split())


def check_all(chromium, page, report):
    s = report["summary"]
    dom, text = render(chromium, page)
    want = f"conform: {s['passed']} passed, {s['failed']} failed, {s['skipped']} skipped"
    if want not in text:
        fail(f"the rendered page does not say `{want}`")
    if not (s["passed"] and s["failed"] and s["skipped"]):
        fail(f"the run should have passes, failures and skips: {s}")
    total = len(report["trials"])
    if f"showing {total} of {total} trials (all)" not in text:
        fail("the filter's script did not run (no `showing N of N trials (all)`)")
    failed = next(t for t in report["trials"] if t["outcome"] == "fail")
    for part in [failed["id"], "clause: " + failed["clause"], failed["failures"][0]["check"],
                 failed["failures"][0]["expected"], failed["failures"][0]["actual"]]:
        if " ".join(part.split()) not in text:
            fail(f"a failure's detail is not rendered: `{part}`")
    if "APIGW.0101" not in text:
        fail("the failing answer (APIGW.0101) is not rendered")
    linked = [t for t in report["trials"] if t["outcome"] == "fail" and t.get("source_url")]
    if not linked:
        fail("no failure cites a seed with a public page (source_url)")
    if linked[0]["source_url"] not in dom.links:
        fail(f"the clause's link to {linked[0]['source_url']} is not rendered: {dom.links[:5]}")
    skipped = next(t for t in report["trials"] if t["outcome"] == "skip")
    if skipped["reason"] not in text:
        fail(f"the skip reason is not rendered: `{skipped['reason']}`")
    print(f"html-check: rendered `{want}`, failure {failed['id']} with its clause, checks and answer")
    print(f"html-check: {linked[0]['id']} links {linked[0]['source_url']}")


def check_filter(chromium, page, report):
    words = {"failed": "fail", "skipped": "skip", "passed": "pass"}
    total = len(report["trials"])
    for choice, outcome in words.items():
        dom, text = render(chromium, page, "#" + choice)
        expected = sum(1 for t in report["trials"] if t["outcome"] == outcome)
        shown = [o for o, hidden in dom.rows if not hidden]
        if len(dom.rows) != total or shown != [outcome] * expected:
            fail(f"filter `{choice}`: {len(shown)} rows shown ({set(shown)}), {expected} expected")
        if f"showing {expected} of {total} trials ({choice})" not in text:
            fail(f"filter `{choice}`: no `showing {expected} of {total} trials ({choice})`")
        print(f"html-check: filter `{choice}` shows {expected} of {total} trials, all {outcome}")


def screenshot(chromium, page, out):
    path = os.path.abspath(os.path.join(out, "html-check.png"))
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [chromium, *QUIET_FLAGS, f"--user-data-dir={profile}",
             "--window-size=1280,2000", "--hide-scrollbars", f"--screenshot={path}",
             "file://" + os.path.abspath(page)],
            capture_output=True, check=True, timeout=120,
        )
    if not os.path.getsize(path):
        fail("the screenshot is empty")
    print(f"html-check: screenshot {os.path.relpath(path)}")


def main():
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--conform", default="target/release/conform")
    args.add_argument("--out", default="reports")
    a = args.parse_args()
    os.makedirs(a.out, exist_ok=True)
    chromium = ensure_chromium()
    page, report_path = run_against_half_emulator(a.conform, a.out)
    with open(report_path) as f:
        report = json.load(f)
    check_all(chromium, page, report)
    check_filter(chromium, page, report)
    screenshot(chromium, page, a.out)
    print("html-check: the HTML report renders as it should")


if __name__ == "__main__":
    main()
