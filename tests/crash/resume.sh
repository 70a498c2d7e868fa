#!/usr/bin/env bash
# Resume: a `sync full --from --to` over 20 days in windows of 3 days (ETL_BACKFILL_WINDOW_DAYS)
# is SIGKILLed once its second window has committed (the run row's completado_hasta). The next
# identical command resumes it: its row names the killed run (reanuda), its summary says
# resumed_from, its document list requests cover only the days after the killed run's last
# committed one, and the warehouse then equals /__truth.
#   resume.sh sqlite|mysql PATITAS_ETL BSALE_SIM COMPARE_TRUTH WORKDIR
set -euo pipefail
backend=$1 etl=$2 sim=$3 compare=$4 work=$5
rm -rf "$work" && mkdir -p "$work"
source "$(dirname "$0")/../sync/sim_env.sh"

token="resume-token-8e1f2a"
today=2026-03-20 days=20 window=3
first=$(date -u -d "$today -$((days - 1)) days" +%F)
fresh_db_url "$backend" "$work"
# Under 50 documents a day: one list page per day, so document requests count days.
start_sim "$sim" "$work" --token "$token" --seed 33 --today "$today" --days "$days" \
  --docs-per-day 12 --clients 20 --products 15 --latency-ms 15 --test-hooks

export DATABASE_URL=$DB_URL BSALE_API_URL=$SIM_URL BSALE_API_TOKEN=$token
export ETL_TIMEZONE=UTC LOG_LEVEL=warn BSALE_RATE_LIMIT=1000 BSALE_CONCURRENCY=1
export ETL_BACKFILL_WINDOW_DAYS=$window
sync_cmd=("$etl" sync full --from "$first" --to "$today")
log=$work/etl.log

fail() {
  echo "FAIL (resume/$backend): $*"
  exit 1
}

sql() {
  if [ "$backend" = sqlite ]; then
    sqlite3 "$work/warehouse.db" "$1" 2>/dev/null
  else
    mariadb "${MYSQL_ARGS[@]}" -N -B "$MYSQL_DROP" -e "$1" 2>/dev/null
  fi
}

reset_stats() { curl -sf -X POST -H "access_token: $token" "$SIM_ROOT/__stats/reset" >/dev/null; }
# Requests of the document lists (one per day here) since the last reset.
doc_list_requests() {
  curl -sf -H "access_token: $token" "$SIM_ROOT/__stats" >"$work/stats.json"
  python3 -c 'import json,sys
s = json.load(open(sys.argv[1]))["by_path"].get("/v1/documents.json", {})
print(sum(s.values()))' "$work/stats.json"
}

# The whole range in one go first, on a throwaway database: what a run without resuming asks.
(
  export DATABASE_URL="sqlite:///$work/calibration.db"
  reset_stats
  "${sync_cmd[@]}" >"$work/calibration.json" 2>>"$log" || fail "the calibration run failed"
)
whole=$(doc_list_requests)
[ "$whole" -ge "$days" ] || fail "only $whole document list requests for $days days"

# The killed run: SIGKILL once two windows are committed.
second_end=$(date -u -d "$first +$((2 * window - 1)) days" +%F)
"${sync_cmd[@]}" >"$work/killed.json" 2>>"$log" &
pid=$!
done_through=""
while kill -0 "$pid" 2>/dev/null; do
  done_through=$(sql "SELECT completado_hasta FROM etl_ejecuciones ORDER BY id DESC LIMIT 1" ||
    true)
  if [ -n "$done_through" ] && [ "$done_through" != NULL ] &&
    [[ ! $done_through < $second_end ]]; then
    kill -KILL "$pid"
    break
  fi
  sleep 0.01
done
wait "$pid" 2>/dev/null && fail "the run ended before its second window committed"
killed_id=$(sql "SELECT MAX(id) FROM etl_ejecuciones")
killed=$(sql "SELECT estado, completado_hasta FROM etl_ejecuciones WHERE id = $killed_id" |
  tr '\t|' '  ')
read -r state through <<<"$killed"
[ "$state" = running ] || fail "the killed run is recorded '$state'"
[[ $through < $today ]] || fail "the killed run had committed every window ($through)"
remaining=$(($(date -u -d "$today" +%s) / 86400 - $(date -u -d "$through" +%s) / 86400))
echo "killed run $killed_id after its documents through $through: $remaining days left"

# The identical command resumes it.
reset_stats
"${sync_cmd[@]}" >"$work/resumed.json" 2>>"$log" || fail "the resumed run failed (see $log)"
resumed=$(doc_list_requests)
row=$(sql "SELECT estado, COALESCE(reanuda, 0), completado_hasta FROM etl_ejecuciones
           WHERE id = (SELECT MAX(id) FROM etl_ejecuciones)" | tr '\t|' '  ')
read -r state reanuda through_now <<<"$row"
[ "$state" = succeeded ] || fail "the resumed run is recorded '$state'"
[ "$reanuda" = "$killed_id" ] || fail "the new run resumes '$reanuda', not run $killed_id"
[ "$through_now" = "$today" ] || fail "the resumed run completed through '$through_now'"
grep -q "resumed_from run $killed_id$" "$work/resumed.json" ||
  fail "the summary does not name run $killed_id: $(cat "$work/resumed.json")"
killed_now=$(sql "SELECT estado FROM etl_ejecuciones WHERE id = $killed_id")
[ "$killed_now" = failed ] || fail "the killed run is now '$killed_now'"
expected=$((whole * remaining / days))
[ "$resumed" = "$expected" ] ||
  fail "the resumed run made $resumed document list requests; $remaining days need $expected"
"$compare" "$SIM_ROOT/__truth" "$token" "$DB_URL" >"$work/compare.txt" ||
  { cat "$work/compare.txt"; fail "the warehouse does not equal the source"; }

# A succeeded run is never resumed: the same command again reads every day.
reset_stats
"${sync_cmd[@]}" >"$work/again.json" 2>>"$log" || fail "the run after success failed"
again=$(doc_list_requests)
reanuda=$(sql "SELECT COALESCE(reanuda, 0) FROM etl_ejecuciones
               WHERE id = (SELECT MAX(id) FROM etl_ejecuciones)")
if [ "$reanuda" != 0 ] || [ "$again" != "$whole" ]; then
  fail "a run after a success resumed ($reanuda) or read $again of $whole document lists"
fi

if grep -q "$token" "$log"; then
  fail "the Bsale token appears in the output"
fi
echo "resume ($backend): killed after $through, resumed with $resumed of $whole document" \
  "list requests, warehouse exact: PASS"
