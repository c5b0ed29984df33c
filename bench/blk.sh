#!/usr/bin/env bash
# Block I/O benchmark on the nested tier: the same Linux guest and image
# under vmm and under QEMU's microvm (virtio-blk on virtio-mmio), and the same
# loads run directly in L1 as the ceiling; sequential 1 MiB reads and writes
# and 4 KiB random reads and writes at queue depth 1 and 8 (O_DIRECT in the
# guest), medians and ratios in one table. See bench/nested/blk.sh.
# Usage: bench/blk.sh   (BENCH_RUNS=3, BENCH_SECONDS=4 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
B=build
echo "nested tier: booting L1 (QEMU TCG, emulated SVM); several minutes"
NESTED_BENCH=blk NESTED_VERBOSE=1 NESTED_CHECK_TIMEOUT=2400 NESTED_TIMEOUT=3000 \
	BENCH_RUNS=${BENCH_RUNS:-3} BENCH_SECONDS=${BENCH_SECONDS:-4} \
	tests/nested/run.sh >"$B/bench-blk-nested.log" 2>&1 || true
sed -n 's/^ *\[bench\/blk\] //p' "$B/bench-blk-nested.log"
grep -q '^PASS bench/blk' "$B/bench-blk-nested.log" ||
	{ echo "bench/blk.sh: the nested run failed; see $B/bench-blk-nested.log" >&2; exit 1; }
