#!/bin/sh
# Runs inside the nested tier's L1 (see bench/blk.sh): block I/O from the
# same Linux guest under vmm and under QEMU's microvm (virtio-blk on
# virtio-mmio), both backed by one image file in L1, and the same I/O run
# directly in L1 against that file as the ceiling. Loads, by iobench:
# sequential 1 MiB reads and writes, 4 KiB random reads at queue depth 8.
. "$TESTLIB"
. "${BENCHLIB:-/payload/src/bench/lib.sh}"
SECS=${BENCH_SECONDS:-4}
RUNS=${BENCH_RUNS:-3}
BIN=$(dirname "$VMM")
K="$GUEST/vmlinux"
CMDLINE="console=ttyS0 reboot=t panic=-1 quiet"
QEMU=$(command -v qemu-system-x86_64) || fail "no QEMU in L1"
JOB="iobench /dev/vda seqread $SECS; iobench /dev/vda seqwrite $SECS; iobench /dev/vda randread $SECS 8"

# The guest's initramfs plus iobench: the kernel unpacks concatenated archives.
mkdir -p extra/bin
cp "$BIN/iobench" extra/bin/
(cd extra && find bin | cpio -o -H newc 2>/dev/null) >extra.cpio
cat "$GUEST/initramfs.cpio" extra.cpio >bench.cpio
dd if=/dev/urandom of=disk.img bs=1M count=256 2>/dev/null

for r in $(seq "$RUNS"); do
	"$VMM" run --mem 512M --kernel "$K" --initrd bench.cpio --cmdline "$CMDLINE" --disk disk.img \
		-- sh -c "$JOB" </dev/null 2>/dev/null | sed 's/^/vmm /' >>results
	"$QEMU" -L /usr/share/qemu -M microvm,x-option-roms=off,rtc=off,isa-serial=on,acpi=off,ioapic2=off \
		-accel kvm -cpu host -m 512M -smp 1 -nodefaults -no-user-config -nographic \
		-serial stdio -no-reboot -kernel "$K" -initrd bench.cpio \
		-drive id=d0,file=disk.img,format=raw,if=none -device virtio-blk-device,drive=d0 \
		-append "$CMDLINE -- \"sh\" \"-c\" \"$JOB\"" </dev/null 2>>qemu.err | sed 's/^/qemu /' >>results
	for m in "seqread $SECS" "seqwrite $SECS" "randread $SECS 8"; do
		# shellcheck disable=SC2086
		"$BIN/iobench" disk.img $m | sed 's/^/l1 /' >>results
	done
done
tr -d '\r' <results >results.txt
grep -q '^qemu seqread' results.txt || fail "QEMU gave no results: $(tail -n 5 qemu.err) $(grep '^qemu' results.txt | tail -n 5)"
get() { # get WHO MODE FIELD(2=MiB/s,4=IOPS)
	awk -v w="$1" -v m="$2" -v f="$3" '$1 == w && $2 == m {print $(f + 1)}' results.txt | median
}
echo "BENCH nested tier block I/O ($RUNS runs, ${SECS}s each; medians; L1 file on tmpfs, so L1 is buffered)"
printf '| %-30s | %10s | %10s | %10s | %8s | %8s |\n' "load" "vmm" "QEMU" "L1 direct" "vmm/QEMU" "vmm/L1"
printf '|%s|%s|%s|%s|%s|%s|\n' "--------------------------------" "------------" "------------" "------------" "----------" "----------"
for m in seqread seqwrite randread; do
	f=2
	unit=MiB/s
	[ $m = randread ] && f=4 && unit=IOPS
	v=$(get vmm $m $f)
	q=$(get qemu $m $f)
	l=$(get l1 $m $f)
	printf '| %-30s | %10s | %10s | %10s | %8s | %8s |\n' "$m ($unit)" "$v" "$q" "$l" "$(ratio "$v" "$q")" "$(ratio "$v" "$l")"
done
grep -c . results.txt >/dev/null
