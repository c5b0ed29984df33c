#!/bin/sh
# Console on a terminal: raw mode while the guest runs (keys reach it one by
# one, Ctrl-C included), the terminal restored on exit, Ctrl-A x quits.
. "$TESTLIB"
exec python3 "$ROOT/tests/host/console_tty.py" "$VMM" "$GUESTS"
