"""Compares a notebook's state with the outputs of the pipeline extracted from it.

`labbook extract --verify` runs the pipeline, then the notebook with a cell after each step's
last cell calling check(): the values the notebook holds then are compared with what the
pipeline's step returned (DataFrames equal, arrays allclose, scalars equal, objects by their
attributes). Verdicts are appended to .pipeline/verify.jsonl as JSON lines. The pipeline's
outputs are loaded through its own runner, which only loads files its meta.json lists with a
matching hash.
"""
import json
import math
import os
import re
import sys

MISSING = object()
SKIP = "not compared"
TIMING = re.compile(r"(^|_)(fit|score|refit)_time_?$")
PLOTTING = ("matplotlib", "seaborn", "plotly", "bokeh", "altair")
RTOL, ATOL = 1e-6, 1e-9


def _runner(pipeline_dir):
    if pipeline_dir not in sys.path:
        sys.path.append(pipeline_dir)  # after the notebook's own folders: `common` unpickles pipeline classes
    import importlib.util

    spec = importlib.util.spec_from_file_location("_labbook_pipeline_runner", os.path.join(pipeline_dir, "pipeline.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def same(a, b, depth=0):
    """None when a and b are equivalent, else a short reason."""
    if depth > 12:
        return None
    if a is b:
        return None
    np = sys.modules.get("numpy")
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(a, (pd.DataFrame, pd.Series)):
        if type(a) is not type(b):
            return "%s vs %s" % (type(a).__name__, type(b).__name__)
        try:
            check = pd.testing.assert_frame_equal if isinstance(a, pd.DataFrame) else pd.testing.assert_series_equal
            check(a, b, check_exact=False, rtol=RTOL, atol=ATOL)
            return None
        except AssertionError as e:
            return str(e).strip().split("\n")[0][:200]
    if np is not None and isinstance(a, np.ndarray):
        if not isinstance(b, np.ndarray) or a.shape != b.shape:
            return "shape %s vs %s" % (getattr(a, "shape", None), getattr(b, "shape", type(b).__name__))
        if a.dtype.kind == "O" or b.dtype.kind == "O":
            flat_a, flat_b = a.ravel().tolist(), b.ravel().tolist()
            if flat_a and type(flat_a[0]).__module__.split(".")[0] in PLOTTING:
                return SKIP if depth == 0 else None
            return same(flat_a, flat_b, depth + 1)
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            return None if np.allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True) else "arrays differ (max |Δ| %.3g)" % float(np.nanmax(np.abs(a - b)))
        return None if np.array_equal(a, b) else "arrays differ"
    if isinstance(a, float) and isinstance(b, (float, int)) or (np is not None and isinstance(a, np.floating)):
        try:
            fa, fb = float(a), float(b)
        except (TypeError, ValueError):
            return "%r vs %r" % (a, b)
        if math.isnan(fa) and math.isnan(fb):
            return None
        return None if math.isclose(fa, fb, rel_tol=RTOL, abs_tol=ATOL) else "%r vs %r" % (a, b)
    if type(a).__name__ != type(b).__name__:
        return "%s vs %s" % (type(a).__name__, type(b).__name__)
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return "length %d vs %d" % (len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            r = same(x, y, depth + 1)
            if r:
                return "[%d]: %s" % (i, r)
        return None
    if isinstance(a, dict):
        if set(a) != set(b):
            return "keys differ"
        for k in a:
            if isinstance(k, str) and TIMING.search(k):
                continue
            r = same(a[k], b[k], depth + 1)
            if r:
                return "[%r]: %s" % (k, r)
        return None
    if isinstance(a, (str, bytes, int, bool, type(None), complex)):
        return None if a == b else "%r vs %r" % (a, b)
    if type(a).__module__.split(".")[0] in PLOTTING:
        return SKIP if depth == 0 else None
    if hasattr(a, "get_params") and hasattr(a, "__dict__") and hasattr(b, "__dict__"):
        # scikit-learn style estimators: their parameters and fitted attributes (trailing _);
        # private attributes may hold ids or caches that differ between processes.
        try:
            pa, pb = a.get_params(deep=False), b.get_params(deep=False)
        except Exception:
            pa = pb = None
        if pa is not None:
            r = same(pa, pb, depth + 1)
            if r and r != SKIP:
                return "parameters: %s" % r
            fitted = lambda o: {k: v for k, v in vars(o).items() if k.endswith("_") and not k.startswith("_")}
            r = same(fitted(a), fitted(b), depth + 1)
            return None if r == SKIP else r
    if type(a).__eq__ is not object.__eq__:
        try:
            eq = a == b
            if isinstance(eq, bool) or (np is not None and isinstance(eq, np.bool_)):
                return None if eq else "%r vs %r" % (a, b)
        except Exception:
            pass
    try:
        sa, sb = a.__getstate__(), b.__getstate__()
    except Exception:
        sa = sb = None
    if sa is not None and sa is not a and isinstance(sa, (dict, tuple, list)):
        r = same(sa, sb, depth + 1)
        return None if r == SKIP else r
    ra, rb = repr(a), repr(b)
    if " at 0x" in ra:
        return SKIP if depth == 0 else None  # no value to compare (a function, a generator)
    return None if ra == rb else "%s vs %s" % (ra[:80], rb[:80])


def check(pipeline_dir, step, values):
    runner = _runner(pipeline_dir)
    meta = runner.read_meta(step) or {}
    results = []
    for name, value in values.items():
        entry = meta.get("outputs", {}).get(name)
        if value is MISSING:
            results.append({"name": name, "ok": False, "detail": "the notebook has no %r here" % name})
            continue
        if entry is None:
            results.append({"name": name, "ok": True, "detail": "not kept by the pipeline (not picklable), not compared", "skipped": True})
            continue
        try:
            theirs = runner.load_value(step, name, entry)
        except Exception as e:
            results.append({"name": name, "ok": False, "detail": "cannot load the pipeline's value: %s" % e})
            continue
        reason = same(value, theirs)
        if reason == SKIP:
            results.append({"name": name, "ok": True, "detail": "a plot or a function, not compared", "skipped": True})
        else:
            results.append({"name": name, "ok": reason is None, "detail": reason or "equal"})
    with open(os.path.join(pipeline_dir, ".pipeline", "verify.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps({"step": step, "values": results}) + "\n")
