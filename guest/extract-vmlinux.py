#!/usr/bin/python3
"""Extract the uncompressed ELF vmlinux from an x86 bzImage.

A bzImage is real-mode setup code followed by a small self-decompressor and
the compressed kernel ("payload"). Boot protocol 2.08+ records where the
payload sits in the setup header (payload_offset at 0x248, payload_length at
0x24c, both relative to the start of the protected-mode code, which begins
after (setup_sects + 1) sectors). The kernel build appends the uncompressed
size as 4 little-endian bytes to the compressed stream; that lets us check
the result. For images without the header fields we scan for a known
compression magic instead.

Usage: extract-vmlinux.py BZIMAGE OUT
Exits 1 with a message naming the problem when the input is not a bzImage,
no decompressor fits, or the result is not an x86-64 ELF64 file.
"""
import os
import struct
import subprocess
import sys

# magic bytes -> decompressor command (each reads stdin, writes stdout)
DECOMPRESSORS = [
    (b"\xfd7zXZ\x00", ["xz", "-dc", "--single-stream"]),
    (b"\x28\xb5\x2f\xfd", ["zstd", "-dcq"]),
    (b"\x1f\x8b\x08", ["gzip", "-dc"]),
    (b"\x02\x21\x4c\x18", ["lz4", "-dc"]),
    (b"\x89LZO", ["lzop", "-dc"]),
    (b"BZh", ["bzip2", "-dc"]),
    (b"\x5d\x00\x00", ["xz", "-dc", "--format=lzma"]),
]


def fail(msg):
    sys.stderr.write("extract-vmlinux: %s\n" % msg)
    sys.exit(1)


def payload_from_header(img):
    """Return (offset, length) of the payload from the setup header, or None."""
    if len(img) < 0x250 or img[0x202:0x206] != b"HdrS":
        fail("not a bzImage (no 'HdrS' setup header signature)")
    version = struct.unpack_from("<H", img, 0x206)[0]
    if version < 0x208:
        return None
    setup_sects = img[0x1F1] or 4
    pm_start = (setup_sects + 1) * 512
    off, length = struct.unpack_from("<II", img, 0x248)
    if length == 0 or pm_start + off + length > len(img):
        return None
    return pm_start + off, length


def decompressor_for(data):
    for magic, cmd in DECOMPRESSORS:
        if data.startswith(magic):
            return cmd
    return None


def decompress(cmd, data, must=True):
    """Run cmd on data; with must, an empty result is fatal."""
    try:
        proc = subprocess.run(cmd, input=data, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
    except FileNotFoundError:
        fail("decompressor %s is not installed" % cmd[0])
    # gzip and friends warn (and exit 2) about trailing bytes; the ELF check
    # is what decides whether we got a kernel.
    if must and not proc.stdout:
        fail("%s produced nothing: %s" % (" ".join(cmd),
                                          proc.stderr.decode(errors="replace").strip()))
    return proc.stdout


def check_elf(out):
    if out[:4] != b"\x7fELF":
        fail("decompressed payload is not an ELF file")
    if out[4] != 2:
        fail("decompressed payload is not ELF64 (EI_CLASS=%d)" % out[4])
    machine = struct.unpack_from("<H", out, 18)[0]
    if machine != 62:
        fail("decompressed payload is not x86-64 (e_machine=%d)" % machine)


def extract(img):
    where = payload_from_header(img)
    if where is not None:
        off, length = where
        payload = img[off:off + length]
        cmd = decompressor_for(payload)
        if cmd is None:
            fail("unknown compression magic %s at payload offset %#x"
                 % (payload[:6].hex(), off))
        expect = struct.unpack_from("<I", payload, length - 4)[0]
        out = decompress(cmd, payload[:-4])
        if len(out) != expect:
            fail("decompressed %d bytes, the image says %d" % (len(out), expect))
        return out
    # Old boot protocol: try each magic where it first occurs.
    for magic, cmd in DECOMPRESSORS:
        pos = img.find(magic)
        while pos >= 0:
            out = decompress(cmd, img[pos:], must=False)
            if out[:4] == b"\x7fELF":
                return out
            pos = img.find(magic, pos + 1)
    fail("no compressed ELF kernel found in the image")
    return b""


def trim_zero_tail(elf):
    """Drops the zero bytes that end the last PT_LOAD segment's file data:
    they become bss (p_filesz < p_memsz), which every ELF loader zeroes, so
    a VMM reads and copies ~23 MiB less per boot. Section headers, which no
    loader needs, go with them."""
    phoff = struct.unpack_from("<Q", elf, 32)[0]
    phentsize, phnum = struct.unpack_from("<HH", elf, 54)
    loads = []
    for i in range(phnum):
        at = phoff + i * phentsize
        if struct.unpack_from("<I", elf, at)[0] == 1:        # PT_LOAD
            off, filesz = struct.unpack_from("<Q", elf, at + 8)[0], \
                struct.unpack_from("<Q", elf, at + 32)[0]
            loads.append((off + filesz, off, at))
    if not loads:
        return elf
    end, off, at = max(loads)
    keep = len(elf[off:end].rstrip(b"\0"))
    new_end = off + min(end - off, (keep + 4095) // 4096 * 4096)
    if any(e > new_end for e, _, a in loads if a != at) or phoff + phnum * phentsize > new_end:
        return elf
    out = bytearray(elf[:new_end])
    struct.pack_into("<Q", out, at + 32, new_end - off)      # p_filesz
    struct.pack_into("<Q", out, 40, 0)                       # e_shoff
    struct.pack_into("<HH", out, 60, 0, 0)                   # e_shnum, e_shstrndx
    return bytes(out)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: extract-vmlinux.py BZIMAGE OUT\n")
        sys.exit(2)
    with open(sys.argv[1], "rb") as f:
        img = f.read()
    out = extract(img)
    check_elf(out)
    out = trim_zero_tail(out)
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "wb") as f:
        f.write(out)
    os.replace(tmp, sys.argv[2])


if __name__ == "__main__":
    main()
