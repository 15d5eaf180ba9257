#!/usr/bin/env bash
# Run the SDK interop tests: the official Alibaba Cloud and Huawei Cloud Python SDKs against
# `conform emulate`.
#
#   tests/sdk/run.sh [pytest args...]        e.g. tests/sdk/run.sh -k legacy -x
#
# Creates .venv/sdk (pinned tests/sdk/requirements.txt), builds the release binary, starts the emulator
# on a free loopback port, runs pytest, and always stops the emulator. Exit status: pytest's (non-zero
# on any failure, error or empty run).
#
# Environment:
#   CONFORM_ENDPOINT   use an emulator that is already running (http://127.0.0.1:PORT): no build, no start
#   CONFORM_BIN        start this conform binary instead of building target/release/conform
#   PYTHON             interpreter for the venv (default: python3.11, else python3)
#   CARGO_TARGET_DIR   honoured when locating the built binary
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.venv/sdk"
reports="$root/reports"
log() { printf '[sdk] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- Python venv with pinned SDKs
py="${PYTHON:-}"
if [[ -z "$py" ]]; then
  if command -v python3.11 >/dev/null 2>&1; then py=python3.11; else py=python3; fi
fi
"$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' \
  || { log "need Python >= 3.9 (3.11 is what the pins were made with); got $("$py" -V 2>&1)"; exit 2; }

req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$( (cat "$req"; "$py" -V 2>&1) | sha256sum | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  log "creating $venv"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
  log "installing pinned SDKs"
  "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$req"
  echo "$want" > "$stamp"
fi

# ---------------------------------------------------------------- emulator
emu_pid=""
emu_log=""
# An EXIT trap's last status replaces the script's: cleanup keeps the status it was called
# with (without that, an external emulator, whose empty $emu_log made the last test false,
# turned a clean pass into exit 1).
cleanup() {
  local status=$?
  if [[ -n "$emu_pid" ]] && kill -0 "$emu_pid" 2>/dev/null; then
    kill "$emu_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$emu_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$emu_pid" 2>/dev/null || true
    wait "$emu_pid" 2>/dev/null || true
  fi
  if [[ -n "$emu_log" ]]; then rm -f "$emu_log"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

answers() {  # does anything answer HTTP at $1 (host:port)?
  "$venv/bin/python" - "$1" <<'EOF'
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen("http://" + sys.argv[1] + "/", timeout=2)
except urllib.error.HTTPError:
    pass  # any HTTP answer will do
except Exception:
    sys.exit(1)
EOF
}

if [[ -n "${CONFORM_ENDPOINT:-}" ]]; then
  log "using the emulator at $CONFORM_ENDPOINT"
else
  if [[ -n "${CONFORM_BIN:-}" ]]; then
    bin="$CONFORM_BIN"
  else
    log "building the emulator (cargo build --release)"
    (cd "$root" && cargo build --release --quiet --bin conform)
    bin="${CARGO_TARGET_DIR:-$root/target}/release/conform"
    [[ "$bin" = /* ]] || bin="$root/$bin"
  fi
  port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  emu_log="$(mktemp)"
  log "starting $bin emulate --port $port"
  "$bin" emulate --port "$port" >"$emu_log" 2>&1 &
  emu_pid=$!
  addr=""
  for _ in $(seq 1 300); do  # up to 30 s
    if ! kill -0 "$emu_pid" 2>/dev/null; then
      set +e; wait "$emu_pid"; code=$?; set -e; emu_pid=""
      log "the emulator exited early (status $code) before answering; its output:"
      if [[ -s "$emu_log" ]]; then cat "$emu_log" >&2; else log "(none)"; fi
      exit 2
    fi
    printed="$(grep -Eo '(127\.[0-9]+\.[0-9]+\.[0-9]+|localhost|\[::1\]):[0-9]+' "$emu_log" | head -n1 || true)"
    candidate="${printed:-127.0.0.1:$port}"
    if answers "$candidate"; then addr="$candidate"; break; fi
    sleep 0.1
  done
  if [[ -z "$addr" ]]; then
    log "the emulator did not answer within 30 s; its output:"; cat "$emu_log" >&2; exit 2
  fi
  export CONFORM_ENDPOINT="http://$addr"
  log "emulator answering at $CONFORM_ENDPOINT"
fi

# ---------------------------------------------------------------- tests
mkdir -p "$reports"
set +e
(cd "$here" && "$venv/bin/python" -m pytest -p no:cacheprovider -c "$here/pytest.ini" \
    --junitxml="$reports/sdk-junit.xml" "$@")
status=$?
set -e
if [[ $status -ne 0 && -n "$emu_log" && -s "$emu_log" ]]; then
  log "emulator output (last 40 lines):"; tail -n 40 "$emu_log" >&2
fi
exit $status
