#!/usr/bin/env bash
# CLI tests for patitas-etl: cli_test.sh BINARY SOURCE_DIR VERSION CASE
# Each case runs in a fresh temporary directory with a clean environment
# (env -i + PATH), so no developer .env or exported setting can leak in.
set -euo pipefail

bin=$1 src=$2 version=$3 case=$4
work=$(mktemp -d /tmp/petl-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

TOKEN=tok-Secret-4242
DBPASS=db-Pa55-word
GOOD_DB="mysql+pymysql://etl:${DBPASS}@db.example:3306/patitas"

fail() { echo "FAIL [$case]: $*" >&2; exit 1; }

# run [VAR=value...] -- args...: runs the binary with only PATH and the given
# variables; sets $rc, $out, $err.
run() {
  local vars=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do vars+=("$1"); shift; done
  shift
  set +e
  env -i PATH="$PATH" "${vars[@]}" "$bin" "$@" >out.txt 2>err.txt
  rc=$?
  set -e
  out=$(cat out.txt)
  err=$(cat err.txt)
}

expect_rc() { [ "$rc" -eq "$1" ] || fail "exit $rc, want $1; stdout: $out; stderr: $err"; }
expect_out() { grep -qF -- "$1" out.txt || fail "stdout lacks '$1': $out"; }
expect_err() { grep -qF -- "$1" err.txt || fail "stderr lacks '$1': $err"; }
expect_nowhere() {
  ! grep -qF -- "$1" out.txt err.txt || fail "'$1' appears in the output"
}

good_env() {
  printf 'DATABASE_URL=%s\nBSALE_API_TOKEN="%s"\n' "$GOOD_DB" "$TOKEN" >.env
}

case_config_errors_named() {
  run DATABASE_URL="postgresql://u:${DBPASS}@h/db" -- config check
  expect_rc 2
  expect_err "configuration error:"
  expect_err "BSALE_API_TOKEN is required"
  expect_err "DATABASE_URL: unsupported database scheme 'postgresql'"
  expect_nowhere "$DBPASS"
  # both on one line
  [ "$(grep -c 'configuration error' err.txt)" -eq 1 ] || fail "expected one message line"
  grep 'configuration error' err.txt | grep -q 'BSALE_API_TOKEN.*DATABASE_URL\|DATABASE_URL.*BSALE_API_TOKEN' ||
    fail "one line should name both"
  [ ! -s out.txt ] || fail "nothing expected on stdout"
}

case_config_check_redacts() {
  good_env
  run -- config check
  expect_rc 0
  expect_out "BSALE_API_TOKEN=[REDACTED]  (source: .env)"
  expect_out "DATABASE_URL=mysql+pymysql://etl:***@db.example:3306/patitas  (source: .env)"
  expect_out "BSALE_RATE_LIMIT=8  (source: default)"
  expect_out "configuration OK"
  expect_nowhere "$TOKEN"
  expect_nowhere "$DBPASS"
  # ETL_API_TOKEN from the environment is redacted too, even at debug level
  run ETL_API_TOKEN=etl-Secret-999 LOG_LEVEL=debug -- config check
  expect_rc 0
  expect_out "ETL_API_TOKEN=[REDACTED]  (source: environment)"
  expect_nowhere "etl-Secret-999"
}

case_precedence() {
  good_env
  printf 'PORT=1111\nHOST=127.0.0.1\nBSALE_RATE_LIMIT=3\n' >>.env
  run -- config check
  expect_rc 0
  expect_out "PORT=1111  (source: .env)"
  run PORT=2222 -- config check
  expect_out "PORT=2222  (source: environment)"
  expect_out "HOST=127.0.0.1  (source: .env)"
  run PORT=2222 -- config check --port 3333 --bsale-rate-limit=5
  expect_rc 0
  expect_out "PORT=3333  (source: flag)"
  expect_out "BSALE_RATE_LIMIT=5  (source: flag)"
  # global options also work before the command
  run PORT=2222 -- --port 4444 --log-level debug config check
  expect_out "PORT=4444  (source: flag)"
  expect_out "LOG_LEVEL=debug  (source: flag)"
}

case_env_file() {
  good_env
  printf 'DATABASE_URL=sqlite:///other.db\nBSALE_API_TOKEN=%s\nPORT=5555\n' "$TOKEN" >other.env
  run -- --env-file other.env config check
  expect_rc 0
  expect_out "PORT=5555  (source: .env)"
  expect_out "DATABASE_URL=sqlite:///other.db"
  run -- config check --env-file missing.env
  expect_rc 2
  expect_err "missing.env"
  printf 'DATABASE_URL=sqlite://\n\nBSALE_API_TOKEN="%s\n' "$TOKEN" >bad.env
  run -- config check --env-file bad.env
  expect_rc 2
  expect_err "bad.env:3: unterminated double quote"
  expect_nowhere "$TOKEN"
  printf 'NOT_A_SETTING=some-value\n' >>.env
  run -- config check
  expect_rc 0
  expect_err "ignoring unknown setting NOT_A_SETTING"
  expect_nowhere "some-value"
}

case_invalid_values() {
  good_env
  run -- config check --bsale-page-size 51 --log-level loud --etl-timezone Mars/Base
  expect_rc 2
  expect_err "BSALE_PAGE_SIZE: '51' is not a whole number in 1..50"
  expect_err "LOG_LEVEL: 'loud' is not one of error|warn|info|debug"
  expect_err "ETL_TIMEZONE: unknown time zone 'Mars/Base'"
  run -- config check --bsale-api-token "$TOKEN"
  expect_rc 2
  expect_err "BSALE_API_TOKEN cannot be given on the command line"
  expect_nowhere "$TOKEN"
  run -- config check --port
  expect_rc 2
  expect_err "option '--port' needs a value"
}

case_help() {
  run -- --help
  expect_rc 0
  expect_out "usage: patitas-etl"
  expect_out "--bsale-rate-limit"
  # secrets have no flag
  ! grep -qE -- '--(bsale-api-token|etl-api-token|database-url)' out.txt || fail "a secret has a flag"
  for c in serve "sync full" "sync daily" migrate report "config check" "config docs" version; do
    # shellcheck disable=SC2086
    run -- $c --help
    expect_rc 0
    expect_out "usage: patitas-etl $c"
  done
  run -- sync --help
  expect_rc 0
  expect_out "sync daily"
  run -- config -h
  expect_rc 0
  expect_out "config check"
  run -- help
  expect_rc 0
}

case_usage_errors() {
  good_env
  run -- bogus
  expect_rc 2
  expect_err "unknown command 'bogus'"
  run --
  expect_rc 2
  expect_err "usage: patitas-etl"
  run -- sync
  expect_rc 2
  expect_err "'sync' needs a subcommand"
  run -- sync weekly
  expect_rc 2
  expect_err "unknown subcommand 'weekly' of 'sync'"
  expect_err "sync daily"
  run -- sync daily --date 2024-02-30
  expect_rc 2
  expect_err "'2024-02-30' is not a real date"
  run -- sync daily --date 2024-02-29 --from 2024-02-01 --to 2024-02-28
  expect_rc 2
  expect_err "--date cannot be combined with --from/--to"
  run -- sync full --from 2024-01-01
  expect_rc 2
  expect_err "--from and --to must be given together"
  run -- sync full --to 2024-01-01
  expect_rc 2
  run -- sync full --from 2024-03-01 --to 2024-02-01
  expect_rc 2
  expect_err "is after --to"
  run -- sync full --date 2024-01-01
  expect_rc 2
  expect_err "unknown option '--date'"
  run -- sync daily --from 2024-01-01 --from 2024-01-02 --to 2024-01-03
  expect_rc 2
  expect_err "given twice"
  run -- sync daily --date
  expect_rc 2
  run -- report --date 2024-13-01
  expect_rc 2
  expect_err "'2024-13-01' is not a real date"
  run -- migrate extra
  expect_rc 2
  expect_err "unexpected argument 'extra'"
  run -- serve --no-such-flag
  expect_rc 2
  run -- --no-such-flag version
  expect_rc 2
}

case_commands_need_config() {
  # every acting command validates the configuration before it touches anything
  for c in serve migrate report "report --date 2024-12-31" "sync full" "sync daily --json" \
    "sync daily --date 2024-02-29" "sync full --from 2024-01-01 --to 2024-01-31 --json" \
    "sync daily --from 2024-01-01 --to 2024-01-01"; do
    # shellcheck disable=SC2086
    run -- $c
    expect_rc 2
    expect_err "BSALE_API_TOKEN is required"
  done
}

case_version() {
  run -- version
  expect_rc 0
  [ "$out" = "patitas-etl $version" ] || fail "version printed '$out'"
  run -- --version
  expect_rc 0
  [ "$out" = "patitas-etl $version" ] || fail "--version printed '$out'"
  # needs no configuration at all, even with a broken .env around
  printf 'BROKEN\n' >.env
  run -- version
  expect_rc 0
}

case_report_fits_cells() {
  # the first row's cells are the shortest: every column still fits its widest cell
  printf 'DATABASE_URL=sqlite:///w.db\nBSALE_API_TOKEN="%s"\n' "$TOKEN" >.env
  run -- migrate
  expect_rc 0
  sqlite3 w.db "INSERT INTO etl_ejecuciones (tipo, origen, estado, inicio, registros, solicitudes,
    reintentos) VALUES ('daily', 'http', 'succeeded', '2024-05-01 10:00:00', 123456, 789, 0),
    ('full', 'cli', 'failed', '2024-05-02 10:00:00', 1, 2, 3);"
  run -- report
  expect_rc 0
  expect_out "daily"
  expect_out "succeeded"
  expect_out "123456"
  # the header lines up with the cells below it
  hdr=$(grep -n '  id  tipo' out.txt | cut -d: -f1)
  [ -n "$hdr" ] || fail "no runs header: $out"
  pos() { sed -n "${1}p" out.txt | grep -bo "$2" | head -n 1 | cut -d: -f1; }
  [ "$(pos "$hdr" origen)" = "$(pos $((hdr + 1)) cli)" ] || fail "columns misaligned: $out"
  [ "$(pos "$hdr" origen)" = "$(pos $((hdr + 2)) http)" ] || fail "columns misaligned: $out"
}

# The generated part of doc $1, between its "$2" markers, must equal out.txt (from command $3).
expect_generated() {
  doc="$src/$1"
  [ -f "$doc" ] || fail "$doc missing"
  sed -n "/^<!-- BEGIN $2/,/^<!-- END $2/p" "$doc" | sed '1d;$d' >doc_part.txt
  if ! diff -u doc_part.txt out.txt >diff.txt; then
    cat diff.txt >&2
    fail "$1 is out of date: regenerate it with 'patitas-etl $3'"
  fi
}

case_docs_in_sync() {
  run -- config docs
  expect_rc 0
  expect_generated docs/config.md "SETTINGS TABLE" "config docs"
  [ "$(grep -c '^| `' out.txt)" -ge 26 ] || fail "too few rows"
}

case_schema_docs_in_sync() {
  run -- schema docs
  expect_rc 0
  expect_generated docs/schema.md "SCHEMA TABLES" "schema docs"
  # every synced table and the ETL's own are there, each with its columns
  for t in sucursales documentos_venta detalles_venta pagos precios stock etl_ejecuciones \
    etl_incidencias; do
    grep -q "^### \`$t\`" out.txt || fail "table $t missing"
  done
  [ "$(grep -c '^| `' out.txt)" -ge 150 ] || fail "too few column rows"
  # needs no configuration
  run -- schema docs --help
  expect_rc 0
  expect_out "usage: patitas-etl schema docs"
}

"case_$case"
echo "ok [$case]"
