#!/bin/bash
# run.sh - the nested test tier: run vmm checks inside an L1 Linux VM.
#
# Boots an L1 Linux (Debian cloud kernel) under QEMU TCG with an emulated
# AMD CPU that has SVM and NPT, loads kvm-amd there and runs every
# tests/nested/checks/*.sh and tests/guests/*/test.sh inside it, where
# /dev/kvm is ordinary KVM. See README.md beside this file.
#
# Usage: tests/nested/run.sh [PATTERN...]
#   With patterns, only the checks whose name (nested/...) contains one of
#   them (shell glob, e.g. "00-l1" or "guest-*") run.
#
# Prints one line per check, "PASS <name>" or "FAIL <name>: <reason>" (a
# failure is followed by its output, indented), "FAIL nested/harness: ..."
# when the L1 VM did not finish, timings as "nested: ..." lines and at the
# end "nested: N passed, M failed". Exit status 0 when all passed, else 1.
# If L1 dies during a check, that check fails and a fresh L1 goes on with
# the next one (at most NESTED_RESTARTS times). If L1 hangs or its kernel
# panics, the check runs once more in the fresh L1 and its result is that
# second try's.
#
# Environment:
#   NESTED_TIMEOUT        whole run, seconds (default 1200)
#   NESTED_CHECK_TIMEOUT  one check, seconds (default 120); L1 counts as hung
#                         when a check has no result 60 s after that
#   NESTED_RESTARTS       fresh L1 VMs after a hang or crash (default 3)
#   NESTED_SMP            L1 vCPUs (default 2)
#   NESTED_MEM            L1 memory, MiB (default 8192: costs nothing until
#                         touched; vmm refuses a --mem above L1's RAM)
#   NESTED_VERBOSE=1      stream every check's output live, as
#                         "    [<name>] <line>"
#   NESTED_TAIL           output lines shown for a failed check (default 30)
#   NESTED_APPEND         extra L1 kernel command line
#   NESTED_KVM_AMD_PARAMS kvm_amd module parameters in L1 (e.g. "avic=1")
#   NESTED_KEEP=1         keep the run's staging tree and initramfs
#   NESTED_BENCH=NAME     run bench/nested/NAME.sh instead of the checks (QEMU,
#                         its firmware, build/firsttime and build/iobench go
#                         into L1 too); see bench/boot.sh and bench/blk.sh
#   NESTED_HOST_TOOLS     host programs copied into L1 with their shared
#                         libraries, in /usr/local/bin ahead of busybox in
#                         PATH (default "dash timeout cksum mke2fs e2fsck
#                         debugfs"). Checks run under dash (as sh) when it is
#                         there: busybox-static's ash runs its own applets
#                         whatever PATH says, so under it "timeout" would
#                         always be busybox's. Set it empty for a busybox-only
#                         L1.
#   VMM_CACHE             cache of the L1 kernel (see l1-prepare.sh)
#   QEMU                  QEMU binary (default qemu-system-x86_64)
#   BUSYBOX               static busybox (default /bin/busybox)

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
NBUILD="$ROOT/build/nested"

NESTED_TIMEOUT=${NESTED_TIMEOUT:-1200}
CHECK_TIMEOUT=${NESTED_CHECK_TIMEOUT:-120}
HANG_GRACE=60
CUR_LIMIT=$CHECK_TIMEOUT
RESTARTS=${NESTED_RESTARTS:-3}
SMP=${NESTED_SMP:-2}
MEM=${NESTED_MEM:-8192}
VERBOSE=${NESTED_VERBOSE:-0}
TAIL_LINES=${NESTED_TAIL:-30}
QEMU=${QEMU:-qemu-system-x86_64}
BUSYBOX=${BUSYBOX:-/bin/busybox}
HOST_TOOLS=${NESTED_HOST_TOOLS-dash timeout cksum mke2fs e2fsck debugfs}

# quiet + no crypto self-tests (~1 s under TCG) + no zeroing of every
# kernel allocation + one UART; see README.md for what was measured.
# nokaslr: the kernel addresses of a hung L1 can be named afterwards.
# no_timer_check: under TCG on a busy host the kernel's check that the PIT
# ticks through the IO-APIC can time out, and L1 panics before init.
CMDLINE="console=ttyS0 quiet panic=-1 nokaslr cryptomgr.notests init_on_alloc=0 8250.nr_uarts=1 no_timer_check ${NESTED_APPEND:-}"

case "${1:-}" in
-h | --help)
	sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
	exit 0
	;;
esac

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
info() { echo "nested: $*"; }

T_START=$(now)

# Every run has its own directory (runs may overlap); "last" points to the
# newest. The logs of the newest 10 runs are kept, and of any run from the
# last 2 hours (one may still be going on).
mkdir -p "$NBUILD/runs"
RUN=$(mktemp -d "$NBUILD/runs/$(date +%Y%m%d-%H%M%S).XXXX")
ln -sfn "runs/$(basename "$RUN")" "$NBUILD/last"
LOG="$RUN/console.log"
QERR="$RUN/qemu.stderr"
QPID="$RUN/qemu.pid"
MONSOCK=$(mktemp -u "${TMPDIR:-/tmp}/vmm-nested-mon.XXXXXX")
# shellcheck disable=SC2012
ls -1dt "$NBUILD"/runs/*/ 2>/dev/null | tail -n +11 | while IFS= read -r d; do
	[ -z "$(find "$d" -maxdepth 0 -mmin +120)" ] || rm -rf "$d"
done

cleanup() {
	local pid
	if [ -s "$QPID" ]; then
		pid=$(cat "$QPID" 2>/dev/null || true)
		if [ -n "$pid" ] && grep -qa qemu "/proc/$pid/cmdline" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$MONSOCK"
	if [ "${NESTED_KEEP:-0}" != 1 ]; then
		rm -rf "$RUN/root" "$RUN/l1.cpio"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A harness failure before L1 runs: report it, show a log tail, exit 1.
harness_fail() {
	local why=$1 tailfile=${2:-}
	echo "FAIL nested/harness: $why"
	if [ -n "$tailfile" ] && [ -s "$tailfile" ]; then
		tail -n 40 "$tailfile" | tr -d '\r' | sed 's/^/    /'
	fi
	info "0 passed, 1 failed"
	exit 1
}

command -v "$QEMU" >/dev/null || harness_fail "$QEMU not found (apt-get install qemu-system-x86)"
command -v cpio >/dev/null || harness_fail "cpio not found (apt-get install cpio)"
[ -x "$BUSYBOX" ] || harness_fail "$BUSYBOX not found (apt-get install busybox-static)"
if LC_ALL=C grep -qa '/ld-linux' "$BUSYBOX"; then
	harness_fail "$BUSYBOX is not static (apt-get install busybox-static)"
fi

# --- the L1 kernel ----------------------------------------------------------
if ! L1=$("$HERE/l1-prepare.sh" -q 2>"$RUN/l1-prepare.log" | tail -n 1) || [ -z "$L1" ]; then
	harness_fail "l1-prepare.sh failed" "$RUN/l1-prepare.log"
fi
[ -s "$L1/vmlinuz" ] && [ -s "$L1/modules.load" ] || harness_fail "incomplete L1 cache $L1"
info "L1 kernel $(cat "$L1/release") ($(cat "$L1/package")) from $L1"

# --- the checks ---------------------------------------------------------------
NAMES=() # check names, in run order
PATHS=() # their scripts inside L1
PATTERNS=("$@")
selected() {
	local p
	[ "${#PATTERNS[@]}" -gt 0 ] || return 0
	for p in "${PATTERNS[@]}"; do
		# shellcheck disable=SC2053
		[[ $1 == *$p* ]] && return 0
	done
	return 1
}
shopt -s nullglob
export LC_ALL=C
# NESTED_BENCH=NAME runs bench/nested/NAME.sh alone, with QEMU in L1 to compare against.
BENCH=${NESTED_BENCH:-}
if [ -n "$BENCH" ]; then
	[ -f "$ROOT/bench/nested/$BENCH.sh" ] || harness_fail "no bench/nested/$BENCH.sh"
	NAMES+=("bench/$BENCH")
	PATHS+=("/payload/src/bench/nested/$BENCH.sh")
	HOST_TOOLS="$HOST_TOOLS qemu-system-x86_64"
fi
for f in "$HERE"/checks/*.sh; do
	[ -z "$BENCH" ] || break
	b=$(basename "$f" .sh)
	selected "nested/$b" || continue
	NAMES+=("nested/$b")
	PATHS+=("/payload/src/tests/nested/checks/$b.sh")
done
for f in "$ROOT"/tests/guests/*/test.sh; do
	[ -z "$BENCH" ] || break
	d=$(basename "$(dirname "$f")")
	selected "nested/guest-$d" || continue
	NAMES+=("nested/guest-$d")
	PATHS+=("/payload/src/tests/guests/$d/test.sh")
done
shopt -u nullglob
if [ "${#NAMES[@]}" = 0 ]; then
	harness_fail "no check matches: ${PATTERNS[*]:-(none)}"
fi

# --- the L1 initramfs -----------------------------------------------------------
T_PACK=$(now)
STAGE="$RUN/root"
mkdir -p "$STAGE"/{bin,sbin,dev,proc,sys,run,tmp,etc/nested,lib/modules/l1,payload/tests,payload/src/tests/nested,payload/src/tests/guests}
cp "$BUSYBOX" "$STAGE/bin/busybox"
for a in $("$BUSYBOX" --list); do
	[ "$a" = busybox ] || ln -s busybox "$STAGE/bin/$a"
done

# Host programs and the shared libraries they need, at the same paths.
copy_host_tool() {
	local t=$1 path lib
	path=$(command -v "$t") || {
		info "warning: host tool $t not found; L1 has busybox's or none"
		return 0
	}
	mkdir -p "$STAGE/usr/local/bin"
	cp -L "$path" "$STAGE/usr/local/bin/$t"
	for lib in $(ldd "$path" 2>/dev/null | grep -o '/[^ ]*'); do
		[ -e "$STAGE$lib" ] || { mkdir -p "$STAGE$(dirname "$lib")" && cp -L "$lib" "$STAGE$lib"; }
	done
}
for t in $HOST_TOOLS; do
	copy_host_tool "$t"
done
# The checks' "sh" (and any "sh" they start) is dash when it is there.
[ ! -x "$STAGE/usr/local/bin/dash" ] || ln -s dash "$STAGE/usr/local/bin/sh"
[ ! -e /etc/mke2fs.conf ] || cp /etc/mke2fs.conf "$STAGE/etc/"

cp "$HERE/l1-init.sh" "$STAGE/init"
chmod 755 "$STAGE/init"
cp "$L1"/modules/*.ko "$L1/modules.load" "$STAGE/lib/modules/l1/"
{
	echo "CHECK_TIMEOUT=$CHECK_TIMEOUT"
	echo "TAIL_LINES=$TAIL_LINES"
	echo "VERBOSE=$VERBOSE"
	echo "KVM_AMD_PARAMS='${NESTED_KVM_AMD_PARAMS:-}'"
} >"$STAGE/etc/nested/config"
for i in "${!NAMES[@]}"; do
	printf '%s %s\n' "${NAMES[$i]}" "${PATHS[$i]}"
done >"$STAGE/etc/nested/checks"

# Payload; whatever is missing stays missing.
present=()
missing=()
P="$STAGE/payload"
if [ -f "$ROOT/build/vmm" ]; then
	cp "$ROOT/build/vmm" "$P/vmm"
	present+=(vmm)
else
	missing+=(build/vmm)
fi
if [ -x "$ROOT/build/kvmhold" ]; then
	cp "$ROOT/build/kvmhold" "$P/kvmhold"
	present+=(kvmhold)
else
	missing+=(build/kvmhold)
fi
# build/guest: its top-level files only (bzImage, vmlinux, initramfs.cpio.gz).
if [ -d "$ROOT/build/guest" ]; then
	mkdir -p "$P/guest"
	find "$ROOT/build/guest" -maxdepth 1 -type f ! -name '.*' -exec cp {} "$P/guest/" \;
	present+=("guest($(ls "$P/guest" | tr '\n' ' ' | sed 's/ $//'))")
else
	missing+=(build/guest)
fi
if [ -d "$ROOT/build/tests/guests" ]; then
	mkdir -p "$P/tests/guests"
	(cd "$ROOT/build/tests/guests" && find . \( -name '*.o' -o -name '*.d' \) -prune -o -print |
		cpio -pdm --quiet "$P/tests/guests")
	present+=("tiny guests($(find "$P/tests/guests" -type f | wc -l) files)")
else
	missing+=(build/tests/guests)
fi
if [ -f "$ROOT/tests/lib.sh" ]; then
	cp "$ROOT/tests/lib.sh" "$P/tests/lib.sh"
	cp "$ROOT/tests/lib.sh" "$P/src/tests/lib.sh"
	present+=(tests/lib.sh)
else
	missing+=(tests/lib.sh)
fi
cp -r "$HERE/checks" "$P/src/tests/nested/checks"
printf "BENCH_RUNS='%s'\nBENCH_SECONDS='%s'\nBENCH_LOADS='%s'\n" "${BENCH_RUNS:-}" "${BENCH_SECONDS:-}" "${BENCH_LOADS:-}" >"$STAGE/etc/nested/env"
if [ -n "$BENCH" ]; then
	cp -r "$ROOT/bench" "$P/src/bench"
	for t in firsttime iobench netbench; do
		[ -x "$ROOT/build/$t" ] && cp "$ROOT/build/$t" "$P/$t"
	done
	mkdir -p "$STAGE/usr/share/qemu"
	for f in qboot.rom bios-microvm.bin linuxboot_dma.bin pvh.bin kvmvapic.bin; do
		[ -f "/usr/share/qemu/$f" ] && cp -L "/usr/share/qemu/$f" "$STAGE/usr/share/qemu/"
	done
fi
for f in "$ROOT"/tests/guests/*/test.sh; do
	[ -e "$f" ] || continue
	cp -r "$(dirname "$f")" "$P/src/tests/guests/"
done

CPIO="$RUN/l1.cpio"
(cd "$STAGE" && find . | sort | cpio -o -H newc -R 0:0 --quiet) >"$CPIO"
info "payload: ${present[*]:-nothing}${missing:+; missing: ${missing[*]}}"
info "initramfs $(du -h "$CPIO" | cut -f1) packed in $(since "$T_PACK") s; ${#NAMES[@]} check(s); console log $LOG"

# --- boot L1 and follow its console ---------------------------------------------------
declare -A RESULT OUT INDEX RETRIED
for i in "${!NAMES[@]}"; do
	INDEX[${NAMES[$i]}]=$i
done
NPASS=0
NFAIL=0
HARNESS_FAILED=0

report() { # name PASS|FAIL [reason]
	local name=$1 st=$2 reason=${3:-}
	[ -z "${RESULT[$name]:-}" ] || return 0
	RESULT[$name]=$st
	if [ "$st" = PASS ]; then
		NPASS=$((NPASS + 1))
		echo "PASS $name"
	else
		NFAIL=$((NFAIL + 1))
		echo "FAIL $name: ${reason:-failed}"
	fi
	if [ -n "${OUT[$name]:-}" ]; then
		printf '%s' "${OUT[$name]}"
	fi
}

# Ask QEMU's monitor for the vCPU state of a hung L1 (best effort: needs
# python3 or socat).
monitor_dump() {
	# Three samples: does a vCPU move at all?
	local cmds='info cpus
info registers -a
info registers -a
info registers -a
'
	[ -S "$MONSOCK" ] || return 0
	if command -v python3 >/dev/null; then
		python3 - "$MONSOCK" "$cmds" <<'EOF' 2>/dev/null || true
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(3)
s.connect(sys.argv[1])
out = b""
def drain():
    global out
    end = time.time() + 3
    while time.time() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        out += d
        if out.endswith(b"(qemu) "):
            break
drain()
for c in sys.argv[2].splitlines():
    s.sendall(c.encode() + b"\n")
    drain()
sys.stdout.write(out.decode(errors="replace"))
EOF
	elif command -v socat >/dev/null; then
		printf '%s' "$cmds" | timeout 5 socat - "UNIX-CONNECT:$MONSOCK" 2>/dev/null || true
	fi
}

# One L1 VM; runs the checks from index $1 on. Sets DONE, BOOTED, T_INIT,
# T_KVM, KVM_STATE, CURRENT (started, no result yet), LAST (index of the
# last check reported), HUNG, QRC.
run_l1() {
	local skip=$1 budget line tag name rest st reason deadline=""
	DONE=0 BOOTED=0 T_INIT="" T_KVM="" KVM_STATE="" CURRENT="" HUNG="" QRC=""
	budget=$(awk -v a="$T_START" -v b="$(now)" -v t="$NESTED_TIMEOUT" 'BEGIN { d = t - (b - a); printf "%d", d < 1 ? 1 : d }')
	rm -f "$QPID" "$MONSOCK" "$RUN/qemu.rc"
	# Where this session's part of qemu.stderr starts.
	QERR_AT=$(($(stat -c %s "$QERR" 2>/dev/null || echo 0) + 1))
	local t_qemu
	t_qemu=$(now)
	exec 7< <(
		set +e
		{
			timeout -k 10 "$budget" "$QEMU" \
				-accel tcg,thread=multi -cpu EPYC,+svm,+npt -smp "$SMP" -m "$MEM" \
				-machine pc -nodefaults -no-user-config -display none \
				-serial stdio -no-reboot -pidfile "$QPID" \
				-monitor "unix:$MONSOCK,server=on,wait=off" \
				-kernel "$L1/vmlinuz" -initrd "$CPIO" \
				-append "$CMDLINE nested.skip=$skip" \
				</dev/null 2>>"$QERR"
			echo $? >"$RUN/qemu.rc"
		} | tee -a "$LOG"
	)
	local partial="" rc
	while :; do
		rc=0
		IFS= read -r -t 5 line <&7 || rc=$?
		if [ "$rc" != 0 ]; then
			# EOF, or no full line for 5 s (read keeps what it got of
			# one): is L1 stuck in a check?
			[ "$rc" -gt 128 ] || break
			partial+=$line
			if [ -n "$deadline" ] && [ "$(date +%s)" -gt "$deadline" ]; then
				HUNG=$CURRENT
				info "L1 stuck in $CURRENT: no result $((CUR_LIMIT + HANG_GRACE)) s after its start; QEMU monitor says:"
				monitor_dump | tr -d '\r' | awk '/^CPU#/ { cpu = $1 } /^RIP=/ { print "    " cpu, $1, $2, $4, $NF }' |
					tee -a "$RUN/hang.txt" || true
				[ ! -s "$QPID" ] || kill "$(cat "$QPID")" 2>/dev/null || true
				deadline=""
			fi
			continue
		fi
		line=$partial$line
		partial=""
		line=${line//$'\r'/}
		case "$line" in
		*@@*) line="@@${line#*@@}" ;;
		*) continue ;;
		esac
		read -r tag name rest <<<"$line" || true
		case "$tag" in
		@@INIT)
			BOOTED=1
			T_INIT=$(since "$t_qemu")
			;;
		@@KVM)
			T_KVM=$(since "$t_qemu")
			KVM_STATE=${rest:-}
			;;
		@@START)
			CURRENT=$name
			START_T=$(now)
			CUR_LIMIT=${rest:-$CHECK_TIMEOUT}
			case "$CUR_LIMIT" in '' | *[!0-9]*) CUR_LIMIT=$CHECK_TIMEOUT ;; esac
			deadline=$(($(date +%s) + CUR_LIMIT + HANG_GRACE))
			;;
		@@OUT) OUT[$name]+="    ${line#*| }"$'\n' ;;
		@@LOG) echo "    [$name] ${line#*| }" ;;
		@@RESULT)
			st=${rest%% *}
			reason=""
			[ "$st" = "$rest" ] || reason=${rest#* }
			[ "$name" != "$CURRENT" ] || info "$name took $(since "$START_T") s"
			[ -z "${RETRIED[$name]:-}" ] || info "$name: this is its second try, after an L1 hang on the first"
			report "$name" "$st" "$reason"
			[ -z "${INDEX[$name]:-}" ] || LAST=${INDEX[$name]}
			CURRENT=""
			deadline=""
			;;
		@@DONE) DONE=1 ;;
		esac
	done
	exec 7<&-
	# Wait for the process substitution (QEMU and tee) to finish.
	local i=0
	while [ ! -e "$RUN/qemu.rc" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	QRC=$(cat "$RUN/qemu.rc" 2>/dev/null || echo "?")
	T_L1=$(since "$t_qemu")
}

# Name the kernel addresses a hung L1's vCPUs were at: boot a fresh L1
# (nokaslr, same modules) that looks them up in /proc/kallsyms.
symbolize() {
	local addrs
	addrs=$(grep -ao 'RIP=ffffffff[0-9a-f]*' "$RUN/hang.txt" 2>/dev/null | cut -d= -f2 | sort -u | head -n 12 | paste -sd, -)
	[ -n "$addrs" ] || return 0
	info "naming the hung vCPUs' kernel addresses (one more L1 boot):"
	timeout -k 5 90 "$QEMU" \
		-accel tcg,thread=multi -cpu EPYC,+svm,+npt -smp "$SMP" -m "$MEM" \
		-machine pc -nodefaults -no-user-config -display none \
		-serial stdio -no-reboot \
		-kernel "$L1/vmlinuz" -initrd "$CPIO" \
		-append "$CMDLINE nested.syms=$addrs" </dev/null 2>/dev/null |
		tr -d '\r' | grep -a '@@SYM' | sed 's/.*@@SYM /    /' | tee -a "$RUN/hang.txt" || true
}

# L1's kernel panicked in the check it was running (a stack guard page hit in
# its exception entry was seen once under TCG): not the check's result.
l1_panicked() {
	tail -n 80 "$LOG" | tr -d '\r' | grep -aq "Kernel panic - not syncing"
}

# Why a session ended without @@DONE.
why_stopped() {
	local why err
	err=$(tail -c "+$QERR_AT" "$QERR" 2>/dev/null | grep -av "TCG doesn't support" || true)
	if [ -n "$HUNG" ]; then
		why="L1 hung in $HUNG"
	else
		case "$QRC" in
		124 | 137) why="timed out after ${NESTED_TIMEOUT}s (NESTED_TIMEOUT)" ;;
		0)
			why="L1 stopped before @@DONE"
			if grep -aq 'terminating on signal' <<<"$err"; then
				why="$why: QEMU $(grep -ao 'terminating on signal.*' <<<"$err" | tail -n 1)"
			else
				why="$why (kernel panic or init died?)"
			fi
			;;
		*) why="QEMU exited with status $QRC: $(tail -n 1 <<<"$err")" ;;
		esac
	fi
	[ "$BOOTED" = 1 ] || why="$why; L1 init never started"
	echo "$why"
}

session=0
next=0
boot_times=()
while [ "$next" -lt "${#NAMES[@]}" ]; do
	session=$((session + 1))
	[ "$session" = 1 ] || echo "=== nested: L1 session $session, from ${NAMES[$next]} ===" >>"$LOG"
	LAST=$((next - 1))
	run_l1 "$next"
	boot_times+=("${T_INIT:-?}")
	[ "$session" != 1 ] || T_KVM1=${T_KVM:-?}
	if [ "$DONE" = 1 ] || [ "$KVM_STATE" = missing ]; then
		break
	fi
	why=$(why_stopped)
	# The check L1 was in when it stopped fails; a fresh L1 goes on after it.
	resume=$((LAST + 1))
	[ -z "$HUNG" ] || symbolize
	if [ -n "$CURRENT" ] && { [ -n "$HUNG" ] || l1_panicked; } && [ -z "${RETRIED[$CURRENT]:-}" ]; then
		# L1's kernel stopped or panicked (under TCG), not the check: the
		# check gets one more try in a fresh L1 and passes only if that try does.
		RETRIED[$CURRENT]=1
		info "$CURRENT: no result because L1 $(if [ -n "$HUNG" ]; then echo hung; else echo panicked; fi); it runs once more in a fresh L1"
		resume=${INDEX[$CURRENT]}
	elif [ -n "$CURRENT" ]; then
		report "$CURRENT" FAIL "$why (no result; console log: $LOG)"
		resume=$((INDEX[$CURRENT] + 1))
	fi
	case "$QRC" in 124 | 137) stop=1 ;; *) stop=0 ;; esac
	if [ "$BOOTED" != 1 ] || [ "$stop" = 1 ] || [ "$session" -gt "$RESTARTS" ] ||
		[ -z "$CURRENT" ] || [ "$resume" -ge "${#NAMES[@]}" ]; then
		if [ -n "$CURRENT" ] && [ "$resume" -ge "${#NAMES[@]}" ]; then
			# The last check hung: nothing left to run, not a harness error.
			tail -n 20 "$LOG" | tr -d '\r' | sed 's/^/    /'
			break
		fi
		echo "FAIL nested/harness: $why"
		tail -n 40 "$LOG" | tr -d '\r' | sed 's/^/    /'
		HARNESS_FAILED=1
		break
	fi
	info "$why; console tail:"
	tail -n 20 "$LOG" | tr -d '\r' | sed 's/^/    /'
	info "starting a fresh L1 from ${NAMES[$resume]}"
	next=$resume
done

# Checks that never reported.
for name in "${NAMES[@]}"; do
	[ -z "${RESULT[$name]:-}" ] || continue
	if [ "$KVM_STATE" = missing ]; then
		report "$name" FAIL "not run: no /dev/kvm in L1"
	elif [ "$DONE" = 1 ]; then
		report "$name" FAIL "no result from L1"
	else
		report "$name" FAIL "not run: the L1 VM stopped"
	fi
done
[ "$HARNESS_FAILED" = 0 ] || NFAIL=$((NFAIL + 1))

if [ "$session" -gt 1 ]; then
	info "$session L1 sessions (boot times ${boot_times[*]} s)"
fi
info "L1 boot ${boot_times[0]:-?} s (QEMU start to init), kvm modules loaded at ${T_KVM1:-?} s, last L1 ran ${T_L1:-?} s, total $(since "$T_START") s"
info "$NPASS passed, $NFAIL failed"
[ "$NFAIL" = 0 ]
