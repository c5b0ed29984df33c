#!/bin/sh
# Console input: bytes on vmm's stdin reach the guest through the UART's receive path.
. "$TESTLIB"
printf 'hello vmm\n' | timeout 30 "$VMM" run --kernel "$GUESTS/echo.elf" >out 2>err
status=$?
expect_status 0
expect_out "echo ready"
expect_out "HELLO VMM"
