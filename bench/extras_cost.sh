#!/usr/bin/env bash
# Requests that stock movements (receptions, consumptions, returns and their lines) and documents'
# taxes and sellers add to full and daily syncs, counted by the simulator (/__stats by path) on
# tests/sync/fidelity.sh's store (6 days x 25 documents, 3 offices).
#   bench/extras_cost.sh BUILD_DIR [link|embed] [embedded|read]
set -euo pipefail
build=$1 style=${2:-link} extras=${3:-embedded}
etl=$build/patitas-etl sim=$build/tools/bsale_sim/bsale-sim
work=$(mktemp -d /tmp/petl-extras-cost.XXXXXX)
token=extras-cost-token
"$sim" --port 0 --token "$token" --seed 11 --today 2026-03-15 --days 6 --docs-per-day 25 \
  --clients 40 --products 30 --share-over-25 0.12 --share-over-50 0.06 --share-voided 0.1 \
  --share-anonymous 0.2 --expand-style "$style" --test-hooks >"$work/url" 2>"$work/sim.log" &
pid=$!
trap 'kill $pid; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
url=$(head -n 1 "$work/url") root=${url%/v1}
export DATABASE_URL=sqlite:///$work/warehouse.db BSALE_API_URL=$url BSALE_API_TOKEN=$token
export ETL_TIMEZONE=UTC BSALE_RATE_LIMIT=200 LOG_LEVEL=warn ETL_DOCUMENT_EXTRAS=$extras
stats() {
  curl -sf -H "access_token: $token" "$root/__stats" | python3 -c '
import json, sys
s = json.load(sys.stdin)
def n(pred):
    return sum(sum(v.values()) for k, v in s["by_path"].items() if pred(k))
moves = n(lambda k: k.startswith(("/v1/stocks/receptions", "/v1/stocks/consumptions", "/v1/returns")))
extras = n(lambda k: k.endswith(("/document_taxes.json", "/sellers.json")))
print("requests=%d movements=%d extras=%d" % (s["requests"], moves, extras))'
  curl -sf -X POST -H "access_token: $token" "$root/__stats/reset" >/dev/null
}
echo "style=$style ETL_DOCUMENT_EXTRAS=$extras"
"$etl" sync full --from 2026-03-10 --to 2026-03-15 >/dev/null
echo "full, 6 days of documents: $(stats)"
"$etl" sync daily --from 2026-03-12 --to 2026-03-15 >/dev/null
echo "daily, 4 days:             $(stats)"
"$etl" sync full >/dev/null
echo "full, master data only:    $(stats)"
curl -sf -X POST -H "access_token: $token" \
  "$root/__mutate?seed=5&receptions=3&consumptions=2&credit_notes=3" >/dev/null
stats >/dev/null
"$etl" sync daily --from 2026-03-12 --to 2026-03-15 >/dev/null
echo "daily after receptions=3, consumptions=2, credit_notes=3: $(stats)"
