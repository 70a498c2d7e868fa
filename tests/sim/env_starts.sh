#!/usr/bin/env bash
# bsale-sim started 50 times, each in a clean environment of a different size (which moves
# the stack): every start serves a list with the token and none prints the usage.
#   env_starts.sh BSALE_SIM
set -euo pipefail
bin=$1
work=$(mktemp -d)
pid=""
cleanup() {
  [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# env_for I -> prints I*3 dummy assignments, each (I*37 mod 300)+1 characters long
env_for() {
  local i=$1 n=$(($1 * 3)) len=$((($1 * 37) % 300 + 1)) j value
  value=$(printf '%*s' "$len" '' | tr ' ' x)
  for ((j = 0; j < n; j++)); do printf 'PETL_DUMMY_%d=%s\n' "$j" "$value"; done
}

start_once() { # I -> sets url, or fails with what the simulator printed
  local i=$1
  : >"$work/out"
  : >"$work/err"
  mapfile -t vars < <(env_for "$i")
  env -i PATH=/usr/bin:/bin "${vars[@]}" "$bin" --token "tok-$i" --port 0 --days 1 \
    --docs-per-day 2 --clients 3 --products 3 >"$work/out" 2>"$work/err" &
  pid=$!
  url=""
  for _ in $(seq 200); do
    url=$(head -n 1 "$work/out" || true)
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if grep -q 'usage:' "$work/out" "$work/err"; then
    echo "start $i (${#vars[@]} variables): printed the usage"; exit 1
  fi
  [[ "$url" =~ ^http://127\.0\.0\.1:[0-9]+/v1$ ]] || {
    echo "start $i: bad first line '$url'"; cat "$work/err"; exit 1
  }
}

for i in $(seq 0 49); do
  start_once "$i"
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "access_token: tok-$i" "$url/products.json")
  [ "$code" = 200 ] || { echo "start $i: GET products.json answered $code"; exit 1; }
  kill -TERM "$pid"
  rc=0
  wait "$pid" || rc=$?
  pid=""
  [ "$rc" -eq 0 ] || { echo "start $i: exit status $rc after SIGTERM"; exit 1; }
done
echo "env starts ok: 50 starts served"
