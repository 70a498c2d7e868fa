#!/usr/bin/env bash
# Variant costs within the request budget, and stock and prices on every daily sync:
#  - a full sync stores the cost of every stock-controlled variant, equal to /__truth;
#  - with ETL_COST_REFRESH_DAYS=2 two plain daily syncs read each variant's cost once;
#  - a variant Bsale answers 404 for is stored without a cost, no incident, and not read again;
#  - after /__mutate receptions and consumptions, a plain daily sync's stock and prices equal
#    /__truth, and the received variants' costs were read again (when the build reads receptions).
#   costs.sh sqlite|mysql PATITAS_ETL BSALE_SIM COMPARE_TRUTH WORKDIR
set -euo pipefail
backend=$1 etl=$2 sim=$3 compare=$4 work=$5
rm -rf "$work" && mkdir -p "$work"
source "$(dirname "$0")/sim_env.sh"

token="costs-token-5c4b3a"
fresh_db_url "$backend" "$work"
# No --today: a plain daily sync reads the host's today, which must be the store's last day.
start_sim "$sim" "$work" --token "$token" --seed 21 --days 4 --docs-per-day 8 --clients 20 \
  --products 40 --price-lists 2 --test-hooks

export DATABASE_URL=$DB_URL BSALE_API_URL=$SIM_URL BSALE_API_TOKEN=$token
export ETL_TIMEZONE=UTC LOG_LEVEL=info BSALE_RATE_LIMIT=200 BSALE_CONCURRENCY=4
export ETL_RECONCILE_DAYS=0 ETL_LOOKBACK_DAYS=1

step() { echo "== $*"; }
etl() { "$etl" "$@" >>"$work/etl.out" 2>>"$work/etl.log"; }
compare() { "$compare" "$SIM_ROOT/__truth" "$token" "$DB_URL" "$@"; }
sql() {
  if [ "$backend" = sqlite ]; then
    sqlite3 "$work/warehouse.db" "$1"
  else
    mariadb "${MYSQL_ARGS[@]}" -N -B "$MYSQL_DROP" -e "$1"
  fi
}
hook() { curl -sf -X POST -H "access_token: $token" "$SIM_ROOT/$1"; }
# cost_reads [STATUS] -> requests to /variants/{id}/costs.json since the last reset
cost_reads() {
  curl -sf -H "access_token: $token" "$SIM_ROOT/__stats" | python3 -c '
import json, sys
p = json.load(sys.stdin)["by_path"].get("/v1/variants/{id}/costs.json", {})
want = sys.argv[1] if len(sys.argv) > 1 else None
print(sum(n for s, n in p.items() if want is None or s == want))' "$@"
}
fail() { echo "FAIL: $*"; exit 1; }

step "a full sync reads the cost of every stock-controlled variant, equal to the truth"
hook __stats/reset >/dev/null
etl sync full
controlled=$(sql "SELECT COUNT(*) FROM variantes v JOIN productos p ON p.id_bsale = v.id_producto
                  WHERE p.controla_stock = 1 AND COALESCE(v.stock_ilimitado, 0) = 0")
reads=$(cost_reads)
echo "stock-controlled=$controlled cost reads=$reads"
[ "$controlled" -gt 10 ] || fail "too few stock-controlled variants ($controlled)"
[ "$reads" = "$controlled" ] || fail "$reads cost reads for $controlled stock-controlled variants"
[ "$(cost_reads 404)" = 0 ] || fail "a variant without stock control was read"
compare --tables costos_variante

step "ETL_COST_REFRESH_DAYS=2: two plain daily syncs read every variant's cost once"
full_end=$(sql "SELECT MAX(sincronizado_en) FROM costos_variante")
sleep 1 # the daily's rows must be stamped after the full sync's (one-second resolution)
hook __stats/reset >/dev/null
ETL_COST_REFRESH_DAYS=2 etl sync daily
first=$(cost_reads)
half=$(((controlled + 1) / 2))
[ "$first" = "$half" ] || fail "the first daily sync read $first costs, want $half"
sleep 1
ETL_COST_REFRESH_DAYS=2 etl sync daily
both=$(cost_reads)
stale=$(sql "SELECT COUNT(*) FROM costos_variante WHERE sincronizado_en <= '$full_end'")
echo "daily reads: $first then $((both - first)); rows not read again: $stale"
# ceil(N/2) each: every variant once (one twice when N is odd).
[ "$both" = $((2 * half)) ] || fail "two daily syncs read $both costs, want $((2 * half))"
[ "$stale" = 0 ] || fail "$stale variants' costs were not read by either daily sync"

step "a variant Bsale has no cost for (404) is stored without one, and not read again"
absent=$(sql "SELECT MIN(v.id_bsale) FROM variantes v JOIN productos p ON p.id_bsale = v.id_producto
              WHERE p.controla_stock = 0")
[ -n "$absent" ] || fail "the store has no variant without stock control"
# The warehouse now believes its stock is tracked: the next daily sync asks for its cost.
sql "UPDATE productos SET controla_stock = 1 WHERE id_bsale =
       (SELECT id_producto FROM variantes WHERE id_bsale = $absent);
     UPDATE variantes SET stock_ilimitado = 0 WHERE id_bsale = $absent"
hook __stats/reset >/dev/null
ETL_COST_REFRESH_DAYS=365 etl sync daily
[ "$(cost_reads 404)" -ge 1 ] || fail "the variant without a cost was not read"
row=$(sql "SELECT COUNT(*), COUNT(costo_promedio), COUNT(costo_total) FROM costos_variante
           WHERE id_variante = $absent" | tr '\t|' '  ')
[ "$row" = "1 0 0" ] || fail "variant $absent: want one row without costs, got '$row'"
incidents=$(sql "SELECT COUNT(*) FROM etl_incidencias WHERE recurso LIKE '%costs%'")
[ "$incidents" = 0 ] || fail "a 404 cost made $incidents incidents"
read_at=$(sql "SELECT sincronizado_en FROM costos_variante WHERE id_variante = $absent")
sleep 1
hook __stats/reset >/dev/null
ETL_COST_REFRESH_DAYS=365 etl sync daily
[ "$(cost_reads 404)" = 0 ] || fail "the variant known to have no cost was read again"
[ "$(sql "SELECT sincronizado_en FROM costos_variante WHERE id_variante = $absent")" = "$read_at" ] ||
  fail "the variant known to have no cost was written again"
# Undo the pretence, so the later comparisons see the store as Bsale has it.
sql "UPDATE productos SET controla_stock = 0 WHERE id_bsale =
       (SELECT id_producto FROM variantes WHERE id_bsale = $absent);
     DELETE FROM costos_variante WHERE id_variante = $absent"

step "after receptions and consumptions, a plain daily sync's stock and prices equal the truth"
hook "__mutate?seed=7&receptions=5&consumptions=5&price_changes=4&new_documents=0&voids=0&deactivations=0&new_clients=0" \
  >"$work/mutate.json"
cat "$work/mutate.json"; echo
sql "INSERT INTO stock VALUES (999999, 1, 5, 0, 5, '2000-01-01 00:00:00');
     INSERT INTO precios VALUES (999999, 1, 999999, 10, 11.9, '2000-01-01 00:00:00')"
hook __stats/reset >/dev/null
ETL_COST_REFRESH_DAYS=365 etl sync daily
compare --tables stock,precios
[ "$(sql "SELECT COUNT(*) FROM detalles_recepcion")" -gt 0 ] || fail "no reception lines stored"
# Costs move only with receptions: the received ones read again make the whole table exact.
compare --tables costos_variante

step "stock_historial holds today's stock; precios_historial closed each changed price and opened its new one"
day=$(date -u +%F)
[ "$(sql "SELECT COUNT(*) FROM stock_historial WHERE fecha = '$day'")" = \
  "$(sql "SELECT COUNT(*) FROM stock")" ] || fail "today's stock_historial does not hold every stock row"
unmatched=$(sql "SELECT COUNT(*) FROM stock s WHERE NOT EXISTS (SELECT 1 FROM stock_historial h
                   WHERE h.fecha = '$day' AND h.id_variante = s.id_variante
                     AND h.id_sucursal = s.id_sucursal AND h.cantidad = s.cantidad
                     AND h.cantidad_disponible = s.cantidad_disponible)")
[ "$unmatched" = 0 ] || fail "$unmatched stock rows differ from today's stock_historial"
[ "$(sql "SELECT COUNT(*) FROM precios_historial WHERE valido_hasta IS NULL")" = \
  "$(sql "SELECT COUNT(*) FROM precios")" ] || fail "not one open price_historial row per price"
unmatched=$(sql "SELECT COUNT(*) FROM precios p WHERE NOT EXISTS (SELECT 1 FROM precios_historial h
                   WHERE h.valido_hasta IS NULL AND h.id_lista_precio = p.id_lista_precio
                     AND h.id_variante = p.id_variante AND h.valor_neto = p.valor_neto
                     AND h.valor_con_impuestos = p.valor_con_impuestos)")
[ "$unmatched" = 0 ] || fail "$unmatched prices differ from their open precios_historial row"
python3 -c '
import json, sys
for c in json.load(open(sys.argv[1]))["price_changes"]:
    print(c["price_list_id"], c["variant_id"], c["old"], c["new"])' "$work/mutate.json" |
  while read -r list variant old new; do
    closed=$(sql "SELECT COUNT(*) FROM precios_historial WHERE id_lista_precio = $list
                    AND id_variante = $variant AND valido_hasta IS NOT NULL
                    AND CAST(valor_con_impuestos AS INTEGER) = $old")
    opened=$(sql "SELECT COUNT(*) FROM precios_historial WHERE id_lista_precio = $list
                    AND id_variante = $variant AND valido_hasta IS NULL
                    AND CAST(valor_con_impuestos AS INTEGER) = $new")
    [ "$closed $opened" = "1 1" ] ||
      fail "price $list/$variant $old -> $new: closed $closed, open $opened (want 1 1)"
  done

step "ETL_DAILY_STOCK=0: a plain daily sync leaves stock and prices alone"
hook __stats/reset >/dev/null
ETL_DAILY_STOCK=0 etl sync daily
curl -sf -H "access_token: $token" "$SIM_ROOT/__stats" | python3 -c '
import json, sys
p = json.load(sys.stdin)["by_path"]
read = [k for k in p if k.startswith("/v1/stocks.json") or k.startswith("/v1/price_lists")]
sys.exit(1 if read else 0)' || fail "ETL_DAILY_STOCK=0 still read stock or prices"
echo "costs ($backend): PASS"
