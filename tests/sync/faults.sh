#!/usr/bin/env bash
# Faults: transient errors (5xx, truncated and empty bodies, resets) are retried and the copy is
# still exact; a wrong token fails at once with a clear reason; a Bsale that keeps failing fails
# the run after its retries, records it as failed and leaves every written document whole.
#   faults.sh sqlite|mysql PATITAS_ETL BSALE_SIM COMPARE_TRUTH WORKDIR
set -euo pipefail
backend=$1 etl=$2 sim=$3 compare=$4 work=$5
rm -rf "$work" && mkdir -p "$work"
source "$(dirname "$0")/sim_env.sh"

token="faults-token-77aa11"
today=2026-03-15
first=$(date -u -d "$today -2 days" +%F)
fresh_db_url "$backend" "$work"
start_sim "$sim" "$work" --token "$token" --seed 3 --today "$today" --days 3 --docs-per-day 20 \
  --clients 30 --products 20 --share-over-25 0.15 --share-over-50 0.05 --test-hooks \
  --fail-rate 0.12 --truncate-rate 0.05 --empty-rate 0.05 --reset-rate 0.05 --fault-seed 9

export DATABASE_URL=$DB_URL BSALE_API_URL=$SIM_URL BSALE_API_TOKEN=$token
export ETL_TIMEZONE=UTC LOG_LEVEL=warn BSALE_CONCURRENCY=4 BSALE_RATE_LIMIT=200
export BSALE_MAX_ATTEMPTS=10

echo "== transient faults are retried and the copy is exact"
"$etl" sync full --from "$first" --to "$today" >"$work/full.txt" 2>"$work/full.log"
cat "$work/full.txt"
retries=$(grep -o '[0-9]* retries' "$work/full.txt" | head -n 1 | cut -d' ' -f1)
[ "${retries:-0}" -gt 0 ] || { echo "FAIL: no retry happened under faults"; exit 1; }
"$compare" "$SIM_ROOT/__truth" "$token" "$DB_URL"

echo "== a wrong token fails at once with a clear reason"
set +e
BSALE_API_TOKEN="wrong-token-5566" "$etl" sync daily --date "$today" >"$work/auth.txt" 2>&1
rc=$?
set -e
cat "$work/auth.txt"
[ "$rc" = 1 ] || { echo "FAIL: exit code $rc, want 1"; exit 1; }
grep -q "Bsale rejected the API token (401)" "$work/auth.txt"
if grep -q "wrong-token-5566" "$work/auth.txt"; then echo "FAIL: token printed"; exit 1; fi

echo "== a Bsale that keeps failing fails the run; the database stays consistent"
stop_sim
start_sim "$sim" "$work" --token "$token" --seed 3 --today "$today" --days 3 --docs-per-day 20 \
  --clients 30 --products 20 --test-hooks --fail-rate 1.0
set +e
BSALE_API_URL=$SIM_URL BSALE_MAX_ATTEMPTS=3 BSALE_RETRY_BUDGET_S=5 \
  "$etl" sync daily --date "$today" >"$work/fail.txt" 2>&1
rc=$?
set -e
cat "$work/fail.txt"
[ "$rc" = 1 ] || { echo "FAIL: exit code $rc, want 1"; exit 1; }
"$etl" report >"$work/report.txt" 2>&1
grep -q "failed" "$work/report.txt" || { echo "FAIL: the run is not recorded as failed"; exit 1; }
echo "faults ($backend): PASS"
