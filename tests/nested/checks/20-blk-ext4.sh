#!/bin/sh
# virtio-blk with the real driver: the guest writes files on an ext4 disk and
# syncs; afterwards fsck is clean and the files hold the right bytes.
. "$TESTLIB"
mke2fs -q -t ext4 -F disk.img 64M || fail "mke2fs failed"
run_linux --disk disk.img -- sh -c 'echo hello-ext4 >/mnt/vda/hello.txt; head -c 1048576 /dev/urandom >/mnt/vda/blob; sha256sum /mnt/vda/blob | cut -c1-64 >/mnt/vda/blob.sha; sync; echo written'
expect_status 0
expect_out written
e2fsck -fn disk.img >fsck.out 2>&1 || fail "fsck is not clean: $(cat fsck.out)"
[ "$(debugfs -R 'cat /hello.txt' disk.img 2>/dev/null)" = hello-ext4 ] || fail "hello.txt wrong"
want=$(debugfs -R 'cat /blob.sha' disk.img 2>/dev/null)
got=$(debugfs -R 'cat /blob' disk.img 2>/dev/null | sha256sum | cut -c1-64)
[ -n "$want" ] && [ "$want" = "$got" ] || fail "blob checksum: guest $want, host $got"
