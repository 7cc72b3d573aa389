"""Run an IonVM function in a micro-VM with `arcvm call` (docs/ionvm-call.md).

    from ionvm import Function, Instruction as I, Value
    from ionvm.call import call
    add = Function(name="add", arity=2, extra_regs=1, instructions=[
        I.add(2, 0, 1), I.return_reg(2)])
    call(add, 40, 2)                      # 42, computed in a fresh micro-VM

call() builds a pack whose entry point is the function, writes the
arguments as literals (the syntax `arcvm call --arg` parses), runs the
`arcvm` command and parses the printed result back into Python values.

Python values and IonVM values:

| Python                         | IonVM                                       |
|--------------------------------|---------------------------------------------|
| None, bool, int, float         | nil, boolean, number (ints must fit an f64) |
| str                            | string (its UTF-8 bytes)                    |
| bytes, bytearray               | string (the bytes as they are)              |
| Atom("ok")                     | atom                                        |
| complex                        | complex                                     |
| tuple, list                    | tuple, array                                |
| dict (str keys)                | object, every property writable, enumerable and configurable |
| IonObject(dict, type_name, flags) | object with a type name and per-property flags |

A result string comes back as str when it is valid UTF-8 and as bytes
otherwise; a number as int when it is integral (and below 2**53 in
magnitude), else float; an object as dict, or IonObject when it has a type
name or a property with other flags.
"""

import math
import os
import re
import subprocess
import tempfile

from .function import Function
from .pack import IonPackBuilder

__all__ = ["Atom", "IonObject", "CallError", "GuestError", "to_literal", "parse_literal",
           "call"]

MAX_DEPTH = 32
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_WORDS = ("nil", "true", "false", "nan", "inf")


class Atom(str):
    """An IonVM atom (a str subclass): Atom("ok")."""

    def __repr__(self):
        return "Atom(%s)" % str.__repr__(self)


class IonObject(dict):
    """An object with a type name and/or property flags. flags maps a key to
    a subset of "wec" (writable, enumerable, configurable); keys not in it
    have all three."""

    def __init__(self, props=(), type_name=None, flags=None):
        super().__init__(props)
        self.type_name = type_name
        self.flags = dict(flags or {})

    def __eq__(self, other):
        return (dict.__eq__(self, other) and
                getattr(other, "type_name", None) == self.type_name and
                _norm_flags(getattr(other, "flags", {})) == _norm_flags(self.flags))

    __hash__ = None

    def __repr__(self):
        return "IonObject(%s, type_name=%r, flags=%r)" % (dict.__repr__(self), self.type_name,
                                                        self.flags)


def _norm_flags(flags):
    return {k: "".join(c for c in "wec" if c in v) for k, v in flags.items()
            if set(v) != set("wec")}


class CallError(Exception):
    """arcvm call exited with a non-zero status: .status, .stderr."""

    def __init__(self, status, stderr):
        super().__init__("arcvm call failed with status %d: %s" % (status, stderr.strip()))
        self.status = status
        self.stderr = stderr


class GuestError(CallError):
    """The function raised an uncaught error in the guest (status 1); the
    message holds the guest-side stack trace."""


# ---- Python -> literal ------------------------------------------------------

def _quote(data, q):
    out = [q]
    i = 0
    while i < len(data):
        c = data[i]
        if c >= 0x80:
            n = 4 if c >= 0xF0 else 3 if c >= 0xE0 else 2 if c >= 0xC2 else 0
            try:
                ch = data[i:i + n].decode("utf-8") if n else ""
                if ch and not "\x80" <= ch <= "\x9f":    # C1 controls are escaped
                    out.append(ch)
                    i += n
                    continue
            except UnicodeDecodeError:
                pass
            out.append("\\x%02x" % c)
        elif chr(c) in (q, "\\"):
            out.append("\\" + chr(c))
        elif c in (10, 9, 13):
            out.append({10: "\\n", 9: "\\t", 13: "\\r"}[c])
        elif c < 0x20 or c == 0x7F:
            out.append("\\x%02x" % c)
        else:
            out.append(chr(c))
        i += 1
    out.append(q)
    return "".join(out)


def _number(x):
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0 and math.copysign(1, x) < 0:
        return "-0"
    if x == math.floor(x) and abs(x) < 2 ** 53:
        return "%d" % x
    return repr(float(x))


def _key(k):
    if not isinstance(k, str) or not k:
        raise TypeError("object keys must be non-empty str, not %r" % (k,))
    return k if _IDENT.match(k) else _quote(k.encode("utf-8"), '"')


def to_literal(x, depth=0):
    """The literal text of a Python value (see the module's table)."""
    if depth > MAX_DEPTH:
        raise ValueError("value nested deeper than %d" % MAX_DEPTH)
    if x is None:
        return "nil"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, Atom):
        if not 1 <= len(x.encode("utf-8")) <= 255:
            raise ValueError("an atom is 1..255 bytes")
        return str(x) if _IDENT.match(x) and x not in _WORDS else _quote(x.encode("utf-8"), "'")
    if isinstance(x, int):
        if float(x) != x:
            raise ValueError("%d is not exactly representable as an f64" % x)
        return _number(float(x))
    if isinstance(x, float):
        return _number(x)
    if isinstance(x, str):
        return _quote(x.encode("utf-8"), '"')
    if isinstance(x, (bytes, bytearray)):
        return _quote(bytes(x), '"')
    if isinstance(x, complex):
        im = _number(x.imag)
        return _number(x.real) + ("" if im.startswith("-") else "+") + im + "i"
    if isinstance(x, tuple):
        return "{" + ", ".join(to_literal(v, depth + 1) for v in x) + "}"
    if isinstance(x, list):
        return "[" + ", ".join(to_literal(v, depth + 1) for v in x) + "]"
    if isinstance(x, dict):
        type_name = getattr(x, "type_name", None) or ""
        if type_name and not _IDENT.match(type_name):
            raise ValueError("type name %r is not an identifier" % type_name)
        flags = getattr(x, "flags", {})
        items = []
        for k, v in x.items():
            f = flags.get(k)
            suffix = "" if f is None or set(f) == set("wec") else \
                "/" + "".join(c for c in "wec" if c in f)
            items.append("%s%s: %s" % (_key(k), suffix, to_literal(v, depth + 1)))
        return "#" + type_name + "{" + ", ".join(items) + "}"
    raise TypeError("no IonVM value for %s (functions and pids cannot be copied)"
                    % type(x).__name__)


# ---- literal -> Python ------------------------------------------------------

class _Parser:
    def __init__(self, text):
        self.s = text
        self.i = 0

    def fail(self, msg):
        raise ValueError("at offset %d: %s" % (self.i, msg))

    def space(self):
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n":
            self.i += 1

    def peek(self):
        return self.s[self.i] if self.i < len(self.s) else ""

    def quoted(self):
        q = self.s[self.i]
        self.i += 1
        out = bytearray()
        while self.i < len(self.s) and self.s[self.i] != q:
            c = self.s[self.i]
            self.i += 1
            if c != "\\":
                out += c.encode("utf-8")
                continue
            e = self.peek()
            self.i += 1
            simple = {"n": 10, "t": 9, "r": 13, "0": 0, "\\": 92, '"': 34, "'": 39}
            if e in simple:
                out.append(simple[e])
            elif e == "x" and re.match(r"[0-9a-fA-F]{2}", self.s[self.i:self.i + 2]):
                out.append(int(self.s[self.i:self.i + 2], 16))
                self.i += 2
            else:
                self.fail("bad escape \\%s" % e)
        if self.i >= len(self.s):
            self.fail("unterminated string")
        self.i += 1
        return bytes(out)

    def number(self, imag=False):
        m = re.compile(r"[+-]?(inf|nan)(?![A-Za-z0-9_])" + ("|[+-]?(inf|nan)(?=i)" if imag else "")
                       + r"|[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?").match(self.s, self.i)
        if not m:
            self.fail("expected a value")
        self.i = m.end()
        t = m.group(0)
        if t.lstrip("+-") in ("inf", "nan"):
            return float(t.replace("+", ""))
        return float(t)

    def numeric(self):
        start = self.i
        re_ = self.number()
        if self.peek() in ("+", "-") and self.i + 1 < len(self.s) and \
                (self.s[self.i + 1].isdigit() or self.s[self.i + 1] in "in"):
            im = self.number(imag=True)
            if self.peek() != "i":
                self.fail("a complex number ends with 'i'")
            self.i += 1
            return complex(re_, im)
        text = self.s[start:self.i]
        if re.fullmatch(r"[+-]?[0-9]+", text) and abs(re_) < 2 ** 53 and text.lstrip("+") != "-0":
            return int(re_)
        return re_

    def items(self, close, depth):
        out = []
        self.space()
        if self.peek() == close:
            self.i += 1
            return out
        while True:
            out.append(self.value(depth + 1))
            self.space()
            if self.peek() == ",":
                self.i += 1
            elif self.peek() == close:
                self.i += 1
                return out
            else:
                self.fail("expected ',' or '%s'" % close)

    def obj(self, depth):
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.s, self.i)
        type_name = m.group(0) if m else None
        if m:
            self.i = m.end()
        if self.peek() != "{":
            self.fail("expected '{'")
        self.i += 1
        props, flags = {}, {}
        self.space()
        if self.peek() == "}":
            self.i += 1
        else:
            while True:
                self.space()
                if self.peek() in ('"', "'"):
                    key = self.quoted().decode("utf-8", "surrogateescape")
                else:
                    m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.s, self.i)
                    if not m:
                        self.fail("expected a property name")
                    key = m.group(0)
                    self.i = m.end()
                if self.peek() == "/":
                    m = re.compile(r"/([wec]*)").match(self.s, self.i)
                    flags[key] = m.group(1)
                    self.i = m.end()
                self.space()
                if self.peek() != ":":
                    self.fail("expected ':'")
                self.i += 1
                props[key] = self.value(depth + 1)
                self.space()
                if self.peek() == ",":
                    self.i += 1
                    continue
                if self.peek() == "}":
                    self.i += 1
                    break
                self.fail("expected ',' or '}'")
        if type_name or _norm_flags(flags):
            return IonObject(props, type_name, flags)
        return props

    def value(self, depth=0):
        if depth > MAX_DEPTH:
            self.fail("nested deeper than %d" % MAX_DEPTH)
        self.space()
        c = self.peek()
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.s, self.i)
        if m:
            w = m.group(0)
            if w in ("nan", "inf"):
                return self.numeric()
            self.i = m.end()
            if w in ("nil", "true", "false"):
                return {"nil": None, "true": True, "false": False}[w]
            return Atom(w)
        if c == '"':
            b = self.quoted()
            try:
                return b.decode("utf-8")
            except UnicodeDecodeError:
                return b
        if c == "'":
            return Atom(self.quoted().decode("utf-8", "surrogateescape"))
        if c == "{":
            self.i += 1
            return tuple(self.items("}", depth))
        if c == "[":
            self.i += 1
            return self.items("]", depth)
        if c == "#":
            self.i += 1
            return self.obj(depth)
        if c and c in "+-0123456789":
            return self.numeric()
        self.fail("unexpected %r" % c if c else "expected a value, found the end")


def parse_literal(text):
    """The Python value of a literal (as `arcvm call` prints results)."""
    p = _Parser(text)
    v = p.value()
    p.space()
    if p.i != len(text):
        p.fail("unexpected text after the value")
    return v


# ---- calling ----------------------------------------------------------------

def _pack_for(fn, path):
    if isinstance(fn, IonPackBuilder):
        b = fn
    elif isinstance(fn, Function):
        b = IonPackBuilder("call-" + fn.name, "1.0.0")
        b.add_class("Main", fn)
        b.main_class("Main")
        b.entry_point(fn.name)
    else:
        raise TypeError("call() takes a Function or an IonPackBuilder")
    b.build(path, for_call=True)


def call(fn, *args, arcvm="arcvm", vm_options=(), out=None, timeout=None):
    """Runs fn (a Function, the entry point of a one-class pack, or an
    IonPackBuilder) in a fresh micro-VM with args and returns its result.

    vm_options go to arcvm call before the pack (["--share", "src:/src",
    "--mem", "1G"]...). With out (a path) the result, which must be a
    string, is written there as bytes and call() returns None. A non-zero
    status raises GuestError (an uncaught error in the guest: the message
    has its stack trace) or CallError; timeout (s) bounds the wait for the
    arcvm process (subprocess.TimeoutExpired)."""
    literals = [to_literal(a) for a in args]
    with tempfile.TemporaryDirectory(prefix="ionvm-call-") as d:
        pack = os.path.join(d, "call.ionpack")
        _pack_for(fn, pack)
        cmd = [str(arcvm), "call", *map(str, vm_options), pack]
        for lit in literals:
            cmd += ["--arg", lit]
        if out is not None:
            cmd += ["--out", str(out)]
        p = subprocess.run(cmd, capture_output=True, timeout=timeout)
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode == 1:
        raise GuestError(1, err)
    if p.returncode:
        raise CallError(p.returncode, err)
    if out is not None:
        return None
    lines = p.stdout.decode("utf-8", "surrogateescape").rstrip("\n").rsplit("\n", 1)
    return parse_literal(lines[-1])
