#!/usr/bin/env bash
# Boot benchmark, side by side with QEMU's microvm machine (Debian's
# qemu-system-x86, KVM, no option ROMs, console on serial):
#   host tier:   a tiny PVH guest that prints a line and exits, on this host's /dev/kvm:
#                exec-to-first-guest-output and exec-to-exit, medians of RUNS runs;
#                the VMM's memory overhead and binary size.
#   nested tier: the bundled Linux guest (same kernel and initramfs for both)
#                inside the L1 VM: exec-to-init and exec-to-exit.
# Usage: bench/boot.sh [host|nested|all]   (RUNS=20 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-20}
WHAT=${1:-all}
B=build
QEMU=${QEMU:-qemu-system-x86_64}
GUEST=$B/tests/guests/bootbench.elf
MARK="bootbench: guest running"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

vmm_cmd() { echo "$B/vmm run --kernel $GUEST --mem 128M"; }
qemu_cmd() {
	echo "$QEMU -M microvm,x-option-roms=off,rtc=off,isa-serial=on -accel kvm" \
		"-cpu host,-arch-capabilities -m 128M -nodefaults -no-user-config -nographic" \
		"-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot -kernel $GUEST"
}

host_tier() {
	[ -c /dev/kvm ] || { echo "bench/boot.sh: /dev/kvm missing" >&2; exit 1; }
	echo "host tier: $RUNS runs each, alternating, tiny PVH guest, 128 MiB"
	: >"$TMP/vmm" ; : >"$TMP/qemu"
	for _ in $(seq "$RUNS"); do
		$B/firsttime -n 1 -m "$MARK" -- $(vmm_cmd) 2>/dev/null >>"$TMP/vmm"
		$B/firsttime -n 1 -m "$MARK" -- $(qemu_cmd) 2>/dev/null >>"$TMP/qemu"
	done
	if awk '$1 < 0' "$TMP/vmm" "$TMP/qemu" | grep -q .; then
		echo "bench/boot.sh: a run never printed the guest's line" >&2
		exit 1
	fi
	vf=$(cut -d' ' -f1 "$TMP/vmm" | median); ve=$(cut -d' ' -f2 "$TMP/vmm" | median)
	qf=$(cut -d' ' -f1 "$TMP/qemu" | median); qe=$(cut -d' ' -f2 "$TMP/qemu" | median)

	# Memory: peak RSS of the whole process (GNU time), and vmm's own count
	# of peak RSS minus the guest RAM that is resident.
	vr=$( (/usr/bin/time -f 'rss %M' $(vmm_cmd) >/dev/null) 2>&1 | awk '/^rss/ {print $2}')
	# QEMU leaves through isa-debug-exit, whose status is 1 by design.
	qr=$( (/usr/bin/time -f 'rss %M' $(qemu_cmd) >/dev/null || true) 2>&1 | awk '/^rss/ {print $2}')
	over=$(VMM_STATS=1 $(vmm_cmd) 2>&1 >/dev/null | sed -n 's/.*overhead_kib=\([0-9]*\).*/\1/p')
	vsize=$(stat -c %s $B/vmm)
	qbin=$(command -v "$QEMU")
	qsize=$(stat -c %s "$qbin")
	qlibs=$(ldd "$qbin" | awk '/=>/ {print $3}' | xargs -r stat -L -c %s | awk '{s+=$1} END {print s+0}')

	echo
	header "host tier (tiny guest, medians)" "QEMU"
	row "exec to first guest output" "$vf" "$qf" ms
	row "exec to exit" "$ve" "$qe" ms
	row "peak RSS of the process (GNU time)" "$vr" "$qr" KiB
	row "binary size" "$((vsize / 1024))" "$((qsize / 1024))" KiB
	row "binary + shared libraries" "$((vsize / 1024))" "$(((qsize + qlibs) / 1024))" KiB
	echo
	echo "vmm's own memory overhead (peak RSS minus guest RAM resident): $over KiB"
	echo "raw runs (first_ms exit_ms status) in build/bench-boot-host.txt"
	{ echo "# vmm"; cat "$TMP/vmm"; echo "# qemu"; cat "$TMP/qemu"; } >$B/bench-boot-host.txt
}

# The nested tier: bench/nested/boot.sh inside the L1 VM, its table printed here.
nested_tier() {
	echo
	echo "nested tier: booting L1 (QEMU TCG, emulated SVM); about 2-4 minutes"
	NESTED_BENCH=boot NESTED_VERBOSE=1 NESTED_CHECK_TIMEOUT=1500 BENCH_RUNS=${NESTED_RUNS:-10} \
		tests/nested/run.sh >"$B/bench-boot-nested.log" 2>&1 || true
	sed -n 's/^ *\[bench\/boot\] //p' "$B/bench-boot-nested.log" | grep -v '^raw' || true
	grep -q '^PASS bench/boot' "$B/bench-boot-nested.log" ||
		{ echo "bench/boot.sh: the nested run failed; see $B/bench-boot-nested.log" >&2; exit 1; }
}

case "$WHAT" in
host) host_tier ;;
nested) nested_tier ;;
all) host_tier; nested_tier ;;
*) echo "usage: bench/boot.sh [host|nested|all]" >&2; exit 2 ;;
esac
