#!/bin/sh
# A tap that vmm may not create or use: exit 2 with one line naming the tap
# and the reason, and no guest started. Without CAP_NET_ADMIN (a user
# namespace of its own, in which vmm is not privileged over L1's network), and
# a name that belongs to an interface that is not a tap.
. "$TESTLIB"
[ -c /dev/net/tun ] || fail "/dev/net/tun missing (is tun.ko loaded in L1?)"
refused() { # refused REASON ARGS...
	reason=$1
	shift
	rm -f out err
	timeout 20 "$@" >out 2>err </dev/null
	status=$?
	expect_status 2
	[ "$(wc -l <err)" = 1 ] || fail "expected one line: $(cat err)"
	expect_err "$reason"
	[ ! -s out ] || fail "the guest ran"
	cat err
}
refused "tap=vnone: it does not exist and creating it is not permitted (Operation not permitted)" \
	unshare -U "$VMM" run --kernel "$GUEST/vmlinux" --initrd "$GUEST/initramfs.cpio" --net tap=vnone -- true
ip link show vnone >/dev/null 2>&1 && fail "the tap was created anyway"
refused "tap=lo: an interface of that name exists and is not a tap" \
	"$VMM" run --kernel "$GUEST/vmlinux" --initrd "$GUEST/initramfs.cpio" --net tap=lo -- true
exit 0
