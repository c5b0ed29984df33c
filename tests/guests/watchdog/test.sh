#!/bin/sh
# ib700 from a guest: expiry after the exact period with poweroff (124), none
# (logged only), pause (VM parked, resumable), inject-nmi (the guest's NMI
# handler runs), reset (a fresh machine with a new session id); pings keep it
# quiet and a write to 0x441 stops it.
. "$TESTLIB"
at_ms() { sed -n "s/.*event $1 .* at \([0-9]*\) ms.*/\1/p" err | head -n1; }

run_guest watchdog --watchdog-action poweroff --cmdline "mode=expire wd=14"
expect_status 124
expect_err 'watchdog-expired "action":"poweroff"'
t0=$(at_ms guest-ready)
t1=$(at_ms watchdog-expired)
d=$((t1 - t0))
[ $d -ge 1950 ] && [ $d -le 2600 ] || fail "value 14 should expire after 2 s, took $d ms"

run_guest watchdog --watchdog-action poweroff --cmdline "mode=expire wd=15"
expect_status 124 # value 15: zero seconds

run_guest watchdog --watchdog-action poweroff --cmdline "mode=ping"
expect_status 0
expect_out "still alive"
grep -q watchdog-expired err && fail "pings and a stop still let it expire"

# shutdown: Ctrl-Alt-Del arrives through the i8042; however the guest then
# ends, the watchdog ended it (124). One that ignores it is powered off after 10 s.
run_guest watchdog --watchdog-action shutdown --cmdline "mode=shutdown"
expect_status 124
expect_out "scancodes: 0x0000001d 0x00000038 0x000000e0 0x00000053 0x000000e0 0x000000d3 0x000000b8 0x0000009d"
run_guest watchdog --watchdog-action shutdown --cmdline "mode=expire wd=15"
expect_status 124
expect_err "did not shut down within 10 s"

run_guest watchdog --watchdog-action inject-nmi --cmdline "mode=nmi"
expect_status 0
expect_out "NMI received"

rm -f out err
"$VMM" run --kernel "$GUESTS/watchdog.elf" --watchdog-action none --cmdline "mode=expire wd=15" \
	>out 2>err </dev/null &
pid=$!
wait_for err 'watchdog-expired "action":"none"' 10 || fail "no watchdog-expired event with action none"
sleep 1
kill -0 $pid 2>/dev/null || fail "action none ended the VM"
kill -TERM $pid
wait $pid

rm -f out err
"$VMM" run --kernel "$GUESTS/watchdog.elf" --watchdog-action reset --cmdline "mode=reset" >out 2>err </dev/null &
pid=$!
boots() { cat out 2>/dev/null | grep -c 'boot session'; }
n=0
while [ "$(boots)" -lt 3 ] && [ $n -lt 150 ]; do sleep 0.1; n=$((n + 1)); done
kill -TERM $pid
wait $pid
[ "$(grep -c 'boot session' out)" -ge 3 ] || fail "reset did not boot the guest again"
[ "$(grep 'boot session' out | sort -u | wc -l)" -ge 3 ] || fail "session id did not change on reset"
expect_err 'watchdog-expired "action":"reset"'

rm -f out err sock
"$VMM" run --kernel "$GUESTS/watchdog.elf" --api sock --watchdog-action pause --cmdline "mode=expire wd=15" >out 2>err </dev/null &
pid=$!
wait_for err "event paused" 10 || fail "action pause did not pause"
"$VMM" ctl sock status >st
grep -q '"state":"paused"' st || fail "not paused: $(cat st)"
"$VMM" ctl sock quit >/dev/null
wait $pid
