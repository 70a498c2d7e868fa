#!/usr/bin/env bash
# Request cost of a plain daily sync, with and without the reconcile, on a store of
# DOCS documents a day (default 300) over 51 days: a full sync with that history, a mutation
# (a day of new sales, voids up to 40 days old, credit and new payments), then one plain
# `sync daily` with ETL_RECONCILE_DAYS=0 and one with 45. Prints one line per run with its
# requests and the reconcile and payments parts of its detail. Then, on an empty warehouse, three
# plain daily syncs without the reconcile: the first, an identical second one, and a third after
# a mutation voiding documents of those days, each with its requests from the simulator's
# /__stats (all, lines pages, references reads). SHARE_OVER_25 sets the simulator's share of
# documents over 25 lines (its default 0.01 otherwise; the issue's line-heavy store: 0.25).
#   bench/daily_cost.sh BUILD_DIR [DOCS] [SHARE_OVER_25]
set -euo pipefail
build=$1 docs=${2:-300} share=${3:-0.01}
etl=$build/patitas-etl sim=$build/tools/bsale_sim/bsale-sim
work=$(mktemp -d /tmp/petl-daily-cost.XXXXXX)
token=daily-cost-token
today=$(date -u +%F)
first=$(date -u -d "$today -50 days" +%F)
"$sim" --port 0 --token "$token" --seed 5 --today "$today" --days 51 --docs-per-day "$docs" \
  --share-over-25 "$share" --test-hooks >"$work/sim.out" 2>"$work/sim.err" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
url=""
for _ in $(seq 200); do
  url=$(head -n1 "$work/sim.out" 2>/dev/null || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "bsale-sim did not start" >&2; exit 1; }
export BSALE_API_URL=$url BSALE_API_TOKEN=$token DATABASE_URL=sqlite:///$work/w.db
export ETL_TIMEZONE=UTC LOG_LEVEL=warn BSALE_RATE_LIMIT=1000
"$etl" sync full --from "$first" --to "$today" >"$work/full.txt"
curl -sf -X POST -H "access_token: $token" -H "Content-Type: application/json" \
  -d "{\"seed\":3,\"new_documents\":$docs,\"voids\":10,\"void_max_age_days\":40,
       \"credit_payments\":5,\"new_payments\":20,\"price_changes\":0,\"deactivations\":0,
       \"new_clients\":0}" "${url%/v1}/__mutate" >/dev/null
part() { tr -d ' \n' <"$1" | grep -o "\"$2\":{[^}]*}" | head -n 1; }
for days in 0 45; do
  ETL_RECONCILE_DAYS=$days "$etl" sync daily --json >"$work/daily.json"
  echo "ETL_RECONCILE_DAYS=$days: $(grep -o '"requests": *[0-9]*' "$work/daily.json" | head -n 1)" \
    "$(part "$work/daily.json" reconcile) $(part "$work/daily.json" payments)"
done

# The daily repeat: requests of each run as the simulator counts them.
hook() { curl -sf -H "access_token: $token" "$@"; }
counted() {
  hook "${url%/v1}/__stats" | python3 -c '
import json, sys
s = json.load(sys.stdin)
n = lambda k: sum(s["by_path"].get("/v1/documents/{id}/" + k + ".json", {}).values())
print("%d requests (%d line pages, %d references)" % (s["requests"], n("details"), n("references")))'
}
export DATABASE_URL=sqlite:///$work/repeat.db ETL_RECONCILE_DAYS=0
for run in "daily 1 (empty warehouse)" "daily 2 (identical)" "daily 3 (after voids)"; do
  if [ "${run#daily 3}" != "$run" ]; then
    hook -X POST -H "Content-Type: application/json" \
      -d '{"seed":9,"new_documents":0,"voids":20,"void_max_age_days":3,"price_changes":0,
           "deactivations":0,"new_clients":0,"credit_payments":0,"new_payments":0}' \
      "${url%/v1}/__mutate" >/dev/null
  fi
  hook -X POST "${url%/v1}/__stats/reset" >/dev/null
  "$etl" sync daily >/dev/null
  echo "$run: $(counted)"
done
