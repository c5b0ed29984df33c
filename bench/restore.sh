#!/usr/bin/env bash
# Restore benchmark (host tier), side by side with QEMU (Debian's
# qemu-system-x86, microvm machine, KVM), for 128 MiB, 1 GiB and 4 GiB guests.
#
# The guest (tests/guests/restorebench) is tiny; its memory is filled from the
# host side, by the loader, with a random initrd (112 MiB, 960 MiB and
# 3008 MiB: QEMU refuses an initrd of 3 GiB or more), so the pages are not
# zero. It prints "tick" lines forever once booted, so a restored guest shows
# it runs within one short line.
#
# Per size and VMM:
#   snapshot: boot, wait for the guest's first tick, dump through the control
#     socket and time it (bench/restore_ctl.py): vmm `{"cmd":"snapshot",
#     "path":F,"then":"exit"}` on --api (its reply comes after fsync and
#     rename); QEMU `stop` + `migrate "exec:cat > F && sync F ..."` (no
#     bandwidth cap) until query-migrate says completed (QEMU waits for the
#     exec command to end, so that includes the sync).
#     Median of SAVES boots; the file's size (apparent and allocated).
#   restore: exec to the first "tick" on the serial line, median of RUNS
#     (build/firsttime, the process is then sent SIGTERM): `vmm restore F
#     --verify lazy|full|none` and `qemu ... -incoming "exec:cat F"`.
#   first touch (vmm only): the guest reads one word of every initrd page
#     after resume (a --snapshot-on-ready file of a guest booted with
#     sweep=1), timed from the guest's "sweeping" line to its "swept" line;
#     the extra time over the same sweep in a booted guest, per MiB (the
#     booted sweep is measured whether or not snapshots work).
# QEMU is given no -initrd on restore (it would read the whole file again at
# start-up for nothing), and its source runs with
# -global migration.store-global-state=off so the restored VM runs at once
# instead of staying stopped: both favour QEMU.
#
# When this vmm build cannot take or restore snapshots (it says "not
# supported"/"not implemented" and exits with status 2), the vmm cells are
# "n/a" with the reason, and the QEMU side is still measured.
#
# Usage: bench/restore.sh [SIZE...]     SIZE is 128M, 1G or 4G (default: all three)
# Environment: RUNS (restores per case, 10), SAVES (snapshots per size, 3),
#   SWEEP_SIZES (first-touch sizes, "128M 1G"; empty for none), SWEEP_RUNS (5), BENCH_DIR (scratch space,
#   /var/tmp/vmm-bench-restore: the random initrds are kept there for the next
#   run, the snapshots are deleted), QEMU (qemu-system-x86_64).
# Output: the table on stdout and in build/bench-restore.txt; raw runs in
#   build/bench-restore-raw.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
B=build
RUNS=${RUNS:-10}
SAVES=${SAVES:-3}
SWEEP_SIZES=${SWEEP_SIZES-128M 1G}
SWEEP_RUNS=${SWEEP_RUNS:-5}
DIR=${BENCH_DIR:-/var/tmp/vmm-bench-restore}
QEMU=${QEMU:-qemu-system-x86_64}
GUEST=$B/tests/guests/restorebench.elf
OUT=$B/bench-restore.txt
RAW=$B/bench-restore-raw.txt
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(128M 1G 4G)

die() {
	echo "bench/restore.sh: $*" >&2
	exit 1
}

initrd_mib() {
	case $1 in
	128M) echo 112 ;;
	1G) echo 960 ;;
	4G) echo 3008 ;;
	*) echo "bench/restore.sh: unknown size '$1' (128M, 1G or 4G)" >&2; exit 2 ;;
	esac
}
for s in "${SIZES[@]}"; do initrd_mib "$s" >/dev/null; done

[ -c /dev/kvm ] || die "/dev/kvm missing"
command -v "$QEMU" >/dev/null || die "$QEMU not found (apt-get install qemu-system-x86)"
command -v python3 >/dev/null || die "python3 not found"
make -s "$B/vmm" "$B/firsttime" "$GUEST" || die "make failed"
mkdir -p "$DIR" || die "cannot create $DIR"

# Every background VMM this script starts, for the exit trap.
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || :; done
	rm -f "$DIR"/*.snap "$DIR"/*.snap.* "$DIR"/*.sock "$DIR"/*.out "$DIR"/*.err \
		"$DIR"/save-* "$DIR"/restore-* "$DIR"/sweep-*
}
trap cleanup EXIT

# The random initrd for a size: kept between runs, rebuilt if its size is off.
initrd_for() {
	local f=$DIR/rand-$1.img bytes=$(($(initrd_mib "$1") << 20))
	if [ "$(stat -c %s "$f" 2>/dev/null || echo 0)" != "$bytes" ]; then
		echo "  writing $((bytes >> 20)) MiB of random data to $f" >&2
		head -c "$bytes" /dev/urandom >"$f.tmp" && mv "$f.tmp" "$f" || die "cannot write $f"
	fi
	echo "$f"
}

qemu_cmd() { # MEM [extra args...]: sets QCMD
	local mem=$1
	shift
	QCMD=("$QEMU" -M microvm,x-option-roms=off,rtc=off,isa-serial=on -accel kvm
		-cpu host,-arch-capabilities -m "$mem" -nodefaults -no-user-config -nographic
		-serial stdio -no-reboot -kernel "$GUEST" "$@")
}

# wait_for_tick FILE PID: the guest has booted when its output has a tick.
wait_for_tick() {
	local i
	for i in $(seq 2400); do
		grep -q tick "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# vmm's answer when snapshots are missing from this build, or empty.
VMM_NA=
probe_vmm() {
	local msg st=0
	msg=$("$B/vmm" restore "$DIR/no-such.snap" 2>&1 >/dev/null) || st=$?
	if [ "$st" = 2 ] && grep -qiE 'not (supported|implemented)' <<<"$msg"; then
		VMM_NA=$(head -n 1 <<<"$msg" | sed 's/^vmm: //')
	fi
}

# median_col FILE COLUMN: median of one column over the runs that saw the marker.
median_col() {
	awk -v c="$2" '$1 >= 0 && $c >= 0 { print $c }' "$1" | median
}
all_saw_marker() {
	! awk -v c="${2:-1}" '$c < 0 { bad = 1 } END { exit !bad }' "$1"
}

declare -A R # results: R[key] = value; missing means n/a
NOTES=()     # why a vmm cell is n/a

# usage_refusal RUNS ERRFILE: the runs all ended with status 2 (vmm's usage or
# configuration error) before any guest output: notes the reason, returns 0.
usage_refusal() {
	awk '$1 >= 0 || $3 != 2 { bad = 1 } END { exit bad }' "$1" || return 1
	NOTES+=("$(head -n 1 "$2" | sed 's/^vmm: //') (exit status 2)")
}

# save_qemu SIZE: SAVES boots and dumps; leaves $DIR/qemu-SIZE.snap
save_qemu() {
	local size=$1 initrd snap=$DIR/qemu-$1.snap sock=$DIR/qemu.sock i ms pid
	initrd=$(initrd_for "$size")
	: >"$DIR/save-qemu-$size"
	for i in $(seq "$SAVES"); do
		rm -f "$sock" "$snap"
		qemu_cmd "$size" -initrd "$initrd" -global migration.store-global-state=off \
			-qmp "unix:$sock,server=on,wait=off"
		"${QCMD[@]}" >"$DIR/qemu.out" 2>"$DIR/qemu.err" &
		pid=$!
		PIDS+=("$pid")
		wait_for_tick "$DIR/qemu.out" "$pid" ||
			die "QEMU ($size) never printed a tick: $(tail -n 3 "$DIR/qemu.err")"
		ms=$(bench/restore_ctl.py qemu "$sock" "$snap") || die "QEMU snapshot ($size) failed"
		wait "$pid" || die "QEMU ($size) failed after its snapshot: $(tail -n 3 "$DIR/qemu.err")"
		echo "$ms" >>"$DIR/save-qemu-$size"
	done
	R[qemu_save_sync_$size]=$(cut -d' ' -f2 "$DIR/save-qemu-$size" | median)
	R[qemu_bytes_$size]=$(stat -c %s "$snap")
	R[qemu_alloc_$size]=$(($(stat -c %b "$snap") * $(stat -c %B "$snap")))
	{ echo "# qemu save $size (ms: migrate completed, file synced)"; cat "$DIR/save-qemu-$size"; } >>"$RAW"
}

restore_qemu() {
	local size=$1 snap=$DIR/qemu-$1.snap runs=$DIR/restore-qemu-$1
	qemu_cmd "$size" -incoming "exec:cat $snap"
	build/firsttime -n "$RUNS" -m tick -k 15 -- "${QCMD[@]}" >"$runs" 2>/dev/null
	{ echo "# qemu restore $size (first_ms exit_ms status)"; cat "$runs"; } >>"$RAW"
	all_saw_marker "$runs" || die "a QEMU restore ($size) never printed a tick; see $RAW"
	R[qemu_restore_$size]=$(median_col "$runs" 1)
	rm -f "$snap"
}

# save_vmm SIZE: SAVES boots and dumps through --api; leaves $DIR/vmm-SIZE.snap.
# Returns 2 (and sets VMM_NA) when the build cannot take snapshots.
save_vmm() {
	local size=$1 initrd snap=$DIR/vmm-$1.snap sock=$DIR/vmm.sock i ms pid st
	initrd=$(initrd_for "$size")
	: >"$DIR/save-vmm-$size"
	for i in $(seq "$SAVES"); do
		rm -f "$sock" "$snap"
		"$B/vmm" run --kernel "$GUEST" --initrd "$initrd" --mem "$size" --api "$sock" \
			>"$DIR/vmm.out" 2>"$DIR/vmm.err" &
		pid=$!
		PIDS+=("$pid")
		wait_for_tick "$DIR/vmm.out" "$pid" ||
			die "vmm ($size) never printed a tick: $(tail -n 3 "$DIR/vmm.err")"
		st=0
		ms=$(bench/restore_ctl.py vmm "$sock" "$snap" 2>"$DIR/ctl.err") || st=$?
		if [ "$st" = 2 ]; then
			VMM_NA=$(sed 's/^restore_ctl: //' "$DIR/ctl.err" | head -n 1)
			kill "$pid" 2>/dev/null || :
			wait "$pid" 2>/dev/null || :
			return 2
		fi
		[ "$st" = 0 ] || die "vmm snapshot ($size) failed: $(cat "$DIR/ctl.err")"
		wait "$pid" || die "vmm ($size) failed after its snapshot: $(tail -n 3 "$DIR/vmm.err")"
		echo "$ms" >>"$DIR/save-vmm-$size"
	done
	R[vmm_save_$size]=$(median <"$DIR/save-vmm-$size")
	R[vmm_bytes_$size]=$(stat -c %s "$snap")
	R[vmm_alloc_$size]=$(($(stat -c %b "$snap") * $(stat -c %B "$snap")))
	{ echo "# vmm save $size (ms)"; cat "$DIR/save-vmm-$size"; } >>"$RAW"
}

restore_vmm() {
	local size=$1 snap=$DIR/vmm-$1.snap mode runs
	for mode in lazy full none; do
		runs=$DIR/restore-vmm-$mode-$size
		build/firsttime -n "$RUNS" -m tick -k 15 -- \
			"$B/vmm" restore "$snap" --verify "$mode" >"$runs" 2>"$DIR/vmm.err"
		{ echo "# vmm restore --verify $mode $size (first_ms exit_ms status)"; cat "$runs"; } >>"$RAW"
		usage_refusal "$runs" "$DIR/vmm.err" && continue
		all_saw_marker "$runs" ||
			die "a vmm restore --verify $mode ($size) never printed a tick: $(tail -n 3 "$DIR/vmm.err")"
		R[vmm_restore_${mode}_$size]=$(median_col "$runs" 1)
		R[vmm_restore_min_${mode}_$size]=$(awk '$1 >= 0 { print $1 }' "$runs" | sort -n | head -n 1)
	done
	slot_time "$size" "$snap"
	rm -f "$snap"
}

# slot_time SIZE SNAP: vmm's log says how much of its start-up was KVM
# registering the memory slots, work whose cost grows with guest memory.
slot_time() {
	local i out=$DIR/slots-$1
	: >"$out"
	for i in 1 2 3 4 5; do
		timeout -s TERM 1 "$B/vmm" restore "$2" >/dev/null 2>"$DIR/vmm.err" || :
		sed -n "s/.*ready in \([0-9.]*\) ms, of which KVM's memory slot set-up \([0-9.]*\) ms.*/\1 \2/p" \
			"$DIR/vmm.err" >>"$out"
	done
	{ echo "# vmm restore $1, from its log (ready_ms slot_ms)"; cat "$out"; } >>"$RAW"
	[ -s "$out" ] || return 0
	R[vmm_slot_$1]=$(awk '{ print $2 }' "$out" | median)
}

# The sweep=1 guest reads one word of every initrd page: in a booted guest
# (memory filled by the loader) that is the baseline, per MiB.
sweep_boot() {
	local size=$1 initrd mib boot=$DIR/sweep-boot-$1
	initrd=$(initrd_for "$size")
	mib=$(initrd_mib "$size")
	build/firsttime -n "$SWEEP_RUNS" -m sweeping -2 swept -k 15 -- "$B/vmm" run --kernel "$GUEST" \
		--initrd "$initrd" --mem "$size" --cmdline sweep=1 >"$boot" 2>/dev/null
	{ echo "# vmm boot sweep $size (sweeping_ms exit_ms status swept_ms)"; cat "$boot"; } >>"$RAW"
	all_saw_marker "$boot" 4 || die "the booted sweep=1 guest ($size) never printed 'swept'"
	R[vmm_boot_sweep_ms_$size]=$(awk '{ print $4 - $1 }' "$boot" | median)
	R[vmm_boot_sweep_$size]=$(awk -v b="${R[vmm_boot_sweep_ms_$size]}" -v m="$mib" \
		'BEGIN { printf "%.3f", b / m }')
}

# First touch of restored memory: the same sweep right after resume (the file
# is dumped at READY, before the sweep), less the booted sweep, per MiB.
sweep_restore() {
	local size=$1 initrd snap=$DIR/vmm-sweep-$1.snap mib mode runs st=0
	initrd=$(initrd_for "$size")
	mib=$(initrd_mib "$size")
	rm -f "$snap"
	"$B/vmm" run --kernel "$GUEST" --initrd "$initrd" --mem "$size" --cmdline sweep=1 \
		--snapshot-on-ready "$snap" >/dev/null 2>"$DIR/vmm.err" || st=$?
	[ "$st" = 0 ] && [ -f "$snap" ] ||
		die "vmm --snapshot-on-ready ($size) failed (status $st): $(tail -n 3 "$DIR/vmm.err")"
	for mode in lazy full none; do
		runs=$DIR/sweep-$mode-$size
		build/firsttime -n "$SWEEP_RUNS" -m sweeping -2 swept -k 15 -- \
			"$B/vmm" restore "$snap" --verify "$mode" >"$runs" 2>"$DIR/vmm.err"
		{
			echo "# vmm restore sweep --verify $mode $size (sweeping_ms exit_ms status swept_ms)"
			cat "$runs"
		} >>"$RAW"
		usage_refusal "$runs" "$DIR/vmm.err" && continue
		all_saw_marker "$runs" 4 ||
			die "a restored sweep=1 guest ($mode, $size) never printed 'swept'"
		R[vmm_touch_${mode}_$size]=$(awk '{ print $4 - $1 }' "$runs" | median |
			awk -v b="${R[vmm_boot_sweep_ms_$size]}" -v m="$mib" '{ printf "%.3f", ($1 - b) / m }')
	done
	rm -f "$snap"
}

cell() { # KEY [UNIT]: the value with its unit, or n/a
	if [ -n "${R[$1]:-}" ]; then echo "${R[$1]}${2:+ $2}"; else echo "n/a"; fi
}
mib() { # KEY: bytes as MiB with one decimal, or n/a
	if [ -n "${R[$1]:-}" ]; then awk -v b="${R[$1]}" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; else echo "n/a"; fi
}
line() { # SIZE LABEL VMM QEMU
	local r="" v=${3%% *} q=${4%% *}
	if [ "$v" != n/a ] && [ "$v" != - ] && [ "$q" != n/a ] && [ "$q" != - ]; then
		r=$(ratio "$v" "$q")
	fi
	printf '| %-4s | %-38s | %13s | %13s | %8s |\n' "$1" "$2" "$3" "$4" "$r"
}

report() {
	local s
	echo "Restore benchmark, host tier ($(date -u +%Y-%m-%dT%H:%MZ), $(uname -r), $(nproc) CPUs)"
	echo "vmm: $(stat -c %s "$B/vmm") bytes; QEMU: $("$QEMU" --version | head -n 1)"
	echo "guest: $GUEST, memory filled by a random initrd; medians of $RUNS restores, $SAVES snapshots"
	[ -z "$VMM_NA" ] || echo "vmm cells n/a: not available: $VMM_NA"
	if [ ${#NOTES[@]} -gt 0 ]; then
		printf '%s\n' "${NOTES[@]}" | sort -u | sed 's/^/vmm cells n\/a: not available: /'
	fi
	echo
	printf '| %-4s | %-38s | %13s | %13s | %8s |\n' size "what (median)" vmm QEMU vmm/QEMU
	printf '|%s|%s|%s|%s|%s|\n' ------ ---------------------------------------- \
		--------------- --------------- ----------
	for s in "${SIZES[@]}"; do
		line "$s" "restore to guest running (lazy)" "$(cell "vmm_restore_lazy_$s" ms)" \
			"$(cell "qemu_restore_$s" ms)"
		line "$s" "  of which KVM's memory slot set-up" "$(cell "vmm_slot_$s" ms)" -
		line "$s" "restore to guest running, full" "$(cell "vmm_restore_full_$s" ms)" -
		line "$s" "restore to guest running, none" "$(cell "vmm_restore_none_$s" ms)" -
		line "$s" "snapshot write, synced to disk" "$(cell "vmm_save_$s" ms)" \
			"$(cell "qemu_save_sync_$s" ms)"
		line "$s" "snapshot file size" "$(mib "vmm_bytes_$s")" "$(mib "qemu_bytes_$s")"
		line "$s" "snapshot file, allocated on disk" "$(mib "vmm_alloc_$s")" "$(mib "qemu_alloc_$s")"
		if [[ " $SWEEP_SIZES " == *" $s "* ]]; then
			local m
			for m in lazy full none; do
				line "$s" "extra per first-touched MiB, $m" \
					"$(cell "vmm_touch_${m}_$s" ms/MiB)" -
			done
			line "$s" "guest reads its RAM, booted" "$(cell "vmm_boot_sweep_$s" ms/MiB)" -
		fi
	done
	echo "(guest memory: 128M 112 MiB, 1G 960 MiB, 4G 3008 MiB of random initrd; the rest zero)"
	echo
	echo "Targets (--verify lazy):"
	local small=${R[vmm_restore_lazy_128M]:-} big=${R[vmm_restore_lazy_4G]:-}
	local v1=${R[vmm_restore_lazy_1G]:-} q1=${R[qemu_restore_1G]:-}
	if [ -n "$small" ]; then
		echo "  restore < 5 ms median at 128 MiB: $small ms ($(awk -v a="$small" 'BEGIN { print (a < 5) ? "met" : "NOT met" }');" \
			"fastest of $RUNS: ${R[vmm_restore_min_lazy_128M]} ms)"
	else
		echo "  restore < 5 ms median at 128 MiB: not measured"
	fi
	if [ -n "$small" ] && [ -n "$big" ]; then
		echo "  4 GiB at most 1.5x 128 MiB: $(ratio "$big" "$small")x ($(awk -v a="$big" -v b="$small" 'BEGIN { print (a <= 1.5 * b) ? "met" : "NOT met" }'))"
		local ks=${R[vmm_slot_128M]:-} kb=${R[vmm_slot_4G]:-}
		[ -z "$ks" ] || [ -z "$kb" ] ||
			echo "    without KVM's memory slot set-up: $(awk -v a="$big" -v b="$kb" 'BEGIN { printf "%.3f", a - b }') ms vs" \
				"$(awk -v a="$small" -v b="$ks" 'BEGIN { printf "%.3f", a - b }') ms," \
				"$(awk -v a="$big" -v b="$kb" -v c="$small" -v d="$ks" 'BEGIN { printf "%.2f", (a - b) / (c - d) }')x"
	else
		echo "  4 GiB at most 1.5x 128 MiB: not measured"
	fi
	if [ -n "$v1" ] && [ -n "$q1" ]; then
		echo "  at least 10x faster than QEMU at 1 GiB: $(ratio "$q1" "$v1")x ($(awk -v a="$v1" -v b="$q1" 'BEGIN { print (b >= 10 * a) ? "met" : "NOT met" }'))"
	else
		echo "  at least 10x faster than QEMU at 1 GiB: not measured (QEMU at 1 GiB: ${q1:-n/a} ms)"
	fi
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (medians on a busy machine drift up)"
	echo "raw runs: $RAW"
}

: >"$RAW"
probe_vmm
for s in "${SIZES[@]}"; do
	echo "== $s: QEMU snapshot x$SAVES, restore x$RUNS" >&2
	save_qemu "$s"
	restore_qemu "$s"
	if [[ " $SWEEP_SIZES " == *" $s "* ]]; then
		echo "== $s: vmm, the guest reading its RAM after boot" >&2
		sweep_boot "$s"
	fi
	if [ -z "$VMM_NA" ]; then
		echo "== $s: vmm snapshot x$SAVES, restore x$RUNS per --verify mode" >&2
		if save_vmm "$s"; then
			restore_vmm "$s"
			if [[ " $SWEEP_SIZES " == *" $s "* ]]; then
				echo "== $s: vmm first touch after restore" >&2
				sweep_restore "$s"
			fi
		fi
	fi
done
report | tee "$OUT"
