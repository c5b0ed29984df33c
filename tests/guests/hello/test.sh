#!/bin/sh
# The smallest whole VM: a 64-bit ELF guest prints a line and exits 0 through EXIT.
. "$TESTLIB"
run_guest hello
expect_status 0
expect_out "hello from a 64-bit guest"
expect_err "guest-exit"
# VMM_STATS=1: one stats line at exit (under the full seccomp filter).
VMM_STATS=1 run_guest hello
expect_status 0
grep -q "stats: peak_rss_kib=[0-9]* guest_resident_kib=[0-9]* overhead_kib=[0-9]*" err || fail "no stats line: $(cat err)"
