#!/usr/bin/env bash
# Request cost of variant costs, stock and prices on a store of about 3,000 variants x 3 offices
# x 2 price lists (bsale-sim: --products 2000, 1..2 variants each), 60 days of sales:
#  1. the first full sync with the 60 days (the cost of every stock-controlled variant),
#  2. a plain daily sync with nothing changed (cost rotation + stock + prices),
#  3. a plain daily sync after `/__mutate receptions=5` (and nothing else).
# Prints each run's requests by resource (the simulator's /__stats), the total and the wall
# time those requests take at Bsale's 8 requests/s. The syncs run unthrottled: the wall at 8/s
# is requests / 8.
#   bench/store_cost.sh BUILD_DIR [PRODUCTS]
set -euo pipefail
build=$1 products=${2:-2000}
etl=$build/patitas-etl sim=$build/tools/bsale_sim/bsale-sim
work=$(mktemp -d /tmp/petl-store-cost.XXXXXX)
token=store-cost-token
"$sim" --port 0 --token "$token" --seed 8 --products "$products" --variants-per-product 2 \
  --offices 3 --price-lists 2 --days 60 --docs-per-day 40 --test-hooks \
  >"$work/sim.out" 2>"$work/sim.err" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
url=""
for _ in $(seq 200); do
  url=$(head -n1 "$work/sim.out" 2>/dev/null || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "bsale-sim did not start" >&2; exit 1; }
root=${url%/v1}
export BSALE_API_URL=$url BSALE_API_TOKEN=$token DATABASE_URL=sqlite:///$work/w.db
export ETL_TIMEZONE=UTC LOG_LEVEL=warn BSALE_RATE_LIMIT=1000

hook() { curl -sf -X POST -H "access_token: $token" "$root/$1" >/dev/null; }
# Requests by path template since the last reset, largest first, then the total at 8/s.
report() {
  curl -sf -H "access_token: $token" "$root/__stats" | python3 -c '
import json, sys
by = json.load(sys.stdin)["by_path"]
rows = sorted(((sum(s.values()), p) for p, s in by.items()), reverse=True)
total = sum(n for n, _ in rows)
print("== %s" % sys.argv[1])
for n, p in rows:
    print("  %-44s %6d" % (p, n))
print("  %-44s %6d  (%.1f min at 8 req/s)" % ("total", total, total / 8 / 60))' "$1"
}

hook __stats/reset
# With the history, so the first daily sync finds nothing to catch up on.
"$etl" sync full --from "$(date -u -d '-59 days' +%F)" --to "$(date -u +%F)" >"$work/full.txt"
variants=$(sqlite3 "$work/w.db" "SELECT COUNT(*) FROM variantes")
controlled=$(sqlite3 "$work/w.db" "SELECT COUNT(*) FROM costos_variante")
stock=$(sqlite3 "$work/w.db" "SELECT COUNT(*) FROM stock")
prices=$(sqlite3 "$work/w.db" "SELECT COUNT(*) FROM precios")
echo "store: $variants variants ($controlled stock-controlled), $stock stock rows, $prices prices"
report "first full sync"
hook __stats/reset
"$etl" sync daily >"$work/daily.txt"
report "daily sync, nothing changed (ETL_COST_REFRESH_DAYS=7)"
curl -sf -X POST -H "access_token: $token" "$root/__mutate?seed=4&receptions=5&new_documents=0&voids=0&price_changes=0&deactivations=0&new_clients=0" \
  >"$work/mutate.json"
hook __stats/reset
"$etl" sync daily >"$work/daily2.txt"
report "daily sync after /__mutate receptions=5"
