#!/bin/sh
# i8042 self-test and command byte, then the 0xfe reset pulse (reboot=k) ends the VM.
. "$TESTLIB"
run_guest i8042
expect_status 0
expect_out "i8042 self-test ok, command byte 0x00000045"
expect_err "i8042 reset"
