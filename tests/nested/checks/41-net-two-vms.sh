#!/bin/sh
# Two VMs at once, each on its own tap (vmm creates both) with its own subnet:
# each guest pings its host side and fetches 4 MiB with busybox nc, md5sum
# matching. Meanwhile a third vmm asking for a tap that is in use exits 2
# naming the reason.
. "$TESTLIB"
[ -c /dev/net/tun ] || fail "/dev/net/tun missing (is tun.ko loaded in L1?)"
if [ -z "${NET_NS:-}" ]; then
	NET_NS=1 exec unshare -n env NET_NS=1 sh "$0"
fi
ip link set lo up
head -c 4194304 /dev/urandom >data.bin || fail "cannot make the test data"
want=$(md5sum <data.bin | cut -d' ' -f1)
CMD="console=ttyS0 reboot=k panic=-1 i8042.noaux i8042.nomux i8042.nopnp quiet"
start_vm() { # start_vm N: tap vtap$N, 10.0.$N.2/24, host 10.0.$N.1 serving data.bin on port 5000+N
	nc -l -p $((5000 + $1)) <data.bin >/dev/null &
	JOB="i=0; until ping -c 1 -W 1 10.0.$1.1 >/dev/null 2>&1; do i=\$((i+1)); [ \$i -lt 30 ] || exit 3; done; echo ping-ok; mkfifo /tmp/h; sleep 600 >/tmp/h & nc 10.0.$1.1 $((5000 + $1)) </tmp/h >/tmp/in.bin || exit 4; echo got \$(md5sum </tmp/in.bin); kill \$!"
	timeout 100 "$VMM" run --mem 256M --kernel "$GUEST/vmlinux" --initrd "$GUEST/initramfs.cpio" \
		--cmdline "$CMD vmm.ip=10.0.$1.2/24" --net tap=vtap$1 -- sh -c "$JOB" >out$1 2>err$1 </dev/null &
}
configure() { # configure N: once vmm made the tap, give the host side its address
	n=0
	until ip link show vtap$1 >/dev/null 2>&1; do
		n=$((n + 1))
		[ $n -lt 100 ] || fail "vmm never created the tap vtap$1: $(cat err$1)"
		sleep 0.1
	done
	ip addr add 10.0.$1.1/24 dev vtap$1 && ip link set vtap$1 up || fail "cannot configure vtap$1"
}
start_vm 1
vm1=$!
start_vm 2
vm2=$!
configure 1
configure 2

# The first VM holds vtap1: a third vmm cannot have it.
rm -f out err
timeout 20 "$VMM" run --kernel "$GUESTS/hello.elf" --net tap=vtap1 >out 2>err </dev/null
status=$?
expect_status 2
expect_err "tap=vtap1: it is in use by another process"
[ ! -s out ] || fail "the third VM ran"

wait $vm1
s1=$?
wait $vm2
s2=$?
for n in 1 2; do
	echo "--- vm $n"
	cat out$n err$n
done
[ $s1 = 0 ] && [ $s2 = 0 ] || fail "vmm exited $s1 and $s2"
for n in 1 2; do
	grep -q ping-ok out$n || fail "vm $n could not ping its host side"
	got=$(sed -n 's/^got \([0-9a-f]*\).*/\1/p' out$n | tr -d '\r')
	[ "$got" = "$want" ] || fail "vm $n: md5 '$got', sent $want"
	grep -q "needs reset" err$n && fail "vm $n: the device reported a fault"
done
exit 0
