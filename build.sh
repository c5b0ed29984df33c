#!/usr/bin/env bash
# The one set-up command on a fresh Debian 12 machine (as root): installs the
# Debian packages vmm needs, builds the static binary, the tiny test guests,
# the Linux guest (kernel + initramfs) and the nested tier's L1 kernel. The
# slow parts are cached outside the work tree in ${VMM_CACHE:-/var/cache/vmm},
# keyed by what they are built from, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")"
export VMM_CACHE=${VMM_CACHE:-/var/cache/vmm}
start=$(date +%s)
say() { printf '[build %3ds] %s\n' $(($(date +%s) - start)) "$*"; }

PACKAGES=(
	build-essential musl-tools clang llvm libclang-rt-14-dev # vmm, tests, fuzzers
	dpkg-dev                                               # apt-get source bearssl (snapshot digests)
	libseccomp-dev                                         # filters compiled at build time
	linux-libc-dev                                         # KVM UAPI headers
	linux-source-6.1 flex bison bc libelf-dev libssl-dev lz4 # the Linux guest
	busybox-static cpio xz-utils kmod e2fsprogs            # initramfs, disks, modules
	qemu-system-x86                                        # nested tier + peer
	python3 util-linux iproute2 hyperfine                  # tests and benchmarks
)

install_packages() {
	local missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		say "Debian packages: all ${#PACKAGES[@]} present"
		return
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "build.sh: missing packages (${missing[*]}) and not root to install them" >&2
		exit 1
	fi
	say "installing ${missing[*]}"
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

build_vmm() {
	say "building build/vmm and the tiny test guests"
	make -s -j"$(nproc)" all guests
	if readelf -d build/vmm 2>/dev/null | grep -q NEEDED || ! readelf -d build/vmm | grep -q "no dynamic section"; then
		echo "build.sh: build/vmm has a dynamic section: it must be fully static" >&2
		exit 1
	fi
	local size
	size=$(stat -c %s build/vmm)
	if [ "$size" -gt 1048576 ]; then
		echo "build.sh: build/vmm is $size bytes, over the 1 MiB ceiling" >&2
		exit 1
	fi
	say "build/vmm: $size bytes ($((size / 1024)) KiB), static, stripped"
}

install_packages
say "BearSSL (SHA-256, HMAC) from Debian's source package, cached"
snapshot/build-bearssl.sh build/bearssl
build_vmm
mkdir -p "$VMM_CACHE" build/guest
say "Linux guest kernel (cached by source version and config)"
guest/build-linux.sh build/guest
say "Linux guest initramfs"
guest/build-initramfs.sh build/guest
say "nested tier: L1 kernel and modules"
tests/nested/l1-prepare.sh
say "done; build/vmm is $(stat -c %s build/vmm) bytes"
