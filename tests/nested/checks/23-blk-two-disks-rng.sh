#!/bin/sh
# Two disks at once (vda, vdb), /dev/hwrng gives bytes from virtio-rng, and
# a discard on a raw third disk (vdc) leaves zeros in the host file.
. "$TESTLIB"
mke2fs -q -t ext4 -F a.img 32M && mke2fs -q -t ext4 -F b.img 32M || fail "mke2fs failed"
head -c 4194304 /dev/urandom >c.img
run_linux --disk a.img --disk b.img --disk c.img -- sh -c 'echo on-a >/mnt/vda/f; echo on-b >/mnt/vdb/f; sync; echo rng=$(head -c 32 /dev/hwrng | wc -c); cat /sys/class/misc/hw_random/rng_current; blkdiscard -o 0 -l 1048576 /dev/vdc && echo discarded'
expect_status 0
expect_out "rng=32"
expect_out "virtio_rng"
[ "$(debugfs -R 'cat /f' a.img 2>/dev/null)" = on-a ] || fail "vda's file missing"
[ "$(debugfs -R 'cat /f' b.img 2>/dev/null)" = on-b ] || fail "vdb's file missing"
e2fsck -fn a.img >/dev/null 2>&1 && e2fsck -fn b.img >/dev/null 2>&1 || fail "fsck not clean"
expect_out discarded
[ "$(head -c 1048576 c.img | tr -d '\000' | wc -c)" = 0 ] || fail "discarded range is not zero in the file"
[ "$(tail -c 1048576 c.img | tr -d '\000' | wc -c)" -gt 0 ] || fail "discard went past its range"
