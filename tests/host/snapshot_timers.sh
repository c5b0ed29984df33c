#!/bin/sh
# An armed ib700 watchdog survives a snapshot with its remaining guest time:
# the file sits on disk for a while, yet after the restore the watchdog fires
# neither at once nor after a whole new period. The dump action writes a
# snapshot and ends with 124.
. "$TESTLIB"
# wd=13: 4 s. READY comes right after arming; the snapshot is taken there.
run_guest watchdog --cmdline "mode=expire wd=13" --watchdog-action poweroff --snapshot-on-ready armed.vmm
expect_status 0
sleep 5 # longer than the period: a wall-clock timer would be overdue
t0=$(date +%s%N)
timeout 30 "$VMM" restore armed.vmm >o 2>e </dev/null
st=$?
t1=$(date +%s%N)
[ $st = 124 ] || fail "restored VM exited $st, expected 124 from the watchdog: $(cat e)"
grep -q "event watchdog-expired" e || fail "no watchdog-expired event after the restore"
ms=$(((t1 - t0) / 1000000))
[ $ms -ge 3000 ] || fail "the watchdog fired $ms ms after the restore: remaining time lost"
[ $ms -le 7000 ] || fail "the watchdog fired $ms ms after the restore: more than the remaining 4 s"

# dump: write the snapshot to --dump-to, then 124; the file verifies.
run_guest watchdog --cmdline "mode=expire wd=14" --watchdog-action dump --dump-to dumped.vmm
expect_status 124
expect_err "event snapshot-written"
"$VMM" inspect dumped.vmm >ins || fail "the dump does not verify: $(cat ins)"
