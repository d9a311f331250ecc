#!/usr/bin/env python3
"""Finds circles in the import graph of each crate's source files.

    .ci/module-cycles.py [crates/]

A node is a source file (`a.rs`, `a/b.rs`; its `#[cfg(test)] mod tests` left out); an edge `x -> y` means code in `x` names an
item that lives in `y` (`use crate::a::b::Item`, `super::Item`, `crate::a::f(...)` in
code or macros). Re-exports are followed to the file that defines the item, and the
re-export lines themselves (`pub use`, `pub(crate) use`, `mod`) are not edges: a parent
that only gathers its children's items does not depend on them. Nor is a child's use of
its parent's (or any ancestor's) items: a module and the files below it are one unit,
so the circles found are between siblings and across the tree. Prints every circle
and exits 1 if there is one, else prints the number of files and edges and exits 0.
"""

import re
import sys
from pathlib import Path

PATH = re.compile(r"\b(\$?crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*|::\{)+)")
REEXPORT = re.compile(r"^\s*pub(?:\([a-z]+\))?\s+use\s+(.*?);", re.S | re.M)
COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


class Module:
    def __init__(self, path, file):
        self.path = path  # tuple of segments; () is the crate root
        self.file = file
        self.children = {}
        self.text = ""
        self.reexports = {}  # name -> full path (tuple) it re-exports


def strip(text):
    """The text without comments, string contents and `#[cfg(test)] mod ... { }` blocks
    (a module's unit tests may use test helpers; they are not part of its design)."""
    text = STRING.sub('""', COMMENT.sub("", text))
    while True:
        m = re.search(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text)
        if not m:
            return text
        depth, i = 0, m.end() - 1
        while i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                break
            i += 1
        text = text[: m.start()] + text[i + 1 :]


def expand(tail, text, start):
    """The paths of `crate::a::{b, c::{d}}` from the `::...` tail found at `start`."""
    # Find the full use-tree: from the match, read segments and a balanced brace group.
    i = start
    prefix = []
    while True:
        m = re.match(r"::([A-Za-z_][A-Za-z0-9_]*)", text[i:])
        if m:
            prefix.append(m.group(1))
            i += m.end()
            continue
        if text.startswith("::{", i):
            depth, j = 0, i + 2
            while j < len(text):
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            inner = text[i + 3 : j]
            out = []
            for part in split_top(inner):
                part = part.strip()
                if not part:
                    continue
                part = re.sub(r"\s+as\s+\w+$", "", part)
                if part == "self":
                    out.append(tuple(prefix))
                    continue
                sub = expand(None, "::" + part, 0) if part != "*" else [tuple()]
                out.extend(tuple(prefix) + s for s in sub)
            return out
        return [tuple(prefix)]


def split_top(text):
    depth, current, parts = 0, "", []
    for c in text:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += c
    parts.append(current)
    return parts


def load(src):
    root_file = src / "lib.rs" if (src / "lib.rs").exists() else src / "main.rs"
    root = Module((), root_file)
    modules = {(): root}
    for file in sorted(src.rglob("*.rs")):
        rel = file.relative_to(src)
        if rel.name in ("lib.rs", "main.rs") and len(rel.parts) == 1:
            continue
        parts = rel.with_suffix("").parts
        if parts[-1] == "mod":
            parts = parts[:-1]
        modules[tuple(parts)] = Module(tuple(parts), file)
    for path, module in modules.items():
        module.text = strip(module.file.read_text())
        if path:
            modules[path[:-1]].children[path[-1]] = module
    # Inline modules (`mod tests { ... }`) stay part of their file.
    for module in modules.values():
        for m in REEXPORT.finditer(module.text):
            tree = m.group(1).strip()
            base = module.path
            if tree.startswith("crate::"):
                base, tree = (), tree[len("crate") :]
            elif tree.startswith("super::"):
                base, tree = module.path[:-1], tree[len("super") :]
            elif tree.startswith("self::"):
                tree = tree[len("self") :]
            else:
                tree = "::" + tree
            for path in expand(None, tree, 0):
                if path:
                    module.reexports[path[-1]] = base + path
    return modules


def resolve(modules, path, seen=()):
    """The module (file) that defines the item at `path`."""
    node = modules[()]
    for i, segment in enumerate(path):
        if segment in node.children:
            node = node.children[segment]
            continue
        target = node.reexports.get(segment)
        if target and target not in seen and target != path:
            return resolve(modules, target + path[i + 1 :], seen + (path,))
        return node
    return node


def edges(modules):
    graph = {module.file: set() for module in modules.values()}
    for module in modules.values():
        text = REEXPORT.sub("", module.text)
        text = re.sub(r"^\s*(pub(\([a-z]+\))?\s+)?mod\s+\w+\s*;", "", text, flags=re.M)
        starts = []
        for m in PATH.finditer(text):
            starts.append((m.group(1).lstrip("$"), m.start(2)))
        # Relative paths to child modules: `use model::Task;`.
        for m in re.finditer(r"\buse\s+([a-z_][a-z0-9_]*)(::)", text):
            if m.group(1) in module.children:
                starts.append(("child:" + m.group(1), m.start(2)))
        for kind, start in starts:
            if kind == "crate":
                base = ()
            elif kind == "super":
                base = module.path[:-1]
            elif kind == "self":
                base = module.path
            else:
                base = module.path + (kind.split(":", 1)[1],)
            for tail in expand(None, text, start):
                # `super::super::x`
                full = list(base)
                rest = list(tail)
                while rest and rest[0] == "super":
                    full = full[:-1]
                    rest = rest[1:]
                target = resolve(modules, tuple(full) + tuple(rest))
                # A child using its parent's items is part of the parent: not an edge.
                if target.path != module.path[: len(target.path)]:
                    graph[module.file].add(target.file)
    return graph


def cycles(graph):
    """Every elementary circle, found by a depth-first search from each node (small graphs)."""
    found = set()
    order = sorted(graph)

    def visit(start, node, trail, on_trail):
        for nxt in sorted(graph[node]):
            if nxt == start:
                circle = trail + [start]
                i = circle.index(min(circle[:-1]))
                found.add(tuple(circle[i:-1] + circle[:i] + [circle[i]]))
            elif nxt not in on_trail and order.index(nxt) > order.index(start):
                visit(start, nxt, trail + [nxt], on_trail | {nxt})

    for start in order:
        visit(start, start, [start], {start})
    return sorted(found)


def main():
    top = Path(sys.argv[1] if len(sys.argv) > 1 else "crates")
    total_files = total_edges = 0
    circles = []
    for src in sorted(top.glob("*/src")):
        modules = load(src)
        graph = edges(modules)
        total_files += len(graph)
        total_edges += sum(len(v) for v in graph.values())
        for circle in cycles(graph):
            circles.append(" -> ".join(str(p.relative_to(top)) for p in circle))
    for circle in circles:
        print("circle:", circle)
    if circles:
        print(f"{len(circles)} circle(s) in the import graph")
        return 1
    print(f"no circle in the import graph of {total_files} files ({total_edges} edges)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
