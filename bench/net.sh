#!/usr/bin/env bash
# Network benchmark on the nested tier: the same Linux guest under vmm and
# under QEMU's microvm (virtio-net on virtio-mmio, tap backend), both on one
# tap in L1; TCP throughput guest to host and host to guest and 1-byte
# request/response, medians and ratios in one table. See bench/nested/net.sh.
# Usage: bench/net.sh   (BENCH_RUNS=3, BENCH_SECONDS=4 by default; BENCH_LOADS picks
# loads out of "send recv rr", e.g. BENCH_LOADS=send for guest to host only)
set -euo pipefail
cd "$(dirname "$0")/.."
B=build
make -s bench-tools
echo "nested tier: booting L1 (QEMU TCG, emulated SVM); several minutes"
NESTED_BENCH=net NESTED_VERBOSE=1 NESTED_CHECK_TIMEOUT=2400 NESTED_TIMEOUT=3000 \
	BENCH_RUNS=${BENCH_RUNS:-3} BENCH_SECONDS=${BENCH_SECONDS:-4} \
	tests/nested/run.sh >"$B/bench-net-nested.log" 2>&1 || true
sed -n 's/^ *\[bench\/net\] //p' "$B/bench-net-nested.log"
grep -q '^PASS bench/net' "$B/bench-net-nested.log" ||
	{ echo "bench/net.sh: the nested run failed; see $B/bench-net-nested.log" >&2; exit 1; }
