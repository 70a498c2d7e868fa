#!/usr/bin/env bash
# Real shapes: the simulator answers as live Bsale does (payments as per-type totals or links,
# payments without a record date, credit notes with references, voids of documents weeks old).
# Full sync with history + a plain daily sync; then voids up to 40 days old, credit payments
# dated "", new payments and credit notes; one plain `sync daily` must bring the warehouse back
# to the truth in every table. Run in both expand styles.
#   real_shapes.sh sqlite|mysql PATITAS_ETL BSALE_SIM COMPARE_TRUTH WORKDIR
set -euo pipefail
backend=$1 etl=$2 sim=$3 compare=$4 work=$5
rm -rf "$work" && mkdir -p "$work"
source "$(dirname "$0")/sim_env.sh"

token="shapes-token-4c2b19"
# A plain daily sync works from the real today: the simulator's history ends there too.
today=$(date -u +%F)
first=$(date -u -d "$today -45 days" +%F)
export BSALE_API_TOKEN=$token ETL_TIMEZONE=UTC LOG_LEVEL=info BSALE_RATE_LIMIT=200
export BSALE_CONCURRENCY=4 ETL_LOOKBACK_DAYS=3 ETL_RECONCILE_DAYS=45

step() { echo "== $*"; }
etl() { "$etl" "$@" 2>>"$work/etl.log"; }
# Under embed, the documents' taxes and sellers come embedded and are compared too.
compare() { "$compare" "$SIM_ROOT/__truth" "$token" "$DB_URL" ${extras:+--extras} "$@"; }
detail() { tr -d ' \n' <"$1" | grep -o "\"$2\":{[^}]*}" | head -n 1; }

for style in link embed; do
  extras=; [ "$style" = embed ] && extras=1
  step "expand style $style: full sync with history $first..$today, then a plain daily sync"
  fresh_db_url "$backend" "$work"
  start_sim "$sim" "$work" --token "$token" --seed 21 --today "$today" --days 46 \
    --docs-per-day 8 --clients 40 --products 30 --share-over-25 0.1 --share-over-50 0.04 \
    --share-voided 0.05 --expand-style "$style" --test-hooks
  export DATABASE_URL=$DB_URL BSALE_API_URL=$SIM_URL
  etl sync full --from "$first" --to "$today"
  etl sync daily
  compare

  step "$style: voids up to 40 days old, credit payments dated \"\", new payments, credit notes, receptions, consumptions"
  curl -sf -X POST -H "access_token: $token" -H "Content-Type: application/json" \
    -d '{"seed":7,"new_documents":10,"voids":6,"void_max_age_days":40,"credit_payments":4,
         "new_payments":5,"credit_notes":3,"price_changes":0,"deactivations":0,"new_clients":0,
         "receptions":2,"consumptions":2}' \
    "$SIM_ROOT/__mutate" >"$work/mutate_$style.json"
  cat "$work/mutate_$style.json"; echo

  step "$style: one plain sync daily converges"
  etl sync daily --json >"$work/daily_$style.json"
  echo "reconcile: $(detail "$work/daily_$style.json" reconcile)"
  echo "payments: $(detail "$work/daily_$style.json" payments)"
  echo "movements: $(detail "$work/daily_$style.json" movements)"
  # Receptions and consumptions moved stock, which only a full sync reads here.
  compare --except stock
  stop_sim
  if [ "$backend" = mysql ]; then
    mariadb "${MYSQL_ARGS[@]}" -e "DROP DATABASE IF EXISTS $MYSQL_DROP"
  fi
done
echo "real_shapes ($backend): PASS"
