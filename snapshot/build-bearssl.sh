#!/bin/bash
# Fetch BearSSL's source from Debian (source package bearssl) and build the
# few objects vmm uses (SHA-256 and HMAC) as a static musl library.
#
# Usage: snapshot/build-bearssl.sh [LINK]      (default: <repo>/build/bearssl)
# Output: LINK, a symlink to the cache entry, which holds
#         libbearssl.a   sha2small, hmac and the big-endian codecs (musl-gcc)
#         inc/           BearSSL's public headers
#         src/           the same sources plus inner.h/config.h, for the
#                        host-compiler (sanitizer) builds of tests and fuzzers
#         LICENSE.txt, VERSION
#
# Debian packages needed: dpkg-dev (for apt-get source), musl-tools, and a
# deb-src line for bookworm: as root, this script adds
# /etc/apt/sources.list.d/vmm-deb-src.sources when apt knows no source.
#
# Cache: ${VMM_CACHE:-/var/cache/vmm}/bearssl-<key>/, where <key> is the
# first 16 hex digits of the sha256 of the source package version, the
# compiler version and this script (which holds the flags and the source
# list). Entries are built beside the cache and renamed into place whole.
set -euo pipefail

PROG=build-bearssl.sh
die() {
	echo "$PROG: error: $*" >&2
	exit 1
}
say() {
	echo "$PROG: $*"
}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF=$HERE/$(basename "${BASH_SOURCE[0]}")
LINK=$(realpath -m -s -- "${1:-$HERE/../build/bearssl}") || die "bad link path '${1:-}'"
CACHE=${VMM_CACHE:-/var/cache/vmm}
PACKAGE=bearssl
SOURCES_FILE=/etc/apt/sources.list.d/vmm-deb-src.sources
# Only the hash and MAC code: nothing of TLS, X.509 or the public-key code.
SRCS=(src/hash/sha2small.c src/mac/hmac.c src/codec/dec32be.c src/codec/enc32be.c)
# No -D_FORTIFY_SOURCE: its __*_chk entry points are glibc's, musl has none.
CFLAGS=(-Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables
	-fno-stack-protector -U_FORTIFY_SOURCE)
CC=${CC_MUSL:-musl-gcc}

source_version() {
	apt-cache showsrc "$PACKAGE" 2>/dev/null | awk '/^Version:/ { print $2; exit }'
}

add_deb_src() {
	[ "$(id -u)" = 0 ] ||
		die "apt knows no source package '$PACKAGE' and this is not root: add a deb-src line for bookworm (see $SOURCES_FILE in $SELF)"
	say "adding $SOURCES_FILE (deb-src for bookworm main) and running apt-get update"
	cat >"$SOURCES_FILE" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	apt-get update -q >/dev/null || die "apt-get update failed"
}

command -v apt-cache >/dev/null || die "apt-cache not found: this script needs Debian's apt"
version=$(source_version)
if [ -z "$version" ]; then
	add_deb_src
	version=$(source_version)
	[ -n "$version" ] || die "apt-cache showsrc $PACKAGE finds nothing even with $SOURCES_FILE"
fi
command -v "$CC" >/dev/null || die "'$CC' not found (apt-get install musl-tools)"

key=$({
	printf '%s\n' "$version"
	"$CC" -dumpfullversion
	cat "$SELF"
} | sha256sum | cut -c1-16) || die "cannot compute the cache key"
entry=$CACHE/bearssl-$key

link_entry() {
	if [ -e "$LINK" ] && [ ! -L "$LINK" ]; then
		die "$LINK exists and is not a symlink: remove it"
	fi
	mkdir -p "$(dirname "$LINK")" || die "cannot create $(dirname "$LINK")"
	ln -sfn "$entry" "$LINK" || die "cannot link $LINK to $entry"
	say "BearSSL $version: $LINK -> $entry"
}

if [ -s "$entry/libbearssl.a" ]; then
	link_entry
	exit 0
fi

command -v dpkg-source >/dev/null || die "dpkg-source not found (apt-get install dpkg-dev)"
mkdir -p "$CACHE" || die "cannot create cache directory $CACHE (set VMM_CACHE to a writable directory)"
[ -w "$CACHE" ] || die "cache directory $CACHE is not writable (set VMM_CACHE to a writable directory)"

lock=$CACHE/.bearssl-$key.lock
exec 9>"$lock" || die "cannot create lock file $lock"
flock 9 || die "cannot lock $lock"
if [ -s "$entry/libbearssl.a" ]; then # built by whoever held the lock
	link_entry
	exit 0
fi
rm -rf "$entry"

work=$(mktemp -d "$CACHE/.bearssl-$key.build.XXXXXX") || die "cannot create a build directory in $CACHE"
trap 'rm -rf "$work"' EXIT
say "fetching source package $PACKAGE $version"
(cd "$work" && apt-get source -q "$PACKAGE=$version" >"$work/fetch.log" 2>&1) || {
	tail -n 20 "$work/fetch.log" >&2
	die "apt-get source $PACKAGE=$version failed"
}
tree=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name "$PACKAGE-*" | head -n 1)
[ -n "$tree" ] && [ -f "$tree/inc/bearssl.h" ] || die "the unpacked source has no inc/bearssl.h"

out=$work/out
mkdir -p "$out/src" "$out/obj"
cp -r "$tree/inc" "$out/inc"
cp "$tree/src/inner.h" "$tree/src/config.h" "$out/src/"
cp "$tree/LICENSE.txt" "$out/"
printf '%s\n' "$version" >"$out/VERSION"
for s in "${SRCS[@]}"; do
	[ -f "$tree/$s" ] || die "$PACKAGE $version has no $s"
	mkdir -p "$out/$(dirname "$s")"
	cp "$tree/$s" "$out/$s"
	"$CC" "${CFLAGS[@]}" -I"$out/inc" -I"$out/src" -c "$out/$s" \
		-o "$out/obj/$(basename "$s" .c).o" || die "compiling $s failed"
done
ar rcs "$out/libbearssl.a" "$out"/obj/*.o || die "ar failed"
rm -rf "$out/obj"
if nm "$out/libbearssl.a" | grep -q '__[a-z_]*_chk'; then
	die "libbearssl.a refers to glibc's fortify functions (__*_chk), which musl lacks"
fi

mv -T "$out" "$entry" || die "cannot rename $out to $entry"
rm -rf "$work"
trap - EXIT
say "built $entry ($(stat -c %s "$entry/libbearssl.a") bytes)"
link_entry
