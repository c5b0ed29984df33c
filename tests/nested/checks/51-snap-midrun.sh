#!/bin/sh
# A 2-vCPU Linux guest counts, appending each number to a file on an ext4
# disk; a snapshot through the control socket mid-run with then exit; the
# restore finishes the job: the count on the console goes on with no gap or
# repeat, the checksum of the file matches, and fsck is clean. (The job ends
# with a second of sleep: when it exits, the kernel hangs up its console and
# drops output not yet sent, so the last line is not always there otherwise.)
. "$TESTLIB"
N=2000
mke2fs -q -t ext4 -F disk.img 64M || fail "mke2fs failed"
JOB='i=0; while [ $i -lt '$N' ]; do i=$((i+1)); echo $i >>/mnt/vda/log; echo count $i; done; sync; sha256sum </mnt/vda/log; echo job-done; sleep 1'
timeout 300 "$VMM" run --kernel "$GUEST/vmlinux" --initrd "$GUEST/initramfs.cpio" --cpus 2 \
	--disk disk.img --api sock -- sh -c "$JOB" >out1 2>err1 </dev/null &
pid=$!
wait_for out1 "count 100" 120 || fail "the guest never counted to 100: $(tail -n 5 err1)"
"$VMM" ctl sock snapshot mid.vmm exit >r || fail "snapshot failed: $(cat r)"
wait $pid
st=$?
[ $st = 0 ] || fail "the snapshotted VM exited $st: $(tail -n 5 err1)"
grep -q job-done out1 && fail "the job finished before the snapshot: make N larger"
timeout 300 "$VMM" restore mid.vmm --disk disk.img >out2 2>err2 </dev/null
st=$?
[ $st = 0 ] || fail "the restored VM exited $st: $(tail -n 5 err2)"
grep -q job-done out2 || fail "the restored job did not finish: $(tail -n 5 out2)"
cat out1 out2 | tr -d '\r' | sed -n 's/^count \([0-9]*\)$/\1/p' >nums
seq 1 $N | cmp -s - nums || fail "the count is not continuous: $(head -c 300 nums | tr '\n' ' ')..."
want=$(seq 1 $N | sha256sum | cut -c1-64)
grep -q "^$want" out2 || fail "checksum of the file: guest $(grep -E '^[0-9a-f]{64}' out2), expected $want"
e2fsck -fn disk.img >fsck.out 2>&1 || fail "fsck is not clean: $(cat fsck.out)"
