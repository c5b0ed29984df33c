#!/bin/sh
# Heartbeat monitor: a silent guest flatlines after the timeout (event, action
# run once), a beat brings heartbeat-recovered; action poweroff ends with 124;
# a VM paused for three timeouts does not flatline.
. "$TESTLIB"
run_guest hbmon --heartbeat 200ms,timeout=500ms --cmdline "beats=5 silent=1200"
expect_status 0
expect_err 'heartbeat-flatline "since_beat_ms":5'
expect_err 'heartbeat-recovered "silent_ms":'
expect_out "status after silence 3"
expect_out "status after beats 1"
[ "$(grep -c heartbeat-flatline err)" = 1 ] || fail "more than one flatline for one silence"

run_guest hbmon --heartbeat 200ms,timeout=500ms,action=poweroff --cmdline "beats=3 silent=1200"
expect_status 124
expect_err "heartbeat action poweroff"

rm -f out err sock
"$VMM" run --kernel "$GUESTS/hbmon.elf" --api sock --heartbeat 200ms,timeout=500ms \
	--cmdline "beats=30" >out 2>err </dev/null &
pid=$!
wait_for err "guest-ready" 10 || fail "no READY"
sleep 0.5
"$VMM" ctl sock pause >/dev/null || fail "pause failed"
sleep 1.6
"$VMM" ctl sock resume >/dev/null || fail "resume failed"
wait $pid
status=$?
expect_status 0
grep -q heartbeat-flatline err && fail "a pause of three timeouts caused a flatline"
exit 0
