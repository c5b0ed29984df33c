#!/bin/sh
# A VM with a network device is snapshotted and restored onto a fresh tap:
# the restore needs as many --net as the snapshot holds (exit 2 naming the
# count otherwise), and the restored guest goes on counting to the end. Runs
# in a network namespace of its own so the taps vanish with it.
. "$TESTLIB"
if [ -z "${SNAP_NET_NS:-}" ]; then
	SNAP_NET_NS=1 exec unshare -n env SNAP_NET_NS=1 sh "$0"
fi
numbers() { cat "$@" | grep -o 'n=[0-9]*' | sed 's/n=//'; }
LIMIT=60
"$VMM" run --kernel "$GUESTS/counter.elf" --mem 32M --cmdline "limit=$LIMIT gap=10" \
	--net tap=snap0 --api sock >out1 2>err1 </dev/null &
pid=$!
wait_for out1 "n=15" || fail "the guest never counted to 15: $(cat err1)"
"$VMM" ctl sock snapshot net.vmm exit >r || fail "snapshot failed: $(cat r)"
wait $pid
status=$?
expect_status 0

# Without --net, or with two: refused before anything runs.
timeout 20 "$VMM" restore net.vmm >o 2>e </dev/null
status=$?
[ $status = 2 ] || fail "restore without --net exited $status, expected 2: $(cat e)"
grep -q "holds a VM with 1 network device: give as many --net (0 given)" e ||
	fail "restore without --net: wrong message: $(cat e)"
[ -s o ] && fail "restore without --net ran the guest: $(cat o)"
timeout 20 "$VMM" restore net.vmm --net tap=snap1 --net tap=snap2 >o 2>e </dev/null
status=$?
[ $status = 2 ] || fail "restore with two --net exited $status, expected 2: $(cat e)"

# The restore opens the backend it is given: an interface that is no tap is refused.
timeout 20 "$VMM" restore net.vmm --net tap=lo >o 2>e </dev/null
status=$?
[ $status = 2 ] || fail "restore onto lo exited $status, expected 2: $(cat e)"
grep -q "tap=lo" e || fail "restore onto lo: the message does not name the tap: $(cat e)"

# Onto a fresh tap: the count goes on with no gap.
timeout 30 "$VMM" restore net.vmm --net tap=snap1 >out2 2>err2 </dev/null
status=$?
[ $status = 7 ] || fail "restored guest exited $status, expected 7: $(cat err2)"
numbers out1 out2 >nums
seq 1 $LIMIT | cmp -s - nums || fail "count not continuous: $(tr '\n' ' ' <nums | head -c 300)"
exit 0
