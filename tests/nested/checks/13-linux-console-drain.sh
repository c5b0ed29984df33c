#!/bin/sh
# Output the command leaves in the UART's transmit buffer as it exits still
# reaches the console: with --cpus 2 the transmit interrupt runs on one CPU
# while the command exits on the other, and the hang-up of the command's
# terminal used to throw the rest away.
. "$TESTLIB"
INITRD=${DRAIN_INITRD:-$GUEST/initramfs.cpio}
timeout 120 "$VMM" run --cpus 2 --kernel "$GUEST/vmlinux" --initrd "$INITRD" \
	-- sh -c 'i=0; while [ $i -lt 40 ]; do echo drain-line-$i-0123456789abcdefghijklmnopqrstuvwxyz; i=$((i+1)); done' \
	>out 2>err </dev/null
status=$?
expect_status 0
expect_out "drain-line-39-0123456789abcdefghijklmnopqrstuvwxyz"
