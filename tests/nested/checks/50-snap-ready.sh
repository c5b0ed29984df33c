#!/bin/sh
# Boot once with 2 vCPUs, snapshot at READY, then 10 restores at once from
# that one file: each gets its own command on the console (vmm.cmd=console,
# sent by `vmm restore FILE -- CMD`), prints its own line and session id, and
# exits with its own status; a restore that hangs is ended after 60 s, inside
# the check's limit, so the failure shows its output. (Commands end with a second of sleep: when the
# job exits, the kernel hangs up its console and drops output not yet sent.)
. "$TESTLIB"
CMDLINE="console=ttyS0 reboot=k panic=-1 i8042.noaux i8042.nomux i8042.nopnp quiet vmm.cmd=console"
run_linux --cpus 2 --cmdline "$CMDLINE" --snapshot-on-ready ready.vmm
expect_status 0
expect_err "event snapshot-written"
[ -f ready.vmm ] || fail "no snapshot file"
i=1
while [ $i -le 10 ]; do
	timeout 60 "$VMM" restore ready.vmm -- sh -c 'vmm-guest session; echo restored-'$i'; sleep 1; exit '$i \
		>r$i.out 2>r$i.err </dev/null &
	eval p$i=$!
	i=$((i + 1))
done
i=1
while [ $i -le 10 ]; do
	eval wait \$p$i
	st=$?
	[ $st = $i ] || fail "restore $i exited $st: $(tail -n 5 r$i.err) / $(tail -n 5 r$i.out)"
	grep -q "restored-$i" r$i.out || fail "restore $i did not run its command: $(cat r$i.out)"
	grep -q "sh -c" r$i.out && fail "restore $i echoed its command line"
	i=$((i + 1))
done
sessions=$(cat r*.out | grep -v restored | sort -u | wc -l)
[ "$sessions" -ge 10 ] || fail "session ids are not all different ($sessions distinct)"
