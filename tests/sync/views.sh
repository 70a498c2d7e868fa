#!/usr/bin/env bash
# The analysts' views against the truth: full sync with history and a daily sync of a store
# with credit notes, notas de venta turned into boletas and voids; then more credit notes, voids
# and credit payments and one plain daily sync. Each time v_ventas_diarias (net sales per day
# and office) and v_cuentas_por_cobrar (receivables per client) must equal what
# views_truth.py computes from /__truth alone.
#   views.sh sqlite|mysql PATITAS_ETL BSALE_SIM COMPARE_TRUTH WORKDIR
set -euo pipefail
backend=$1 etl=$2 sim=$3 work=$5
rm -rf "$work" && mkdir -p "$work"
here=$(dirname "$0")
source "$here/sim_env.sh"

token="views-token-7d31e0"
today=$(date -u +%F)
first=$(date -u -d "$today -30 days" +%F)
export BSALE_API_TOKEN=$token ETL_TIMEZONE=UTC LOG_LEVEL=info BSALE_RATE_LIMIT=200
export BSALE_CONCURRENCY=4 ETL_LOOKBACK_DAYS=3 ETL_RECONCILE_DAYS=45

step() { echo "== $*"; }
etl() { "$etl" "$@" 2>>"$work/etl.log"; }

sql() {
  if [ "$backend" = sqlite ]; then
    sqlite3 -separator '|' "$work/warehouse.db" "$1"
  else
    mariadb "${MYSQL_ARGS[@]}" -N -B "$MYSQL_DROP" -e "$1" | tr '\t' '|'
  fi
}

# Amounts as %.2f, so 1190, 1190.0 and 1190.0000 compare equal.
money() { awk -F'|' -v OFS='|' '{ $NF = sprintf("%.2f", $NF); print }'; }

check() {
  curl -sf -H "access_token: $token" "$SIM_ROOT/__truth" >"$work/truth.json"
  python3 "$here/views_truth.py" "$work/truth.json" daily >"$work/want_daily.txt"
  python3 "$here/views_truth.py" "$work/truth.json" cxc >"$work/want_cxc.txt"
  sql "SELECT fecha, id_sucursal, SUM(total) FROM v_ventas_diarias GROUP BY fecha, id_sucursal
       ORDER BY fecha, id_sucursal" | money >"$work/got_daily.txt"
  sql "SELECT COALESCE(CAST(id_cliente AS CHAR), '<null>'), SUM(saldo) FROM v_cuentas_por_cobrar
       GROUP BY id_cliente ORDER BY id_cliente IS NULL, id_cliente" | money >"$work/got_cxc.txt"
  [ -s "$work/want_daily.txt" ] && [ -s "$work/want_cxc.txt" ] || { echo "empty truth" >&2; exit 1; }
  diff -u "$work/want_daily.txt" "$work/got_daily.txt"
  diff -u "$work/want_cxc.txt" "$work/got_cxc.txt"
  echo "days x offices: $(wc -l <"$work/got_daily.txt"), clients owing: $(wc -l <"$work/got_cxc.txt")"
}

fresh_db_url "$backend" "$work"
step "full sync with history $first..$today, then a plain daily sync"
start_sim "$sim" "$work" --token "$token" --seed 33 --today "$today" --days 31 \
  --docs-per-day 10 --clients 30 --products 20 --share-voided 0.06 --test-hooks
export DATABASE_URL=$DB_URL BSALE_API_URL=$SIM_URL
etl sync full --from "$first" --to "$today"
etl sync daily
check

step "credit notes, voids and credit payments, then one plain daily sync"
curl -sf -X POST -H "access_token: $token" -H "Content-Type: application/json" \
  -d '{"seed":5,"new_documents":8,"voids":5,"void_max_age_days":20,"credit_payments":5,
       "new_payments":3,"credit_notes":4,"price_changes":0,"deactivations":0,"new_clients":0}' \
  "$SIM_ROOT/__mutate" >"$work/mutate.json"
etl sync daily
check
stop_sim
echo "views ($backend): PASS"
