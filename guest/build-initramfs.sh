#!/bin/bash
# Build the vmm guest's initramfs: busybox-static, its applet symlinks, /init
# (guest/init), a few files under /etc and the /dev/console node.
#
# Usage: guest/build-initramfs.sh [OUTDIR]     (default: <repo>/build/guest)
# Output: OUTDIR/initramfs.cpio     uncompressed: the one to boot with, as the
#                                   kernel unpacks it fastest (see README.md)
#         OUTDIR/initramfs.cpio.gz  the same archive, gzip-compressed
#
# Debian packages needed: busybox-static (/bin/busybox), gzip, coreutils,
# binutils (readelf, to check that busybox is static).
#
# The cpio archive (newc format) is written by this script itself rather than
# by cpio(1): no root rights are needed for the device node, and the output
# is byte-for-byte reproducible (entries sorted by name, owner root, fixed
# mtime, inode numbers in order), so it only changes when its inputs do.
# It takes well under a second, so it is not cached.
set -euo pipefail

die() {
    echo "build-initramfs.sh: error: $*" >&2
    exit 1
}

GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUTDIR=$(realpath -m -- "${1:-$GUEST_DIR/../build/guest}") || die "bad output directory '${1:-}'"
BUSYBOX=/bin/busybox
INIT=$GUEST_DIR/init
VMM_GUEST=${VMM_GUEST:-$GUEST_DIR/../build/guest/vmm-guest} # built by `make guest-tool`
# All entries get this mtime; SOURCE_DATE_EPOCH overrides it.
MTIME=${SOURCE_DATE_EPOCH:-0}

start=${EPOCHREALTIME/./}

[ -x "$BUSYBOX" ] || die "$BUSYBOX not found: install the Debian package busybox-static"
[ -x "$VMM_GUEST" ] || die "$VMM_GUEST not found: run 'make guest-tool' (build.sh does)"
command -v readelf >/dev/null || die "readelf not found: install the Debian package binutils"
command -v gzip >/dev/null || die "gzip not found: install the Debian package gzip"
if readelf -lW "$BUSYBOX" | grep -q 'program interpreter'; then
    die "$BUSYBOX is dynamically linked: install busybox-static, not busybox"
fi
[ -f "$INIT" ] || die "$INIT not found"
[[ $MTIME =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH must be a number of seconds, not '$MTIME'"

mkdir -p "$OUTDIR" || die "cannot create output directory $OUTDIR"

applets=$("$BUSYBOX" --list-full) || die "'$BUSYBOX --list-full' failed"
[ -n "$applets" ] || die "'$BUSYBOX --list-full' listed no applets"

# Small files under /etc, written here so that the guest directory stays
# simple.  fstab is what init's `mount -a` mounts.  (They are read through
# ${!name} in write_cpio, which shellcheck cannot see.)
# shellcheck disable=SC2034
ETC_FSTAB='# vmm guest: mounted by /init with mount -a
proc      /proc  proc      nosuid,nodev,noexec       0 0
sysfs     /sys   sysfs     nosuid,nodev,noexec       0 0
devtmpfs  /dev   devtmpfs  nosuid,mode=0755          0 0
tmpfs     /tmp   tmpfs     nosuid,nodev,mode=1777    0 0
'
# shellcheck disable=SC2034
ETC_PASSWD='root:x:0:0:root:/root:/bin/sh
'
# shellcheck disable=SC2034
ETC_GROUP='root:x:0:
'
# shellcheck disable=SC2034
ETC_PROFILE='# vmm guest: read by login shells
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root
PS1='"'"'vmm:\w\$ '"'"'
'

# The list of entries, one per line: "NAME TYPE ARG" where TYPE is
#   dir  MODE              directory
#   file MODE SOURCE       regular file copied from SOURCE
#   text MODE VARIABLE     regular file whose contents are in $VARIABLE
#   link TARGET            symbolic link
#   chr  MODE MAJOR MINOR  character device
# Names are relative (no leading /), as the kernel's unpacker expects.
entries() {
    local d
    for d in bin dev etc mnt proc root run sbin sys tmp usr usr/bin usr/sbin; do
        case $d in
            root) echo "$d dir 0700" ;;
            tmp) echo "$d dir 1777" ;;
            *) echo "$d dir 0755" ;;
        esac
    done
    echo "init file 0755 $INIT"
    echo "bin/busybox file 0755 $BUSYBOX"
    echo "bin/vmm-guest file 0755 $VMM_GUEST"
    echo "dev/console chr 0600 5 1"
    echo "etc/fstab text 0644 ETC_FSTAB"
    echo "etc/passwd text 0644 ETC_PASSWD"
    echo "etc/group text 0644 ETC_GROUP"
    echo "etc/profile text 0644 ETC_PROFILE"
    local a
    while IFS= read -r a; do
        case $a in
            */*) ;;
            *) continue ;; # linuxrc: only for the old initrd scheme
        esac
        [ "$a" = bin/busybox ] && continue
        echo "$a link /bin/busybox"
    done <<<"$applets"
}

# newc cpio writer.
ino=0
pad4() { # write zero bytes up to the next multiple of 4 after $1 bytes
    case $(($1 % 4)) in
        1) printf '\0\0\0' ;;
        2) printf '\0\0' ;;
        3) printf '\0' ;;
    esac
}
header() { # NAME MODE NLINK SIZE RDEVMAJOR RDEVMINOR
    local name=$1
    ino=$((ino + 1))
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
        "$ino" "$2" 0 0 "$3" "$MTIME" "$4" 0 0 "$5" "$6" $((${#name} + 1)) 0 "$name"
    pad4 $((110 + ${#name} + 1))
}

write_cpio() {
    local name type a1 rest size text
    while read -r name type a1 rest; do
        case $type in
            dir)
                header "$name" $((8#040000 | 8#$a1)) 2 0 0 0
                ;;
            file)
                size=$(stat -L -c %s "$rest") || die "cannot stat $rest"
                header "$name" $((8#0100000 | 8#$a1)) 1 "$size" 0 0
                cat "$rest" || die "cannot read $rest"
                pad4 "$size"
                ;;
            text)
                text=${!rest}
                header "$name" $((8#0100000 | 8#$a1)) 1 ${#text} 0 0
                printf '%s' "$text"
                pad4 ${#text}
                ;;
            link)
                header "$name" $((8#0120777)) 1 ${#a1} 0 0
                printf '%s' "$a1"
                pad4 ${#a1}
                ;;
            chr)
                header "$name" $((8#020000 | 8#$a1)) 1 0 "${rest% *}" "${rest#* }"
                ;;
            *) die "internal error: bad entry type '$type' for $name" ;;
        esac
    done
    ino=-1 # the trailer has inode 0
    header 'TRAILER!!!' 0 1 0 0 0
}

# The byte counts above use ${#...}, which counts bytes only in the C locale.
export LC_ALL=C

cpio=$OUTDIR/initramfs.cpio
tmp=$(mktemp "$cpio.XXXXXX") || die "cannot create a temporary file in $OUTDIR"
tmpgz=$(mktemp "$cpio.gz.XXXXXX") || die "cannot create a temporary file in $OUTDIR"
trap 'rm -f "$tmp" "$tmpgz"' EXIT

list=$(entries | sort -k1,1) || die "listing the initramfs entries failed"
write_cpio <<<"$list" >"$tmp" || die "writing the cpio archive $tmp failed"
gzip -9 -n <"$tmp" >"$tmpgz" || die "compressing the cpio archive with gzip failed"
chmod 0644 "$tmp" "$tmpgz"
# Rename into place, so that a reader never sees a half-written file.
mv -f "$tmp" "$cpio" || die "cannot move the initramfs to $cpio"
mv -f "$tmpgz" "$cpio.gz" || die "cannot move the initramfs to $cpio.gz"
trap - EXIT

ms=$(((${EPOCHREALTIME/./} - start) / 1000))
printf 'build-initramfs.sh: wrote %s (%s bytes) and %s (%s bytes), %d entries, in %d.%03ds\n' \
    "$cpio" "$(stat -c %s "$cpio")" "$cpio.gz" "$(stat -c %s "$cpio.gz")" \
    "$(wc -l <<<"$list")" $((ms / 1000)) $((ms % 1000))
