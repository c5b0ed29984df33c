#!/bin/sh
# The beat daemon (vmm-guest beat, started by init) keeps the monitor quiet;
# SIGSTOP brings heartbeat-flatline within the timeout plus a margin, SIGCONT
# heartbeat-recovered; pausing the VM for three timeouts causes no flatline.
. "$TESTLIB"
run_linux --heartbeat 500ms,timeout=1500ms -- sh -c 'sleep 2; echo stopping; kill -STOP $(pidof vmm-guest); sleep 4; kill -CONT $(pidof vmm-guest); sleep 2; echo done'
expect_status 0
expect_out done
expect_err "heartbeat-flatline"
expect_err "heartbeat-recovered"
since=$(sed -n 's/.*heartbeat-flatline "since_beat_ms":\([0-9]*\).*/\1/p' err)
[ "$since" -ge 1500 ] && [ "$since" -le 2500 ] || fail "flatline $since ms after the last beat (timeout 1500)"
[ "$(grep -c heartbeat-flatline err)" = 1 ] || fail "more than one flatline event"

rm -f out err sock
"$VMM" run --kernel "$GUEST/vmlinux" --initrd "$GUEST/initramfs.cpio" --api sock \
	--heartbeat 500ms,timeout=1000ms -- sh -c 'sleep 6; echo done' >out 2>err </dev/null &
pid=$!
wait_for err guest-ready 90 || fail "no READY"
sleep 1.5
"$VMM" ctl sock pause >/dev/null || fail "pause failed"
sleep 3.5
"$VMM" ctl sock resume >/dev/null || fail "resume failed"
wait $pid
status=$?
expect_status 0
expect_out done
grep -q heartbeat-flatline err && fail "a pause of three timeouts caused a flatline: $(grep flatline err)"
exit 0
