#!/bin/sh
# Heartbeat registers: MAGIC, VERSION, SESSION, HOST_TIME, unused offsets, READY, EXIT low 8 bits.
. "$TESTLIB"
run_guest heartbeat
expect_status 42
expect_out "heartbeat session 0x"
expect_err "event guest-ready"
s1=$(grep "heartbeat session" out)
run_guest heartbeat
s2=$(grep "heartbeat session" out)
[ "$s1" != "$s2" ] || fail "two starts had the same session id: $s1"
