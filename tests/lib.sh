# Helpers for test scripts (POSIX sh: they also run inside the nested tier's
# busybox). A test script exits 0 on success; on failure it prints why.
# Environment: VMM (the binary), GUESTS (dir of tiny guest ELFs), GUEST (dir
# of the Linux guest), TIER (host or nested). The cwd is a scratch directory.

fail() {
	echo "FAIL: $*"
	for f in out err; do
		if [ -s "$f" ]; then
			echo "--- last lines of $f:"
			tail -n 15 "$f"
		fi
	done
	exit 1
}

# run_guest NAME [vmm run args...]: run a tiny guest; output in ./out and
# ./err, exit status in $status. Times out after ${TIMEOUT:-30} seconds.
run_guest() {
	name=$1
	shift
	timeout "${TIMEOUT:-30}" "$VMM" run --kernel "$GUESTS/$name.elf" "$@" >out 2>err </dev/null
	status=$?
}

expect_status() {
	[ "$status" = "$1" ] || fail "vmm exited $status, expected $1"
}

expect_out() {
	grep -q -- "$1" out || fail "guest output lacks '$1'"
}

expect_err() {
	grep -q -- "$1" err || fail "vmm stderr lacks '$1'"
}

# wait_for FILE PATTERN [SECONDS]: poll until FILE contains PATTERN.
wait_for() {
	n=0
	limit=$(( ${3:-20} * 10 ))
	while ! grep -q -- "$2" "$1" 2>/dev/null; do
		n=$((n + 1))
		[ $n -gt $limit ] && return 1
		sleep 0.1
	done
	return 0
}

# run_linux [vmm run args...] -- CMD...: boot the bundled Linux guest (PVH
# vmlinux, uncompressed initramfs); output in ./out and ./err, status in $status.
run_linux() {
	timeout "${TIMEOUT:-120}" "$VMM" run --kernel "$GUEST/vmlinux" --initrd "$GUEST/initramfs.cpio" "$@" \
		>out 2>err </dev/null
	status=$?
}

# ms_of EVENT: the "at N ms" time of the first such event on ./err
ms_of() {
	sed -n "s/.*event $1 .* at \([0-9]*\) ms.*/\1/p; s/.*event $1 at \([0-9]*\) ms.*/\1/p" err | head -n1
}
