#!/bin/sh
# 00-l1-kvm: the L1 VM is fit for the nested tests: /dev/kvm exists,
# kvm_amd is loaded and nested paging (NPT) is on. No ioctl: this only
# looks at the device node and sysfs, so it tells an L1 set-up problem
# apart from a vmm bug.

fail() {
	echo "FAIL: $*"
	exit 1
}

[ -c /dev/kvm ] || fail "/dev/kvm is not a character device"
echo "/dev/kvm: $(ls -l /dev/kvm)"

[ -d /sys/module/kvm ] || fail "kvm module not loaded"
[ -d /sys/module/kvm_amd ] || fail "kvm_amd module not loaded"

npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null) ||
	fail "cannot read /sys/module/kvm_amd/parameters/npt"
echo "kvm_amd npt=$npt"
case "$npt" in
Y | 1) ;;
*) fail "nested paging is off in L1 (kvm_amd npt=$npt)" ;;
esac

# Facts worth having in a verbose log; none of them fails the check.
for p in nested avic nrips vgif vls; do
	[ -r "/sys/module/kvm_amd/parameters/$p" ] &&
		echo "kvm_amd $p=$(cat "/sys/module/kvm_amd/parameters/$p")"
done
echo "L1 kernel: $(uname -r), $(nproc) cpus, clocksource" \
	"$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
grep -m1 -o -w svm /proc/cpuinfo >/dev/null || fail "no svm flag in L1 /proc/cpuinfo"
echo "PASS: L1 has KVM with NPT"
