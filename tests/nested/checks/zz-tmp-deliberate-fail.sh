#!/bin/sh
# TEMPORARY: verifies that a failure is reported with its output.
for i in $(seq 1 35); do echo "output line $i"; done
echo "FAIL: deliberate failure to test reporting"
exit 2
