#!/usr/bin/python3
"""Write a newc cpio archive holding /dev and the /dev/console device node.

The kernel opens /dev/console for init's stdin, stdout and stderr before
running /init, so it must exist in the initramfs; making the node on disk
needs root, but an archive entry does not. The kernel unpacks concatenated
archives, so this one is appended after the one cpio(1) builds.

Usage: devnodes.py > devnodes.cpio
"""
import sys

S_IFDIR, S_IFCHR = 0o040000, 0o020000


def entry(ino, name, mode, nlink=1, rmaj=0, rmin=0):
    """One newc header + name, padded to 4 bytes; no file data."""
    name = name.encode() + b"\0"
    fields = (ino, mode, 0, 0, nlink, 0, 0, 0, 0, rmaj, rmin, len(name), 0)
    hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
    blob = hdr + name
    return blob + b"\0" * (-len(blob) % 4)


def main():
    out = entry(1, "dev", S_IFDIR | 0o755, nlink=2)
    out += entry(2, "dev/console", S_IFCHR | 0o600, rmaj=5, rmin=1)
    out += entry(0, "TRAILER!!!", 0)
    out += b"\0" * (-len(out) % 512)
    sys.stdout.buffer.write(out)


if __name__ == "__main__":
    main()
