#!/bin/bash
# l1-prepare.sh - fetch and unpack the L1 kernel for the nested test tier.
#
# Downloads (apt-get download) the Debian cloud kernel package that
# linux-image-cloud-amd64 depends on, unpacks it and keeps, in
#   ${VMM_CACHE:-/var/cache/vmm}/l1-<pkgversion>/
# only what the L1 VM needs:
#   vmlinuz          the kernel (bzImage)
#   modules/*.ko     kvm-amd, tun and everything they depend on, uncompressed
#   modules.load     the module file names in load (dependency) order
#   release          the kernel release (uname -r), e.g. 6.1.0-56-cloud-amd64
#   package          the package name and version it came from
#   .complete        stamp: the directory is finished
# A finished directory is reused as it is.
#
# Usage: l1-prepare.sh [-q]
#   Progress goes to stderr ("-q": only errors); the last line on stdout is
#   the cache directory.
#
# Environment:
#   VMM_CACHE       cache root (default /var/cache/vmm)
#   VMM_L1_PKG      use this image package instead of resolving
#                   linux-image-cloud-amd64 (e.g. linux-image-6.1.0-56-cloud-amd64)
#   VMM_L1_MODULES  modules to load in L1 (default "kvm-amd tun"); their
#                   dependencies are added automatically

set -euo pipefail

QUIET=0
if [ "${1:-}" = "-q" ]; then
	QUIET=1
fi

say() { [ "$QUIET" = 1 ] || echo "l1-prepare: $*" >&2; }
die() {
	echo "l1-prepare: error: $*" >&2
	exit 1
}

CACHE="${VMM_CACHE:-/var/cache/vmm}"
META=linux-image-cloud-amd64
WANT_MODULES="${VMM_L1_MODULES:-kvm-amd tun}"

# Print "<image package> <version>" of the candidate cloud kernel, or fail.
resolve_pkg() {
	local pkg ver
	if [ -n "${VMM_L1_PKG:-}" ]; then
		pkg="$VMM_L1_PKG"
		ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }')
		[ -n "$ver" ] && [ "$ver" != "(none)" ] || return 1
		echo "$pkg $ver"
		return 0
	fi
	# "Depends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)"
	apt-cache show --no-all-versions "$META" 2>/dev/null | sed -n \
		's/^Depends:.*\(linux-image-[0-9][^ ,]*\) (= \([^)]*\)).*/\1 \2/p' | grep . | head -n 1
}

# Newest finished cache directory, if any.
newest_cached() {
	local d
	for d in "$CACHE"/l1-*/; do
		[ -e "$d.complete" ] && echo "${d%/}"
	done | sort -V | tail -n 1
}

if ! pv=$(resolve_pkg); then
	say "apt lists do not know $META yet: running apt-get update"
	if ! apt-get update -qq >/dev/null 2>&1 || ! pv=$(resolve_pkg); then
		old=$(newest_cached)
		if [ -n "$old" ]; then
			say "cannot resolve $META; reusing $old"
			echo "$old"
			exit 0
		fi
		die "cannot resolve the image package of $META (apt-get update failed?)"
	fi
fi
PKG=${pv% *}
VER=${pv#* }
DIR="$CACHE/l1-$VER"

if [ -e "$DIR/.complete" ] && [ -s "$DIR/vmlinuz" ]; then
	say "cached: $PKG $VER in $DIR"
	echo "$DIR"
	exit 0
fi

command -v modinfo >/dev/null || die "modinfo not found (apt-get install kmod)"
mkdir -p "$CACHE"
TMP=$(mktemp -d "$CACHE/.l1-tmp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

say "downloading $PKG=$VER"
# apt-get download writes into the current directory; _apt cannot write to
# a root-only mktemp dir, which only costs a warning.
if ! (cd "$TMP" && apt-get download -q "$PKG=$VER" >"$TMP/apt.log" 2>&1); then
	cat "$TMP/apt.log" >&2
	die "apt-get download $PKG=$VER failed"
fi
deb=$(ls "$TMP"/*.deb)
say "unpacking $(basename "$deb")"
dpkg -x "$deb" "$TMP/x"

release=$(ls "$TMP/x/lib/modules" | head -n 1)
[ -n "$release" ] || die "no /lib/modules/<release> in $PKG"
moddir="$TMP/x/lib/modules/$release"
kernel="$TMP/x/boot/vmlinuz-$release"
[ -s "$kernel" ] || die "no $kernel in $PKG"

mkdir -p "$TMP/out/modules"
cp "$kernel" "$TMP/out/vmlinuz"
cp "$TMP/x/boot/config-$release" "$TMP/out/config"
echo "$release" >"$TMP/out/release"
echo "$PKG $VER" >"$TMP/out/package"

# Module name -> file, for every module in the package. Names may be
# spelled with '-' or '_'; map both to '_'.
declare -A MODFILE
while IFS= read -r f; do
	b=$(basename "$f")
	b=${b%%.ko*}
	MODFILE[${b//-/_}]=$f
done < <(find "$moddir" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz')

# Copy one module (uncompressed: busybox insmod does not decompress).
copy_module() {
	local src=$1 dst=$2
	case "$src" in
	*.ko.xz) xz -dc "$src" >"$dst" ;;
	*.ko.zst) zstd -qdc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	*) cp "$src" "$dst" ;;
	esac
}

# Depth-first: dependencies before the module itself.
declare -A SEEN
ORDER=()
add_module() {
	local name=${1//-/_} f deps d
	[ -z "${SEEN[$name]:-}" ] || return 0
	SEEN[$name]=1
	if grep -qE "/${name//_/[-_]}\.ko$" "$moddir/modules.builtin" 2>/dev/null; then
		say "module $name is built in"
		return 0
	fi
	f=${MODFILE[$name]:-}
	[ -n "$f" ] || die "module $name not found in $PKG"
	copy_module "$f" "$TMP/out/modules/$name.ko"
	deps=$(modinfo -F depends "$TMP/out/modules/$name.ko")
	for d in ${deps//,/ }; do
		add_module "$d"
	done
	ORDER+=("$name.ko")
}
for m in $WANT_MODULES; do
	add_module "$m"
done
printf '%s\n' "${ORDER[@]}" >"$TMP/out/modules.load"
say "modules (load order): ${ORDER[*]}"

touch "$TMP/out/.complete"
if [ -e "$DIR" ] && [ ! -e "$DIR/.complete" ]; then
	say "removing unfinished $DIR"
	rm -rf "$DIR"
fi
if mv -T "$TMP/out" "$DIR" 2>/dev/null; then
	say "prepared $DIR ($release)"
elif [ -e "$DIR/.complete" ]; then
	say "another run prepared $DIR meanwhile; using it"
else
	die "cannot create $DIR"
fi
echo "$DIR"
