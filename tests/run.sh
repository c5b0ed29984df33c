#!/usr/bin/env bash
# The test command: unit tests, fuzz smoke runs, whole-VM tests with tiny guests
# on this host's /dev/kvm, then the nested tier (real Linux guests inside an L1
# VM under QEMU). Ends with "N passed, N failed".
#   tests/run.sh            everything
#   tests/run.sh host       host tier only (unit, fuzz, tiny guests, host checks)
#   tests/run.sh nested     nested tier only
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-$ROOT/build}
WHAT=${1:-all}
passed=0
failed=0
failures=()

result() { # result PASS|FAIL NAME [REASON]
	if [ "$1" = PASS ]; then
		passed=$((passed + 1))
		echo "PASS $2"
	else
		failed=$((failed + 1))
		failures+=("$2")
		echo "FAIL $2${3:+: $3}"
	fi
}

# Count PASS/FAIL lines another runner printed (and show them).
tally() {
	while IFS= read -r line; do
		case "$line" in
		"PASS "*) passed=$((passed + 1)); echo "$line" ;;
		"FAIL "*) failed=$((failed + 1)); failures+=("${line#FAIL }"); echo "$line" ;;
		*) echo "    $line" ;;
		esac
	done
}

need_kvm() {
	if [ ! -c /dev/kvm ]; then
		result FAIL "$1" "/dev/kvm is missing on this machine: whole-VM tests cannot run"
		return 1
	fi
	if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
		result FAIL "$1" "no read/write permission on /dev/kvm"
		return 1
	fi
	return 0
}

run_unit() {
	echo "== unit tests (ASan/UBSan)"
	if ! make -s unit BUILD="$BUILD" >"$BUILD/unit-build.log" 2>&1; then
		result FAIL unit/build "$(tail -n 20 "$BUILD/unit-build.log")"
		return
	fi
	for t in "$BUILD"/tests/unit/test_*; do
		[ -x "$t" ] || continue
		"$t" >"$BUILD/unit.log" 2>&1
		st=$?
		tally <"$BUILD/unit.log"
		[ $st -le 1 ] || result FAIL "unit/$(basename "$t")" "crashed (status $st)"
	done
}

# The repository's .clang-format holds for every C file (the guide's rule).
run_style() {
	local bad=() f
	if ! command -v clang-format >/dev/null; then
		result FAIL style/clang-format "clang-format is not installed (apt-get install clang-format)"
		return
	fi
	while IFS= read -r f; do
		clang-format "$f" | cmp -s - "$f" || bad+=("$f")
	done < <(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build/*')
	if [ ${#bad[@]} -eq 0 ]; then
		result PASS style/clang-format
	else
		result FAIL style/clang-format "not formatted (run clang-format -i): ${bad[*]}"
	fi
}

run_fuzz() {
	echo "== fuzz targets (libFuzzer, ASan/UBSan, bounded time)"
	if ! make -s fuzz BUILD="$BUILD" >"$BUILD/fuzz-build.log" 2>&1; then
		result FAIL fuzz/build "$(tail -n 20 "$BUILD/fuzz-build.log")"
		return
	fi
	for f in "$BUILD"/tests/fuzz/fuzz_*; do
		[ -x "$f" ] || continue
		name=$(basename "$f")
		corpus="$BUILD/tests/fuzz/corpus-$name"
		mkdir -p "$corpus"
		if "$f" -max_total_time="${FUZZ_SECONDS:-20}" -print_final_stats=1 "$corpus" \
			"$ROOT/tests/fuzz/seeds/${name#fuzz_}" >"$BUILD/$name.log" 2>&1; then
			result PASS "fuzz/$name" 
			grep -E 'stat::number_of_executed_units' "$BUILD/$name.log" | sed 's/^/    /'
		else
			result FAIL "fuzz/$name" "$(grep -m5 -E 'ERROR|SUMMARY|crash' "$BUILD/$name.log")"
		fi
	done
}

# Each script runs in a fresh scratch dir with the common environment.
run_script() { # run_script NAME SCRIPT
	local dir
	dir=$(mktemp -d "${TMPDIR:-/tmp}/vmm-test.XXXXXX")
	if (cd "$dir" && VMM="$BUILD/vmm" GUESTS="$BUILD/tests/guests" GUEST="$BUILD/guest" \
		TESTLIB="$ROOT/tests/lib.sh" TIER=host ROOT="$ROOT" \
		timeout "${TEST_TIMEOUT:-180}" sh "$2" >"$dir/log" 2>&1); then
		result PASS "$1"
	else
		result FAIL "$1" "$(tail -n 25 "$dir/log")"
	fi
	rm -rf "$dir"
}

run_host() {
	echo "== host tier: tiny guests on this host's /dev/kvm"
	need_kvm host/kvm || return
	[ -x "$BUILD/vmm" ] || { result FAIL host/vmm "build/vmm missing: run ./build.sh"; return; }
	for t in "$ROOT"/tests/guests/*/test.sh; do
		run_script "host/guest-$(basename "$(dirname "$t")")" "$t"
	done
	for t in "$ROOT"/tests/host/*.sh; do
		[ -f "$t" ] && run_script "host/$(basename "$t" .sh)" "$t"
	done
}

run_nested() {
	echo "== nested tier: real Linux guests inside an L1 VM (QEMU TCG, emulated SVM)"
	"$ROOT/tests/nested/run.sh" >"$BUILD/nested.log" 2>&1
	st=$?
	tally <"$BUILD/nested.log"
	if [ $st -ne 0 ] && ! grep -q '^FAIL ' "$BUILD/nested.log"; then
		result FAIL nested/harness "tests/nested/run.sh exited $st without a result line"
	fi
}

mkdir -p "$BUILD"
case "$WHAT" in
all) run_unit; run_style; run_fuzz; run_host; run_nested ;;
host) run_unit; run_style; run_fuzz; run_host ;;
unit) run_unit; run_style ;;
nested) run_nested ;;
*) echo "usage: tests/run.sh [all|host|unit|nested]"; exit 2 ;;
esac

if [ $failed -gt 0 ]; then
	echo "failed:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
