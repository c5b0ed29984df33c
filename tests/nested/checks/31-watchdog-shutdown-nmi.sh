#!/bin/sh
# shutdown: Ctrl-Alt-Del through the i8042 reaches init, which powers off
# cleanly; vmm exits 124. inject-nmi: a guest set to panic on an unknown NMI
# panics and reboots.
. "$TESTLIB"
WD='watchdog -T 2 -t 1 /dev/watchdog; sleep 3; echo killing; kill -9 $(pidof watchdog)'

run_linux --watchdog-action shutdown -- sh -c "$WD; sleep 60; echo SURVIVED"
expect_status 124
expect_out killing
expect_out "Ctrl-Alt-Del: powering off"
expect_err 'watchdog-expired "action":"shutdown"'
grep -q "did not shut down" err && fail "the guest ignored Ctrl-Alt-Del; vmm powered it off"

run_linux --watchdog-action inject-nmi -- sh -c "echo 1 >/proc/sys/kernel/unknown_nmi_panic; $WD; sleep 60; echo SURVIVED"
expect_err 'watchdog-expired "action":"inject-nmi"'
grep -q SURVIVED out && fail "the NMI did not reach the guest"
expect_status 0 # the panic reboots (panic=-1), which ends the VM
