#!/bin/sh
# Runs inside the nested tier's L1 (see bench/boot.sh): the bundled Linux
# guest (PVH vmlinux + uncompressed initramfs, the same files for both VMMs)
# under vmm and under QEMU's microvm machine, RUNS times each, alternating.
#   exec-to-init: until the job's first output line (init has started it)
#   exec-to-exit: until the VMM process has exited
. "$TESTLIB"
. "${BENCHLIB:-/payload/src/bench/lib.sh}"
RUNS=${BENCH_RUNS:-10}
FT=$(dirname "$VMM")/firsttime
K="$GUEST/vmlinux"
I="$GUEST/initramfs.cpio"
CMDLINE="console=ttyS0 reboot=t panic=-1 quiet"
QEMU=$(command -v qemu-system-x86_64) || fail "no QEMU in L1"
QEMU_SHARE=/usr/share/qemu

qemu_boot() {
	"$QEMU" -L "$QEMU_SHARE" \
		-M microvm,x-option-roms=off,rtc=off,isa-serial=on,acpi=off -accel kvm -cpu host \
		-m 128M -smp 1 -nodefaults -no-user-config -nographic -serial stdio -no-reboot \
		-kernel "$K" -initrd "$I" -append "$CMDLINE -- \"echo\" \"init-reached\""
}
# One run first with its messages kept: a QEMU that cannot start says why.
qemu_boot >q.out 2>q.err </dev/null
grep -q init-reached q.out || fail "QEMU did not reach init: $(tail -n 5 q.err) $(tail -n 5 q.out)"
: >vmm.txt
: >qemu.txt
for i in $(seq "$RUNS"); do
	"$FT" -n 1 -m init-reached -- "$VMM" run --kernel "$K" --initrd "$I" --cmdline "$CMDLINE" \
		--console stdio -- echo init-reached 2>/dev/null >>vmm.txt
	"$FT" -n 1 -m init-reached -- "$QEMU" -L "$QEMU_SHARE" \
		-M microvm,x-option-roms=off,rtc=off,isa-serial=on,acpi=off -accel kvm -cpu host \
		-m 128M -smp 1 -nodefaults -no-user-config -nographic -serial stdio -no-reboot \
		-kernel "$K" -initrd "$I" -append "$CMDLINE -- \"echo\" \"init-reached\"" \
		2>/dev/null >>qemu.txt
done
awk '$1 < 0 {bad = 1} END {exit bad}' vmm.txt qemu.txt || fail "a run never reached init: $(cat vmm.txt qemu.txt)"
vi=$(cut -d' ' -f1 vmm.txt | median)
ve=$(cut -d' ' -f2 vmm.txt | median)
qi=$(cut -d' ' -f1 qemu.txt | median)
qe=$(cut -d' ' -f2 qemu.txt | median)
echo "BENCH nested tier (Linux guest, $RUNS runs each, medians; software-emulated: compare ratios only)"
header "nested tier (Linux 6.1 guest)" "QEMU"
row "exec to init (job's first output)" "$vi" "$qi" ms
row "exec to exit" "$ve" "$qe" ms
# Runs alternate, so run i of each saw about the same load from the rest of
# the machine: the ratios of those pairs spread less than the medians do.
pairs=$(paste -d' ' vmm.txt qemu.txt | awk '{printf "%.3f\n", $1 / $4}' | sort -n)
echo "exec-to-init ratio of each run pair: median $(echo "$pairs" | median)," \
	"range $(echo "$pairs" | head -n 1)-$(echo "$pairs" | tail -n 1)"
echo "raw vmm: $(tr '\n' ';' <vmm.txt)"
echo "raw qemu: $(tr '\n' ';' <qemu.txt)"
