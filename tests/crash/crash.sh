#!/usr/bin/env bash
# Crash suite: a sync SIGKILLed at seeded points (the simulator's request counter, plus a few
# milliseconds) leaves (a) no stored document without all its lines and no line without its
# document, (b) the killed run not recorded succeeded (unless its data were already complete),
# and (c) a re-run of the same sync converges: the warehouse equals /__truth. Odd kills start
# from an empty warehouse (daily: no documents), even ones over the converged one after a small
# seeded mutation of the store.
#   crash.sh [--seed S] [--kills K] full|daily sqlite|mysql PATITAS_ETL BSALE_SIM COMPARE_TRUTH
#            CRASH_KILL WORKDIR
set -euo pipefail
seed=1 kills=25
while [ $# -gt 0 ]; do
  case $1 in
  --seed) seed=$2; shift 2 ;;
  --kills) kills=$2; shift 2 ;;
  *) break ;;
  esac
done
sync=$1 backend=$2 etl=$3 sim=$4 compare=$5 crash_kill=$6 work=$7
rm -rf "$work" && mkdir -p "$work"
source "$(dirname "$0")/../sync/sim_env.sh"

token="crash-token-3d2c1b"
today=2026-03-15
first=$(date -u -d "$today -4 days" +%F)
fresh_db_url "$backend" "$work"
start_sim "$sim" "$work" --token "$token" --seed 21 --today "$today" --days 5 --docs-per-day 20 \
  --clients 30 --products 20 --share-over-25 0.2 --share-over-50 0.05 --latency-ms 2 --test-hooks

export DATABASE_URL=$DB_URL BSALE_API_URL=$SIM_URL BSALE_API_TOKEN=$token
export ETL_TIMEZONE=UTC LOG_LEVEL=warn BSALE_RATE_LIMIT=1000 BSALE_CONCURRENCY=4
sync_cmd=("$etl" sync "$sync" --from "$first" --to "$today")
log=$work/etl.log
started=$(date +%s)

fail() {
  echo "FAIL ($sync/$backend seed=$seed kill $kill at $point): $*"
  exit 1
}

sql() {
  if [ "$backend" = sqlite ]; then
    sqlite3 "$work/warehouse.db" "$1"
  else
    mariadb "${MYSQL_ARGS[@]}" -N -B "$MYSQL_DROP" -e "$1"
  fi
}

# True once a run has created the given table (a kill may land before the schema exists).
has_table() {
  if [ "$backend" = sqlite ]; then
    [ -f "$work/warehouse.db" ] &&
      [ "$(sql "SELECT COUNT(*) FROM sqlite_master WHERE name = '$1'")" = 1 ]
  else
    [ "$(sql "SELECT COUNT(*) FROM information_schema.tables
              WHERE table_schema = DATABASE() AND table_name = '$1'")" = 1 ]
  fi
}

# The store before an even kill: a few new sales (some long) and voids, and for a full sync
# price changes and more, so the killed run has new and changed rows to write over the
# converged warehouse. A daily sync copies no master data: its mutation changes none.
mutate_store() {
  local master=1
  [ "$sync" = full ] || master=0
  curl -sf -X POST -H "access_token: $token" -H "Content-Type: application/json" \
    -d "{\"seed\":$((seed * 1000 + kill)),\"new_documents\":4,\"voids\":2,
         \"price_changes\":$((3 * master)),\"deactivations\":$master,\"new_clients\":$master}" \
    "$SIM_ROOT/__mutate" >"$work/mutate.json" || fail "the simulator refused the mutation"
}

# The starting state of an odd kill: nothing the sync writes is there yet.
empty_state() {
  if [ "$sync" = daily ]; then
    sql "DELETE FROM detalles_venta; DELETE FROM pagos; DELETE FROM documentos_venta;"
  elif [ "$backend" = sqlite ]; then
    rm -f "$work"/warehouse.db*
  else
    mariadb "${MYSQL_ARGS[@]}" -e "DROP DATABASE $MYSQL_DROP; CREATE DATABASE $MYSQL_DROP
                                   CHARACTER SET utf8mb4"
  fi
}

compare() { "$compare" "$SIM_ROOT/__truth" "$token" "$DB_URL" "$@"; }

# Seeded kill point "N+D" number I (0-based): kill D ms after the simulator has seen N requests.
# Three in four spread evenly over the requests of the latest complete run (1..total, D 0..4);
# the rest at its last request, D spread over its tail (from the last request to the exit),
# denser at the start where the final writes and the run record are.
kill_point() {
  awk -v seed="$seed" -v i="$1" -v k="$kills" -v total="$2" -v tail="$3" 'BEGIN {
    srand(seed * 7919 + i)
    nt = int(k / 4) > 0 ? int(k / 4) : 1
    if (i < k - nt)
      printf "%d+%d\n", int((i + rand()) * total / (k - nt)) + 1, int(rand() * 5)
    else
      printf "%d+%d\n", total, int(((i - (k - nt) + rand()) / nt) ^ 3 * tail)
  }'
}

# Runs the sync to its end and checks the copy is exact; sets total (its requests) and tail_ms.
complete_run() {
  local out re='^exited status=0 requests=([0-9]+) tail_ms=([0-9]+)$'
  out=$("$crash_kill" "$SIM_ROOT/__stats" 1000000000 "${sync_cmd[@]}" 2>>"$log") || [ $? = 3 ] ||
    fail "crash_kill: $out"
  [[ $out =~ $re ]] || fail "$1 failed: $out (see $log)"
  total=${BASH_REMATCH[1]} tail_ms=${BASH_REMATCH[2]}
  compare >"$work/compare.txt" || { cat "$work/compare.txt"; fail "$1 did not converge"; }
  last=$(sql "SELECT estado FROM etl_ejecuciones ORDER BY id DESC LIMIT 1")
  [ "$last" = succeeded ] || fail "$1 is recorded '$last'"
}

# The lines check sees a document short of a line and a line without its document.
lines_check_fails() {
  local line
  line=$(sql "SELECT MAX(id_bsale) FROM detalles_venta")
  sql "DELETE FROM detalles_venta WHERE id_bsale = $line"
  sql "INSERT INTO detalles_venta (id_bsale, id_documento, sincronizado_en)
       VALUES (999999999, 999999999, '2000-01-01 00:00:00')"
  ! compare --lines >"$work/lines.txt" &&
    grep -q "^BROKEN: .* incomplete=1 unknown=0 orphan_lines=1$" "$work/lines.txt" ||
    { cat "$work/lines.txt"; echo "FAIL: the lines check missed a broken document"; exit 1; }
}

kill="calibration" point="-"
[ "$sync" = full ] || "$etl" sync full >/dev/null 2>>"$log" # master data for daily
complete_run "the first run"
echo "== $sync/$backend seed=$seed: $total requests and a ${tail_ms} ms tail per run"
lines_check_fails # the first kill starts from an empty state: no need to repair
# A daily sync over a converged warehouse reads only what changed, so a run over a mutated
# store is far smaller than one from an empty state: a daily kill is placed by the size of a
# complete run from its own kind of state (an odd kill's run from empty is measured first; an
# even kill's by the latest complete run after a mutation, calibrated once here).
if [ "$sync" = daily ]; then
  empty_state
  complete_run "the run from empty"
  kill=0 && mutate_store && complete_run "a run over a mutated store"
  mutated_total=$total mutated_tail=$tail_ms
fi
mid_run=0 docs_checked=0 exact=0 after_success=0
for kill in $(seq 1 "$kills"); do
  if [ $((kill % 2)) = 0 ]; then
    mutate_store
    [ "$sync" = full ] || total=$mutated_total tail_ms=$mutated_tail
  else
    [ "$sync" = full ] || { empty_state && complete_run "the run from empty"; }
    empty_state
  fi
  point=$(kill_point $((kill - 1)) "$total" "$tail_ms")
  before=0
  ! has_table etl_ejecuciones || before=$(sql "SELECT COALESCE(MAX(id), 0) FROM etl_ejecuciones")

  rc=0
  out=$("$crash_kill" "$SIM_ROOT/__stats" "$point" "${sync_cmd[@]}" 2>>"$log") || rc=$?
  case $rc in
  0) mid_run=$((mid_run + 1)) ;;
  3) [[ $out == "exited status=0 "* ]] || fail "the sync ended on its own: $out" ;;
  *) fail "crash_kill: $out" ;;
  esac

  # (a) every stored document is whole
  if has_table documentos_venta; then
    compare --lines >"$work/lines.txt" || { cat "$work/lines.txt"; fail "a document is not whole"; }
    docs=$(sed -n 's/^WHOLE: documents=\([0-9]*\).*/\1/p' "$work/lines.txt")
    docs_checked=$((docs_checked + docs))
  fi

  # (b) the killed run is not recorded succeeded, unless its copy was already complete
  killed_state=none
  if has_table etl_ejecuciones; then
    killed_state=$(sql "SELECT estado FROM etl_ejecuciones WHERE id > $before ORDER BY id LIMIT 1")
    [ -n "$killed_state" ] || killed_state=none
  fi
  if [ "$rc" = 0 ] && [ "$killed_state" = succeeded ]; then
    compare >"$work/compare.txt" || { cat "$work/compare.txt"; fail "killed run recorded succeeded"; }
    after_success=$((after_success + 1))
  fi

  # (c) a re-run of the same sync converges; its size places the next kill
  complete_run "the re-run"
  [ "$sync" = full ] || [ $((kill % 2)) = 1 ] || mutated_total=$total mutated_tail=$tail_ms
  exact=$((exact + 1))
  if [ "$killed_state" = running ]; then
    now=$(sql "SELECT estado FROM etl_ejecuciones WHERE id > $before ORDER BY id LIMIT 1")
    [ "$now" != running ] && [ "$now" != succeeded ] || fail "the killed run is still '$now'"
  fi
  echo "kill $kill at $point: $out; killed run '$killed_state'; re-run exact"
done

if grep -q "$token" "$log"; then
  echo "FAIL: the Bsale token appears in the output"
  exit 1
fi
echo "crash $sync/$backend seed=$seed: kills=$kills mid_run=$mid_run documents_checked=$docs_checked" \
  "reruns_exact=$exact/$kills killed_after_success=$after_success seconds=$(($(date +%s) - started))"
[ "$mid_run" -ge $((kills * 4 / 5)) ] || { echo "FAIL: only $mid_run kills landed mid-run"; exit 1; }
echo "crash ($sync/$backend): PASS"
