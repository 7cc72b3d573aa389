"""ionvm: write IonVM programs and IonPacks from Python (standard library only).

    from ionvm import Function, Instruction, Value, IonPackBuilder
    main = Function(name="main", arity=0, extra_regs=1, instructions=[
        Instruction.load_const(0, Value.number(42)),
        Instruction.return_reg(0)])
    builder = IonPackBuilder("hello-world", "1.0.0")
    builder.add_class("Main", main)
    builder.main_class("Main")
    builder.entry_point("main")
    with open("hello.ionpack", "wb") as f:
        builder.build(f)

Formats: docs/ionvm-bytecode.md (.ionc 1.0) and docs/ionpack.md (IonPack 1).
"""

from .encoder import EncodeError, encode_class, encode_constant
from .function import Function
from .instruction import Instruction, Label, MatchTable, Pattern
from .opcodes import OPCODES, CONFIGURABLE, ENUMERABLE, WRITABLE
from .pack import BuildError, IonPackBuilder
from .values import Property, Value

__all__ = [
    "Function", "Instruction", "Value", "IonPackBuilder", "Label", "Pattern", "MatchTable",
    "Property", "EncodeError", "BuildError", "encode_class", "encode_constant", "OPCODES",
    "WRITABLE", "ENUMERABLE", "CONFIGURABLE",
]

__version__ = "1.0.0"
