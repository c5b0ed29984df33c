#!/bin/sh
# An armed ib700 watchdog survives a snapshot with its remaining guest time:
# the file sits on disk for a while, yet after the restore the watchdog fires
# neither at once nor after a whole new period. The dump action writes a
# snapshot and ends with 124. A flatlined heartbeat stays flatlined across a
# snapshot.
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

# A flatlined heartbeat stays flatlined across a snapshot: the restored VM
# reports the recovery when the guest beats again (status 1 = ACTIVE, after
# STATUS read 3 = ACTIVE|FLATLINED during the silence).
rm -f out err sock hb.vmm
"$VMM" run --kernel "$GUESTS/hbmon.elf" --api sock --heartbeat 200ms,timeout=500ms \
	--cmdline "beats=3 silent=4000" >out 2>err </dev/null &
pid=$!
wait_for err "heartbeat-flatline" 20 || fail "no flatline before the snapshot"
"$VMM" ctl sock snapshot hb.vmm exit >r || fail "snapshot failed: $(cat r)"
wait $pid
timeout 30 "$VMM" restore hb.vmm >o 2>e </dev/null
st=$?
[ $st = 0 ] || fail "restored heartbeat guest exited $st: $(cat e)"
grep -q "heartbeat-recovered" e || fail "the restored VM did not report the recovery: $(cat e)"
grep -q "heartbeat-flatline" e && fail "the restored VM flatlined again: $(cat e)"
grep -q "status after silence 3" o || fail "STATUS did not read ACTIVE|FLATLINED after the restore: $(cat o)"
exit 0
