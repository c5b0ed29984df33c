#!/bin/sh
# Linux with the heartbeat beating, snapshotted at READY and left on disk
# longer than its timeout: after the restore the heartbeat does not flatline
# (time on disk is not guest time), the wall clock is set from the host
# (init, vmm.cmd=console, does it after a restore), and the ib700 watchdog the
# restored guest arms and then starves fires with action poweroff (124).
# (An armed watchdog crossing a snapshot: tests/host/snapshot_timers.sh.)
. "$TESTLIB"
CMDLINE="console=ttyS0 reboot=k panic=-1 i8042.noaux i8042.nomux i8042.nopnp quiet vmm.cmd=console ib700wdt.timeout=4"
run_linux --heartbeat 300ms,timeout=3s --watchdog-action poweroff --cmdline "$CMDLINE" \
	--snapshot-on-ready t.vmm -- sh -c 'watchdog -T 4 -t 1 /dev/watchdog; sleep 1; echo armed-ok'
expect_status 0
[ -f t.vmm ] || fail "no snapshot"
sleep 8
host_before=$(date +%s)
timeout 120 "$VMM" restore t.vmm -- sh -c 'watchdog -T 4 -t 1 /dev/watchdog; sleep 3; vmm-guest session; echo clock=$(date +%s); kill -9 $(pidof watchdog); sleep 30; echo SURVIVED' \
	>o 2>e </dev/null
st=$?
[ $st = 124 ] || fail "restored VM exited $st, expected 124 from the watchdog: $(tail -n 5 e)"
grep -q 'watchdog-expired' e || fail "no watchdog-expired after the restore"
grep -q SURVIVED o && fail "the restored guest survived its watchdog"
grep -q heartbeat-flatline e && fail "the restored VM flatlined: $(grep heartbeat e)"
clock=$(tr -d '\r' <o | sed -n 's/^clock=\([0-9]*\)$/\1/p')
[ -n "$clock" ] || fail "the guest printed no clock: $(cat o)"
d=$((clock - host_before))
[ $d -ge -2 ] && [ $d -le 30 ] || fail "guest wall clock is $d s off the host after the restore"
