"""Static analysis of a notebook for `labbook extract`, with this interpreter's own ast/symtable.

    python labbook_extract.py [--cwd DIR] < cells.json

stdin: {"cells": [{"index": i, "id": str|null, "cell_type": "code"|..., "source": str, "tags": [...]}]}
stdout: one JSON object (see `analyze`). Nothing here runs notebook code; the only import of user
code is resolving `from MODULE import *` to the names the notebook uses, by importing MODULE
(with --cwd on sys.path, as the notebook's kernel would have it).

Per code cell it gives the cell's top-level code rewritten for a step function (magics
translated, imports and function/class definitions taken out, display-only expressions dropped,
hyper-parameter literals replaced by params["key"]) and what that code defines, reads and
mutates. Definitions go to common.py; functions that read notebook globals get them through
`_common.set_globals(...)`, inserted before each statement that calls them.
"""
import argparse
import ast
import builtins
import importlib
import json
import keyword
import os
import re
import symtable
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labbook_names import Names  # noqa: E402

BUILTINS = set(dir(builtins)) | {"__name__", "__file__", "display", "get_ipython", "In", "Out"}

# Keyword arguments that are hyper-parameters wherever they appear.
HYPER = {
    "n_estimators", "max_depth", "min_samples_split", "min_samples_leaf", "max_features", "max_leaf_nodes",
    "test_size", "train_size", "random_state", "seed", "lr", "learning_rate", "epochs", "n_epochs", "num_epochs",
    "batch_size", "C", "alpha", "l1_ratio", "gamma", "n_neighbors", "max_iter", "n_splits", "n_components",
    "n_clusters", "degree", "tol", "subsample", "colsample_bytree", "num_leaves", "dropout", "momentum",
    "weight_decay", "hidden_size", "kernel", "solver", "criterion", "penalty", "activation", "optimizer",
    "loss", "early_stopping", "validation_fraction", "n_iter", "cv", "k", "eta", "min_child_weight",
    "reg_alpha", "reg_lambda", "var_smoothing", "shuffle", "steps_per_epoch", "patience", "bins", "threshold",
}
STRING_HYPER = {"kernel", "solver", "criterion", "penalty", "activation", "optimizer", "loss"}
# Keywords never lifted even on an estimator: they change how it runs, not what it learns.
NOT_HYPER = {"verbose", "n_jobs", "copy", "axis", "inplace", "index", "ignore_index", "sep", "encoding", "dtype", "figsize", "color", "label", "title"}
ML_PACKAGES = ("sklearn", "xgboost", "lightgbm", "catboost", "torch", "tensorflow", "keras", "statsmodels", "scipy.stats")
FIT_METHODS = {"fit", "train", "compile", "fit_transform", "fit_predict", "partial_fit"}

# Methods that return a new value and leave their object alone (unless given inplace=True).
PURE = {
    "copy", "head", "tail", "describe", "mean", "median", "sum", "std", "var", "min", "max", "count", "nunique",
    "unique", "value_counts", "groupby", "agg", "aggregate", "merge", "join", "predict", "predict_proba",
    "decision_function", "transform", "score", "get_params", "astype", "apply", "map", "applymap", "reset_index",
    "drop", "dropna", "fillna", "sort_values", "sort_index", "isnull", "isna", "notnull", "notna", "to_numpy",
    "reshape", "items", "keys", "values", "get", "format", "split", "strip", "replace", "corr", "round", "query",
    "select_dtypes", "rename", "set_index", "pivot_table", "melt", "nlargest", "nsmallest", "idxmax", "idxmin",
    "argmax", "argmin", "ravel", "flatten", "tolist", "to_dict", "to_list", "lower", "upper", "startswith",
    "endswith", "any", "all", "cumsum", "shift", "diff", "rolling", "resample", "clip", "abs", "isin", "between",
    "quantile", "mode", "duplicated", "drop_duplicates", "sample_weight", "dot", "nonzero", "where", "mask",
    "corrwith", "pct_change", "info", "memory_usage", "explode", "crosstab", "cut", "qcut", "concat", "stack",
    "unstack", "T", "transpose", "encode", "decode", "count_nonzero", "score_samples", "get_feature_names_out",
}
# Expression statements kept although their value is dropped: they print or they write.
PRINTING = {"print", "info", "savefig", "to_csv", "to_parquet", "to_json", "to_excel", "to_pickle", "save", "dump", "write"}
READERS = {"read_csv", "read_parquet", "read_json", "read_excel", "read_table", "read_pickle", "read_feather", "loadtxt", "genfromtxt", "load", "imread"}
WRITERS = {"to_csv", "to_parquet", "to_json", "to_excel", "to_pickle", "to_feather", "savefig", "save", "savez", "savez_compressed", "savetxt", "imsave"}
DROP_LINE_MAGICS = {"matplotlib", "config", "load_ext", "reload_ext", "autoreload", "aimport", "pylab", "precision", "who", "whos", "pwd", "ls", "history", "reset", "xmode", "pdb", "debug", "store", "lsmagic", "magic", "pinfo", "load"}
DROP_CELL_MAGICS = {"html", "HTML", "javascript", "js", "latex", "markdown", "svg", "bash", "sh", "script", "system", "perl", "ruby"}


def text_of(source):
    return "".join(source) if isinstance(source, list) else (source or "")


def pip_requirements(command):
    """Package specs named by a `pip install …` command line."""
    words = command.split()
    if "install" not in words:
        return []
    out, skip = [], False
    for w in words[words.index("install") + 1:]:
        if skip:
            skip = False
            continue
        if w in ("-r", "-c", "-e", "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-t", "--target"):
            skip = True
            continue
        if w.startswith("-") or w.startswith("$") or w.startswith("{"):
            continue
        out.append(w.strip("'\""))
    return out


def translate_magics(source):
    """IPython syntax to plain Python, line numbers kept. Returns (code, notes, requirements)."""
    notes, reqs = [], []
    lines = source.split("\n")
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        parts = first[2:].split()
        magic = parts[0] if parts else ""
        if magic in ("time", "capture", "timeit", "prun"):
            lines[0] = ""
            notes.append("%%%%%s unwrapped" % magic + (" (the body runs once)" if magic == "timeit" else ""))
        elif magic == "writefile" and len(parts) >= 2:
            mode = "a" if "-a" in parts[1:] else "w"
            target = [p for p in parts[1:] if not p.startswith("-")][-1]
            body = "\n".join(lines[1:])
            if not body.endswith("\n"):
                body += "\n"
            notes.append("%%%%writefile %s translated to open(...).write" % target)
            said = "Appending to" if mode == "a" else None
            message = repr(said) if said else "'Overwriting' if __import__('os').path.exists(%r) else 'Writing'" % target
            return "print(%s, %r)\nwith open(%r, %r) as _f:\n    _f.write(%r)\n" % (message, target, target, mode, body), notes, reqs
        else:
            if magic in ("bash", "sh", "script", "system"):
                for line in lines[1:]:
                    reqs.extend(pip_requirements(line))
            notes.append("%%%%%s cell dropped (not Python)" % magic)
            return "", notes, reqs
    out = []
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        blank = indent + "pass" if indent else ""
        m_assign = re.match(r"^([A-Za-z_][\w, ]*)\s*=\s*([!%].*)$", stripped)
        if stripped.startswith("!") or stripped.startswith(("%pip", "%conda")) or (m_assign and m_assign.group(2).startswith("!")):
            command = stripped[1:] if stripped.startswith("!") else stripped.split(None, 1)[1] if " " in stripped else ""
            if stripped.startswith(("%pip", "%conda")):
                command = "pip " + command
            found = pip_requirements(command)
            if found:
                reqs.extend(found)
                notes.append("'%s' moved to requirements.txt" % stripped)
            else:
                notes.append("shell line '%s' dropped" % stripped)
            out.append(blank)
        elif stripped.startswith("%%"):
            notes.append("'%s' dropped (a cell magic inside a cell)" % stripped)
            out.append(blank)
        elif stripped.startswith("%"):
            name, _, rest = stripped[1:].partition(" ")
            if name == "time":
                out.append(indent + rest.strip())
                notes.append("%time unwrapped")
            elif name == "timeit":
                notes.append("'%s' dropped (a benchmark)" % stripped)
                out.append(blank)
            elif name == "env" and "=" in rest:
                key, _, value = rest.strip().partition("=")
                out.append(indent + "__import__('os').environ[%r] = %r; print(%r)" % (key.strip(), value.strip(), "env: %s=%s" % (key.strip(), value.strip())))
                notes.append("%%env %s translated to os.environ" % key.strip())
            else:
                if name in DROP_LINE_MAGICS:
                    notes.append("%%%s dropped" % name)
                else:
                    notes.append("'%s' dropped: the pipeline cannot run IPython magics" % stripped)
                out.append(blank)
        elif m_assign and m_assign.group(2).startswith("%"):
            notes.append("'%s' dropped: the pipeline cannot run IPython magics" % stripped)
            out.append(blank)
        elif re.match(r"^(\?\??[\w.]+|[\w.]+\?\??)\s*$", stripped):
            notes.append("help request '%s' dropped" % stripped)
            out.append(blank)
        elif re.match(r"^get_ipython\(\)\.", stripped):
            notes.append("'%s' dropped" % stripped)
            out.append(blank)
        else:
            out.append(line)
    return "\n".join(out), notes, reqs


def root_name(node):
    """`df` for df.a.b(…)[…]: the Name at the root of an attribute/subscript/call chain."""
    while True:
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Name):
            return node.id
        else:
            return None


def call_name(call):
    f = call.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return None


def literal_value(node):
    """The value of a scalar literal (numbers, -numbers, bools, strings), else a marker."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)) and not isinstance(node.value, bytes):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) and isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    return NotImplemented


def display_only(expr):
    """An expression statement whose only effect is the value Jupyter would display."""
    for node in ast.walk(expr):
        if isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
            return False
        if isinstance(node, ast.Call):
            name = call_name(node)
            if name == "display":
                continue
            if name in PRINTING or name not in PURE and name not in ("len", "type", "repr", "str", "sorted", "list", "dict", "set", "tuple", "round", "abs", "min", "max", "sum", "int", "float", "isinstance", "zip", "range", "enumerate"):
                return False
            if any(k.arg == "inplace" for k in node.keywords):
                return False
    return True


SETTINGS = {"set_option", "set_printoptions", "filterwarnings", "simplefilter", "set_style", "set_theme", "set_context", "set_palette", "use", "rc"}


def is_setting(stmt, imports):
    """Process-wide settings (display options, warning filters, plot styles): every step needs them."""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        name = call_name(stmt.value)
        root = root_name(stmt.value.func)
        if name in SETTINGS and root in imports and isinstance(stmt.value.func, ast.Attribute):
            return not (name == "use" and "style" not in ast.unparse(stmt.value.func))
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Subscript):
        target = ast.unparse(stmt.targets[0].value)
        return target.endswith(("rcParams", "pd.options.display", ".environ"))
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Attribute):
        return ast.unparse(stmt.targets[0]).startswith(("pd.options.", "pd.set_option"))
    return False


def string_lines(body):
    """1-based lines of `body` that continue a multi-line string: indenting them would change it."""
    import io
    import tokenize
    out = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(body).readline):
            if tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
                out.update(range(tok.start[0] + 1, tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        pass
    return sorted(out)


def is_import_block(stmt):
    """`try: import x / except ImportError: …` or `if …: import y` at the top of a cell."""
    return isinstance(stmt, (ast.Try, ast.If)) and any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(stmt))


def is_lambda_definition(stmt):
    """`f = lambda …` at the top of a cell: a function like any other (and lambdas do not pickle)."""
    return isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) and isinstance(stmt.value, ast.Lambda)


def deleted_and_aliases(tree):
    """Names `del`eted at the top level, and `a = b` assignments (a becomes another name for b's object)."""
    deleted, aliases = [], []
    for stmt in tree.body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Delete):
                deleted.extend(t.id for t in node.targets if isinstance(t, ast.Name))
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Name):
            aliases.extend([t.id, stmt.value.id] for t in stmt.targets if isinstance(t, ast.Name))
    return deleted, aliases


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class CellNames(Names):
    """Names, keeping names bound by imports inside the code apart from data."""

    def __init__(self):
        super().__init__()
        self.imported = set()

    def _use(self, name):
        # Builtins are kept: a notebook that rebinds one (id = …, sum = …) passes it between steps.
        if any(name in s for s in self._scopes) or name in self._bound:
            return
        if name not in self.uses:
            self.uses.append(name)

    def visit_Import(self, node):
        for a in node.names:
            if a.name != "*":
                self.imported.add((a.asname or a.name).split(".")[0])
        super().visit_Import(node)

    visit_ImportFrom = visit_Import

    def visit_Delete(self, node):
        # `del x` needs x to exist: a read, not a definition.
        for t in node.targets:
            if isinstance(t, ast.Name):
                self._use(t.id)
            else:
                self.visit(t)


def mutations(tree, defs):
    """Module-level names the code may change in place: item/attribute assignment, `del x[…]`,
    method calls that are not known to be pure (or say inplace=True), and arguments passed to
    the notebook's own functions."""
    out = []

    def add(name):
        if name and name not in out:
            out.append(name)

    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for t in targets:
                for el in (t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t]):
                    if isinstance(el, (ast.Subscript, ast.Attribute)):
                        add(root_name(el))
        elif isinstance(node, ast.Call):
            f = node.func
            inplace = any(k.arg == "inplace" and not (isinstance(k.value, ast.Constant) and k.value.value is False) for k in node.keywords)
            if isinstance(f, ast.Attribute) and (inplace or f.attr not in PURE):
                add(root_name(f.value))
            if isinstance(f, ast.Name) and f.id in defs:
                for a in list(node.args) + [k.value for k in node.keywords]:
                    if isinstance(a, ast.Name):
                        add(a.id)
    return out


def file_paths(tree):
    reads, writes = [], []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = call_name(node)
        args = list(node.args)
        strs = [a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        if name == "open" and strs:
            mode = args[1].value if len(args) > 1 and isinstance(args[1], ast.Constant) else (kw["mode"].value if "mode" in kw and isinstance(kw["mode"], ast.Constant) else "r")
            (writes if any(c in str(mode) for c in "wax+") else reads).append(strs[0])
        elif name in READERS and strs:
            reads.append(strs[0])
        elif name in WRITERS and strs:
            writes.append(strs[0])
        elif name == "dump" and len(args) >= 2 and isinstance(args[1], ast.Constant) and isinstance(args[1].value, str):
            writes.append(args[1].value)
    return reads, writes


class Edits:
    """Text edits on a cell's source addressed like ast does (1-based lines, UTF-8 byte columns)."""

    def __init__(self, code):
        if code and not code.endswith("\n"):
            code += "\n"  # so that a line can be inserted after the last statement
        self.lines = [l.encode("utf-8") for l in code.splitlines(keepends=True)]
        self.items = []

    def replace(self, node, text):
        self.items.append((node.lineno, node.col_offset, node.end_lineno, node.end_col_offset, text))

    def remove_statement(self, node, first_line=None):
        start = first_line or node.lineno
        before = self.lines[start - 1][: node.col_offset if first_line is None else 0]
        after = self.lines[node.end_lineno - 1][node.end_col_offset:]
        if before.strip() == b"" and (after.strip() == b"" or after.strip().startswith(b"#")):
            self.items.append((start, 0, node.end_lineno + 1, 0, ""))
        else:
            self.items.append((start, node.col_offset if first_line is None else 0, node.end_lineno, node.end_col_offset, "pass"))

    def insert_line(self, line_no, text):
        self.items.append((line_no, 0, line_no, 0, text + "\n"))

    def apply(self):
        lines = list(self.lines) + [b""]
        # Edits at one place land in the order they were made (insertions there stack up).
        order = sorted(range(len(self.items)), key=lambda i: (self.items[i][0], self.items[i][1], i), reverse=True)
        for (l1, c1, l2, c2, text) in (self.items[i] for i in order):
            head = lines[l1 - 1][:c1]
            tail = lines[l2 - 1][c2:] if l2 - 1 < len(lines) else b""
            lines[l1 - 1:l2] = [head + text.encode("utf-8") + tail]
        return b"".join(lines).decode("utf-8")


def definition_globals(source):
    """Module-level names a function/class definition refers to (symtable), and names it assigns
    with `global` (which set_globals cannot carry back)."""
    top = symtable.symtable(source, "<definition>", "exec")
    refs, assigned = set(), set()

    def walk(table):
        for sym in table.get_symbols():
            if sym.is_global() and sym.is_referenced():
                refs.add(sym.get_name())
            if sym.is_declared_global() and sym.is_assigned():
                assigned.add(sym.get_name())
                refs.add(sym.get_name())  # `global n; n += 1` reads n too, though symtable says only "assigned"
        for child in table.get_children():
            walk(child)

    for sym in top.get_symbols():
        if sym.is_referenced():
            refs.add(sym.get_name())
    for child in top.get_children():
        walk(child)
    return refs, assigned


def star_names(module, cwd):
    if cwd and cwd not in sys.path:
        sys.path.insert(0, cwd)
    mod = importlib.import_module(module)
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n in dir(mod) if not n.startswith("_")]
    return set(names)


def analyze(cells, cwd=None):
    errors, warnings, requirements = [], [], []
    imports = {}  # bound name -> import statement
    import_modules = {}  # bound name -> module it comes from
    defs = []  # {"name", "cell", "source"}
    stars = []  # (module, cell)
    blocks = []  # top-level try/if blocks that import: they go to common.py as they are
    parsed = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = text_of(cell.get("source"))
        code, notes, reqs = translate_magics(source)
        requirements.extend(r for r in reqs if r not in requirements)
        try:
            tree = ast.parse(code)
        except SyntaxError as e:
            errors.append({"cell": cell["index"], "message": "line %s: %s" % (e.lineno, e.msg)})
            continue
        parsed.append({"cell": cell, "code": code, "tree": tree, "notes": notes})
        for stmt in tree.body:
            if isinstance(stmt, ast.Import):
                for a in stmt.names:
                    bound = a.asname or a.name.split(".")[0]
                    imports[bound] = "import %s%s" % (a.name, " as " + a.asname if a.asname else "")
                    import_modules[bound] = a.name
            elif isinstance(stmt, ast.ImportFrom):
                if stmt.module == "__future__":
                    continue
                module = "." * stmt.level + (stmt.module or "")
                for a in stmt.names:
                    if a.name == "*":
                        stars.append((module, cell["index"]))
                        continue
                    bound = a.asname or a.name
                    imports[bound] = "from %s import %s%s" % (module, a.name, " as " + a.asname if a.asname else "")
                    import_modules[bound] = module
            elif is_import_block(stmt):
                names = CellNames()
                names.visit(stmt)
                bound = sorted(set(names.defines) | names.imported)
                blocks.append({"cell": cell["index"], "source": ast.get_source_segment(code, stmt) + "\n", "names": bound, "uses": names.uses})
            elif is_lambda_definition(stmt):
                name = stmt.targets[0].id
                defs[:] = [d for d in defs if d["name"] != name]
                defs.append({"name": name, "cell": cell["index"], "source": ast.get_source_segment(code, stmt) + "\n"})
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                first = min([d.lineno for d in stmt.decorator_list] + [stmt.lineno])
                seg_lines = code.split("\n")[first - 1: stmt.end_lineno]
                if any(d["name"] == stmt.name for d in defs):
                    warnings.append("cell %d redefines %s(); common.py keeps the last definition for every step" % (cell["index"], stmt.name))
                    defs[:] = [d for d in defs if d["name"] != stmt.name]
                defs.append({"name": stmt.name, "cell": cell["index"], "source": "\n".join(seg_lines).rstrip() + "\n"})
    if errors:
        return {"errors": errors}

    def_names = {d["name"] for d in defs} | {n for b in blocks for n in b["names"]}
    # Every name bound anywhere at module level, to tell star-imported names from the notebook's own.
    bound_anywhere = set(imports) | def_names
    for p in parsed:
        n = CellNames()
        n.visit(p["tree"])
        bound_anywhere.update(n.defines)
        p["free"] = set(n.uses)
    for d in defs:
        d["refs"], d["assigns"] = definition_globals(d["source"])
        d["refs"].discard(d["name"])

    # Star imports: the names the notebook uses that only the star could have brought.
    unresolved_free = set()
    for p in parsed:
        unresolved_free |= p["free"]
    for d in defs:
        unresolved_free |= d["refs"]
    unresolved_free -= bound_anywhere | BUILTINS
    kept_stars = []
    for module, cell_index in stars:
        try:
            available = star_names(module, cwd)
        except Exception as e:  # the module may fail to import for any reason of its own
            warnings.append("cell %d: 'from %s import *' kept as is: importing %s failed (%s: %s)" % (cell_index, module, module, type(e).__name__, e))
            kept_stars.append(module)
            continue
        used = sorted(unresolved_free & available)
        for name in used:
            imports.setdefault(name, "from %s import %s" % (module, name))
            import_modules.setdefault(name, module)
        unresolved_free -= set(used)
        warnings.append("cell %d: 'from %s import *' resolved to %s" % (cell_index, module, ", ".join(used) if used else "nothing used"))

    data_names = bound_anywhere - set(imports) - def_names
    params_name = "params" if "params" not in bound_anywhere and "params" not in unresolved_free else "labbook_params"

    # Data globals each definition reads, directly or through another definition.
    direct = {d["name"]: sorted(r for r in d["refs"] if r in data_names) for d in defs}
    calls = {d["name"]: [r for r in d["refs"] if r in def_names] for d in defs}
    closure = {k: set(v) for k, v in direct.items()}
    changed = True
    while changed:
        changed = False
        for name, callees in calls.items():
            for c in callees:
                if not closure[c] <= closure[name]:
                    closure[name] |= closure[c]
                    changed = True
    # Globals a function assigns (`global n`): the calling step reads them back after the call.
    global_writes = {d["name"]: set(g for g in d["assigns"] if g in data_names) for d in defs}
    changed = True
    while changed:
        changed = False
        for name, callees in calls.items():
            for c in callees:
                if not global_writes[c] <= global_writes[name]:
                    global_writes[name] |= global_writes[c]
                    changed = True
    common_globals = sorted(set().union(*closure.values(), *global_writes.values()) if closure else set())
    common_imports = []
    for d in defs:
        for r in sorted(d["refs"]):
            if r in imports and imports[r] not in common_imports:
                common_imports.append(imports[r])
    for b in blocks:
        for r in b["uses"]:
            if r in imports and imports[r] not in common_imports:
                common_imports.append(imports[r])
    if kept_stars:
        common_imports.extend("from %s import *" % m for m in kept_stars)

    # Parameters: the `parameters` cell's assignments, then hyper-parameter literals.
    params, keyed = {}, {}  # key -> value; (key, value) -> key for sharing equal values

    def param_key(base, value, owner):
        if (base, repr(value)) in keyed:
            return keyed[(base, repr(value))]
        key = base if base not in params else "%s_%s" % (snake(owner), base) if owner else base
        n = 2
        while key in params or keyword.iskeyword(key):
            key = "%s_%d" % (base, n)
            n += 1
        params[key] = value
        keyed[(base, repr(value))] = key
        return key

    generator_defs = set()
    for d in defs:
        try:
            if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in ast.walk(ast.parse(d["source"]))):
                generator_defs.add(d["name"])
        except SyntaxError:
            pass
    out_cells = []
    settings = []
    for p in parsed:
        cell, tree, code = p["cell"], p["tree"], p["code"]
        edits = Edits(code)
        notes = list(p["notes"])
        used_keys = []
        is_params_cell = "parameters" in (cell.get("tags") or [])
        kept = []
        for stmt in tree.body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                edits.remove_statement(stmt)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                first = min([d.lineno for d in stmt.decorator_list] + [stmt.lineno])
                edits.remove_statement(stmt, first_line=first if first != stmt.lineno else None)
            elif is_lambda_definition(stmt) or is_import_block(stmt):
                edits.remove_statement(stmt)
            elif is_setting(stmt, imports):
                edits.remove_statement(stmt)
                settings.append(ast.get_source_segment(code, stmt))
                notes.append("setting '%s' moved to common.settings(), applied before every step" % ast.unparse(stmt)[:60])
            elif isinstance(stmt, ast.Expr) and display_only(stmt.value):
                edits.remove_statement(stmt)
                notes.append("display-only expression '%s' dropped" % ast.unparse(stmt.value)[:60])
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute) and stmt.value.func.attr == "show" and root_name(stmt.value.func) in ("plt", "pyplot", "fig"):
                edits.remove_statement(stmt)
                notes.append("'%s' dropped (figures are not shown in a pipeline)" % ast.unparse(stmt.value))
            else:
                kept.append(stmt)
        for stmt in kept:
            if is_params_cell and isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                try:
                    value = ast.literal_eval(stmt.value)
                    json.dumps(value)
                except (ValueError, TypeError, SyntaxError):
                    value = NotImplemented
                if value is not NotImplemented:
                    key = param_key(stmt.targets[0].id, value, None)
                    edits.replace(stmt.value, "%s[%r]" % (params_name, key))
                    used_keys.append(key)
                    continue
            for node in ast.walk(stmt):
                if not isinstance(node, ast.Call):
                    continue
                callee = call_name(node)
                root = root_name(node.func)
                from_ml = root in import_modules and import_modules[root].lstrip(".").startswith(ML_PACKAGES)
                estimator = callee and (callee in FIT_METHODS or (from_ml and callee[:1].isupper()) or callee == "train_test_split")
                for kw in node.keywords:
                    if not kw.arg or kw.arg in NOT_HYPER:
                        continue
                    value = literal_value(kw.value)
                    if value is NotImplemented:
                        continue
                    if isinstance(value, str) and kw.arg not in STRING_HYPER:
                        continue
                    if kw.arg in HYPER or (estimator and not isinstance(value, str)):
                        key = param_key(kw.arg, value, callee if callee and callee[:1].isupper() else None)
                        edits.replace(kw.value, "%s[%r]" % (params_name, key))
                        used_keys.append(key)
            # Functions from common.py that read notebook globals get them first.
            needed, written = set(), set()
            for node in ast.walk(stmt):
                if isinstance(node, ast.Name) and node.id in closure:
                    needed |= closure[node.id]
                    written |= global_writes[node.id]
            if needed:
                edits.insert_line(stmt.lineno, "_common.set_globals(%s)" % ", ".join("%s=%s" % (g, g) for g in sorted(needed)))
            for g in sorted(written):
                edits.insert_line(stmt.end_lineno + 1, "%s = _common.%s" % (g, g))
        body = edits.apply()
        try:
            body_tree = ast.parse(body)
        except SyntaxError as e:  # a bug of ours, but say where rather than write broken code
            errors.append({"cell": cell["index"], "message": "could not rewrite this cell (line %s: %s)" % (e.lineno, e.msg)})
            continue
        names = CellNames()
        names.visit(body_tree)
        reads, writes = file_paths(body_tree)
        deleted, aliases = deleted_and_aliases(body_tree)
        unpicklable = []
        for stmt in body_tree.body:
            if isinstance(stmt, ast.Assign) and (isinstance(stmt.value, ast.GeneratorExp) or (isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Name) and (stmt.value.func.id in generator_defs or stmt.value.func.id == "open"))):
                unpicklable.extend(t.id for t in stmt.targets if isinstance(t, ast.Name))
        for w in writes:
            notes.append("writes %s (declared as an artifact of its step)" % w)
        out_cells.append({
            "index": cell["index"],
            "id": cell.get("id"),
            "body": body.strip("\n") + "\n" if body.strip() else "",
            "defines": [n for n in names.defines if n not in names.imported],
            "uses": [u for u in names.uses if u != params_name],
            "mutates": [m for m in mutations(body_tree, def_names) if m not in imports and m not in (params_name, "_common")],
            "verbatim": string_lines(body),
            "deletes": deleted,
            "unpicklable": unpicklable,
            "aliases": aliases,
            "paramKeys": sorted(set(used_keys)),
            "reads": reads,
            "writes": writes,
            "notes": notes,
        })
    if errors:
        return {"errors": errors}
    for setting in settings:
        for node in ast.walk(ast.parse(setting)):
            if isinstance(node, ast.Name) and node.id in imports and imports[node.id] not in common_imports:
                common_imports.append(imports[node.id])
    return {
        "python": "%d.%d.%d" % sys.version_info[:3],
        "cells": out_cells,
        "imports": imports,
        "defs": [{"name": d["name"], "cell": d["cell"], "source": d["source"], "globals": sorted(closure[d["name"]])} for d in defs],
        "commonImports": common_imports,
        "commonBlocks": [{"cell": b["cell"], "source": b["source"], "names": b["names"]} for b in blocks],
        "commonGlobals": common_globals,
        "keptStars": kept_stars,
        "params": params,
        "paramsName": params_name,
        "requirements": requirements,
        "settings": settings,
        "warnings": warnings,
    }


def main():
    if sys.version_info < (3, 9):
        sys.stderr.write("labbook: extraction needs Python 3.9 or newer in the chosen interpreter (this is %d.%d)\n" % sys.version_info[:2])
        sys.exit(2)
    parser = argparse.ArgumentParser(prog="labbook_extract.py")
    parser.add_argument("--cwd", default=None)
    args = parser.parse_args()
    data = json.load(sys.stdin)
    cwd = os.path.abspath(args.cwd) if args.cwd else None
    if cwd:
        os.chdir(cwd)
    result = analyze(data.get("cells", []), cwd)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
