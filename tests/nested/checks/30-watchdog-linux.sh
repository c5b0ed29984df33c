#!/bin/sh
# ib700 with Linux's ib700wdt: busybox watchdog keeps it fed; once it is
# killed the action happens within the period (2 s) plus a margin, for
# poweroff, reset and pause; a magic close ("V") stops it.
. "$TESTLIB"
WD='watchdog -T 2 -t 1 /dev/watchdog; sleep 3; echo killing; kill -9 $(pidof watchdog)'

run_linux --watchdog-action poweroff -- sh -c "$WD; sleep 30; echo SURVIVED"
expect_status 124
expect_out killing
grep -q SURVIVED out && fail "the guest survived its watchdog"
expect_err 'watchdog-expired "action":"poweroff"'

# Magic close: with the driver's timeout at 2 s, open, write V, close: no expiry.
run_linux --cmdline "console=ttyS0 reboot=k panic=-1 ib700wdt.timeout=2" --watchdog-action poweroff \
	-- sh -c 'exec 3>/dev/watchdog; printf V >&3; exec 3>&-; sleep 4; echo survived'
expect_status 0
expect_out survived
grep -q watchdog-expired err && fail "expired after a magic close"

# reset: a fresh machine runs the job again; its session id changes.
rm -f out err
"$VMM" run --kernel "$GUEST/vmlinux" --initrd "$GUEST/initramfs.cpio" --watchdog-action reset \
	-- sh -c "echo boot-session=\$(vmm-guest session); $WD; sleep 30" >out 2>err </dev/null &
pid=$!
boots() { cat out 2>/dev/null | grep -c boot-session; }
n=0
while [ "$(boots)" -lt 2 ] && [ $n -lt 300 ]; do sleep 0.2; n=$((n + 1)); done
kill -TERM $pid
wait $pid
[ "$(grep -c boot-session out)" -ge 2 ] || fail "no second boot after the watchdog reset"
[ "$(grep boot-session out | sort -u | wc -l)" -ge 2 ] || fail "session id unchanged after reset"
expect_err 'watchdog-expired "action":"reset"'

# pause: vCPUs parked; the control socket sees it and can end the VM.
rm -f out err sock
"$VMM" run --kernel "$GUEST/vmlinux" --initrd "$GUEST/initramfs.cpio" --watchdog-action pause \
	--api sock -- sh -c "$WD; sleep 30" >out 2>err </dev/null &
pid=$!
wait_for err "event paused" 90 || fail "the watchdog did not pause the VM"
"$VMM" ctl sock status >st
grep -q '"state":"paused"' st || fail "status not paused: $(cat st)"
t0=$(grep -c . out)
sleep 1
[ "$(grep -c . out)" = "$t0" ] || fail "output while paused"
"$VMM" ctl sock quit >/dev/null
wait $pid
status=$?
expect_status 0
