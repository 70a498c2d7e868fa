#!/usr/bin/env bash
# bsale-sim command line: --help documents every flag (also in docs/bsale-sim.md),
# bad input exits 2, the first stdout line is the base URL, SIGTERM exits 0.
set -euo pipefail
bin=$1 root=$2
help=$("$bin" --help)
flags=$(grep -o '{"[a-z0-9-]*", [a-z_]*_argument' "$root/tools/bsale_sim/main.c" | cut -d'"' -f2)
[ -n "$flags" ] || { echo "no flags found in main.c"; exit 1; }
for f in $flags; do
  grep -q -- "--$f" <<<"$help" || { echo "--help misses --$f"; exit 1; }
  grep -q -- "--$f" "$root/docs/bsale-sim.md" || { echo "docs/bsale-sim.md misses --$f"; exit 1; }
done
expect_usage_error() {
  set +e
  "$bin" "$@" >/dev/null 2>&1
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || { echo "expected exit 2 for: $*, got $rc"; exit 1; }
}
expect_usage_error --port 0
expect_usage_error --token t --fail-rate 2
expect_usage_error --token t --today 2026-13-45
expect_usage_error --token t --offices x
expect_usage_error --token t --no-such-flag
expect_usage_error --token t --fail-rate 0.6 --empty-rate 0.6
expect_usage_error --token t --gone-status 403
expect_usage_error --token t --garbage-kind true,foo
expect_usage_error --token t --count-lie maybe
expect_usage_error --token t --count-lie-path documents
expect_usage_error --token t --short-page-rate 1.5
expect_usage_error --token t --expand-style inline
expect_usage_error --token t --payments-order random
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bin" --port 0 --token t --days 2 >"$out" 2>/dev/null &
pid=$!
for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.1; done
url=$(head -n1 "$out")
[[ "$url" =~ ^http://127\.0\.0\.1:[0-9]+/v1$ ]] || { echo "bad first line: '$url'"; kill $pid; exit 1; }
kill -TERM $pid
wait $pid
echo "cli ok: $url"
