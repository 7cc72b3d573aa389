"""Functions: what a class of an IonPack is made of."""

from .instruction import Instruction, Label
from .values import _check_str16

UPVAL_REGISTER = 0   # capture a register of the frame executing `closure`
UPVAL_UPVALUE = 1    # capture an upvalue of the closure executing `closure`

_UPVAL_KINDS = {
    0: UPVAL_REGISTER, "reg": UPVAL_REGISTER, "register": UPVAL_REGISTER,
    "local": UPVAL_REGISTER,
    1: UPVAL_UPVALUE, "upval": UPVAL_UPVALUE, "upvalue": UPVAL_UPVALUE,
}


class Function:
    """A function: name, arity, registers beyond the arguments, code.

    Registers: the arguments arrive in R[0]..R[arity-1]; the function has
    arity + extra_regs registers in all (at least one). upvalues lists what
    a closure of this function captures when Instruction.closure makes it,
    as (kind, index) pairs: ("reg", i) for register i of the creating frame,
    ("upval", i) for upvalue i of the creating closure. The function reads
    them with get_upval/set_upval.
    """

    def __init__(self, name, arity=0, extra_regs=0, instructions=(), upvalues=()):
        if not isinstance(name, str) or not name:
            raise TypeError("a function needs a non-empty name")
        _check_str16(name, "function name")
        for what, x, hi in (("arity", arity, 255), ("extra_regs", extra_regs, 256)):
            if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x <= hi:
                raise ValueError("%s of %s must be an int in 0..%d" % (what, name, hi))
        if arity + extra_regs > 256:
            raise ValueError("%s: arity + extra_regs must be at most 256" % name)
        self.name = name
        self.arity = arity
        self.extra_regs = extra_regs
        self.instructions = list(instructions)
        for item in self.instructions:
            if not isinstance(item, (Instruction, Label)):
                raise TypeError("%s: instructions must be Instruction or Label, not %s"
                                % (name, type(item).__name__))
        self.upvalues = []
        for up in upvalues:
            kind, index = up
            if kind not in _UPVAL_KINDS:
                raise ValueError("%s: unknown upvalue kind %r" % (name, kind))
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= 65535:
                raise ValueError("%s: upvalue index %r out of range" % (name, index))
            self.upvalues.append((_UPVAL_KINDS[kind], index))
        if len(self.upvalues) > 255:
            raise ValueError("%s: at most 255 upvalues" % name)

    @property
    def register_count(self):
        """Registers the program may use (the encoder may add a scratch one)."""
        return max(1, self.arity + self.extra_regs)

    def __repr__(self):
        return "Function(%r, arity=%d, extra_regs=%d, %d instructions)" % (
            self.name, self.arity, self.extra_regs, len(self.instructions))
