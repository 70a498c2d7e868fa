#!/usr/bin/env bash
# The idle service: `serve` on an empty SQLite warehouse, its resident memory once
# listening and after one request, then `/health` under wrk (64 connections, 2 threads,
# DURATION seconds, default 10) and the memory after it. Needs wrk (Debian package `wrk`).
#   bench/serve.sh BUILD_DIR [DURATION]
set -euo pipefail
build=$1 duration=${2:-10}
command -v wrk >/dev/null || { echo "bench/serve.sh: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
work=$(mktemp -d /tmp/petl-serve-bench.XXXXXX)
export DATABASE_URL=sqlite:///$work/w.db BSALE_API_TOKEN=serve-bench-token
export BSALE_API_URL=http://127.0.0.1:9/v1 LOG_LEVEL=info
"$build/patitas-etl" serve --port 0 >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
port=""
for _ in $(seq 200); do
  port=$(grep -ho 'listening on http://[^ ]*' "$work/serve.out" "$work/serve.err" 2>/dev/null |
    grep -o '[0-9]*$' | head -n 1 || true)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "serve did not start" >&2; cat "$work/serve.err" >&2; exit 1; }
rss() { awk '/^VmRSS/ {printf "%.1f MiB", $2 / 1024}' "/proc/$pid/status"; }
sleep 1
echo "idle RSS: $(rss)"
curl -sf "http://127.0.0.1:$port/health" >/dev/null
echo "RSS after one /health: $(rss)"
wrk -t2 -c64 -d"${duration}s" "http://127.0.0.1:$port/health" | tee "$work/wrk.txt" |
  grep -E 'Requests/sec|requests in|Non-2xx|Socket errors|Latency'
grep -q -E 'Non-2xx|Socket errors' "$work/wrk.txt" && echo "errors: yes" || echo "errors: 0"
echo "RSS after wrk: $(rss)"
