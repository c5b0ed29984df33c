#!/bin/sh
# Pause and resume a running Linux guest through the control socket: its
# output stops while paused and goes on afterwards; the guest's own clock
# does not report a soft lockup; the job then finishes with its status.
. "$TESTLIB"
rm -f out err sock
"$VMM" run --cpus 2 --api sock --kernel "$GUEST/bzImage" --initrd "$GUEST/initramfs.cpio" \
	-- sh -c 'i=0; while [ $i -lt 30 ]; do echo count $i; i=$((i+1)); sleep 0.2; done; exit 5' \
	>out 2>err </dev/null &
pid=$!
wait_for out "count 3" 120 || fail "the guest never counted"
"$VMM" ctl sock pause >r || fail "pause failed: $(cat r)"
a=$(grep -c count out)
sleep 2
b=$(grep -c count out)
[ "$a" = "$b" ] || fail "output went on while paused ($a -> $b)"
"$VMM" ctl sock status >r
grep -q '"state":"paused"' r || fail "status is not paused: $(cat r)"
"$VMM" ctl sock resume >r || fail "resume failed: $(cat r)"
wait $pid
status=$?
expect_status 5
expect_out "count 29"
if grep -q "soft lockup" out; then fail "the guest reported a soft lockup after the pause"; fi
