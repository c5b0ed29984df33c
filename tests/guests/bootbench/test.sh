#!/bin/sh
# The boot benchmark's PVH guest boots and exits 0 on vmm.
. "$TESTLIB"
run_guest bootbench
expect_status 0
expect_out "bootbench: guest running"
