#!/bin/sh
# The Linux guest boots (bzImage and PVH vmlinux), runs the command after --,
# and vmm exits with its status; the guest signals READY on the way.
. "$TESTLIB"
K="$GUEST/bzImage"
I="$GUEST/initramfs.cpio"
timeout 120 "$VMM" run --kernel "$K" --initrd "$I" -- sh -c 'echo marker-from-linux; exit 7' >out 2>err </dev/null
status=$?
expect_status 7
expect_out "marker-from-linux"
expect_err "event guest-ready"
timeout 120 "$VMM" run --kernel "$GUEST/vmlinux" --initrd "$I" -- sh -c 'exit 0' >out 2>err </dev/null
status=$?
expect_status 0
timeout 120 "$VMM" run --kernel "$GUEST/vmlinux" --initrd "$I" -- false >out 2>err </dev/null
status=$?
expect_status 1
