#!/usr/bin/env bash
# (bench/run runs every scenario of docs/performance.md; this runs one store, one backend.)
# Full history load against bsale-sim: wall time, requests, requests/s, rows and peak memory.
#   bench/bench_sync.sh [BUILD_DIR] [sim knobs...]
# Environment: BENCH_CONCURRENCY (default 64), BENCH_RATE (client BSALE_RATE_LIMIT, default 8),
# SIM_LATENCY_MS (default 300), SIM_RATE (simulator --rate-limit, default 8), BENCH_DB (default a
# temporary SQLite file; any DATABASE_URL works).
# Example, the 100k-document store: bench/bench_sync.sh build --days 365 --docs-per-day 300
set -euo pipefail
build=${1:-build}
shift || true
etl=$build/patitas-etl
sim=$build/tools/bsale_sim/bsale-sim
work=$(mktemp -d /tmp/petl-bench.XXXXXX)
token=bench-token-$$
today=2026-06-30
"$sim" --port 0 --token "$token" --seed 7 --today "$today" --latency-ms "${SIM_LATENCY_MS:-300}" \
  --rate-limit "${SIM_RATE:-8}" --test-hooks "$@" >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true; wait $sim_pid 2>/dev/null || true; rm -rf "$work"' EXIT
url=""
for _ in $(seq 1 200); do
  url=$(head -n 1 "$work/sim.out" 2>/dev/null || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/sim.err"; exit 1; }
days=$(printf '%s\n' "$@" | grep -A1 -x -- --days | tail -n 1)
[[ $days =~ ^[0-9]+$ ]] || days=60
first=$(date -u -d "$today -$((days - 1)) days" +%F)

export DATABASE_URL=${BENCH_DB:-sqlite:///$work/bench.db} BSALE_API_URL=$url BSALE_API_TOKEN=$token
export BSALE_CONCURRENCY=${BENCH_CONCURRENCY:-64} BSALE_RATE_LIMIT=${BENCH_RATE:-8}
export LOG_LEVEL=warn ETL_TIMEZONE=UTC
start=$(date +%s.%N)
"$etl" sync full --from "$first" --to "$today" --json >"$work/summary.json"
end=$(date +%s.%N)
curl -sf -H "access_token: $token" "${url%/v1}/__stats" >"$work/stats.json"
num() { grep -o "\"$2\": *[0-9.]*" "$1" | head -n 1 | sed 's/.*: *//'; }
wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
requests=$(num "$work/summary.json" requests)
echo "store: $* (days $first..$today)"
echo "concurrency=$BSALE_CONCURRENCY rate_limit=$BSALE_RATE_LIMIT sim_latency_ms=${SIM_LATENCY_MS:-300}"
echo "wall_s=$wall requests=$requests req_per_s=$(awk -v r="$requests" -v w="$wall" 'BEGIN { printf "%.2f", r / w }')"
echo "rows=$(num "$work/summary.json" rows_total) documents=$(num "$work/summary.json" documents) retries=$(num "$work/summary.json" retries) throttled=$(num "$work/summary.json" throttled) peak_rss_mb=$(num "$work/summary.json" peak_rss_mb)"
echo "simulator: max_rate_1s=$(num "$work/stats.json" max_rate_1s) max_in_flight=$(num "$work/stats.json" max_in_flight) throttled=$(num "$work/stats.json" throttled)"
