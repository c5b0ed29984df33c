#!/bin/sh
# Snapshot and restore with a counting guest: through the socket with then
# exit and then resume, restored with --verify full and none, the count goes
# on with no gap and no repeat; the session id changes; --snapshot-on-ready
# and several restores at once from one file; a signed file needs its key.
. "$TESTLIB"
LIMIT=80
numbers() { cat "$@" | grep -o 'n=[0-9]*' | sed 's/n=//'; }
# continuous FILES...: the numbers in FILES, in order, are exactly 1..LIMIT
continuous() {
	numbers "$@" >nums
	seq 1 $LIMIT | cmp -s - nums || fail "count not continuous over $*: $(tr '\n' ' ' <nums | head -c 400)"
}
session_of() { sed -n 's/.*"session":"\([0-9a-f]*\)".*/\1/p' "$1"; }

# 1. socket snapshot, then exit; restore (full verify) finishes the count.
"$VMM" run --kernel "$GUESTS/counter.elf" --mem 32M --cmdline "limit=$LIMIT gap=10" --api sock \
	>out1 2>err1 </dev/null &
pid=$!
wait_for out1 "n=15" || fail "the guest never counted to 15"
"$VMM" ctl sock status >st1 || fail "status failed"
"$VMM" ctl sock snapshot snap.vmm exit >r || fail "snapshot failed: $(cat r)"
wait $pid
status=$?
expect_status 0
grep -q '"ok":true' r || fail "no ok reply: $(cat r)"
grep -q 'event snapshot-written' err1 || fail "no snapshot-written event"
[ -f snap.vmm ] || fail "no snapshot file"
ls snap.vmm.tmp-* 2>/dev/null && fail "a temporary file was left behind"
timeout 30 "$VMM" restore snap.vmm --verify full --api sock2 >out2 2>err2 </dev/null &
pid=$!
wait_for err2 "ready in" 10 || fail "restore never got ready: $(cat err2)"
"$VMM" ctl sock2 status >st2
wait $pid
status=$?
[ "$status" = 7 ] || fail "restored guest exited $status, expected 7: $(cat err2)"
grep -q "verified" err2 || fail "--verify full did not verify"
continuous out1 out2
s1=$(session_of st1)
s2=$(session_of st2)
[ -n "$s1" ] && [ -n "$s2" ] && [ "$s1" != "$s2" ] || fail "session id did not change: '$s1' '$s2'"

# 2. the same file again with --verify none: identical continuation.
timeout 30 "$VMM" restore snap.vmm --verify none >out3 2>err3 </dev/null
status=$?
[ "$status" = 7 ] || fail "second restore exited $status"
cmp -s out2 out3 || fail "two restores of one file printed different things"

# 3. then resume: the original goes on to the end, and so does its restore.
rm -f snap.vmm
"$VMM" run --kernel "$GUESTS/counter.elf" --mem 32M --cmdline "limit=$LIMIT gap=10" --api sock \
	>out4 2>err4 </dev/null &
pid=$!
wait_for out4 "n=10" || fail "no count"
"$VMM" ctl sock snapshot snap.vmm resume >r || fail "snapshot (then resume) failed: $(cat r)"
wait $pid
status=$?
[ "$status" = 7 ] || fail "the original exited $status after then resume"
continuous out4
timeout 30 "$VMM" restore snap.vmm >out5 2>err5 </dev/null
[ $? = 7 ] || fail "restore after then resume failed: $(cat err5)"
taken=$(numbers out5 | head -n1)
(numbers out4 | head -n $((taken - 1)); numbers out5) >nums
seq 1 $LIMIT | cmp -s - nums || fail "restore after then resume: not continuous from $taken"

# 4. --snapshot-on-ready (READY at n=5) and four restores at once.
rm -f ready.vmm
run_guest counter --mem 32M --cmdline "limit=$LIMIT gap=10 ready=5" --snapshot-on-ready ready.vmm
expect_status 0
expect_err "event snapshot-written"
numbers out >ready_out
[ "$(tail -n1 ready_out)" = 5 ] || fail "the guest went on after READY: $(tail -n1 ready_out)"
for i in 1 2 3 4; do
	timeout 60 "$VMM" restore ready.vmm --verify none >r$i.out 2>r$i.err </dev/null &
	eval p$i=$!
done
for i in 1 2 3 4; do
	eval wait \$p$i
	st=$?
	[ $st = 7 ] || fail "parallel restore $i exited $st: $(cat r$i.err)"
	continuous out r$i.out
done

# 5. a restored (lazy) VM snapshotted again mid-run, restored again: still continuous.
rm -f again.vmm
timeout 60 "$VMM" restore ready.vmm --api sock3 >a1 2>ea1 </dev/null &
pid=$!
wait_for a1 "n=20" || fail "the lazily restored guest did not count: $(cat ea1)"
"$VMM" ctl sock3 snapshot again.vmm exit >r || fail "snapshot of a restored VM failed: $(cat r)"
wait $pid
[ $? = 0 ] || fail "the restored VM did not exit 0 after then exit"
timeout 60 "$VMM" restore again.vmm >a2 2>ea2 </dev/null
[ $? = 7 ] || fail "restore of the second-generation file failed: $(cat ea2)"
continuous out a1 a2

# 6. signed: the key is needed, a wrong key is refused, the right one works.
printf 'secret-key-1' >key1
printf 'secret-key-2' >key2
rm -f signed.vmm
run_guest counter --mem 32M --cmdline "limit=$LIMIT ready=3" --snapshot-on-ready signed.vmm --snapshot-key key1
expect_status 0
timeout 30 "$VMM" restore signed.vmm >o 2>e </dev/null
[ $? = 1 ] && grep -q "signed" e || fail "a signed file restored without its key: $(cat e)"
[ -s o ] && fail "guest output from a refused restore"
timeout 30 "$VMM" restore signed.vmm --snapshot-key key2 >o 2>e </dev/null
[ $? = 1 ] && grep -q "HMAC does not match" e || fail "a wrong key was accepted: $(cat e)"
timeout 30 "$VMM" restore signed.vmm --snapshot-key key1 --verify none >o 2>e </dev/null
[ $? = 7 ] || fail "the right key was refused: $(cat e)"
"$VMM" inspect signed.vmm --snapshot-key key1 >ins || fail "inspect with the key failed"
grep -q "HMAC ok" ins || fail "inspect did not check the HMAC: $(cat ins)"
"$VMM" inspect signed.vmm >ins && fail "inspect passed a signed file it could not check"
grep -q "NOT CHECKED" ins || fail "inspect did not say the HMAC went unchecked"
timeout 30 "$VMM" restore ready.vmm --snapshot-key key1 >o 2>e </dev/null
[ $? = 1 ] && grep -q "not signed" e || fail "an unsigned file passed as signed: $(cat e)"
exit 0
