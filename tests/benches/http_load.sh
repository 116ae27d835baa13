#!/usr/bin/env bash
# The dial hook over HTTP on loopback, with wrk as the load generator in a
# second process. Not a test: run it by hand, `bash tests/benches/http_load.sh`.
#
# It builds the release binary, makes a database of $CONTACTS contacts with a
# realistic mix (60% with a phone consent -> allow, 25% with none -> justify,
# 15% who withdrew it -> deny; denies and justifies are logged to the
# decision log, as the hooks always do), serves it, and measures in one run:
#   1. baseline: an authenticated trivial read (`GET /setup/switches`): the
#      HTTP, key check and pool cost without a decision;
#   2. `POST /hooks/dial` with a random contact per request.
# Each for $DURATION with $CONNECTIONS connections, interleaved $ROUNDS times
# (the machine is shared: compare within a round).
#
#   CONTACTS=10000 DURATION=20s CONNECTIONS=64 ROUNDS=1 THREADS=2
#   SERVE_ARGS="--connections 8"   extra arguments for `serve`
#   CRM_CONSENT_BIN=...            a binary to measure instead of building
#   BENCH_DIR=...                  keep the database there and reuse it
#   COMPARE_BIN="A B ..."          more binaries (say, before a change),
#                                  measured in the same rounds on the same data
#                                  (each on its own copy of the database, so a
#                                  binary with a newer schema changes no other's)
#
# Load goes to 127.0.0.1 only; every run is bounded by $DURATION.
set -euo pipefail
cd "$(dirname "$0")/../.."

contacts=${CONTACTS:-10000}
duration=${DURATION:-20s}
connections=${CONNECTIONS:-64}
rounds=${ROUNDS:-1}
threads=${THREADS:-2}
target=${CARGO_TARGET_DIR:-$PWD/target}

command -v wrk >/dev/null || {
    echo "== installing wrk (Debian)"
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
}

bin=${CRM_CONSENT_BIN:-}
if [[ -z $bin ]]; then
    echo "== building crm-consent (release)"
    cargo build --quiet --release -p crm-consent --bin crm-consent
    bin=$target/release/crm-consent
fi

work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
server=
cleanup() {
    if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    [[ -n ${BENCH_DIR:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
export CRM_CONSENT_DB=$work/consent.db CRM_CONSENT_CACHE=$work/cache CRM_CONSENT_ACTOR=bench
cc() { "$bin" "$@" >/dev/null; }

start_server() {
    rm -f "$work/out"
    "${1:-$bin}" serve --listen 127.0.0.1:0 ${SERVE_ARGS:-} >"$work/out" 2>"$work/log" &
    server=$!
    for _ in $(seq 100); do
        [[ -s $work/out ]] && break
        sleep 0.1
    done
    base=$(sed -n 's/^listening on //p' "$work/out" | head -1)
    [[ -n $base ]] || { cat "$work/log"; exit 1; }
}

stop_server() {
    kill "$server"; wait "$server" 2>/dev/null || true; server=
}

if [[ -s $work/key ]]; then
    key=$(cat "$work/key")
    echo "== reusing the database in $work"
else
echo "== a database of $contacts contacts"
cc init
cc setup install --bundled
cc setup enable
cc types add calls --title Calls --text "You may call me" --phone
key=$("$bin" --json keys create --role operator --name bench |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])')
start_server
# Over the API, 4 keep-alive connections: faster than a process per contact.
python3 - "$base" "$key" "$contacts" <<'PY'
import http.client, json, sys, threading
from urllib.parse import urlsplit
base, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
host = urlsplit(base).netloc
headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

def post(conn, path, body):
    conn.request("POST", "/api/v1" + path, json.dumps(body), headers)
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        raise SystemExit(f"{path}: {r.status} {data[:200]!r}")
    return json.loads(data)

def work(part):
    conn = http.client.HTTPConnection(host)
    for i in range(part, n, 4):
        c = post(conn, "/contacts", {"name": f"c{i}", "phone": f"+48 600 {i:06d}"})["id"]
        kind = i % 20
        if kind < 15:  # 75% gave consent ...
            post(conn, f"/contacts/{c}/consents", {"consent_type": "calls", "method": "phone"})
            if kind >= 12:  # ... and 15% of all withdrew it.
                post(conn, f"/contacts/{c}/consents/calls/withdraw", {"method": "phone"})

threads = [threading.Thread(target=work, args=(p,)) for p in range(4)]
for t in threads: t.start()
for t in threads: t.join()
PY
stop_server
echo "$key" >"$work/key"
fi

cat >"$work/dial.lua" <<LUA
-- A random contact per request.
math.randomseed(os.time())
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $key"
wrk.headers["Content-Type"] = "application/json"
request = function()
  return wrk.format(nil, nil, nil, '{"contact":' .. math.random(1, $contacts) .. '}')
end
LUA
cat >"$work/read.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $key"
LUA

# The server's CPU time so far (user + system), in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }
hz=$(getconf CLK_TCK)

# Runs wrk with the script $1 against $2 into $3, and appends to $3 the
# server's CPU time per request: on a shared machine a steadier figure than
# the rate, which other work on the machine takes from.
load() {
    local before after
    before=$(cpu_ticks)
    wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$1" "$2" >"$3"
    after=$(cpu_ticks)
    echo "server_cpu_ticks $((after - before))" >>"$3"
}

# Prints "requests/s p50 p99" (ms) from wrk's --latency output, and the
# server's CPU per request (µs).
figures() {
    awk '/Requests\/sec/ { rps = $2 }
         /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
         /Non-2xx/ { bad = $NF }
         /requests in/ { n = $1 }
         /^server_cpu_ticks/ { ticks = $2 }
         function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
         END { printf "%8.0f/s  p50 %6.2f ms  p99 %6.2f ms  server CPU %4.0f µs/request%s\n", rps, ms(p50), ms(p99), (n ? ticks * 1e6 / hz / n : 0), (bad ? "  NON-2XX: " bad : "") }' hz="$hz" "$1"
}

# The p50 and p99 (ms) of the requests to path $2 as the server's own log
# line timed them ($1): from routing to the answer's head, without the time
# the request and answer spent in sockets and in waiting for a core. The
# gap to wrk's figures is what the shared machine adds on the way.
server_latency() {
    python3 - "$1" "$2" <<'PY'
import re, sys
path = "path=" + sys.argv[2] + " "
v = sorted(int(m.group(1)) for line in open(sys.argv[1], errors="replace")
           if path in line for m in [re.search(r"latency_us=(\d+)", line)] if m)
if v:
    print(f"server's own p50 {v[len(v) // 2] / 1000:.2f} ms  p99 {v[len(v) * 99 // 100] / 1000:.2f} ms")
else:
    print("server's own latency: no request lines in its log")
PY
}

# Rows in the decision log of the database $CRM_CONSENT_DB (read directly:
# a binary with a newer schema cannot open an older file read-only).
decisions() {
    python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM decisions").fetchone()[0])' "$CRM_CONSENT_DB"
}

bins=("$bin")
# shellcheck disable=SC2206 # a list of paths without spaces
[[ -n ${COMPARE_BIN:-} ]] && bins+=($COMPARE_BIN)
# Each binary runs on its own copy of the database made above.
declare -a before
for i in "${!bins[@]}"; do
    mkdir -p "$work/run$i"
    rm -f "$work/run$i"/consent.db*
    cp "$work"/consent.db* "$work/run$i/"
    export CRM_CONSENT_DB=$work/run$i/consent.db
    before[i]=$(decisions)
done
echo "== $connections connections, $threads wrk threads, $duration per run"
for round in $(seq "$rounds"); do
    echo "round $round"
    for i in "${!bins[@]}"; do
        b=${bins[$i]}
        export CRM_CONSENT_DB=$work/run$i/consent.db
        start_server "$b"
        load "$work/read.lua" "$base/api/v1/setup/switches" "$work/read.txt"
        load "$work/dial.lua" "$base/api/v1/hooks/dial" "$work/dial.txt"
        stop_server
        echo "  $b"
        printf '    baseline, GET /setup/switches  %s\n' "$(figures "$work/read.txt")"
        printf '    decisions, POST /hooks/dial    %s\n' "$(figures "$work/dial.txt")"
        printf '                                   %s\n' "$(server_latency "$work/log" /api/v1/hooks/dial)"
    done
done
for i in "${!bins[@]}"; do
    export CRM_CONSENT_DB=$work/run$i/consent.db
    logged=$(($(decisions) - before[i]))
    verified=failed
    "${bins[$i]}" ledger verify >/dev/null && verified=ok
    echo "  ${bins[$i]}: $logged decision-log rows written, ledger verify: $verified"
done
