base=$(awk '$3 == "_text" { print $1 }' /proc/kallsyms)
echo "_text=$base"
for off in 4ffe 10d9b 5e40 503c 7900 200ba3 201199 200ba0; do
	awk -v b="$base" -v o="$off" '
	function hex(s,  i,c,v) { v = 0; s = tolower(s); for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c } return v }
	BEGIN { t = hex(substr(b, 9)) + hex(o) }
	{ a = hex(substr($1, 9)); if (substr($1, 1, 8) == substr(b, 1, 8) && a <= t && a > best) { best = a; name = $3 } }
	END { printf "+%s = %s+0x%x\n", o, name, t - best }' /proc/kallsyms
done
exit 1
