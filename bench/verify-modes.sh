#!/bin/sh
# Restore start-up and first-touch cost for --verify lazy, full and none, on
# the host tier with the counter guest: exec to its first line after the
# restore (guest running), and exec to "touched" after it read one byte of
# every page of a 64 MiB random initrd (every chunk holding data touched).
# Usage: bench/verify-modes.sh [RUNS] (medians of RUNS, default 9, rounds interleaved)
set -eu
cd "$(dirname "$0")/.."
VMM=$PWD/build/vmm
FT=$PWD/build/firsttime
G=$PWD/build/tests/guests/counter.elf
RUNS=${1:-9}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
head -c 64M /dev/urandom >rnd.img
"$VMM" run --kernel "$G" --initrd rnd.img --mem 256M --cmdline "limit=3 ready=1 gap=0" \
	--snapshot-on-ready start.vmm </dev/null >/dev/null 2>w1
"$VMM" run --kernel "$G" --initrd rnd.img --mem 256M --cmdline "limit=3 ready=1 gap=0 touch=1" \
	--snapshot-on-ready touch.vmm </dev/null >/dev/null 2>w2
"$VMM" run --kernel "$G" --mem 4G --cmdline "limit=3 ready=1 gap=0" \
	--snapshot-on-ready big.vmm </dev/null >/dev/null 2>w3
sed -n 's/^vmm: snapshot: wrote /write: /p' w1 w3
med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
for round in $(seq 1 "$RUNS"); do
	for m in none lazy full; do
		"$FT" -n 1 -m "n=2" -- "$VMM" restore start.vmm --verify $m 2>/dev/null | awk '{print $1}' >>s.$m
		"$FT" -n 1 -m "n=2" -- "$VMM" restore big.vmm --verify $m 2>/dev/null | awk '{print $1}' >>b.$m
		"$FT" -n 1 -m "touched" -- "$VMM" restore touch.vmm --verify $m 2>/dev/null | awk '{print $1}' >>t.$m
	done
done
printf '%-6s %14s %14s %18s %14s\n' mode "256M start ms" "4G start ms" "touch 64M ms" "ms/MiB extra"
base=$(med <t.none)
for m in none lazy full; do
	t=$(med <t.$m)
	printf '%-6s %14s %14s %18s %14s\n' $m "$(med <s.$m)" "$(med <b.$m)" "$t" \
		"$(awk -v t="$t" -v b="$base" 'BEGIN {printf "%.2f", (t - b) / 64}')"
done
