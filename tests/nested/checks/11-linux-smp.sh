#!/bin/sh
# --cpus 2: Linux finds both CPUs in the MP table and brings them online.
. "$TESTLIB"
timeout 120 "$VMM" run --cpus 2 --kernel "$GUEST/bzImage" --initrd "$GUEST/initramfs.cpio" \
	-- sh -c 'echo online=$(cat /sys/devices/system/cpu/online) nproc=$(nproc)' >out 2>err </dev/null
status=$?
expect_status 0
expect_out "online=0-1 nproc=2"
