#!/bin/sh
# Bad input: each mistake exits 2 (or 1 for a missing /dev/kvm) with one line
# naming the problem, and no VM starts (no guest output, no socket file).
. "$TESTLIB"
K="$GUESTS/hello.elf"

# expect_refusal STATUS PATTERN vmm-args...: status, message, nothing started.
expect_refusal() {
	want=$1
	pat=$2
	shift 2
	rm -f out err
	timeout 20 "$VMM" "$@" >out 2>err </dev/null
	status=$?
	[ "$status" = "$want" ] || fail "vmm $*: exit $status, expected $want"
	grep -q -- "$pat" err || fail "vmm $*: message lacks '$pat': $(cat err)"
	[ "$(wc -l <err)" -le 2 ] || fail "vmm $*: more than a line or two on stderr: $(cat err)"
	[ ! -s out ] || fail "vmm $*: guest output appeared: $(cat out)"
}

head -c 3000 "$K" >truncated.elf
seq 1 400 >text.bin
head -c 100 /dev/urandom >tiny.bin
head -c $((300 * 1024 * 1024)) /dev/zero >big.initrd 2>/dev/null || truncate -s 300M big.initrd
mkdir adir

expect_refusal 2 "needs --kernel" run
expect_refusal 2 "No such file" run --kernel ./missing.elf
expect_refusal 2 "not a regular file" run --kernel adir
expect_refusal 2 "truncated" run --kernel truncated.elf
expect_refusal 2 "not a kernel" run --kernel text.bin
expect_refusal 2 "too short" run --kernel tiny.bin
expect_refusal 2 "does not fit" run --kernel "$K" --initrd big.initrd --mem 256M
expect_refusal 2 "No such file" run --kernel "$K" --initrd ./missing.img
expect_refusal 2 "below the minimum" run --kernel "$K" --mem 512
expect_refusal 2 "more than this host" run --kernel "$K" --mem 64T
expect_refusal 2 "not a size" run --kernel "$K" --mem lots
expect_refusal 2 "not a multiple of 4 KiB" run --kernel "$K" --mem 4098K
expect_refusal 2 "whole number" run --kernel "$K" --cpus 0
expect_refusal 2 "whole number" run --kernel "$K" --cpus 9999
expect_refusal 2 "whole number" run --kernel "$K" --cpus two
expect_refusal 2 "unknown option '--frobnicate'" run --kernel "$K" --frobnicate
expect_refusal 2 "needs a value" run --kernel
expect_refusal 2 "at most 31" run --kernel "$K" -- $(seq 1 32)
expect_refusal 2 "double quote" run --kernel "$K" -- sh -c 'echo "hi"'
expect_refusal 2 "command line is" run --kernel "$K" --cmdline "$(head -c 3000 /dev/zero | tr '\0' x)"
expect_refusal 2 "unknown action" run --kernel "$K" --watchdog-action explode
expect_refusal 2 "give --dump-to FILE" run --kernel "$K" --watchdog-action dump
expect_refusal 2 "give --dump-to FILE" run --kernel "$K" --heartbeat 1s,action=dump
expect_refusal 2 "does not exist" run --kernel "$K" --dump-to /nonexistent/dir/f
expect_refusal 2 "is a directory" run --kernel "$K" --snapshot-on-ready adir
expect_refusal 2 "snapshot-key nokey" run --kernel "$K" --snapshot-key nokey
expect_refusal 2 "needs a snapshot FILE" restore
expect_refusal 2 "lazy, full or none" restore x --verify sometimes
expect_refusal 2 "unknown option" restore x --frobnicate
expect_refusal 2 "usage" inspect
expect_refusal 2 "interval must be" run --kernel "$K" --heartbeat 0
expect_refusal 2 "interval must be" run --kernel "$K" --heartbeat 5000m
expect_refusal 2 "not a duration" run --kernel "$K" --heartbeat soon
expect_refusal 2 "shorter than the interval" run --kernel "$K" --heartbeat 1s,timeout=500ms
expect_refusal 2 "unknown action" run --kernel "$K" --heartbeat 1s,action=shutdown
expect_refusal 2 "unknown part" run --kernel "$K" --heartbeat 1s,color=red
expect_refusal 2 "more than a day" run --kernel "$K" --heartbeat 1s,timeout=100000s
expect_refusal 2 "unknown command" frobnicate
expect_refusal 2 "not a socket" run --kernel "$K" --api adir
expect_refusal 2 "usage" ctl
expect_refusal 1 "cannot connect" ctl ./nosuchsock status

# A socket path someone is listening on is refused, and left alone.
"$VMM" run --kernel "$GUESTS/spin.elf" --api busy.sock --console none </dev/null 2>/dev/null &
pid=$!
wait_for /dev/null x 0 2>/dev/null
n=0
while [ ! -S busy.sock ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
expect_refusal 2 "another process is listening" run --kernel "$K" --api busy.sock
[ -S busy.sock ] || fail "the busy socket was removed"
kill -TERM $pid
wait $pid

# No /dev/kvm: exit 1 and say so plainly (a private mount namespace hides it).
if command -v unshare >/dev/null 2>&1 && unshare -m true 2>/dev/null; then
	rm -f out err
	unshare -m sh -c "mount -t tmpfs none /dev && exec '$VMM' run --kernel '$K'" >out 2>err
	status=$?
	expect_status 1
	expect_err "/dev/kvm does not exist"
else
	fail "cannot make a mount namespace to hide /dev/kvm (unshare -m)"
fi
