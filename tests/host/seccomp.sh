#!/bin/sh
# seccomp: every thread of a running VM is filtered (Seccomp: 2); a forbidden
# call in each thread kind ends vmm with one line naming the kind and the
# syscall; ioctl requests are filtered by value; log lets calls through; off warns.
. "$TESTLIB"
VMMT="$(dirname "$VMM")/vmm-test" # built with the test-only VMM_TEST_FORBIDDEN hook
[ -x "$VMMT" ] || fail "build/vmm-test missing (make all builds it)"

rm -f out err
"$VMM" run --kernel "$GUESTS/spin.elf" --cpus 3 --api sock >out 2>err </dev/null &
pid=$!
wait_for out "tick 2" || fail "no ticks"
# The event loop is confined just before it serves; give it a moment to get there.
"$VMM" ctl sock status >/dev/null || fail "status failed"
threads=0
for st in /proc/$pid/task/*/status; do
	threads=$((threads + 1))
	grep -q "^Seccomp:[[:space:]]*2" "$st" || fail "thread $st is not filtered: $(grep Seccomp "$st")"
done
[ $threads -ge 5 ] || fail "expected main, 3 vCPU and the rng I/O thread, saw $threads"
kill -TERM $pid
wait $pid

truncate -s 1M disk.img
forbidden() { # forbidden HOOK KIND SYSCALL
	rm -f out err
	VMM_TEST_FORBIDDEN=$1 timeout 20 "$VMMT" run --kernel "$GUESTS/spin.elf" --console none \
		--disk disk.img >out 2>err </dev/null
	status=$?
	expect_status 1
	grep -q "^vmm: seccomp: $2 thread made a forbidden system call: $3 (" err ||
		fail "VMM_TEST_FORBIDDEN=$1: wrong or missing message: $(cat err)"
}
forbidden vcpu vcpu socket
forbidden main main socket
forbidden vcpu-ioctl vcpu ioctl
forbidden main-ioctl main ioctl
forbidden virtio-blk virtio-blk socket
forbidden virtio-rng virtio-rng socket
forbidden virtio-blk-ioctl virtio-blk ioctl
forbidden virtio-blk-worker virtio-blk-worker socket
# The virtio-net thread, with a tap that vmm creates in a network namespace of its own.
for hook in virtio-net virtio-net-ioctl; do
	rm -f out err
	VMM_TEST_FORBIDDEN=$hook unshare -n timeout 20 "$VMMT" run --kernel "$GUESTS/spin.elf" \
		--console none --net tap=sc0 >out 2>err </dev/null
	status=$?
	expect_status 1
	want=socket
	[ $hook = virtio-net ] || want=ioctl
	grep -q "^vmm: seccomp: virtio-net thread made a forbidden system call: $want (" err ||
		fail "VMM_TEST_FORBIDDEN=$hook: wrong or missing message: $(cat err)"
done

# log: the kernel logs the call and lets it through; the guest runs to its end.
rm -f out err
VMM_TEST_FORBIDDEN=vcpu timeout 20 "$VMMT" run --seccomp log --kernel "$GUESTS/hello.elf" >out 2>err </dev/null
status=$?
expect_status 0
expect_out "hello from a 64-bit guest"

run_guest hello --seccomp off
expect_status 0
expect_err "WARNING: --seccomp off"
