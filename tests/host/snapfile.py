#!/usr/bin/env python3
"""Read and edit vmm snapshot files for tests (layout: snapshot/format.h).

  snapfile.py units FILE            unit boundaries: "OFFSET NAME INSTANCE" per unit, then "END OFFSET"
  snapfile.py layout FILE           mem_offset, footer_offset, chunk_count, file size
  snapfile.py flip FILE OFFSET      invert one byte
  snapfile.py rehash FILE [KEYFILE] recompute the footer hash (and HMAC with KEYFILE)
  snapfile.py vendor FILE STRING    set the host CPU vendor (12 bytes), then rehash
  snapfile.py cpuid FILE LEAF REG BIT   set a feature bit in every vCPU's saved CPUID, then rehash
  snapfile.py seed FILE OUT         the same header and units with 4 KiB of memory (a fuzz seed)
"""
import hashlib
import hmac
import struct
import sys

HDR = 4096


def u32(b, o):
    return struct.unpack_from("<I", b, o)[0]


def u64(b, o):
    return struct.unpack_from("<Q", b, o)[0]


def layout(b):
    return {
        "units_size": u64(b, 104),
        "nunits": u32(b, 112),
        "mem_offset": u64(b, 120 + 16),
        "chunk_count": u32(b, 172),
        "footer_offset": u64(b, 176),
        "footer_size": u64(b, 184),
    }


def units(b):
    lay = layout(b)
    pos, out = HDR, []
    for _ in range(lay["nunits"]):
        name = b[pos:pos + 16].rstrip(b"\0").decode()
        inst, ver, flags, length = struct.unpack_from("<IIII", b, pos + 16)
        out.append((pos, name, inst, ver, length))
        pos += 32 + ((length + 7) & ~7)
    return out, pos


def rehash(b, key=None):
    lay = layout(b)
    fo, cc = lay["footer_offset"], lay["chunk_count"]
    covered = 16 + 32 * cc
    data = bytes(b[:HDR]) + bytes(b[HDR:HDR + lay["units_size"]]) + bytes(b[fo:fo + covered])
    b[fo + covered:fo + covered + 32] = hashlib.sha256(data).digest()
    if key is not None:
        b[fo + covered + 32:fo + covered + 64] = hmac.new(key, data, hashlib.sha256).digest()


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    b = bytearray(open(path, "rb").read())
    if cmd == "units":
        us, end = units(b)
        for pos, name, inst, ver, length in us:
            print(pos, name, inst)
        print("END", end)
        return
    if cmd == "layout":
        lay = layout(b)
        print(lay["mem_offset"], lay["footer_offset"], lay["chunk_count"], len(b))
        return
    if cmd == "flip":
        off = int(sys.argv[3], 0)
        with open(path, "r+b") as f:
            f.seek(off)
            f.write(bytes([b[off] ^ 0xFF]))
        return
    if cmd == "rehash":
        rehash(b, open(sys.argv[3], "rb").read() if len(sys.argv) > 3 else None)
    elif cmd == "vendor":
        b[24:36] = sys.argv[3].encode().ljust(12, b"\0")[:12]
        rehash(b)
    elif cmd == "cpuid":
        leaf, reg, bit = int(sys.argv[3], 0), int(sys.argv[4]), int(sys.argv[5])
        for pos, name, inst, ver, length in units(b)[0]:
            if name != "vcpu":
                continue
            d = pos + 32
            for i in range(u32(b, d)):
                e = d + 4 + 40 * i
                if u32(b, e) == leaf and u32(b, e + 4) == 0:
                    o = e + 12 + 4 * reg
                    struct.pack_into("<I", b, o, u32(b, o) | (1 << bit))
        rehash(b)
    elif cmd == "seed":
        us, end = units(b)
        lay = layout(b)
        mem_off = (end + 4095) & ~4095
        out = bytearray(b[:mem_off]) + bytearray(4096)
        struct.pack_into("<Q", out, 88, 4096)  # memory size
        struct.pack_into("<I", out, 116, 1)  # one region
        struct.pack_into("<QQQ", out, 120, 0, 4096, mem_off)
        out[144:168] = bytes(24)
        struct.pack_into("<I", out, 172, 1)  # one chunk
        struct.pack_into("<QQ", out, 176, mem_off + 4096, 16 + 32 + 64)
        footer = bytearray(b"VMMFOOT\0") + struct.pack("<II", lay["nunits"], 1)
        footer += hashlib.sha256(bytes(4096)).digest() + bytes(64)
        out += footer
        rehash(out)
        open(sys.argv[3], "wb").write(out)
        return
    else:
        sys.exit("unknown command " + cmd)
    # Only the header, units and footer change: the memory's holes stay holes.
    lay = layout(b)
    with open(path, "r+b") as f:
        f.write(b[:lay["mem_offset"]])
        f.seek(lay["footer_offset"])
        f.write(b[lay["footer_offset"]:])


main()
