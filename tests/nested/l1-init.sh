#!/bin/sh
# l1-init.sh - /init of the L1 VM of the nested test tier (busybox sh, POSIX).
#
# run.sh copies this file to /init of the L1 initramfs, next to
#   /etc/nested/config   shell variables (CHECK_TIMEOUT, TAIL_LINES, VERBOSE,
#                        KVM_AMD_PARAMS)
#   /etc/nested/checks   one check a line: "<name> <path of its script>"
#   /lib/modules/l1/     the L1 kernel modules and modules.load (load order)
#   /payload/            vmm, guest/, tests/ and the check scripts
#
# Console protocol (one marker a line; run.sh parses them):
#   @@INIT <uptime>                 init started
#   @@KVM <uptime> ok|missing       kvm modules loaded (or not)
#   @@START <name> <limit>          a check starts (its time limit, s)
#   @@OUT <name> | <text>           last output lines of a failed check
#   @@LOG <name> | <text>           output of a check, live (VERBOSE=1)
#   @@RESULT <name> PASS
#   @@RESULT <name> FAIL <reason>
#   @@DONE <uptime>                 all done; the VM powers off next

export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin
# Settings the host passed in (benchmark sizes); see run.sh.
[ -r /etc/nested/env ] && . /etc/nested/env

uptime_s() { cut -d' ' -f1 /proc/uptime; }

# Print file $2 as "@@OUT <name> | line", at most $3 lines (its last ones).
print_out() {
	tail -n "$3" "$2" | tr -d '\r' | cut -c1-400 | while IFS= read -r l; do
		printf '@@OUT %s | %s\n' "$1" "$l"
	done
}

finish() {
	echo "@@DONE $(uptime_s)"
	sync
	# Let the UART drain what is still queued in the tty layer.
	sleep 0.5
	poweroff -f
	reboot -f
	# Last resort: init exits, the kernel panics, panic=-1 resets, and
	# QEMU (-no-reboot) exits.
	exit 1
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /run /tmp
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
hostname l1
ip link set lo up 2>/dev/null

echo "@@INIT $(uptime_s)"

CHECK_TIMEOUT=120
TAIL_LINES=30
VERBOSE=0
KVM_AMD_PARAMS=
[ -r /etc/nested/config ] && . /etc/nested/config

mkdir -p /run/nested/logs /run/nested/work

# --- kernel modules, in dependency order --------------------------------
modlog=/run/nested/logs/insmod.log
: >"$modlog"
if [ -r /lib/modules/l1/modules.load ]; then
	while read -r m; do
		[ -n "$m" ] || continue
		params=
		[ "$m" = kvm_amd.ko ] && params=$KVM_AMD_PARAMS
		# shellcheck disable=SC2086
		if ! insmod "/lib/modules/l1/$m" $params >>"$modlog" 2>&1; then
			echo "insmod $m failed" >>"$modlog"
		fi
	done </lib/modules/l1/modules.load
else
	echo "no /lib/modules/l1/modules.load in the initramfs" >>"$modlog"
fi

if [ ! -c /dev/kvm ]; then
	echo "@@KVM $(uptime_s) missing"
	reason="/dev/kvm missing after loading the kvm modules"
	first=$(grep -m1 . "$modlog")
	[ -n "$first" ] && reason="$reason: $first"
	[ -d /sys/module/kvm_amd ] || reason="$reason (kvm_amd not loaded)"
	dmesg | grep -iE 'kvm|svm' >>"$modlog"
	print_out nested/l1-kvm "$modlog" "$TAIL_LINES"
	echo "@@RESULT nested/l1-kvm FAIL $reason"
	finish
fi
echo "@@KVM $(uptime_s) ok"

# One idle VM for L1's whole life, so the checks' VMs never flip KVM's static
# keys (kernel text patching that once livelocked L1 under TCG; kvmhold.c).
if [ -x /payload/kvmhold ]; then
	/payload/kvmhold >/run/nested/logs/kvmhold.log 2>&1 &
	i=0
	while ! grep -q holding /run/nested/logs/kvmhold.log 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	grep -q holding /run/nested/logs/kvmhold.log || echo "@@LOG nested/l1-kvm | kvmhold: $(cat /run/nested/logs/kvmhold.log)"
fi

# nested.syms=ADDR,... on the command line: name these kernel addresses (from
# a hung L1's vCPUs; run.sh boots this with nokaslr, the same modules in the
# same order, so the addresses match), print "@@SYM <addr> <symbol+off>
# [module]" and stop.
syms=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^nested\.syms=//p' | tr ',' ' ')
if [ -n "$syms" ]; then
	echo 0 >/proc/sys/kernel/kptr_restrict 2>/dev/null
	echo "$syms" | tr ' ' '\n' | awk '
	function hex(s,  i, v) {
		v = 0
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	NR == FNR {
		w = tolower($1); sub(/^0x/, "", w)
		while (length(w) < 16) w = "0" w
		want[w] = 1; order[++n] = w
		next
	}
	$2 ~ /^[tTwW]$/ {
		# 16 hex digits each: string order is numeric order.
		for (w in want)
			if ($1 <= w && $1 > best[w]) { best[w] = $1; name[w] = $3 " " $4 }
	}
	END {
		for (i = 1; i <= n; i++) {
			w = order[i]
			if (best[w] == "" || substr(best[w], 1, 8) != substr(w, 1, 8))
				printf "@@SYM %s ?\n", w
			else
				printf "@@SYM %s %s+0x%x%s\n", w, substr(name[w], 1, index(name[w], " ") - 1),
					hex(substr(w, 9)) - hex(substr(best[w], 9)), substr(name[w], index(name[w], " "))
		}
	}' - /proc/kallsyms
	finish
fi
if [ -s "$modlog" ]; then
	# e.g. tun failed: not fatal here; the checks that need it fail.
	print_out nested/l1-modules "$modlog" "$TAIL_LINES"
fi

# --- checks -----------------------------------------------------------------
# The checks' shell: /usr/local/bin/sh (dash from the host, see run.sh) when
# the initramfs has it, else busybox ash. Always by absolute path: this
# busybox runs its own applets for bare command names whatever PATH says.
CHECK_SH=/bin/sh
[ -x /usr/local/bin/sh ] && CHECK_SH=/usr/local/bin/sh
CG=/sys/fs/cgroup/nested-check
have_cg=0
[ -e /sys/fs/cgroup/cgroup.procs ] && have_cg=1

# Kill whatever the last check left running.
reap() {
	[ "$have_cg" = 1 ] && [ -d "$CG" ] || return 0
	echo 1 >"$CG/cgroup.kill" 2>/dev/null
	i=0
	while [ -s "$CG/cgroup.procs" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	rmdir "$CG" 2>/dev/null
}

# nested.skip=N on the kernel command line: a fresh L1 after a hang goes on
# with the check after the one that hung.
skip=0
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	nested.skip=*) skip=${arg#nested.skip=} ;;
	esac
done

n=0
while read -r name script <&3; do
	[ -n "$name" ] || continue
	n=$((n + 1))
	[ "$n" -gt "$skip" ] || continue
	log=/run/nested/logs/$n.log
	wd=/run/nested/work/$n
	mkdir -p "$wd"
	mount -t tmpfs -o mode=0755 tmpfs "$wd"
	[ "$have_cg" = 1 ] && mkdir -p "$CG"
	dmesg_before=$(dmesg | wc -l)
	# A check may ask for a longer limit with a "# nested-timeout: SECONDS" line.
	limit=$(sed -n 's/^# nested-timeout: *\([0-9][0-9]*\).*/\1/p' "$script" 2>/dev/null | head -n 1)
	limit=${limit:-$CHECK_TIMEOUT}
	[ "$limit" -ge "$CHECK_TIMEOUT" ] || limit=$CHECK_TIMEOUT
	echo "@@START $name $limit"
	t0=$(uptime_s)
	if [ ! -r "$script" ]; then
		echo "check script $script not found in the L1 initramfs" >"$log"
		rc=127
	else
		# A fresh process: joins the check cgroup, then becomes the
		# timeout-guarded check (busybox timeout execs the program in
		# place and kills it from a child). env -i: the check sees only
		# the documented environment.
		env -i PATH="$PATH" HOME="$wd" TMPDIR="$wd" TERM=dumb \
			VMM=/payload/vmm GUEST=/payload/guest \
			GUESTS=/payload/tests/guests TESTLIB=/payload/tests/lib.sh \
			TIER=nested ROOT=/payload/src CHECK_NAME="$name" \
			BENCH_RUNS="${BENCH_RUNS:-}" BENCH_SECONDS="${BENCH_SECONDS:-}" BENCH_LOADS="${BENCH_LOADS:-}" \
			TESTDIR="$(dirname "$script")" \
			"$CHECK_SH" -c '[ -d "$1" ] && echo $$ >"$1/cgroup.procs"
				cd "$2" || exit 126
				exec busybox timeout -k 5 "$3" "$0" "$4"' \
			"$CHECK_SH" "$CG" "$wd" "$limit" "$script" \
			</dev/null >"$log" 2>&1 &
		pid=$!
		# VERBOSE=1: stream the output live (a check that hangs the
		# whole L1 still shows how far it got).
		streamer=
		if [ "$VERBOSE" = 1 ]; then
			: >"$log.n"
			setsid sh -c 'n=0
				tail -n +1 -f "$1" 2>/dev/null | while IFS= read -r l; do
					printf "@@LOG %s | %s\n" "$2" "$l" | tr -d "\r"
					n=$((n + 1))
					echo $n >"$1.n"
				done' sh "$log" "$name" &
			streamer=$!
		fi
		wait "$pid"
		rc=$?
		if [ -n "$streamer" ]; then
			# Stop the streamer, then show what it had not shown yet.
			kill -TERM -"$streamer" 2>/dev/null
			wait "$streamer" 2>/dev/null
			shown=$(cat "$log.n" 2>/dev/null)
			tail -n "+$((${shown:-0} + 1))" "$log" | tr -d '\r' | while IFS= read -r l; do
				printf '@@LOG %s | %s\n' "$name" "$l"
			done
		fi
	fi
	t1=$(uptime_s)
	reap
	cd /
	umount -l "$wd" 2>/dev/null
	rmdir "$wd" 2>/dev/null

	if [ "$rc" = 0 ]; then
		echo "@@RESULT $name PASS"
		continue
	fi

	# Short reason: timeout, or the exit status and the last line that
	# says FAIL/ERROR (else the last non-empty line).
	elapsed=$(echo "$t0 $t1" | awk '{ printf "%d", $2 - $1 }')
	if { [ "$rc" = 143 ] || [ "$rc" = 137 ] || [ "$rc" = 124 ]; } &&
		[ "$elapsed" -ge $((CHECK_TIMEOUT - 1)) ]; then
		reason="timed out after ${CHECK_TIMEOUT}s"
	else
		reason="exit status $rc"
	fi
	last=$(tr -d '\r' <"$log" | grep -E '^[[:space:]]*(not ok|FAIL|ERROR|Error|error|fail)' | tail -n 1)
	[ -n "$last" ] || last=$(tr -d '\r' <"$log" | grep . | tail -n 1)
	[ -n "$last" ] && reason="$reason: $(echo "$last" | sed 's/^[[:space:]]*//' | cut -c1-160)"

	dmesg | tail -n "+$((dmesg_before + 1))" | tail -n 10 | sed 's/^/[L1 dmesg] /' >>"$log"
	print_out "$name" "$log" "$TAIL_LINES"
	echo "@@RESULT $name FAIL $reason"
done 3</etc/nested/checks

finish
