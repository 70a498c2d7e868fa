#!/usr/bin/env bash
# Daily reads: lines past the embedded 25 are read from offset 25 when that saves a page; a
# second identical daily sync reads no line and no reference again (<= 10 % of the first's
# requests); a void, or a stored document short of a line, makes exactly that document's lines
# read again, and the copy ends equal to the truth. Request counts come from /__stats.
#   daily_reads.sh sqlite|mysql PATITAS_ETL BSALE_SIM COMPARE_TRUTH WORKDIR
set -euo pipefail
backend=$1 etl=$2 sim=$3 compare=$4 work=$5
rm -rf "$work" && mkdir -p "$work"
source "$(dirname "$0")/sim_env.sh"

token="daily-reads-token-5c1d"
today=2026-03-15
first=$(date -u -d "$today -3 days" +%F)
fresh_db_url "$backend" "$work"
start_sim "$sim" "$work" --token "$token" --seed 21 --today "$today" --days 4 --docs-per-day 60 \
  --clients 40 --products 30 --share-over-25 0.25 --share-over-50 0.2 --test-hooks
export DATABASE_URL=$DB_URL BSALE_API_URL=$SIM_URL BSALE_API_TOKEN=$token
export ETL_TIMEZONE=UTC LOG_LEVEL=warn BSALE_RATE_LIMIT=1000 ETL_RECONCILE_DAYS=0

step() { echo "== $*"; }
hook() { curl -sf -H "access_token: $token" "$@"; }
# daily RUN: one daily sync of the store's four days, its /__stats kept in $work/RUN.json
daily() {
  hook -X POST "$SIM_ROOT/__stats/reset" >/dev/null
  "$etl" sync daily --from "$first" --to "$today" 2>>"$work/etl.log" >/dev/null
  hook "$SIM_ROOT/__stats" >"$work/$1.json"
}
# expect RUN IDS REFS: checks RUN's line pages against the truth's documents (IDS: "all" or a
# comma-separated list) with over 25 lines: one page from offset 25 when that saves one, else the
# list from 0; REFS: whether it read references ("some", "none" or "any").
expect() {
  hook "$SIM_ROOT/__truth" >"$work/truth.json"
  python3 - "$work/$1.json" "$work/truth.json" "$2" "$3" <<'PY'
import json, sys
stats, truth = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
which, refs_want = sys.argv[3], sys.argv[4]
ids = None if which == "all" else {int(i) for i in which.split(",") if i}
def pages(n, p=50):
    whole = -(-n // p) + (n == p)       # from 0; one full page is confirmed by an empty one
    past = -(-(n - 25) // p)            # from offset 25
    return min(whole, past)
lines = {}
for line in truth["document_details"]:
    lines[line["document_id"]] = lines.get(line["document_id"], 0) + 1
want = sum(pages(n) for doc, n in lines.items() if n > 25 and (ids is None or doc in ids))
paths = stats["by_path"]
got = sum(paths.get("/v1/documents/{id}/details.json", {}).values())
refs = sum(paths.get("/v1/documents/{id}/references.json", {}).values())
print(f"requests={stats['requests']} line_pages={got} expected={want} references={refs}")
refs_ok = {"some": refs > 0, "none": refs == 0, "any": True}[refs_want]
sys.exit(0 if got == want and refs_ok else 1)
PY
}
# Requests of a run's documents, lines, references and payments: what the stored-lines rule
# governs. Stock movements (a few list pages, and the lines of those cut at 25) are read each
# run: their count is printed, not bounded here.
requests() {
  python3 - "$1" <<'PY'
import json, sys
paths = json.load(open(sys.argv[1]))["by_path"]
moves = sum(sum(v.values()) for k, v in paths.items() if k.startswith(("/v1/stocks/", "/v1/returns")))
print(sum(sum(v.values()) for v in paths.values()) - moves, file=sys.stdout)
print(f"  (stock movements: {moves} more)", file=sys.stderr)
PY
}
compare() {
  "$compare" "$SIM_ROOT/__truth" "$token" "$DB_URL" --tables documentos_venta,detalles_venta,referencias_documento
  "$compare" "$SIM_ROOT/__truth" "$token" "$DB_URL" --lines
}
sql() {
  if [ "$backend" = sqlite ]; then sqlite3 "$work/warehouse.db" "$1"
  else mariadb "${MYSQL_ARGS[@]}" -N "$MYSQL_DROP" -e "$1"; fi
}

step "first daily sync: every line past the embedded 25 read, from offset 25 where it saves a page"
daily run1
expect run1 all some
compare

step "an identical daily sync reads no line again; its documents cost at most 10 % of the first's"
daily run2
expect run2 "" none
r1=$(requests "$work/run1.json") r2=$(requests "$work/run2.json")
echo "requests: first $r1, second $r2"
[ $((r2 * 10)) -le "$r1" ] || { echo "FAIL: $r2 requests is over 10 % of $r1"; exit 1; }
compare

step "voided documents are read again whole; the others are not"
hook -X POST -H "Content-Type: application/json" \
  -d '{"seed":4,"new_documents":0,"voids":12,"void_max_age_days":3,"price_changes":0,
       "deactivations":0,"new_clients":0,"credit_payments":0,"new_payments":0}' \
  "$SIM_ROOT/__mutate" >"$work/mutate.json"
voided=$(python3 -c 'import json, sys; print(",".join(map(str, json.load(open(sys.argv[1]))["voided_documents"])))' "$work/mutate.json")
daily run3
expect run3 "$voided" any
compare

step "a stored document short of a line is read again"
short=$(sql "SELECT id_documento FROM detalles_venta GROUP BY id_documento HAVING COUNT(*) > 25
             ORDER BY id_documento LIMIT 1")
[ -n "$short" ] || { echo "FAIL: no stored document over 25 lines"; exit 1; }
sql "DELETE FROM detalles_venta WHERE id_bsale = (SELECT m FROM (SELECT MAX(id_bsale) AS m FROM
     detalles_venta WHERE id_documento = $short) AS x)"
daily run4
expect run4 "$short" none
compare
echo "daily reads ($backend): PASS"
