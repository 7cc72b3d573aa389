#!/usr/bin/python3
"""Print the load order of kernel modules and everything they depend on.

Reads depmod's output (modules.dep, modules.softdep, modules.alias,
modules.builtin) under MODDIR (the folder that holds modules.dep) and prints
one path per line, relative to MODDIR, dependencies first, each module once.
The result can be fed to busybox `insmod` in order, which resolves nothing by
itself. A name may be a module name ('-' and '_' are the same) or an exact
alias such as crypto-crc32c; 'pre:' soft dependencies are followed. Modules
built into the kernel are skipped (told on stderr).

Usage: modorder.py MODDIR NAME...
Exits 1 naming the module when a name is neither a module, an alias nor
built in.
"""
import os
import sys


def norm(name):
    return name.replace("-", "_")


def modname(path):
    base = os.path.basename(path)
    for ext in (".ko.xz", ".ko.zst", ".ko.gz", ".ko"):
        if base.endswith(ext):
            base = base[:-len(ext)]
    return norm(base)


class ModIndex:
    def __init__(self, moddir):
        self.path = {}      # name -> path relative to moddir
        self.deps = {}      # name -> [dep path, ...] as depmod lists them
        self.soft = {}      # name -> [pre: name or alias, ...]
        self.alias = {}     # exact alias -> [name, ...]
        self.builtin = set()
        with open(os.path.join(moddir, "modules.dep")) as f:
            for line in f:
                mod, _, deps = line.partition(":")
                name = modname(mod)
                self.path[name] = mod.strip()
                self.deps[name] = deps.split()
        self._read_soft(os.path.join(moddir, "modules.softdep"))
        self._read_alias(os.path.join(moddir, "modules.alias"))
        try:
            with open(os.path.join(moddir, "modules.builtin")) as f:
                self.builtin = {modname(l.strip()) for l in f if l.strip()}
        except FileNotFoundError:
            pass

    def _read_soft(self, fn):
        try:
            f = open(fn)
        except FileNotFoundError:
            return
        with f:
            for line in f:
                words = line.split()
                if len(words) < 3 or words[0] != "softdep":
                    continue
                pre = []
                mode = None
                for w in words[2:]:
                    if w in ("pre:", "post:"):
                        mode = w
                    elif mode == "pre:":
                        pre.append(w)
                self.soft.setdefault(norm(words[1]), []).extend(pre)

    def _read_alias(self, fn):
        try:
            f = open(fn)
        except FileNotFoundError:
            return
        with f:
            for line in f:
                words = line.split()
                if len(words) == 3 and words[0] == "alias":
                    self.alias.setdefault(words[1], []).append(norm(words[2]))

    def resolve(self, name):
        """Module names a name stands for; [] when built in; None if unknown."""
        n = norm(name)
        if n in self.path:
            return [n]
        if n in self.builtin:
            return []
        if name in self.alias:
            return [m for m in self.alias[name] if m in self.path]
        return None


def order(index, names):
    out, seen = [], set()

    def add(name, optional):
        mods = index.resolve(name)
        if mods is None:
            if optional:
                return
            sys.stderr.write("modorder: no module or alias named %s\n" % name)
            sys.exit(1)
        if not mods:
            sys.stderr.write("modorder: %s is built into the kernel\n" % name)
        for m in mods:
            if m in seen:
                continue
            seen.add(m)
            for s in index.soft.get(m, []):
                add(s, True)
            # depmod lists the dependencies so that loading them from last
            # to first satisfies each one's own needs; modprobe does the same.
            for dep in reversed(index.deps[m]):
                add(modname(dep), False)
            out.append(index.path[m])

    for n in names:
        add(n, False)
    return out


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: modorder.py MODDIR NAME...\n")
        sys.exit(2)
    index = ModIndex(sys.argv[1])
    for p in order(index, sys.argv[2:]):
        print(p)


if __name__ == "__main__":
    main()
