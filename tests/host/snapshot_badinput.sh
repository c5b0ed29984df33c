#!/bin/sh
# Bad snapshot files: truncated at every unit boundary and at random points,
# single bytes flipped in the header, units, digest table and memory, a wrong
# key, an incompatible host (edited CPU facts), a directory, a device node,
# an empty file. Each is refused with exit 1 and a message, before any guest
# code runs (no guest output), and nothing crashes.
. "$TESTLIB"
SF="python3 $ROOT/tests/host/snapfile.py"
run_guest counter --mem 16M --cmdline "limit=40 ready=3 gap=1" --snapshot-on-ready good.vmm
expect_status 0
cp --sparse=always good.vmm base.vmm
n=0

# refused WHY FILE [ARGS]: restore must exit 1 naming WHY, with no guest output.
refused() {
	why=$1
	f=$2
	shift 2
	timeout 20 "$VMM" restore "$f" --verify full "$@" >o 2>e </dev/null
	st=$?
	[ $st = 1 ] || fail "$f ($why): exit $st, expected 1: $(cat e)"
	grep -q -- "$why" e || fail "$f: message lacks '$why': $(cat e)"
	[ -s o ] && fail "$f ($why): the guest ran: $(head -c 200 o)"
	grep -q "ready in" e && fail "$f ($why): a VM was built"
	n=$((n + 1))
}

fresh() { cp --sparse=always base.vmm bad.vmm; }

# The good file restores (so the refusals below are about the damage).
timeout 20 "$VMM" restore good.vmm --verify full >o 2>e </dev/null
[ $? = 7 ] || fail "the good file does not restore: $(cat e)"

set -- $($SF layout base.vmm)
mem_off=$1 foot_off=$2 size=$4
# Truncated at every unit boundary, at the memory, footer and last byte, and at random points.
for cut in $($SF units base.vmm | awk '{print ($1 == "END") ? $2 : $1}') 0 100 4095 4096 \
	$mem_off $((mem_off + 5000)) $foot_off $((foot_off + 40)) $((size - 1)); do
	fresh
	truncate -s "$cut" bad.vmm
	refused "truncated\|empty\|runs past\|stray\|unexpected\|overlaps" bad.vmm
done
for i in 1 2 3 4 5 6 7 8; do
	cut=$(awk -v s=$size -v i=$i 'BEGIN{srand(i * 7919); print int(rand() * s)}')
	fresh
	truncate -s "$cut" bad.vmm
	refused "truncated\|runs past\|stray\|unexpected\|empty" bad.vmm
done
# Longer than the footer says.
fresh
printf 'x' >>bad.vmm
refused "unexpected bytes" bad.vmm

# One byte flipped: header fields, spare header bytes, each unit, the digest table, the hash.
for off in 0 8 12 16 24 40 84 88 96 104 112 116 120 128 136 168 172 176 184 300 4000; do
	fresh
	$SF flip bad.vmm $off
	refused "" bad.vmm
done
for u in $($SF units base.vmm | awk '$1 != "END" {print $1}'); do
	for d in 0 20 40; do
		fresh
		$SF flip bad.vmm $((u + d))
		refused "integrity hash" bad.vmm
	done
done
for d in 16 48 100; do
	fresh
	$SF flip bad.vmm $((foot_off + d))
	refused "integrity hash\|footer" bad.vmm
done
# Memory: a data page and a hole; --verify full refuses before the guest runs.
for off in $mem_off $((mem_off + 0x100000 + 17)) $((mem_off + 3 * 1024 * 1024)); do
	fresh
	$SF flip bad.vmm $off
	refused "memory chunk" bad.vmm
done

# --verify lazy: a flipped byte in the guest's code (at 1 MiB) stops the VM at its first touch,
# before the guest prints anything; a chunk the guest never touches does not matter.
fresh
$SF flip bad.vmm $((mem_off + 0x100000 + 5))
timeout 20 "$VMM" restore bad.vmm --verify lazy >o 2>e </dev/null
st=$?
[ $st = 1 ] || fail "lazy: a bad code chunk gave exit $st: $(cat e)"
grep -q "memory chunk 4 .*does not match its digest" e || fail "lazy: message lacks the chunk: $(cat e)"
[ -s o ] && fail "lazy: the guest ran code from a bad chunk: $(head -c 200 o)"
fresh
$SF flip bad.vmm $((mem_off + 12 * 1024 * 1024))
timeout 20 "$VMM" restore bad.vmm --verify lazy >o 2>e </dev/null
[ $? = 7 ] || fail "lazy: an untouched bad chunk stopped the guest: $(cat e)"
timeout 20 "$VMM" restore bad.vmm --verify full >o 2>e </dev/null
[ $? = 1 ] && grep -q "memory chunk 48 " e || fail "full: the untouched bad chunk passed: $(cat e)"

# Keys: a signed file without its key, with another key; an unsigned file with a key.
printf 'k1' >k1
printf 'k2' >k2
cp --sparse=always base.vmm signed.vmm
$SF rehash signed.vmm k1 # an unsigned file re-signed needs the flag too
refused "non-zero HMAC\|integrity" signed.vmm
refused "not signed" base.vmm --snapshot-key k1

# Incompatible host: another vendor; a CPU feature this host lacks (SGX, CPUID.7.0:EBX bit 2).
fresh
$SF vendor bad.vmm AuthenticAMD
refused "incompatible host" bad.vmm
fresh
$SF cpuid bad.vmm 7 1 2
refused "incompatible host.*CPUID.7.0:EBX bit 2" bad.vmm

# Not a snapshot at all.
mkdir adir
refused "is a directory" adir
refused "not a regular file" /dev/null
refused "cannot open" ./missing.vmm
: >empty.vmm
refused "empty" empty.vmm
head -c 8192 /dev/urandom >random.vmm
refused "bad magic" random.vmm
"$VMM" inspect base.vmm >ins || fail "inspect of the good file failed"
fresh
$SF flip bad.vmm $mem_off
"$VMM" inspect bad.vmm >ins && fail "inspect passed a file with a bad memory chunk"
grep -q "memory BAD" ins || fail "inspect did not report the bad chunk: $(cat ins)"
echo "$n bad files refused"
