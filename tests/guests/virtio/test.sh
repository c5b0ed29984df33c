#!/bin/sh
# virtio-mmio with a minimal in-guest driver: blk read/write/flush/get-id with
# direct and indirect descriptors, ro, ephemeral, rng; then a hostile driver:
# each broken rule puts the disk into NEEDS_RESET with one log line, while
# vmm and the rng device go on and a reset brings the disk back. The same for
# virtio-net over a tap, in a network namespace of the test's own.
. "$TESTLIB"
if [ -z "${NET_NS:-}" ]; then
	exec unshare -n env NET_NS=1 sh "$0"
fi
mkdisk() { printf 'VMMDISK0' >"$1"; truncate -s 1M "$1"; }

mkdisk d.img
run_guest virtio --disk d.img --cmdline "test=blk"
expect_status 0
expect_out "capacity 2048"
expect_out "sector 0: VMMDISK0"
expect_out "write status 0"
expect_out "read back: ABCD"
expect_out "serial: vmm-"
[ "$(dd if=d.img bs=512 skip=2 count=1 2>/dev/null | head -c 4)" = ABCD ] || fail "write did not reach the file"
s1=$(grep serial: out)
run_guest virtio --disk d.img --cmdline "test=blk-indirect"
expect_status 0
expect_out "read back: ABCD"
[ "$(grep serial: out)" = "$s1" ] || fail "serial not stable across runs"

mkdisk ro.img
before=$(cksum <ro.img)
run_guest virtio --disk ro.img,ro --cmdline "test=blk"
expect_status 0
expect_out "write status 1" # VIRTIO_BLK_S_IOERR
[ "$(cksum <ro.img)" = "$before" ] || fail "a ro disk changed"

mkdisk eph.img
before=$(cksum <eph.img)
run_guest virtio --disk eph.img,ephemeral --cmdline "test=blk"
expect_status 0
expect_out "write status 0"
expect_out "read back: ABCD" # the guest sees its own write
[ "$(cksum <eph.img)" = "$before" ] || fail "an ephemeral disk's file changed"

run_guest virtio --cmdline "test=rng"
expect_status 0
expect_out "rng ok: 64 bytes"

for t in loop long outside wrap readonly noheader nostatus badnext badhead jump nested indnext indloop badring; do
	mkdisk h.img
	run_guest virtio --disk h.img --cmdline "test=$t"
	[ "$status" = 0 ] || fail "test=$t: vmm exited $status"
	grep -q "needs reset" out || fail "test=$t: the guest saw no DEVICE_NEEDS_RESET"
	grep -q "recovered" out || fail "test=$t: the disk did not come back after a reset"
	[ "$(grep -c 'virtio-blk@0xd0001000: .*device needs reset' err)" = 1 ] ||
		fail "test=$t: expected exactly one fault line: $(cat err)"
done

# expect_refused ARGS...: vmm run with ARGS exits 2 with one line, and no guest runs.
expect_refused() {
	rm -f out err
	timeout 20 "$VMM" run --kernel "$GUESTS/hello.elf" "$@" >out 2>err </dev/null
	status=$?
	[ "$status" = 2 ] || fail "vmm run $*: exit $status, expected 2"
	[ "$(wc -l <err)" = 1 ] || fail "vmm run $*: expected one line: $(cat err)"
	[ ! -s out ] || fail "vmm run $*: the guest ran"
}

# Bad --disk input: exit 2, one line, nothing started.
truncate -s 1000 odd.img
for args in "--disk missing.img" "--disk odd.img" "--disk d.img --disk d.img" \
	"--disk d.img --disk ./d.img" "--disk d.img,fast" "--disk ,ro"; do
	# shellcheck disable=SC2086
	expect_refused $args
done

# virtio-net: vmm creates the tap vt0; the host side sends an ARP request and,
# once the guest's ARP reply (a transmit) arrived, IPv4 to the guest's MAC.
for t in "net" "net-mrg" "net-mrg mac=02:12:34:56:78:9a"; do
	echo "net: test=$t"
	rm -f out err
	set -- $t
	timeout 30 "$VMM" run --kernel "$GUESTS/virtio.elf" --net "tap=vt0${2:+,$2}" \
		--cmdline "test=$1" >out 2>err </dev/null &
	pid=$!
	wait_for out "net ready" || fail "test=$t: the guest never got ready"
	ip addr add 10.9.9.1/24 dev vt0 && ip link set vt0 up || fail "cannot configure vt0"
	busybox ping -c 1 -W 5 10.9.9.2 >/dev/null 2>&1 & # the guest answers ARP only: this just makes frames
	wait $pid
	status=$?
	[ "$status" = 0 ] || fail "test=$t: vmm exited $status"
	expect_out "rx arp request"
	expect_out "tx arp reply"
	expect_out "rx ipv4 for our mac"
	mac=$(sed -n 's/^mac \([0-9a-f:]*\) link 1.*/\1/p' out | tr -d '\r')
	case "$2" in
	mac=*) [ "$mac" = "${2#mac=}" ] || fail "test=$t: guest sees MAC '$mac'" ;;
	*) case "$mac" in 02:*) ;; *) fail "generated MAC '$mac' is not locally administered" ;; esac
		[ -z "${genmac:-}" ] || [ "$genmac" = "$mac" ] || fail "generated MAC changed: $genmac, $mac"
		genmac=$mac ;;
	esac
	grep -q "needs reset" err && fail "test=$t: unexpected fault: $(cat err)"
done

for t in net-writable net-short net-gso net-csum net-csumrange net-flags net-huge net-loop net-rxread net-rxshort; do
	echo "net: test=$t"
	run_guest virtio --net tap=vt1 --cmdline "test=$t"
	[ "$status" = 0 ] || fail "test=$t: vmm exited $status"
	grep -q "needs reset" out || fail "test=$t: the guest saw no DEVICE_NEEDS_RESET"
	grep -q "recovered" out || fail "test=$t: the net device did not come back after a reset"
	[ "$(grep -c 'virtio-net@0xd0001000: .*device needs reset' err)" = 1 ] ||
		fail "test=$t: expected exactly one fault line: $(cat err)"
done

# The tap disappears under a running VM: one log line, the guest's frames are
# dropped (its transmits still complete), vmm goes on.
echo "net: test=net-lost"
rm -f out err
timeout 30 "$VMM" run --kernel "$GUESTS/virtio.elf" --net tap=vt3 --cmdline "test=net-lost" \
	>out 2>err </dev/null &
pid=$!
wait_for out "net ready" || fail "test=net-lost: the guest never got ready"
ip link delete vt3 || fail "cannot delete vt3"
wait $pid
status=$?
expect_status 0
expect_out "transmits completed after the tap went away"
[ "$(grep -c 'tap vt3 failed (.*); its frames are dropped from now on' err)" = 1 ] ||
	fail "test=net-lost: expected one line about the lost tap: $(cat err)"

# Bad --net input, or a tap that may not be created: exit 2, one line, nothing started.
for args in "--net tap=" "--net mac=02:00:00:00:00:01" "--net tap=a,tap=b" "--net tap=a,mac=zz" \
	"--net tap=a,mac=01:00:00:00:00:01" "--net tap=a --net tap=a" "--net tap=a,fast" \
	"--net tap=a,mac=02:00:00:00:00:01 --net tap=b,mac=02:00:00:00:00:01" \
	"--net tap=name-longer-than-15" "--net tap=a/b"; do
	# shellcheck disable=SC2086
	expect_refused $args
done
rm -f out err
unshare -U timeout 20 "$VMM" run --kernel "$GUESTS/hello.elf" --net tap=vt2 >out 2>err </dev/null
status=$?
[ "$status" = 2 ] || fail "a tap without permission to create it: exit $status, expected 2: $(cat err)"
grep -q "tap=vt2: it does not exist and creating it is not permitted (Operation not permitted)" err ||
	fail "no reason given: $(cat err)"
[ ! -s out ] || fail "the guest ran without its tap"
