#!/bin/sh
# ro: the guest sees a read-only disk, writes fail inside it, the image is unchanged.
. "$TESTLIB"
mke2fs -q -t ext4 -F disk.img 32M || fail "mke2fs failed"
echo hello >hello.src; debugfs -w -R 'write hello.src hello.txt' disk.img >/dev/null 2>&1
before=$(cksum <disk.img)
run_linux --disk disk.img,ro -- sh -c 'echo ro=$(blockdev --getro /dev/vda); cat /mnt/vda/hello.txt >/dev/null && echo readable; if touch /mnt/vda/new 2>/dev/null; then echo WRITABLE; else echo write-refused; fi; if dd if=/dev/zero of=/dev/vda bs=512 count=1 2>/dev/null; then echo RAW-WRITABLE; else echo raw-refused; fi'
expect_status 0
expect_out "ro=1"
expect_out readable
expect_out write-refused
expect_out raw-refused
[ "$(cksum <disk.img)" = "$before" ] || fail "the ro image changed"
