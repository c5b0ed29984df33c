#!/bin/sh
# A triple fault ends the VM like a reset: status 0, the reason logged.
. "$TESTLIB"
run_guest triplefault
expect_status 0
expect_out "triple fault next"
expect_err "triple fault"
