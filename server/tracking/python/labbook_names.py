"""Names each code cell of a notebook defines and uses, read statically with this interpreter's ast.

    python labbook_names.py NOTEBOOK.ipynb      (or - to read the notebook JSON from stdin)
prints one JSON object: {"cells": [{"index": i, "defines": [...], "uses": [...], "error": str|null}]}
("uses" = names read before the cell itself assigns them; builtins left out). IPython magics and
shell lines are blanked first so the rest still parses.
"""
import ast
import builtins
import json
import sys

BUILTINS = set(dir(builtins)) | {"__name__", "__file__", "display", "get_ipython", "In", "Out", "_", "__", "___"}


def strip_magics(source):
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append("" if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


class Names(ast.NodeVisitor):
    """Module-level view: what the cell binds, and what it reads that it had not bound yet."""

    def __init__(self):
        self.defines = []
        self.uses = []
        self._bound = set()
        self._scopes = []  # names local to enclosing functions/comprehensions

    def _bind(self, name):
        if self._scopes:
            self._scopes[-1].add(name)
            return
        if name not in self._bound:
            self._bound.add(name)
            self.defines.append(name)

    def _use(self, name):
        if any(name in s for s in self._scopes) or name in self._bound or name in BUILTINS:
            return
        if name not in self.uses:
            self.uses.append(name)

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            self._use(node.id)
        else:
            self._bind(node.id)

    def visit_Import(self, node):
        for a in node.names:
            self._bind((a.asname or a.name).split(".")[0])

    visit_ImportFrom = visit_Import

    def _function(self, node):
        for d in getattr(node, "decorator_list", []):
            self.visit(d)
        self._bind(node.name)
        local = {a.arg for a in node.args.args + node.args.kwonlyargs + node.args.posonlyargs}
        for extra in (node.args.vararg, node.args.kwarg):
            if extra:
                local.add(extra.arg)
        # Names assigned anywhere in the body are local to it (Python's own rule).
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and not isinstance(sub.ctx, ast.Load):
                local.add(sub.id)
        self._scopes.append(local)
        for stmt in node.body:
            self.visit(stmt)
        self._scopes.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_Lambda(self, node):
        self._scopes.append({a.arg for a in node.args.args})
        self.visit(node.body)
        self._scopes.pop()

    def visit_ClassDef(self, node):
        for b in node.bases:
            self.visit(b)
        self._bind(node.name)
        self._scopes.append(set())
        for stmt in node.body:
            self.visit(stmt)
        self._scopes.pop()

    def _comprehension(self, node):
        self._scopes.append(set())
        for gen in node.generators:
            self.visit(gen.iter)
            self.visit(gen.target)
            for cond in gen.ifs:
                self.visit(cond)
        for part in ("elt", "key", "value"):
            if hasattr(node, part):
                self.visit(getattr(node, part))
        self._scopes.pop()

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def visit_Assign(self, node):
        self.visit(node.value)  # the right side is read before the targets are bound
        for t in node.targets:
            self.visit(t)

    def visit_AugAssign(self, node):
        if isinstance(node.target, ast.Name):
            self._use(node.target.id)
        self.visit(node.value)
        self.visit(node.target)


def main():
    if sys.argv[1] == "-":
        nb = json.load(sys.stdin)
    else:
        with open(sys.argv[1], encoding="utf-8") as f:
            nb = json.load(f)
    out = []
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        entry = {"index": index, "defines": [], "uses": [], "error": None}
        try:
            names = Names()
            names.visit(ast.parse(strip_magics(source)))
            entry["defines"], entry["uses"] = names.defines, names.uses
        except SyntaxError as e:
            entry["error"] = f"syntax error on line {e.lineno}: {e.msg}"
        out.append(entry)
    json.dump({"cells": out}, sys.stdout)


if __name__ == "__main__":
    main()
