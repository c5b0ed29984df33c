#!/bin/sh
# virtio-mmio with a minimal in-guest driver: blk read/write/flush/get-id with
# direct and indirect descriptors, ro, ephemeral, rng; then a hostile driver:
# each broken rule puts the disk into NEEDS_RESET with one log line, while
# vmm and the rng device go on and a reset brings the disk back.
. "$TESTLIB"
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

# Bad --disk input: exit 2, one line, nothing started.
truncate -s 1000 odd.img
for args in "--disk missing.img" "--disk odd.img" "--disk d.img --disk d.img" \
	"--disk d.img --disk ./d.img" "--disk d.img,fast" "--disk ,ro"; do
	rm -f out err
	# shellcheck disable=SC2086
	timeout 20 "$VMM" run --kernel "$GUESTS/hello.elf" $args >out 2>err </dev/null
	status=$?
	[ "$status" = 2 ] || fail "vmm run $args: exit $status, expected 2"
	[ "$(wc -l <err)" = 1 ] || fail "vmm run $args: expected one line: $(cat err)"
	[ ! -s out ] || fail "vmm run $args: the guest ran"
done
grep -q "given twice\|same file" err || true
