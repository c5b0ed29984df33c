#!/bin/sh
# Control socket: status, pause (output stops), resume (output goes on), events, quit;
# then SIGTERM: a clean teardown with status 143 and the socket file removed.
. "$TESTLIB"
lines() { grep -c tick out; }
rm -f out err out2 sock sock2
"$VMM" run --kernel "$GUESTS/spin.elf" --cpus 2 --api sock >out 2>err </dev/null &
pid=$!
wait_for out "tick 3" || fail "no ticks"
"$VMM" ctl sock events >events 2>&1 &
evpid=$!
n=0 # the events client is attached once status counts two clients (it and us)
until "$VMM" ctl sock status >st && grep -q '"clients":2' st; do
	n=$((n + 1))
	[ $n -gt 50 ] && fail "the events client never connected: $(cat st)"
	sleep 0.1
done
grep -q '"state":"running"' st || fail "status not running: $(cat st)"
grep -q '"vcpus":2' st || fail "status lacks vcpus:2: $(cat st)"
"$VMM" ctl sock pause >r || fail "ctl pause failed: $(cat r)"
a=$(lines)
sleep 0.5
b=$(lines)
[ "$a" = "$b" ] || fail "output went on while paused ($a -> $b lines)"
"$VMM" ctl sock status >st
grep -q '"state":"paused"' st || fail "status not paused: $(cat st)"
"$VMM" ctl sock resume >r || fail "ctl resume failed"
n=0
while [ "$(lines)" = "$b" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
[ "$(lines)" != "$b" ] || fail "no output after resume"
echo '{"cmd":"bogus"}' >req
"$VMM" ctl sock bogus >r && fail "an unknown command was accepted"
grep -q '"ok":false' r || fail "unknown command: no error reply: $(cat r)"
"$VMM" ctl sock quit >r || fail "ctl quit failed"
wait $pid
status=$?
expect_status 0
wait $evpid
grep -q '"event":"paused"' events || fail "no paused event: $(cat events)"
grep -q '"event":"resumed"' events || fail "no resumed event"
grep -q '"event":"guest-exit"' events || fail "no guest-exit event"
[ ! -e sock ] || fail "socket file left behind after quit"

rm -f out err
"$VMM" run --kernel "$GUESTS/spin.elf" --api sock2 >out2 2>err </dev/null &
pid=$!
wait_for out2 "tick 2" || fail "no ticks (second run)"
kill -TERM $pid
wait $pid
status=$?
expect_status 143
expect_err "signal 15"
[ ! -e sock2 ] || fail "socket file left behind after SIGTERM"
