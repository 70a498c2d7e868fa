# Shared by the sync scenarios: start bsale-sim, make a fresh database URL.
# Source it; it defines start_sim and fresh_db_url, and kills the simulator on exit.

sim_pid=""
stop_sim() {
  [ -z "$sim_pid" ] || { kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; }
  sim_pid=""
}
trap stop_sim EXIT

# start_sim SIM WORKDIR ARGS... -> sets SIM_URL (…/v1) and SIM_ROOT
start_sim() {
  local sim=$1 work=$2
  shift 2
  "$sim" --port 0 "$@" >"$work/sim.out" 2>"$work/sim.err" &
  sim_pid=$!
  SIM_URL=""
  for _ in $(seq 1 100); do
    SIM_URL=$(head -n 1 "$work/sim.out" 2>/dev/null || true)
    [ -n "$SIM_URL" ] && break
    kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.err" >&2; return 1; }
    sleep 0.1
  done
  [ -n "$SIM_URL" ] || { echo "bsale-sim did not start" >&2; return 1; }
  SIM_ROOT=${SIM_URL%/v1}
}

# fresh_db_url BACKEND WORKDIR -> sets DB_URL; exits 77 (skip) when MariaDB is not configured
fresh_db_url() {
  local backend=$1 work=$2
  if [ "$backend" = sqlite ]; then
    rm -f "$work"/warehouse.db*
    DB_URL="sqlite:///$work/warehouse.db"
    return 0
  fi
  if [ -z "${TEST_MYSQL_URL:-}" ]; then
    [ "${PETL_REQUIRE_MYSQL:-0}" = 1 ] && { echo "TEST_MYSQL_URL is not set" >&2; exit 1; }
    echo "skipped: TEST_MYSQL_URL is not set"
    exit 77
  fi
  local re='^[a-z+]+://([^:]+):([^@]*)@([^:/]+):([0-9]+)/([^?]+)'
  [[ $TEST_MYSQL_URL =~ $re ]] || { echo "cannot parse TEST_MYSQL_URL" >&2; exit 1; }
  local user=${BASH_REMATCH[1]} pass=${BASH_REMATCH[2]} host=${BASH_REMATCH[3]} port=${BASH_REMATCH[4]}
  local name="petl_t_$$_$RANDOM"
  MYSQL_ARGS=(--no-defaults -h "$host" -P "$port" -u "$user" "-p$pass")
  mariadb "${MYSQL_ARGS[@]}" -e "CREATE DATABASE $name CHARACTER SET utf8mb4"
  DB_URL="mysql+pymysql://$user:$pass@$host:$port/$name"
  MYSQL_DROP=$name
  trap 'stop_sim; mariadb "${MYSQL_ARGS[@]}" -e "DROP DATABASE IF EXISTS $MYSQL_DROP" || true' EXIT
}

# json_number FILE KEY -> the first numeric value of "KEY": in FILE
json_number() {
  grep -o "\"$2\":[ ]*[0-9.]*" "$1" | head -n 1 | sed 's/.*:[ ]*//'
}
