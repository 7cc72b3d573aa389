"""Reading .ionc classes and IonPacks back, for inspection and debugging.

decode_class(data) parses a class into constants and functions (Values,
match tables and instruction tuples); disassemble(data) renders it as text;
`python3 -m ionvm.decode PACK.ionpack` prints every class of a pack. This is
a reader for packs this package or the VM's tools wrote: it checks the
header, lengths and checksum, not the verifier's rules.
"""

import struct
import sys
import zipfile
import zlib

from .encoder import (MAGIC, T_NIL, T_FALSE, T_TRUE, T_NUMBER, T_STRING, T_ATOM, T_COMPLEX,
                      T_TUPLE, T_ARRAY, T_OBJECT, T_FUNCREF, T_NATIVE, T_MATCH,
                      P_WILDCARD, P_BIND, P_LITERAL, P_TUPLE, P_ARRAY)
from .instruction import Pattern
from .opcodes import OPCODES, FORMAT_MAJOR
from .values import Property, Value


class DecodeError(ValueError):
    pass


class _Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n, what):
        if self.pos + n > len(self.data):
            raise DecodeError("truncated: %s at byte %d" % (what, self.pos))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def u(self, fmt, what):
        return struct.unpack("<" + fmt, self.take(struct.calcsize(fmt), what))[0]

    def str16(self, what):
        return self.take(self.u("H", what), what).decode("utf-8", "replace")

    def str32(self, what):
        return self.take(self.u("I", what), what).decode("utf-8", "replace")


def _constant(r, top=False):
    tag = r.u("B", "constant tag")
    if tag == T_NIL:
        return Value.nil()
    if tag in (T_FALSE, T_TRUE):
        return Value.boolean(tag == T_TRUE)
    if tag == T_NUMBER:
        return Value("number", r.u("d", "number"))
    if tag == T_STRING:
        return Value.string(r.str32("string"))
    if tag == T_ATOM:
        return Value.atom(r.str16("atom"))
    if tag == T_COMPLEX:
        return Value.complex(r.u("d", "complex"), r.u("d", "complex"))
    if tag in (T_TUPLE, T_ARRAY):
        items = [_constant(r) for _ in range(r.u("I", "count"))]
        return Value.tuple(items) if tag == T_TUPLE else Value.array(items)
    if tag == T_OBJECT:
        type_name = r.str16("type name") or None
        props = []
        for _ in range(r.u("I", "property count")):
            key = r.str16("key")
            flags = r.u("B", "flags")
            props.append(Property(key, _constant(r), bool(flags & 1), bool(flags & 2),
                                  bool(flags & 4)))
        return Value.object(props, type_name=type_name)
    if tag == T_FUNCREF:
        cls = r.str16("funcref class")
        return Value.function(r.str16("funcref name"), cls or None)
    if tag == T_NATIVE:
        return Value.native(r.str16("native"))
    if tag == T_MATCH and top:
        arms = []
        for _ in range(r.u("H", "arm count")):
            pat = _pattern(r)
            arms.append((pat, r.u("H", "target")))
        return arms
    raise DecodeError("bad constant tag %d" % tag)


def _pattern(r):
    tag = r.u("B", "pattern tag")
    if tag == P_WILDCARD:
        return Pattern.wildcard()
    if tag == P_BIND:
        return Pattern.bind(r.u("B", "register"))
    if tag == P_LITERAL:
        return Pattern.literal(_constant(r))
    if tag in (P_TUPLE, P_ARRAY):
        items = [_pattern(r) for _ in range(r.u("H", "count"))]
        return Pattern.tuple(items) if tag == P_TUPLE else Pattern.array(items)
    raise DecodeError("bad pattern tag %d" % tag)


def decode_class(data):
    """{"name", "constants": [...], "functions": [{"name", "arity", "registers",
    "upvalues", "code": [(op, a, b, c, d), ...]}]}"""
    if len(data) < 20 or data[:4] != MAGIC:
        raise DecodeError("not an .ionc file")
    major, minor, flags, plen, crc = struct.unpack_from("<HHIII", data, 4)
    if major != FORMAT_MAJOR or flags:
        raise DecodeError("unsupported version %d.%d / flags %#x" % (major, minor, flags))
    payload = data[20:]
    if plen != len(payload) or zlib.crc32(payload) != crc:
        raise DecodeError("length or checksum mismatch")
    r = _Reader(payload)
    out = {"name": r.str16("class name"), "version": (major, minor), "constants": [],
           "functions": []}
    for _ in range(r.u("I", "constant count")):
        out["constants"].append(_constant(r, top=True))
    for _ in range(r.u("I", "function count")):
        fn = {"name": r.str16("function name"), "arity": r.u("B", "arity"),
              "registers": r.u("H", "registers")}
        fn["upvalues"] = [(r.u("B", "kind"), r.u("H", "index"))
                          for _ in range(r.u("H", "upvalue count"))]
        code = []
        for _ in range(r.u("I", "instruction count")):
            w = r.u("Q", "instruction")
            code.append((w & 0xFF, w >> 8 & 0xFF, w >> 16 & 0xFFFF, w >> 32 & 0xFFFF,
                         w >> 48 & 0xFFFF))
        fn["code"] = code
        out["functions"].append(fn)
    if r.pos != len(payload):
        raise DecodeError("%d stray bytes after the last function" % (len(payload) - r.pos))
    return out


def _operands(op, slots):
    name, modes, _ = OPCODES[op]
    shown = []
    for mode, x in zip(modes, slots):
        if mode == "X":
            continue
        if mode == "I":
            x = x - 0x10000 if x >= 0x8000 else x
        prefix = {"R": "r", "G": "r", "K": "k", "J": "@", "U": "u"}.get(mode, "")
        shown.append("%s%d" % (prefix, x))
    return name, shown


def disassemble(data):
    """Readable text of a class."""
    cls = decode_class(data)
    lines = ["class %s (format %d.%d)" % ((cls["name"],) + cls["version"])]
    for i, k in enumerate(cls["constants"]):
        lines.append("  k%-4d %r" % (i, k))
    for fn in cls["functions"]:
        ups = "".join(" %s%d" % ("r" if kind == 0 else "u", idx) for kind, idx in fn["upvalues"])
        lines.append("function %s/%d registers %d%s" % (fn["name"], fn["arity"],
                                                         fn["registers"],
                                                         " upvalues" + ups if ups else ""))
        for pc, (op, *slots) in enumerate(fn["code"]):
            if op >= len(OPCODES):
                lines.append("  %5d  <bad opcode %d>" % (pc, op))
                continue
            name, shown = _operands(op, slots)
            lines.append("  %5d  %-16s %s" % (pc, name, " ".join(shown)))
    return "\n".join(lines) + "\n"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python3 -m ionvm.decode PACK.ionpack|CLASS.ionc", file=sys.stderr)
        return 2
    path = argv[0]
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                print(z.read("META-INF/MANIFEST.ion").decode("utf-8", "replace"), end="")
                for name in z.namelist():
                    if name.startswith("classes/") and name.endswith(".ionc"):
                        print(disassemble(z.read(name)), end="")
        else:
            with open(path, "rb") as f:
                print(disassemble(f.read()), end="")
    except (OSError, KeyError, DecodeError) as e:
        print("ionvm.decode: %s: %s" % (path, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
