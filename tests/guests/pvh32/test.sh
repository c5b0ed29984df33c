#!/bin/sh
# 32-bit PVH entry: hvm_start_info, command line and memory map, and the EXIT status.
. "$TESTLIB"
run_guest pvh32 --cmdline "exit=7 marker-xyz"
expect_status 7
expect_out "pvh32 cmdline: virtio_mmio.device=4K@0xd0001000:5 exit=7 marker-xyz"
expect_out "pvh32 memmap entries: 4"
run_guest pvh32 --cmdline "exit=0" --mem 5G
expect_status 0
expect_out "pvh32 memmap entries: 5"
run_guest pvh32 --cmdline "exit=511"
expect_status 255
