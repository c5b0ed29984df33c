#!/bin/sh
# The smallest whole VM: a 64-bit ELF guest prints a line and exits 0 through EXIT.
. "$TESTLIB"
run_guest hello
expect_status 0
expect_out "hello from a 64-bit guest"
expect_err "guest-exit"
