#!/bin/sh
# scripts/check-layers on copies of the tree, each broken one way: every copy must fail
# with the matching message, and the unbroken copy must pass.
set -eu
root=$1
work=$(mktemp -d /tmp/petl-layers.XXXXXX)
trap 'rm -rf "$work"' EXIT
fresh() {
  rm -rf "$work/t"
  mkdir -p "$work/t/scripts"
  cp -r "$root/src" "$work/t/src"
  cp "$root/CMakeLists.txt" "$work/t/"
  cp "$root/scripts/check-layers" "$work/t/scripts/"
}
expect_fail() { # message
  if out=$("$work/t/scripts/check-layers" 2>&1); then
    echo "FAIL: check-layers passed a tree that should fail ($1)"
    exit 1
  fi
  echo "$out" | grep -q "$1" || { echo "FAIL: wanted '$1', got: $out"; exit 1; }
}
fresh
"$work/t/scripts/check-layers" >/dev/null
# A lower layer including a higher one: the store knowing the runner.
fresh
printf '#include "sync_runner.h"\n' >>"$work/t/src/db_sync.c"
expect_fail "db_sync.c: includes sync_runner.h (sync), which store must not know"
# Two modules of one role including each other.
fresh
printf '#include "http_server.h"\n' >>"$work/t/src/http_conns.h"
expect_fail "include cycle between modules"
# A file no role claims.
fresh
printf 'int orphan_fn(void);\n' >"$work/t/src/orphan.c"
expect_fail "src/orphan.c: no role claims this name"
# A source left out of its role's library.
fresh
printf '#include "common.h"\n' >"$work/t/src/db_extra.c"
expect_fail "src/db_extra.c: missing from PETL_STORE_SOURCES"
echo "check-layers catches every kind of break"
