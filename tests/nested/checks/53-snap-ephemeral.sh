#!/bin/sh
# Boot once from an ext4 image given as an ephemeral disk (init mounts it,
# which already writes to the overlay), snapshot at READY; three restores at
# once, each with the image as its own ephemeral disk, read the base file and
# write their own; the image is byte-for-byte unchanged and fsck-clean. A
# restore without ,ephemeral is refused (status 2).
. "$TESTLIB"
CMDLINE="console=ttyS0 reboot=k panic=-1 i8042.noaux i8042.nomux i8042.nopnp quiet vmm.cmd=console"
mkdir -p root
echo base-content >root/base.txt
mke2fs -q -t ext4 -d root -F disk.img 32M || fail "mke2fs failed"
before=$(sha256sum disk.img | cut -c1-64)
run_linux --disk disk.img,ephemeral --cmdline "$CMDLINE" --snapshot-on-ready e.vmm
expect_status 0
"$VMM" inspect e.vmm >ins || fail "inspect failed: $(cat ins)"
grep -q blk-overlay ins || fail "the overlay is not in the snapshot: $(cat ins)"
for i in 1 2 3; do
	timeout 120 "$VMM" restore e.vmm --disk disk.img,ephemeral -- \
		sh -c 'cat /mnt/vda/base.txt; echo mine-'$i' >/mnt/vda/own; sync; cat /mnt/vda/own' \
		>r$i.out 2>r$i.err </dev/null &
	eval p$i=$!
done
for i in 1 2 3; do
	eval wait \$p$i
	st=$?
	[ $st = 0 ] || fail "restore $i exited $st: $(tail -n 5 r$i.err)"
	grep -q base-content r$i.out || fail "restore $i did not read the base file: $(cat r$i.out)"
	grep -q "mine-$i" r$i.out || fail "restore $i did not read its own write: $(cat r$i.out)"
done
timeout 60 "$VMM" restore e.vmm --disk disk.img -- true >o 2>e </dev/null
[ $? = 2 ] && grep -q "ephemeral" e || fail "a restore without ,ephemeral was not refused: $(cat e)"
after=$(sha256sum disk.img | cut -c1-64)
[ "$before" = "$after" ] || fail "the image changed"
e2fsck -fn disk.img >fsck.out 2>&1 || fail "fsck is not clean: $(cat fsck.out)"
