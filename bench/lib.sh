# Shared helpers for the benchmarks (POSIX sh: also used inside the L1 VM).

# median of the numbers on stdin, one per line
median() {
	sort -n | awk '{a[NR]=$1} END {if (NR == 0) {print "nan"; exit} if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'
}

# ratio A B: A/B with two decimals
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'
}

# row LABEL VMM PEER UNIT: one table row with the vmm/peer ratio
row() {
	printf '| %-44s | %10s | %10s | %6s |\n' "$1" "$2 $4" "$3 $4" "$(ratio "$2" "$3")"
}

header() {
	printf '| %-44s | %10s | %10s | %6s |\n' "$1" "vmm" "$2" "ratio"
	printf '|%s|%s|%s|%s|\n' "----------------------------------------------" "------------" "------------" "--------"
}
