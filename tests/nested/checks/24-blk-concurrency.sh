#!/bin/sh
# Requests in flight at once, with the data checked: eight O_DIRECT writers
# copy 512 KiB each from a read-only source disk to a raw disk in parallel, and
# eight 512-byte writers fill ranges that meet inside one byte of the
# ephemeral overlay's sector map; everything reads back bit-exact, in the
# guest and in the host file. Then a write followed by a read of the same
# sector, 50 times with new contents, must always read the new contents.
. "$TESTLIB"
head -c 4194304 /dev/urandom >s.img
truncate -s 16M a.img
truncate -s 1M e.img
eph_before=$(cksum <e.img)
TIMEOUT=150 run_linux --disk a.img --disk s.img,ro --disk e.img,ephemeral -- sh -c 'i=0; while [ $i -lt 8 ]; do dd if=/dev/vdb of=/dev/vda bs=4096 skip=$((i*128)) seek=$((i*128)) count=128 iflag=direct oflag=direct conv=notrunc 2>/dev/null & i=$((i+1)); done; wait; echo phase-raw-done; i=0; while [ $i -lt 8 ]; do dd if=/dev/vdb of=/dev/vdc bs=512 skip=$((i*129)) seek=$((i*129)) count=129 iflag=direct oflag=direct conv=notrunc 2>/dev/null & i=$((i+1)); done; wait; echo phase-eph-done; echo 3 >/proc/sys/vm/drop_caches; echo raw-guest=$(dd if=/dev/vda bs=1M count=4 iflag=direct 2>/dev/null | sha256sum | cut -c1-64); echo src-guest=$(dd if=/dev/vdb bs=1M count=4 iflag=direct 2>/dev/null | sha256sum | cut -c1-64); echo eph-guest=$(dd if=/dev/vdc bs=512 count=1032 iflag=direct 2>/dev/null | sha256sum | cut -c1-64); echo eph-want=$(dd if=/dev/vdb bs=512 count=1032 iflag=direct 2>/dev/null | sha256sum | cut -c1-64); n=0; bad=0; while [ $n -lt 50 ]; do printf %0512d $n | dd of=/dev/vda bs=512 seek=20000 oflag=direct conv=notrunc 2>/dev/null; r=$(dd if=/dev/vda bs=512 skip=20000 count=1 iflag=direct 2>/dev/null); [ $r = $(printf %0512d $n) ] || bad=$((bad+1)); n=$((n+1)); done; echo rewrite-bad=$bad; echo done'
expect_status 0
expect_out "done"
val() { sed -n "s/^$1=\([0-9a-f]*\).*/\1/p" out | tr -d '\r' | head -n1; }
want=$(sha256sum <s.img | cut -c1-64)
[ "$(val src-guest)" = "$want" ] || fail "the guest read the source disk wrong: $(val src-guest) vs $want"
[ "$(val raw-guest)" = "$want" ] || fail "parallel writers: the guest reads back $(val raw-guest), wrote $want"
[ "$(head -c 4194304 a.img | sha256sum | cut -c1-64)" = "$want" ] || fail "parallel writers: the host file differs from what the guest wrote"
[ -n "$(val eph-want)" ] && [ "$(val eph-guest)" = "$(val eph-want)" ] ||
	fail "ephemeral overlay under parallel 512-byte writers: read $(val eph-guest), want $(val eph-want)"
[ "$(cksum <e.img)" = "$eph_before" ] || fail "the ephemeral image changed"
grep -q "^rewrite-bad=0" out || fail "a read did not see the write just before it: $(grep rewrite-bad out)"
[ "$(dd if=a.img bs=512 skip=20000 count=1 2>/dev/null)" = "$(printf %0512d 49)" ] || fail "the last rewrite is not in the host file"
