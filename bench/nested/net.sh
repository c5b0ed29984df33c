#!/bin/sh
# Runs inside the nested tier's L1 (see bench/net.sh): TCP between the same
# Linux guest and L1 under vmm and under QEMU's microvm (virtio-net-device on
# virtio-mmio, tap backend without vhost), both on the same persistent tap
# with 10.0.0.1/24 on the L1 side, in a network namespace of this script's
# own. Loads, by netbench: guest-to-host and host-to-guest stream throughput,
# 1-byte request/response.
. "$TESTLIB"
. "${BENCHLIB:-/payload/src/bench/lib.sh}"
if [ -z "${NET_NS:-}" ]; then
	exec unshare -n env NET_NS=1 sh "$0"
fi
SECS=${BENCH_SECONDS:-4}
RUNS=${BENCH_RUNS:-3}
BIN=$(dirname "$VMM")
K="$GUEST/vmlinux"
CMDLINE="console=ttyS0 reboot=t panic=-1 quiet vmm.ip=10.0.0.2/24"
MAC=02:00:00:00:00:02
QEMU=$(command -v qemu-system-x86_64) || fail "no QEMU in L1"
[ -x "$BIN/netbench" ] || fail "no netbench in the payload (make bench-tools)"
LOADS=${BENCH_LOADS:-send recv rr}
JOB="i=0; until ping -c 1 -W 1 10.0.0.1 >/dev/null 2>&1; do i=\$((i+1)); [ \$i -lt 30 ] || exit 3; done"
for l in $LOADS; do JOB="$JOB; netbench $l 10.0.0.1 5001 $SECS"; done

# The guest's initramfs plus netbench: the kernel unpacks concatenated archives.
mkdir -p extra/bin
cp "$BIN/netbench" extra/bin/
(cd extra && find bin | cpio -o -H newc 2>/dev/null) >extra.cpio
cat "$GUEST/initramfs.cpio" extra.cpio >bench.cpio

ip link set lo up
tunctl -t btap0 >/dev/null || fail "cannot create the tap btap0"
ip addr add 10.0.0.1/24 dev btap0 && ip link set btap0 up || fail "cannot configure btap0"
"$BIN/netbench" serve 5001 &
server=$!

# QEMU's microvm announces its virtio-mmio devices by appending them to the
# command line, i.e. after " -- ", where the kernel hands them to init: turn
# that off and announce the one device (the first -device takes the last of
# its eight transports, at 0xfeb00e00, IRQ 12) before the command.
QCMD="virtio_mmio.device=512@0xfeb00e00:12 $CMDLINE"
# A VM that hangs is ended after 150 s; netbench ends a load that stalls for 30 s.
for r in $(seq "$RUNS"); do
	timeout 150 "$VMM" run --mem 512M --kernel "$K" --initrd bench.cpio --cmdline "$CMDLINE" \
		--net tap=btap0,mac=$MAC -- sh -c "$JOB" </dev/null 2>>vmm.err | sed 's/^/vmm /' >>results
	timeout 150 "$QEMU" -L /usr/share/qemu \
		-M microvm,x-option-roms=off,rtc=off,isa-serial=on,acpi=off,ioapic2=off,auto-kernel-cmdline=off \
		-accel kvm -cpu host -m 512M -smp 1 -nodefaults -no-user-config -nographic \
		-serial stdio -no-reboot -kernel "$K" -initrd bench.cpio \
		-netdev tap,id=n0,ifname=btap0,script=no,downscript=no,vhost=off \
		-device virtio-net-device,netdev=n0,mac=$MAC \
		-append "$QCMD -- \"sh\" \"-c\" \"$JOB\"" </dev/null 2>>qemu.err | sed 's/^/qemu /' >>results
done
kill $server 2>/dev/null
tr -d '\r' <results >results.txt
grep -q '^vmm ' results.txt || fail "vmm gave no results: $(tail -n 5 vmm.err) $(grep '^vmm' results.txt | tail -n 5)"
grep -q '^qemu ' results.txt || fail "QEMU gave no results: $(tail -n 5 qemu.err) $(grep '^qemu' results.txt | tail -n 5)"
# median over runs of vmm's figure / QEMU's figure in the same run (robust to load swings)
paired() { # paired LOAD FIELD [inverse]
	awk -v m="$1" -v f="$2" -v inv="${3:-0}" '$2 == m && $1 == "vmm" {v[++nv] = $(f + 2)}
		$2 == m && $1 == "qemu" {q[++nq] = $(f + 2)}
		END {for (i = 1; i <= nv && i <= nq; i++) if (v[i] > 0 && q[i] > 0)
			printf "%.3f\n", inv ? q[i] / v[i] : v[i] / q[i]}' results.txt | median
}
get() { # get WHO LOAD FIELD
	awk -v w="$1" -v m="$2" -v f="$3" '$1 == w && $2 == m {print $(f + 2)}' results.txt | median
}
echo "BENCH nested tier TCP over a tap ($RUNS runs, ${SECS}s each; medians; guest 1 vCPU, 512 MiB)"
printf '| %-34s | %10s | %10s | %8s | %8s |\n' "load" "vmm" "QEMU" "vmm/QEMU" "paired"
printf '|%s|%s|%s|%s|%s|\n' "------------------------------------" "------------" "------------" "----------" "----------"
for row in "send 1 guest to host (MiB/s)" "recv 1 host to guest (MiB/s)" "rr 1 request/response (trans/s)"; do
	load=${row%% *}
	rest=${row#* }
	f=${rest%% *}
	label=${rest#* }
	v=$(get vmm "$load" "$f")
	q=$(get qemu "$load" "$f")
	printf '| %-34s | %10s | %10s | %8s | %8s |\n' "$label" "$v" "$q" "$(ratio "$v" "$q")" "$(paired "$load" "$f")"
done
v=$(get vmm rr 3)
q=$(get qemu rr 3)
printf '| %-34s | %10s | %10s | %8s | %8s |\n' "request/response latency (us)" "$v" "$q" "$(ratio "$q" "$v")" "$(paired rr 3 1)"
echo "(paired: the median over runs of the ratio within one run, vmm and QEMU back to back;"
echo " latency ratios are QEMU/vmm: above 1 means vmm is faster)"
for load in send recv rr; do
	printf 'runs %s: vmm %s; QEMU %s\n' "$load" \
		"$(awk -v m="$load" '$1 == "vmm" && $2 == m {printf "%s ", $3}' results.txt)" \
		"$(awk -v m="$load" '$1 == "qemu" && $2 == m {printf "%s ", $3}' results.txt)"
done
