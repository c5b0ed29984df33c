#!/bin/bash
# Build the vmm guest kernel from Debian's linux-source-6.1 with the config
# fragment guest/linux.config.
#
# Usage: guest/build-linux.sh [OUTDIR]     (default: <repo>/build/guest)
# Output: OUTDIR/bzImage     LZ4-compressed bzImage (Linux boot protocol)
#         OUTDIR/vmlinux     stripped ELF with the Xen PVH entry note
#         OUTDIR/.config     the full kernel configuration
#         OUTDIR/System.map  kernel symbol addresses, for reading oopses
#
# Debian packages needed: linux-source-6.1 build-essential bc bison flex
# libelf-dev libssl-dev lz4 xz-utils (and, from the base system: coreutils,
# tar, dpkg, util-linux for flock).
#
# Cache: ${VMM_CACHE:-/var/cache/vmm}/linux-<key>/, where <key> is the first
# 16 hex digits of the sha256 of the linux-source-6.1 package version, this
# script and linux.config.  A finished cache entry is only copied to OUTDIR.
# Otherwise the kernel is built in a temporary directory beside it (the
# source tarball is extracted there), and the outputs are renamed into place
# when complete; the source tree is then deleted.  A lock serialises builds
# of the same key.  A clean build takes about 8 minutes on 2 cores.
set -euo pipefail

PROG=build-linux.sh
die() {
    echo "$PROG: error: $*" >&2
    exit 1
}
say() {
    echo "$PROG: $*"
}

start=${EPOCHREALTIME/./}
elapsed() { # seconds since start, like 12.3s
    local ds=$(((${EPOCHREALTIME/./} - start) / 100000))
    echo "$((ds / 10)).$((ds % 10))s"
}

GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF=$GUEST_DIR/$(basename "${BASH_SOURCE[0]}")
FRAGMENT=$GUEST_DIR/linux.config
OUTDIR=$(realpath -m -- "${1:-$GUEST_DIR/../build/guest}") || die "bad output directory '${1:-}'"
CACHE=${VMM_CACHE:-/var/cache/vmm}
PACKAGE=linux-source-6.1
TARBALL=/usr/src/linux-source-6.1.tar.xz
OUTPUTS=(bzImage vmlinux .config System.map)

[ -f "$FRAGMENT" ] || die "config fragment $FRAGMENT not found"
command -v dpkg-query >/dev/null || die "dpkg-query not found: this script needs Debian's dpkg"
version=$(dpkg-query -W -f='${Version}' "$PACKAGE" 2>/dev/null) ||
    die "Debian package $PACKAGE is not installed (apt-get install $PACKAGE)"
[ -n "$version" ] || die "Debian package $PACKAGE is not installed (apt-get install $PACKAGE)"

key=$({
    printf '%s\n' "$version"
    cat "$FRAGMENT"
    cat "$SELF"
} | sha256sum | cut -c1-16) || die "cannot compute the cache key"
entry=$CACHE/linux-$key

# Copy the finished outputs of the cache entry to OUTDIR, each file renamed
# into place so that OUTDIR never holds a half-copied kernel.
copy_out() {
    local f
    mkdir -p "$OUTDIR" || die "cannot create output directory $OUTDIR"
    for f in "${OUTPUTS[@]}"; do
        cp "$entry/$f" "$OUTDIR/.$f.tmp.$$" || die "cannot copy $entry/$f to $OUTDIR"
        mv -f "$OUTDIR/.$f.tmp.$$" "$OUTDIR/$f" || die "cannot rename $OUTDIR/.$f.tmp.$$ to $OUTDIR/$f"
    done
}

cache_complete() {
    local f
    for f in "${OUTPUTS[@]}"; do
        [ -s "$entry/$f" ] || return 1
    done
}

if cache_complete; then
    copy_out
    say "used cached kernel $entry ($PACKAGE $version) -> $OUTDIR ($(elapsed))"
    exit 0
fi

# --- Build -----------------------------------------------------------------

for tool in make gcc flex bison bc lz4 xz tar strip readelf sha256sum flock nproc; do
    command -v "$tool" >/dev/null ||
        die "'$tool' not found; install: $PACKAGE build-essential bc bison flex libelf-dev libssl-dev lz4 xz-utils"
done
[ -f "$TARBALL" ] || die "kernel source $TARBALL not found (is $PACKAGE installed?)"
[ -f /usr/include/gelf.h ] || die "libelf headers not found (apt-get install libelf-dev)"

mkdir -p "$CACHE" || die "cannot create cache directory $CACHE (set VMM_CACHE to a writable directory)"
[ -w "$CACHE" ] || die "cache directory $CACHE is not writable (set VMM_CACHE to a writable directory)"

lock=$CACHE/.linux-$key.lock
exec 9>"$lock" || die "cannot create lock file $lock"
if ! flock -n 9; then
    say "waiting for another build of $entry to finish"
    flock 9 || die "cannot lock $lock"
fi
if cache_complete; then # built by whoever held the lock
    copy_out
    say "used cached kernel $entry ($PACKAGE $version) -> $OUTDIR ($(elapsed))"
    exit 0
fi
rm -rf "$entry" # an incomplete entry: should not exist, as entries are renamed in whole

work=$(mktemp -d "$CACHE/.linux-$key.build.XXXXXX") || die "cannot create a build directory in $CACHE"
trap 'rm -rf "$work"' EXIT
log=$work/build.log
src=$work/linux-source-6.1

say "building kernel $entry ($PACKAGE $version)"
say "extracting $TARBALL"
tar -xf "$TARBALL" -C "$work" || die "extracting $TARBALL into $work failed"
[ -f "$src/Makefile" ] || die "$TARBALL did not contain linux-source-6.1/Makefile"

# Settings from the caller's environment that would change what make does.
unset ARCH CROSS_COMPILE KBUILD_OUTPUT KCONFIG_CONFIG KCONFIG_ALLCONFIG O CC LD LLVM
# Reproducible version string; the build "timestamp" names the cache key.
export KBUILD_BUILD_USER=vmm KBUILD_BUILD_HOST=vmm KBUILD_BUILD_VERSION=1
export KBUILD_BUILD_TIMESTAMP="vmm-guest-$key"

kmake() {
    make -C "$src" ARCH=x86_64 "$@" >>"$log" 2>&1
}
fail_with_log() {
    cp -f "$log" "$entry.failed.log" 2>/dev/null || :
    echo "---- last lines of the build log (all of it: $entry.failed.log) ----" >&2
    tail -n 40 "$log" >&2 || :
    die "$1"
}

say "configuring: allnoconfig + $FRAGMENT + olddefconfig"
kmake KCONFIG_ALLCONFIG="$FRAGMENT" allnoconfig || fail_with_log "make allnoconfig failed"
kmake olddefconfig || fail_with_log "make olddefconfig failed"

# Every option the fragment sets must have survived: Kconfig silently drops
# options whose dependencies are not met.  "=value" lines must appear as
# they are; "is not set" lines must not have been turned on.
missing=()
while IFS= read -r line; do
    case $line in
        CONFIG_*=*)
            grep -qxF -- "$line" "$src/.config" || missing+=("$line")
            ;;
        "# CONFIG_"*" is not set")
            opt=${line#\# }
            opt=${opt%% *}
            if grep -q "^$opt=" "$src/.config"; then
                missing+=("$line (but .config has $(grep "^$opt=" "$src/.config"))")
            fi
            ;;
    esac
done <"$FRAGMENT"
if [ "${#missing[@]}" -gt 0 ]; then
    cp -f "$src/.config" "$entry.failed.config" 2>/dev/null || :
    printf '%s: error: not in the final .config:\n' "$PROG" >&2
    printf '    %s\n' "${missing[@]}" >&2
    die "${#missing[@]} option(s) of $FRAGMENT did not survive olddefconfig (full config: $entry.failed.config)"
fi
say "config verified: every option of the fragment is in .config"

jobs=$(nproc)
say "compiling with make -j$jobs bzImage vmlinux (log: $log)"
kmake -j"$jobs" bzImage vmlinux || fail_with_log "kernel build failed"

out=$work/out
mkdir "$out"
cp "$src/arch/x86/boot/bzImage" "$out/bzImage" || die "bzImage was not built"
cp "$src/.config" "$out/.config"
cp "$src/System.map" "$out/System.map" || die "System.map was not built"
# strip drops the symbol table only: .notes is an allocated section (in the
# PT_NOTE segment), so the PVH entry note stays.
strip -o "$out/vmlinux" "$src/vmlinux" || die "stripping vmlinux failed"
# The PVH entry point note: owner "Xen", type XEN_ELFNOTE_PHYS32_ENTRY (0x12).
if ! readelf -nW "$out/vmlinux" | awk '
        $1 == "Xen" && ($0 ~ /\(0x0*12\)/ || $0 ~ /PHYS32_ENTRY/) { found = 1 }
        END { exit !found }'; then
    die "the stripped vmlinux has no Xen PVH entry note (type 0x12); is CONFIG_PVH on?"
fi

mv -T "$out" "$entry" || die "cannot rename $out to $entry"
rm -f "$entry.failed.log" "$entry.failed.config"
say "built $entry: bzImage $(stat -c %s "$entry/bzImage") bytes, vmlinux $(stat -c %s "$entry/vmlinux") bytes"
say "removing the build tree"
rm -rf "$work"
trap - EXIT

copy_out
say "done: kernel in $OUTDIR ($(elapsed))"
