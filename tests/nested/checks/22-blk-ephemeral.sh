#!/bin/sh
# ephemeral: the guest sees its own writes; the image file is byte-for-byte unchanged.
. "$TESTLIB"
mke2fs -q -t ext4 -F disk.img 32M || fail "mke2fs failed"
before=$(cksum <disk.img)
run_linux --disk disk.img,ephemeral -- sh -c 'head -c 300000 /dev/urandom >/mnt/vda/f; a=$(sha256sum </mnt/vda/f | cut -c1-64); sync; echo 3 >/proc/sys/vm/drop_caches; b=$(sha256sum </mnt/vda/f | cut -c1-64); echo sizes=$(wc -c </mnt/vda/f); [ -n $a ] && [ $a = $b ] && echo own-writes-seen=$b'
expect_status 0
expect_out "sizes=300000"
grep -q "own-writes-seen=[0-9a-f]\{64\}" out || fail "the guest did not read back its own write"
[ "$(cksum <disk.img)" = "$before" ] || fail "the ephemeral image changed"
