"""Constant values of IonVM programs.

A Value is what a load_const instruction puts in a register: a number,
boolean, nil, string, atom, complex number, tuple, array, object, a
reference to a function of the pack, or a native (FFI) function by name.
Closures and process references exist only at run time: a closure is made
by Instruction.closure from a Value.closure (a reference to a function that
has upvalues), a pid by spawn or self. Values are immutable once built;
two values are equal when they have the same kind and the same contents, so
the encoder can share one constant pool entry between equal constants.
"""

import math

NUMBER = "number"
BOOLEAN = "boolean"
NIL = "nil"
STRING = "string"
ATOM = "atom"
COMPLEX = "complex"
TUPLE = "tuple"
ARRAY = "array"
OBJECT = "object"
FUNCTION = "function"
CLOSURE = "closure"
NATIVE = "native"

KINDS = (NUMBER, BOOLEAN, NIL, STRING, ATOM, COMPLEX, TUPLE, ARRAY, OBJECT,
         FUNCTION, CLOSURE, NATIVE)


def _check_str16(s, what, allow_empty=False):
    """Names in the format are str16: 1..255 bytes of UTF-8 (0 if allowed)."""
    n = len(s.encode("utf-8"))
    if n > 255 or (n == 0 and not allow_empty):
        raise ValueError("%s %r must be %s..255 bytes of UTF-8"
                         % (what, s, "0" if allow_empty else "1"))


def _funcref(name, class_name, what):
    if not isinstance(name, str) or not name:
        raise TypeError("Value.%s needs a function name" % what)
    _check_str16(name, "function name")
    if class_name is not None:
        if not isinstance(class_name, str) or not class_name:
            raise TypeError("class_name must be a non-empty str")
        _check_str16(class_name, "class name")
    return (class_name or "", name)


class Property:
    """One own property of an object constant: its value and descriptor."""

    __slots__ = ("name", "value", "writable", "enumerable", "configurable")

    def __init__(self, name, value, writable=True, enumerable=True, configurable=True):
        if not isinstance(name, str):
            raise TypeError("property name must be a str, not %s" % type(name).__name__)
        _check_str16(name, "property name")
        self.name = name
        self.value = Value.of(value)
        self.writable = bool(writable)
        self.enumerable = bool(enumerable)
        self.configurable = bool(configurable)

    def _key(self):
        return (self.name, self.value._key(), self.writable, self.enumerable,
                self.configurable)

    def __repr__(self):
        flags = "".join(f for f, on in (("w", self.writable), ("e", self.enumerable),
                                        ("c", self.configurable)) if on)
        return "Property(%r, %r, %s)" % (self.name, self.value, flags or "-")


def _descriptor_flags(names, spec, what):
    """Per-property flags from a descriptor argument of Value.object.

    spec may be None (every property gets the flag), a bool (all or none), a
    mapping name -> bool (unnamed properties keep the flag), or any other
    collection of names (exactly those get the flag).
    """
    if spec is None:
        return {n: True for n in names}
    if isinstance(spec, bool):
        return {n: spec for n in names}
    if isinstance(spec, dict):
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError("%s names unknown properties: %s" % (what, sorted(unknown)))
        return {n: bool(spec.get(n, True)) for n in names}
    chosen = set(spec)
    unknown = chosen - set(names)
    if unknown:
        raise ValueError("%s names unknown properties: %s" % (what, sorted(unknown)))
    return {n: n in chosen for n in names}


class Value:
    """A constant. Build one with the Value.<kind>(...) constructors."""

    __slots__ = ("kind", "data")

    def __init__(self, kind, data):
        if kind not in KINDS:
            raise ValueError("unknown value kind %r" % (kind,))
        self.kind = kind
        self.data = data

    # -- constructors ---------------------------------------------------

    @staticmethod
    def number(x):
        """An f64. Python ints must be exactly representable."""
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise TypeError("Value.number needs an int or float, not %s" % type(x).__name__)
        f = float(x)
        if isinstance(x, int) and int(f) != x:
            raise ValueError("%d is not exactly representable as an f64" % x)
        return Value(NUMBER, f)

    @staticmethod
    def boolean(b):
        if not isinstance(b, bool):
            raise TypeError("Value.boolean needs a bool, not %s" % type(b).__name__)
        return Value(BOOLEAN, b)

    @staticmethod
    def nil():
        return Value(NIL, None)

    @staticmethod
    def string(s):
        if not isinstance(s, str):
            raise TypeError("Value.string needs a str, not %s" % type(s).__name__)
        return Value(STRING, s)

    @staticmethod
    def atom(name):
        if not isinstance(name, str) or not name:
            raise TypeError("Value.atom needs a non-empty str")
        _check_str16(name, "atom")
        return Value(ATOM, name)

    @staticmethod
    def complex(re, im=None):
        """complex(re, im) or complex(python_complex)."""
        if im is None:
            if isinstance(re, complex):
                re, im = re.real, re.imag
            else:
                im = 0.0
        return Value(COMPLEX, (float(re), float(im)))

    @staticmethod
    def tuple(items):
        return Value(TUPLE, tuple(Value.of(v) for v in items))

    @staticmethod
    def array(items):
        return Value(ARRAY, tuple(Value.of(v) for v in items))

    @staticmethod
    def object(properties=None, writable=None, enumerable=None, configurable=None,
               type_name=None, prototype=None):
        """An object constant.

        properties: a mapping name -> value (kept in order), or a sequence of
        Property. writable/enumerable/configurable: None (all true), a bool,
        a mapping name -> bool, or a collection of the names that get the
        flag. type_name: optional str. prototype: optional object Value.

        The .ionc format has no prototype field in constants, so an object
        with a prototype may only be the direct operand of load_const: the
        builder then loads the prototype chain into the destination and one
        scratch register and links it with set_proto. Each load makes fresh
        copies, so share a prototype between objects at run time instead.
        """
        props = []
        if properties is None:
            properties = {}
        if isinstance(properties, dict):
            names = list(properties)
            w = _descriptor_flags(names, writable, "writable")
            e = _descriptor_flags(names, enumerable, "enumerable")
            c = _descriptor_flags(names, configurable, "configurable")
            for n in names:
                props.append(Property(n, properties[n], w[n], e[n], c[n]))
        else:
            if writable is not None or enumerable is not None or configurable is not None:
                raise ValueError("give descriptors on each Property, not as arguments")
            props = list(properties)
            for p in props:
                if not isinstance(p, Property):
                    raise TypeError("properties must be a dict or a list of Property")
        seen = set()
        for p in props:
            if p.name in seen:
                raise ValueError("duplicate property %r" % p.name)
            seen.add(p.name)
        if type_name is not None and not isinstance(type_name, str):
            raise TypeError("type_name must be a str")
        if type_name is not None:
            _check_str16(type_name, "type name")
        if prototype is not None:
            prototype = Value.of(prototype)
            if prototype.kind != OBJECT:
                raise TypeError("prototype must be an object value")
        return Value(OBJECT, (tuple(props), type_name, prototype))

    @staticmethod
    def function(name, class_name=None):
        """A reference to a function of the pack, by name, resolved when the
        VM links the pack. class_name None means the class being built."""
        return Value(FUNCTION, _funcref(name, class_name, "function"))

    @staticmethod
    def closure(name):
        """The function a closure instruction instantiates: a function of the
        same class that has upvalues. Only Instruction.closure takes it (the
        format has no closure constants; captures happen at run time)."""
        return Value(CLOSURE, _funcref(name, None, "closure"))

    @staticmethod
    def native(name):
        """A native function of the VM's FFI registry, e.g. "io.print"."""
        if not isinstance(name, str) or not name:
            raise TypeError("Value.native needs a registered native name")
        _check_str16(name, "native name")
        return Value(NATIVE, name)

    @staticmethod
    def of(x):
        """Convert a plain Python value: int/float, bool, None, str, complex,
        tuple, list, dict (an object); a Value is returned as it is."""
        if isinstance(x, Value):
            return x
        if isinstance(x, bool):
            return Value.boolean(x)
        if isinstance(x, (int, float)):
            return Value.number(x)
        if x is None:
            return Value.nil()
        if isinstance(x, str):
            return Value.string(x)
        if isinstance(x, complex):
            return Value.complex(x)
        if isinstance(x, tuple):
            return Value.tuple(x)
        if isinstance(x, list):
            return Value.array(x)
        if isinstance(x, dict):
            return Value.object(x)
        raise TypeError("no IonVM value for %s" % type(x).__name__)

    # -- accessors for objects ------------------------------------------

    @property
    def properties(self):
        self._need(OBJECT)
        return self.data[0]

    @property
    def type_name(self):
        self._need(OBJECT)
        return self.data[1]

    @property
    def prototype(self):
        self._need(OBJECT)
        return self.data[2]

    def _need(self, kind):
        if self.kind != kind:
            raise TypeError("a %s value has no such field" % self.kind)

    # -- equality -------------------------------------------------------

    def _key(self):
        if self.kind == NUMBER:
            # -0.0 and 0.0 are different constants; NaN equals itself here.
            f = self.data
            return (NUMBER, "nan" if math.isnan(f) else (f, math.copysign(1.0, f)))
        if self.kind in (TUPLE, ARRAY):
            return (self.kind, tuple(v._key() for v in self.data))
        if self.kind == OBJECT:
            props, tname, proto = self.data
            return (OBJECT, tuple(p._key() for p in props), tname,
                    proto._key() if proto is not None else None)
        if self.kind == COMPLEX:
            return (COMPLEX, tuple("nan" if math.isnan(f) else (f, math.copysign(1.0, f))
                                   for f in self.data))
        return (self.kind, self.data)

    def __eq__(self, other):
        return isinstance(other, Value) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        if self.kind == NIL:
            return "Value.nil()"
        if self.kind == COMPLEX:
            return "Value.complex(%r, %r)" % self.data
        if self.kind in (TUPLE, ARRAY):
            return "Value.%s([%s])" % (self.kind, ", ".join(map(repr, self.data)))
        if self.kind == OBJECT:
            return "Value.object(%r, type_name=%r, prototype=%r)" % self.data
        if self.kind in (FUNCTION, CLOSURE):
            cls, name = self.data
            return "Value.%s(%r%s)" % (self.kind, name, ", class_name=%r" % cls if cls else "")
        return "Value.%s(%r)" % (self.kind, self.data)
