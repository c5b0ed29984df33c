#!/bin/sh
# Runs inside the nested tier's L1 (NESTED_BENCH=bootprofile tests/nested/run.sh):
# where the Linux guest's boot time goes, under vmm and under QEMU's microvm
# machine, with the same kernel, initramfs and command line as bench/nested/boot.sh
# plus initcall_debug. Messages go to the kernel's log buffer only (quiet console);
# the guest's job prints them at the end (dmesg), so logging costs no UART exits.
# Prints, for each VMM: wall ms to init and to exit, the guest's clock at /init
# and at the job's start, KVM_CREATE_VM to the guest's kvm-clock start, the
# guest's clock at milestones, the slowest initcalls (named from System.map),
# the whole log (PROFILE_FULL=0 leaves it out), and vmm's stderr.
. "$TESTLIB"
K="$GUEST/vmlinux"
I="$GUEST/initramfs.cpio"
CMDLINE="console=ttyS0 reboot=t panic=-1 quiet initcall_debug printk.time=1 log_buf_len=1M"
QEMU=$(command -v qemu-system-x86_64) || fail "no QEMU in L1"
FT=$(dirname "$VMM")/firsttime
# The job stamps its start into the kernel log (guest clock), then prints the log.
JOB='echo job-start >/dev/kmsg; echo init-reached; dmesg'

run_vmm() {
	"$FT" -n 1 -m init-reached -o vmm.log -- "$VMM" run --kernel "$K" --initrd "$I" \
		--cmdline "$CMDLINE" --console stdio -- sh -c "$JOB" 2>vmm.err
}
run_qemu() {
	"$FT" -n 1 -m init-reached -o qemu.log -- "$QEMU" -L /usr/share/qemu \
		-M microvm,x-option-roms=off,rtc=off,isa-serial=on,acpi=off -accel kvm -cpu host \
		-m 128M -smp 1 -nodefaults -no-user-config -nographic -serial stdio -no-reboot \
		-kernel "$K" -initrd "$I" \
		-append "$CMDLINE -- \"sh\" \"-c\" \"$JOB\"" 2>qemu.err
}

# Without kallsyms the guest prints initcalls as addresses: name them from System.map.
name_symbols() {
	awk -v map="$GUEST/System.map" 'BEGIN { while ((getline l < map) > 0) { split(l, f, " "); sym["0x" f[1]] = f[3] } }
		{ $2 = ($2 in sym) ? sym[$2] : $2; print }'
}

# report NAME FILE WALL: milestones and the slowest initcalls of one boot log
report() {
	echo "== $1: wall ms (exec-to-init exec-to-exit status): $3"
	echo "== $1: guest clock (s) at Run /init and at the job's start:" \
		"$(grep -E '\] (Run /init|job-start)' "$2" | sed 's/^\[ *\([0-9.]*\)\].*/\1/' | tr '\n' ' ')"
	echo "== $1: KVM_CREATE_VM to the guest's kvm-clock start:" \
		"$(sed -n 's/.*using sched offset of \([0-9]*\) cycles.*/\1/p' "$2" | awk '{printf "%.1f ms", $1 / 1e6}')"
	echo "== $1: milestones (guest seconds)"
	grep -E 'kvm-clock|Unpacking initramfs|Freeing initrd|i8042|serio|input:|virtio|Run /init|Freeing unused kernel|clocksource|smpboot|Calibrat|APIC|TSC|tsc' "$2" |
		grep -v 'initcall\|calling' | sed 's/^/   /' | head -n 40
	echo "== $1: slowest initcalls (usecs)"
	sed -n 's/.*initcall \([^ ]*\) returned .* after \([0-9]*\) usecs.*/\2 \1/p' "$2" |
		sort -rn | head -n 25 | name_symbols | sed 's/^/   /'
	sed -n 's/.*initcall \([^ ]*\) returned .* after \([0-9]*\) usecs.*/\2/p' "$2" |
		awk '{s += $1} END {printf "== %s: all initcalls: %d usecs\n", "'"$1"'", s}'
	if [ "${PROFILE_FULL:-1}" = 1 ]; then
		echo "== $1: whole log"
		sed 's/^/   /' "$2"
	fi
}

: >vmm.log
: >qemu.log
vt=$(run_vmm </dev/null)
qt=$(run_qemu </dev/null)
grep -q init-reached vmm.log || fail "vmm did not reach init: $(tail -n 5 vmm.log vmm.err)"
grep -q init-reached qemu.log || fail "QEMU did not reach init: $(tail -n 5 qemu.log qemu.err)"
report vmm vmm.log "$vt"
report qemu qemu.log "$qt"
echo "== vmm: its stderr"
sed 's/^/   /' vmm.err
