"""IonPack writing (docs/ionpack.md, version 1).

An IonPack is a zip archive: META-INF/MANIFEST.ion, classes/<Class>.ionc
for every class, and optional lib/, resources/ and src/ files. The builder
links the pack before writing it (every function reference names a function
that exists, closures only of functions of the same class, the entry point
exists with arity 0 or 1), so a pack it writes loads in the VM.
"""

import io
import posixpath
import zipfile

from .encoder import EncodeError, encode_class, iter_constants
from .function import Function, UPVAL_REGISTER
from .opcodes import FORMAT_MAJOR, FORMAT_MINOR

MANIFEST_PATH = "META-INF/MANIFEST.ion"
MANIFEST_VERSION = "1"
MAX_ENTRIES = 4096
# Fixed timestamp so the same program always gives the same bytes.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class BuildError(EncodeError):
    """The pack cannot be built: missing manifest field, unknown function..."""


def _check_entry_name(path):
    if not isinstance(path, str) or not path or path.startswith("/") or "\\" in path or \
            ".." in path.split("/") or path.endswith("/"):
        raise BuildError("bad file name in pack: %r" % (path,))
    return path


def _check_manifest_value(key, value):
    if not isinstance(value, str):
        raise TypeError("%s must be a str" % key)
    if "\n" in value or "\r" in value or value != value.strip(" \t"):
        raise BuildError("%s %r: one line, no leading or trailing blanks" % (key, value))
    return value


class IonPackBuilder:
    """Collects classes and files, then writes an IonPack."""

    def __init__(self, name, version, description=None):
        self.name = _check_manifest_value("name", name)
        if not 1 <= len(name.encode("utf-8")) <= 255:
            raise BuildError("package name must be 1..255 bytes")
        self.version = _check_manifest_value("version", version)
        if not version:
            raise BuildError("package version must not be empty")
        self._description = None
        if description is not None:
            self.description(description)
        self.classes = {}        # class name -> [Function], in insertion order
        self.files = {}          # entry path -> bytes (lib/, resources/, src/)
        self._main_class = None
        self._entry_point = None

    # -- contents -------------------------------------------------------

    def add_class(self, name, *functions):
        """add_class(name, fn, fn2, ...) or add_class(name, [fn, fn2, ...]).
        Adding to an existing class appends functions to it."""
        if len(functions) == 1 and isinstance(functions[0], (list, tuple)):
            functions = tuple(functions[0])
        if not isinstance(name, str) or not name or "/" in name or "\\" in name or \
                len(name.encode("utf-8")) > 255 or name in (".", ".."):
            raise BuildError("bad class name %r" % (name,))
        for fn in functions:
            if not isinstance(fn, Function):
                raise TypeError("add_class takes Function objects, not %s" % type(fn).__name__)
        self.classes.setdefault(name, []).extend(functions)
        return self

    def add_function(self, class_name, fn):
        return self.add_class(class_name, fn)

    def _add_file(self, folder, path, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError("file contents must be bytes or str")
        if not isinstance(path, str) or path.startswith("/"):
            raise BuildError("bad file name in pack: %r" % (path,))
        full = _check_entry_name(folder + "/" + path)
        self.files[full] = bytes(data)
        return self

    def add_resource(self, path, data):
        return self._add_file("resources", path, data)

    def add_lib(self, path, data):
        return self._add_file("lib", path, data)

    def add_source(self, path, data):
        return self._add_file("src", path, data)

    # -- manifest -------------------------------------------------------

    def main_class(self, name):
        self._main_class = _check_manifest_value("main-class", name)
        return self

    def entry_point(self, name):
        self._entry_point = _check_manifest_value("entry-point", name)
        return self

    def description(self, text):
        self._description = _check_manifest_value("description", text)
        return self

    def manifest(self):
        """The text of META-INF/MANIFEST.ion."""
        if self._main_class is None:
            raise BuildError("no main class: call main_class(name)")
        if self._entry_point is None:
            raise BuildError("no entry point: call entry_point(name)")
        lines = [
            ("manifest-version", MANIFEST_VERSION),
            ("name", self.name),
            ("version", self.version),
            ("main-class", self._main_class),
            ("entry-point", self._entry_point),
            ("format-version", "%d.%d" % (FORMAT_MAJOR, FORMAT_MINOR)),
        ]
        if self._description is not None:
            lines.append(("description", self._description))
        return "".join("%s: %s\n" % kv for kv in lines)

    # -- linking --------------------------------------------------------

    def _function(self, class_name, name):
        for fn in self.classes.get(class_name, ()):
            if fn.name == name:
                return fn
        return None

    def link_check(self, for_call=False):
        """Raise BuildError if the VM's linker would reject the pack. With
        for_call the entry point may take any number of arguments: `arcvm
        call` passes them (ionvm passes 0, or 1: the command line)."""
        manifest = self.manifest()
        if not self.classes:
            raise BuildError("the pack has no classes")
        entry = self._function(self._main_class, self._entry_point)
        if entry is None:
            raise BuildError("entry point %s.%s does not exist"
                             % (self._main_class, self._entry_point))
        if (entry.arity > 1 and not for_call) or entry.upvalues:
            raise BuildError("entry point %s.%s must have arity 0 or 1 and no upvalues"
                             % (self._main_class, self._entry_point))
        for cname, fns in self.classes.items():
            for fn in fns:
                self._check_refs(cname, fn)
        return manifest

    def _check_refs(self, cname, fn):
        where = "%s.%s" % (cname, fn.name)
        for op, v, direct in iter_constants(fn):
            if v.kind not in ("function", "closure"):
                continue
            target_class = v.data[0] or cname
            target = self._function(target_class, v.data[1])
            if target is None:
                raise BuildError("%s refers to unknown function %s.%s"
                                 % (where, target_class, v.data[1]))
            if op == "closure":
                for kind, index in target.upvalues:
                    limit = fn.register_count if kind == UPVAL_REGISTER else len(fn.upvalues)
                    if index >= limit:
                        raise BuildError("%s: closure of %s captures %s %d, out of range"
                                         % (where, target.name,
                                            "register" if kind == UPVAL_REGISTER else "upvalue",
                                            index))
            elif target.upvalues:
                raise BuildError("%s: %s has upvalues; make it with Instruction.closure"
                                 % (where, target.name))

    # -- output ---------------------------------------------------------

    def class_bytes(self):
        """{class name: .ionc bytes} for every class."""
        return {name: encode_class(name, fns) for name, fns in self.classes.items()}

    def build(self, out, for_call=False):
        """Write the pack to out: a binary file object or a path. for_call:
        a pack for `arcvm call`, whose entry point may take any number of
        arguments (see link_check)."""
        manifest = self.link_check(for_call)
        classes = self.class_bytes()
        entries = [(MANIFEST_PATH, manifest.encode("utf-8"))]
        entries += [("classes/%s.ionc" % name, data) for name, data in classes.items()]
        entries += sorted(self.files.items())
        if len(entries) > MAX_ENTRIES:
            raise BuildError("a pack holds at most %d entries" % MAX_ENTRIES)
        if isinstance(out, (str, bytes)) or hasattr(out, "__fspath__"):
            with open(out, "wb") as f:
                self._write_zip(f, entries)
        else:
            self._write_zip(out, entries)

    def to_bytes(self):
        """The pack as bytes."""
        buf = io.BytesIO()
        self.build(buf)
        return buf.getvalue()

    @staticmethod
    def _write_zip(f, entries):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for path, data in entries:
                info = zipfile.ZipInfo(posixpath.normpath(path), ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                z.writestr(info, data)
