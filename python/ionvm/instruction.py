"""Instructions, labels and match patterns.

Instruction.<name>(...) exists for every row of the opcode table and takes
the used operands in slot order (see opcodes.py), e.g.
Instruction.add(dst, a, b), Instruction.call(dst, func, argbase, nargs),
Instruction.spawn(dst, func, args). Operands stay symbolic until the class
is encoded:

- constant operands (K) take a Value or a plain Python value (Value.of);
  property keys may be given as str (they become atoms), closure takes a
  function name or Value.closure, match takes a list of (pattern, target);
- jump targets (J) take a label name (str), a Label, or an int: the index
  of the target in the function's instruction list, labels not counted.

A Label placed in the instruction list marks the position of the next
instruction: Instruction.label("loop") or Label("loop").
"""

from .opcodes import OPCODES, OPCODE_MODES
from .values import Value

_SLOTS = "abcd"


class Label:
    """A named position in a function's instruction list (no code)."""

    __slots__ = ("name",)

    def __init__(self, name):
        if not isinstance(name, str) or not name:
            raise TypeError("a label needs a non-empty name")
        self.name = name

    def __repr__(self):
        return "Label(%r)" % self.name


class Pattern:
    """A pattern of a match arm (see the match table spec)."""

    __slots__ = ("kind", "data")

    WILDCARD, BIND, LITERAL, TUPLE, ARRAY = range(5)
    LITERAL_KINDS = ("nil", "boolean", "number", "string", "atom", "complex")

    def __init__(self, kind, data=None):
        self.kind = kind
        self.data = data

    @staticmethod
    def wildcard():
        return Pattern(Pattern.WILDCARD)

    @staticmethod
    def bind(reg):
        """Matches anything and stores it in register reg."""
        return Pattern(Pattern.BIND, _check_int(reg, 0, 255, "bind register"))

    @staticmethod
    def literal(value):
        value = Value.of(value)
        if value.kind not in Pattern.LITERAL_KINDS:
            raise TypeError("a literal pattern must be nil, boolean, number, string, atom "
                            "or complex, not %s" % value.kind)
        return Pattern(Pattern.LITERAL, value)

    @staticmethod
    def tuple(items):
        return Pattern(Pattern.TUPLE, tuple(Pattern.of(p) for p in items))

    @staticmethod
    def array(items):
        return Pattern(Pattern.ARRAY, tuple(Pattern.of(p) for p in items))

    @staticmethod
    def of(x):
        """A Pattern as it is; a Python tuple/list becomes a tuple/array
        pattern of its converted items; anything else a literal."""
        if isinstance(x, Pattern):
            return x
        if isinstance(x, tuple):
            return Pattern.tuple(x)
        if isinstance(x, list):
            return Pattern.array(x)
        return Pattern.literal(x)

    def __repr__(self):
        names = ("wildcard", "bind", "literal", "tuple", "array")
        if self.kind == Pattern.WILDCARD:
            return "Pattern.wildcard()"
        return "Pattern.%s(%r)" % (names[self.kind], self.data)


class MatchTable:
    """The arms of a match instruction: (Pattern, jump target) pairs."""

    __slots__ = ("arms",)

    def __init__(self, arms):
        arms = [(Pattern.of(p), _check_target(t)) for p, t in arms]
        if not 1 <= len(arms) <= 255:
            raise ValueError("a match table has 1..255 arms, not %d" % len(arms))
        self.arms = tuple(arms)

    def __repr__(self):
        return "MatchTable(%r)" % (list(self.arms),)


def _check_int(x, lo, hi, what):
    if isinstance(x, bool) or not isinstance(x, int):
        raise TypeError("%s must be an int, not %s" % (what, type(x).__name__))
    if not lo <= x <= hi:
        raise ValueError("%s %d out of range %d..%d" % (what, x, lo, hi))
    return x


def _check_target(t):
    if isinstance(t, Label):
        return t.name
    if isinstance(t, str):
        if not t:
            raise ValueError("empty label name")
        return t
    return _check_int(t, 0, 65535, "jump target")


def _operand(op, mode, slot, name, x):
    """Check one operand at construction; K and J stay symbolic."""
    width = 255 if slot == "a" else 65535
    what = "%s operand %s" % (op, name)
    if mode in "RGUN":
        hi = 255 if mode in "RG" else (255 if mode == "U" else width)
        return _check_int(x, 0, hi, what)
    if mode == "I":
        return _check_int(x, -32768, 32767, what)
    if mode == "J":
        return _check_target(x)
    # K: the operand kinds each opcode accepts
    if op == "match":
        return x if isinstance(x, MatchTable) else MatchTable(x)
    if op == "closure":
        if isinstance(x, str):
            return Value.closure(x)
        x = Value.of(x)
        if x.kind not in ("closure", "function") or x.data[0]:
            raise TypeError("closure needs a function of the same class")
        return Value.closure(x.data[1])
    if op in ("get_prop", "set_prop", "define_prop", "delete_prop"):
        if isinstance(x, str):
            return Value.atom(x)
        x = Value.of(x)
        if x.kind not in ("string", "atom"):
            raise TypeError("%s needs a string or atom key, not %s" % (what, x.kind))
        return x
    x = Value.of(x)
    if x.kind == "closure":
        raise TypeError("load_const cannot load a closure; use Instruction.closure")
    return x


class Instruction:
    """One instruction: an opcode name and its used operands in slot order."""

    __slots__ = ("op", "operands")

    def __init__(self, op, *operands):
        modes = OPCODE_MODES.get(op)
        if modes is None:
            raise ValueError("unknown opcode %r" % (op,))
        used = [(slot, m) for slot, m in zip(_SLOTS, modes) if m != "X"]
        if len(operands) != len(used):
            raise TypeError("%s takes %d operands, %d given" % (op, len(used), len(operands)))
        names = _OPERAND_NAMES[op]
        self.op = op
        self.operands = tuple(_operand(op, m, slot, n, x)
                              for (slot, m), n, x in zip(used, names, operands))

    @staticmethod
    def label(name):
        return Label(name)

    def __repr__(self):
        return "Instruction.%s(%s)" % (self.op, ", ".join(map(repr, self.operands)))

    def __eq__(self, other):
        return isinstance(other, Instruction) and (self.op, repr(self.operands)) == \
            (other.op, repr(other.operands))

    def __hash__(self):
        return hash((self.op, repr(self.operands)))


_OPERAND_NAMES = {name: names for name, _, names in OPCODES}


def _make_constructor(op, names):
    def constructor(*args, **kwargs):
        if len(args) > len(names):
            raise TypeError("Instruction.%s takes %d operands (%s), %d given"
                            % (op, len(names), ", ".join(names), len(args)))
        values = list(args)
        for n in names[len(args):]:
            if n not in kwargs:
                raise TypeError("Instruction.%s missing operand %r" % (op, n))
            values.append(kwargs.pop(n))
        if kwargs:
            raise TypeError("Instruction.%s got unknown operands %s" % (op, sorted(kwargs)))
        return Instruction(op, *values)
    constructor.__name__ = op
    constructor.__qualname__ = "Instruction." + op
    constructor.__doc__ = "Instruction.%s(%s)" % (op, ", ".join(names))
    return staticmethod(constructor)


for _name, _modes, _names in OPCODES:
    setattr(Instruction, _name, _make_constructor(_name, _names))
