#!/bin/sh
# Two vCPUs: the AP waits for INIT/SIPI and has its own APIC id from CPUID.
. "$TESTLIB"
run_guest smp --cpus 2
expect_status 0
expect_out "smp: bsp apic id 0, ap apic id 1"
