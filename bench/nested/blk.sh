#!/bin/sh
# Runs inside the nested tier's L1 (see bench/blk.sh): block I/O from the
# same Linux guest under vmm and under QEMU's microvm (virtio-blk on
# virtio-mmio), both backed by one image file in L1, and the same I/O run
# directly in L1 against that file as the ceiling. Loads, by iobench, all
# O_DIRECT in the guest: sequential 1 MiB reads and writes, 4 KiB random
# reads and writes at queue depth 1 and 8.
. "$TESTLIB"
. "${BENCHLIB:-/payload/src/bench/lib.sh}"
SECS=${BENCH_SECONDS:-4}
RUNS=${BENCH_RUNS:-3}
BIN=$(dirname "$VMM")
K="$GUEST/vmlinux"
CMDLINE="console=ttyS0 reboot=t panic=-1 quiet"
QEMU=$(command -v qemu-system-x86_64) || fail "no QEMU in L1"
LOADS="seqread:1 seqwrite:1 randread:1 randread:8 randwrite:1 randwrite:8"
JOB=""
for l in $LOADS; do
	JOB="$JOB iobench /dev/vda ${l%:*} $SECS ${l#*:};"
done

# QEMU's microvm announces virtio-mmio devices to a kernel without ACPI by
# appending virtio_mmio.device=512@0xfeb00000+512*N:IRQ to the command line
# (auto-kernel-cmdline). Appended after our "--", the kernel would hand it to
# init instead of reading it, and no /dev/vda appears. So the announcement is
# ours, before the "--": the disk on transport 0, at 0xfeb00000, on IRQ 5
# (QEMU 7.2 hw/i386/microvm.c: virtio_irq_base 5 with one IOAPIC, acpi=off).
QEMU_MMIO="virtio_mmio.device=512@0xfeb00000:5"

# The guest's initramfs plus iobench: the kernel unpacks concatenated archives.
mkdir -p extra/bin
cp "$BIN/iobench" extra/bin/
(cd extra && find bin | cpio -o -H newc 2>/dev/null) >extra.cpio
cat "$GUEST/initramfs.cpio" extra.cpio >bench.cpio
dd if=/dev/urandom of=disk.img bs=1M count=256 2>/dev/null

# A guest that hangs costs one run, not the whole bench (its rows come up short).
LIMIT=$((SECS * 6 * 4 + 120))
for r in $(seq "$RUNS"); do
	timeout -k 5 $LIMIT "$VMM" run --mem 512M --kernel "$K" --initrd bench.cpio --cmdline "$CMDLINE" --disk disk.img \
		-- sh -c "$JOB" </dev/null 2>>vmm.err | sed 's/^/vmm /' >>results
	timeout -k 5 $LIMIT "$QEMU" -L /usr/share/qemu \
		-M microvm,x-option-roms=off,rtc=off,isa-serial=on,acpi=off,auto-kernel-cmdline=off \
		-accel kvm -cpu host -m 512M -smp 1 -nodefaults -no-user-config -nographic \
		-serial stdio -no-reboot -kernel "$K" -initrd bench.cpio \
		-drive id=d0,file=disk.img,format=raw,if=none \
		-device virtio-blk-device,drive=d0,bus=virtio-mmio-bus.0 \
		-append "$CMDLINE $QEMU_MMIO -- \"sh\" \"-c\" \"$JOB\"" </dev/null 2>>qemu.err |
		sed 's/^/qemu /' >>results
	for l in $LOADS; do
		"$BIN/iobench" disk.img "${l%:*}" "$SECS" "${l#*:}" | sed 's/^/l1 /' >>results
	done
done
tr -d '\r' <results >results.txt
for who in vmm qemu l1; do
	n=$(grep -c "^$who [a-z]*-qd[0-9]* " results.txt)
	[ "$n" -eq $((RUNS * 6)) ] ||
		fail "$who gave $n of $((RUNS * 6)) results: $(tail -n 5 $who.err 2>/dev/null) $(grep "^$who" results.txt | tail -n 5)"
done
get() { # get WHO LOAD FIELD(2=MiB/s,4=IOPS)
	awk -v w="$1" -v m="$2" -v f="$3" '$1 == w && $2 == m {print $(f + 1)}' results.txt | median
}
echo "BENCH nested tier block I/O ($RUNS runs, ${SECS}s each; medians; guest O_DIRECT;"
echo "BENCH both VMMs buffer in L1's page cache (QEMU cache=writeback); the L1 file is on tmpfs, buffered)"
printf '| %-20s | %10s | %10s | %10s | %8s | %8s |\n' "load" "vmm" "QEMU" "L1 direct" "vmm/QEMU" "vmm/L1"
printf '|%s|%s|%s|%s|%s|%s|\n' "----------------------" "------------" "------------" "------------" "----------" "----------"
for l in $LOADS; do
	m=${l%:*}-qd${l#*:}
	f=4
	unit=IOPS
	case $m in seq*) f=2 unit=MiB/s ;; esac
	v=$(get vmm "$m" $f)
	q=$(get qemu "$m" $f)
	h=$(get l1 "$m" $f)
	printf '| %-20s | %10s | %10s | %10s | %8s | %8s |\n' "$m ($unit)" "$v" "$q" "$h" "$(ratio "$v" "$q")" "$(ratio "$v" "$h")"
done
echo "BENCH each run, in order:"
for l in $LOADS; do
	m=${l%:*}-qd${l#*:}
	f=4
	case $m in seq*) f=2 ;; esac
	for who in vmm qemu l1; do
		echo "BENCH   $m $who: $(awk -v w=$who -v m="$m" -v f=$f '$1 == w && $2 == m {printf "%s ", $(f + 1)}' results.txt)"
	done
done
