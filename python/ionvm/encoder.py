"""Encoding of classes into the .ionc format (docs/ionvm-bytecode.md, 1.0).

A class is a constant pool shared by its functions plus a function table.
The encoder resolves labels and symbolic operands, interns constants (equal
constants share one pool entry), checks everything the VM's verifier checks
that can be known inside one class, and produces the bytes of the file:
the 20-byte header (magic, version, flags, payload length, CRC-32) and the
payload.
"""

import struct
import zlib

from .instruction import Instruction, Label, MatchTable, Pattern
from .opcodes import (FORMAT_MAJOR, FORMAT_MINOR, K_PROPERTY_KEY, OPCODE_MODES,
                      OPCODE_NUMBER, TERMINATORS, WRITABLE, ENUMERABLE, CONFIGURABLE)
from .values import Value

MAGIC = b"IONC"
MAX_CONSTANTS = 65535
MAX_FUNCTIONS = 65535
MAX_INSTRUCTIONS = 65535
MAX_DEPTH = 32

# Constant kind tags
T_NIL, T_FALSE, T_TRUE, T_NUMBER, T_STRING, T_ATOM, T_COMPLEX, T_TUPLE, T_ARRAY, \
    T_OBJECT, T_FUNCREF, T_NATIVE, T_MATCH = range(13)

# Pattern tags
P_WILDCARD, P_BIND, P_LITERAL, P_TUPLE, P_ARRAY = range(5)


class EncodeError(ValueError):
    """A program the VM would reject; the message names class, function and
    instruction."""


def _u8(x):
    return struct.pack("<B", x)


def _u16(x):
    return struct.pack("<H", x)


def _u32(x):
    return struct.pack("<I", x)


def _str16(s, what, allow_empty=False):
    b = s.encode("utf-8")
    if len(b) > 255 or (not b and not allow_empty):
        raise EncodeError("%s %r must be %d..255 bytes" % (what, s, 0 if allow_empty else 1))
    return _u16(len(b)) + b


def _str32(s):
    b = s.encode("utf-8")
    if len(b) > 0xFFFFFFFF:
        raise EncodeError("string constant too long")
    return _u32(len(b)) + b


def encode_constant(v, depth=0):
    """Bytes of a constant Value (kinds 0..11). depth counts nesting levels
    as the VM's loader does: 0 for a pool entry, +1 per level inside it."""
    if depth > MAX_DEPTH:
        raise EncodeError("constant nested deeper than %d levels" % MAX_DEPTH)
    k = v.kind
    if k == "nil":
        return _u8(T_NIL)
    if k == "boolean":
        return _u8(T_TRUE if v.data else T_FALSE)
    if k == "number":
        return _u8(T_NUMBER) + struct.pack("<d", v.data)
    if k == "string":
        return _u8(T_STRING) + _str32(v.data)
    if k == "atom":
        return _u8(T_ATOM) + _str16(v.data, "atom")
    if k == "complex":
        return _u8(T_COMPLEX) + struct.pack("<dd", *v.data)
    if k in ("tuple", "array"):
        out = [_u8(T_TUPLE if k == "tuple" else T_ARRAY), _u32(len(v.data))]
        out += [encode_constant(item, depth + 1) for item in v.data]
        return b"".join(out)
    if k == "object":
        props, type_name, proto = v.data
        if proto is not None:
            raise EncodeError("an object with a prototype can only be loaded directly by "
                              "load_const (the format has no prototype in constants)")
        out = [_u8(T_OBJECT), _str16(type_name or "", "type name", allow_empty=True),
               _u32(len(props))]
        for p in props:
            flags = (WRITABLE if p.writable else 0) | (ENUMERABLE if p.enumerable else 0) | \
                (CONFIGURABLE if p.configurable else 0)
            out += [_str16(p.name, "property name"), _u8(flags),
                    encode_constant(p.value, depth + 1)]
        return b"".join(out)
    if k in ("function", "closure"):
        class_name, name = v.data
        return _u8(T_FUNCREF) + _str16(class_name, "class name", allow_empty=True) + \
            _str16(name, "function name")
    if k == "native":
        return _u8(T_NATIVE) + _str16(v.data, "native name")
    raise EncodeError("no constant encoding for a %s value" % k)


def encode_pattern(p, depth=1):
    if depth > MAX_DEPTH:
        raise EncodeError("pattern nested deeper than %d levels" % MAX_DEPTH)
    if p.kind == Pattern.WILDCARD:
        return _u8(P_WILDCARD)
    if p.kind == Pattern.BIND:
        return _u8(P_BIND) + _u8(p.data)
    if p.kind == Pattern.LITERAL:
        return _u8(P_LITERAL) + encode_constant(p.data, depth + 1)
    tag = P_TUPLE if p.kind == Pattern.TUPLE else P_ARRAY
    if len(p.data) > 65535:
        raise EncodeError("pattern with too many elements")
    return _u8(tag) + _u16(len(p.data)) + b"".join(encode_pattern(s, depth + 1)
                                                 for s in p.data)


def pattern_registers(p):
    """Registers a pattern binds."""
    if p.kind == Pattern.BIND:
        yield p.data
    elif p.kind in (Pattern.TUPLE, Pattern.ARRAY):
        for s in p.data:
            yield from pattern_registers(s)


class _Emitted:
    """An instruction after expansion: opcode and operands, still symbolic
    (K as Value/MatchTable, J as ("user", index) or label name)."""

    __slots__ = ("op", "operands", "user_index")

    def __init__(self, op, operands, user_index):
        self.op = op
        self.operands = list(operands)
        self.user_index = user_index


class ClassEncoder:
    """Builds one .ionc file from a class name and its functions."""

    def __init__(self, name, functions):
        self.name = name
        self.functions = list(functions)
        self._pool = []          # encoded constants, in index order
        self._pool_index = {}    # encoded bytes -> index

    # -- constants ------------------------------------------------------

    def constant_index(self, encoded):
        idx = self._pool_index.get(encoded)
        if idx is None:
            idx = len(self._pool)
            if idx >= MAX_CONSTANTS:
                raise EncodeError("class %s: more than %d constants" % (self.name, MAX_CONSTANTS))
            self._pool.append(encoded)
            self._pool_index[encoded] = idx
        return idx

    # -- functions ------------------------------------------------------

    def _expand(self, fn, where):
        """Labels to positions, and load_const of an object with a prototype
        to a load/set_proto sequence. Returns (user instructions, emitted
        instructions, label -> user index, whether the scratch register is
        used)."""
        labels = {}
        user = []
        for item in fn.instructions:
            if isinstance(item, Label):
                if item.name in labels:
                    raise EncodeError("%s: label %r defined twice" % (where, item.name))
                labels[item.name] = len(user)
            else:
                user.append(item)
        scratch = fn.register_count
        scratch_used = False
        emitted = []
        for i, ins in enumerate(user):
            if ins.op == "load_const" and ins.operands[1].kind == "object" and \
                    ins.operands[1].prototype is not None:
                scratch_used = True
                emitted += self._expand_prototype(ins.operands[0], ins.operands[1], scratch, i)
            else:
                emitted.append(_Emitted(ins.op, ins.operands, i))
        return user, emitted, labels, scratch_used

    @staticmethod
    def _expand_prototype(dst, obj, scratch, user_index):
        chain = []
        v = obj
        while v is not None:
            chain.append(Value(v.kind, (v.data[0], v.data[1], None)))
            v = v.prototype
        # chain[k] goes to dst when k is even, to scratch when odd; build from
        # the top of the chain so each object's prototype is loaded already.
        reg = [dst if k % 2 == 0 else scratch for k in range(len(chain))]
        out = [_Emitted("load_const", (reg[-1], chain[-1]), user_index)]
        for k in range(len(chain) - 2, -1, -1):
            out.append(_Emitted("load_const", (reg[k], chain[k]), user_index))
            out.append(_Emitted("set_proto", (reg[k], reg[k + 1]), user_index))
        return out

    def encode_function(self, fn):
        where = "%s.%s" % (self.name, fn.name)
        user, emitted, labels, scratch_used = self._expand(fn, where)
        if not user:
            raise EncodeError("%s: a function needs at least one instruction" % where)
        nr = fn.register_count + (1 if scratch_used else 0)
        if nr > 256:
            raise EncodeError("%s: needs %d registers, at most 256" % (where, nr))
        ni = len(emitted)
        if ni > MAX_INSTRUCTIONS:
            raise EncodeError("%s: %d instructions, at most %d" % (where, ni, MAX_INSTRUCTIONS))
        # position of each user instruction in the emitted code
        start = {}
        for pos, e in enumerate(emitted):
            start.setdefault(e.user_index, pos)

        def target(t, at):
            if isinstance(t, str):
                if t not in labels:
                    raise EncodeError("%s: instruction %d jumps to unknown label %r" % (where, at, t))
                t = labels[t]
                if t >= len(user):
                    raise EncodeError("%s: label at the end of the function is not an "
                                      "instruction" % where)
            elif t >= len(user):
                raise EncodeError("%s: instruction %d jumps to %d, past the end"
                                  % (where, at, t))
            return start[t]

        words = []
        for pos, e in enumerate(emitted):
            words.append(self._encode_instruction(e, pos, nr, len(fn.upvalues), target, where))
        if emitted[-1].op not in TERMINATORS:
            raise EncodeError("%s: the last instruction must be one of %s, not %s"
                              % (where, ", ".join(sorted(TERMINATORS)), emitted[-1].op))
        out = [_str16(fn.name, "function name"), _u8(fn.arity), _u16(nr),
               _u16(len(fn.upvalues))]
        for kind, index in fn.upvalues:
            out += [_u8(kind), _u16(index)]
        out.append(_u32(ni))
        out += [struct.pack("<Q", w) for w in words]
        return b"".join(out)

    def _encode_instruction(self, e, pos, nr, nu, target, where):
        modes = OPCODE_MODES[e.op]
        at = "%s: instruction %d (%s)" % (where, pos, e.op)
        slots = [0, 0, 0, 0]
        ops = iter(e.operands)
        for s, mode in enumerate(modes):
            if mode == "X":
                continue
            x = next(ops)
            if mode in "RG":
                if x >= nr:
                    raise EncodeError("%s: register %d, function has %d" % (at, x, nr))
            elif mode == "N":
                if modes[s - 1] == "G" and slots[s - 1] + x > nr:
                    raise EncodeError("%s: register range %d..%d, function has %d"
                                      % (at, slots[s - 1], slots[s - 1] + x - 1, nr))
                if e.op == "load_bool" and x not in (0, 1):
                    raise EncodeError("%s: flag must be 0 or 1" % at)
                if e.op == "define_prop" and x > 7:
                    raise EncodeError("%s: property flags must be 0..7" % at)
            elif mode == "U":
                if x >= nu:
                    raise EncodeError("%s: upvalue %d, function has %d" % (at, x, nu))
            elif mode == "I":
                x &= 0xFFFF
            elif mode == "J":
                x = target(x, pos)
            elif mode == "K":
                x = self._constant_operand(e.op, x, nr, target, pos, at)
            slots[s] = x
        a, b, c, d = slots
        return OPCODE_NUMBER[e.op] | a << 8 | b << 16 | c << 32 | d << 48

    def _constant_operand(self, op, x, nr, target, pos, at):
        if op == "match":
            body = [_u8(T_MATCH), _u16(len(x.arms))]
            for pat, t in x.arms:
                for r in pattern_registers(pat):
                    if r >= nr:
                        raise EncodeError("%s: pattern binds register %d, function has %d"
                                          % (at, r, nr))
                body += [encode_pattern(pat), _u16(target(t, pos))]
            return self.constant_index(b"".join(body))
        if op in K_PROPERTY_KEY and (x.kind not in ("string", "atom") or
                                     not 1 <= len(x.data.encode("utf-8")) <= 255):
            raise EncodeError("%s: property key must be a string or atom of 1..255 bytes" % at)
        try:
            return self.constant_index(encode_constant(x))
        except EncodeError as err:
            raise EncodeError("%s: %s" % (at, err)) from None

    # -- the file -------------------------------------------------------

    def encode(self):
        if not self.functions:
            raise EncodeError("class %s has no functions" % self.name)
        if len(self.functions) > MAX_FUNCTIONS:
            raise EncodeError("class %s: too many functions" % self.name)
        names = set()
        for fn in self.functions:
            if fn.name in names:
                raise EncodeError("class %s: function %s defined twice" % (self.name, fn.name))
            names.add(fn.name)
        bodies = [self.encode_function(fn) for fn in self.functions]
        payload = b"".join([_str16(self.name, "class name"), _u32(len(self._pool))] +
                           self._pool + [_u32(len(bodies))] + bodies)
        header = MAGIC + struct.pack("<HHIII", FORMAT_MAJOR, FORMAT_MINOR, 0, len(payload),
                                     zlib.crc32(payload) & 0xFFFFFFFF)
        return header + payload


def encode_class(name, functions):
    """The bytes of classes/<name>.ionc for these functions."""
    return ClassEncoder(name, functions).encode()


def iter_constants(fn):
    """Every constant Value an instruction of fn names (nested ones too), with
    the opcode that names it and whether it is the direct operand."""
    for ins in fn.instructions:
        if not isinstance(ins, Instruction):
            continue
        for mode, x in zip([m for m in OPCODE_MODES[ins.op] if m != "X"], ins.operands):
            if mode != "K":
                continue
            if isinstance(x, MatchTable):
                for pat, _ in x.arms:
                    yield from _pattern_constants(ins.op, pat)
            else:
                yield from _walk(ins.op, x, True)


def _walk(op, v, direct):
    yield op, v, direct
    if v.kind in ("tuple", "array"):
        for item in v.data:
            yield from _walk(op, item, False)
    elif v.kind == "object":
        for p in v.properties:
            yield from _walk(op, p.value, False)
        if v.prototype is not None:
            yield from _walk(op, v.prototype, direct)


def _pattern_constants(op, pat):
    if pat.kind == Pattern.LITERAL:
        yield op, pat.data, False
    elif pat.kind in (Pattern.TUPLE, Pattern.ARRAY):
        for s in pat.data:
            yield from _pattern_constants(op, s)
