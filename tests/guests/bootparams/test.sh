#!/bin/sh
# 64-bit entry: the zero page's loader type, command line, e820 map and initrd.
. "$TESTLIB"
head -c 12345 /dev/urandom >initrd.bin
want=$(cksum <initrd.bin | cut -d' ' -f1)
run_guest bootparams --mem 64M --initrd initrd.bin --cmdline "one two  three"
expect_status 0
expect_out "cmdline: virtio_mmio.device=4K@0xd0001000:5 one two  three"
expect_out "e820: 0000000000000000 000000000009fc00 1"
expect_out "e820: 0000000000100000 0000000003f00000 1"
expect_out "ram KiB: 65151"
grep -q "^initrd: 0x03ffc000 $want 12345" out || fail "initrd line wrong (want address 0x03ffc000 cksum $want)"
# Above the MMIO gap: RAM continues at 4 GiB.
run_guest bootparams --mem 5G
expect_status 0
expect_out "e820: 0000000000100000 00000000cff00000 1"
expect_out "e820: 0000000100000000 0000000070000000 1"
# Two disks: each announced at its own 4 KiB window and IRQ, the rng last.
truncate -s 1M a.img b.img
run_guest bootparams --disk a.img --disk b.img --cmdline "x"
expect_out "cmdline: virtio_mmio.device=4K@0xd0001000:5 virtio_mmio.device=4K@0xd0002000:6 virtio_mmio.device=4K@0xd0003000:7 x"
