#!/usr/bin/env python3
"""Runs a pipeline that Labbook extracted from a notebook.

    python pipeline.py [--step NAME] [--force] [--list]

Steps (steps/<name>.py) run in the order pipeline.yaml gives, which respects their dependencies.
Each step's outputs are kept in .pipeline/<step>/ (pandas DataFrames as parquet when pyarrow or
fastparquet is installed, everything else pickled) with their SHA-256 in .pipeline/<step>/meta.json.
Only files listed there with a matching hash are ever loaded: this runner never unpickles a
file it did not write itself. A step whose code, common.py, parameters, inputs and data files
are unchanged since its last run is skipped (--force runs it anyway).

The random number generators (random, numpy's global one) carry on from one step to the next
as they would in the notebook; settings (display options, warning filters) from
common.settings() apply before every step. When Labbook tracks the run (`labbook run`), the
step's parameters are logged to it.

pipeline.yaml is JSON, which YAML readers accept too; params.yaml holds one `key: value` per
line, each value written as JSON.
"""
import argparse
import contextlib
import hashlib
import importlib
import io
import json
import os
import pickle
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# Plots are drawn (and saved where the notebook saved them), never shown: no window opens.
os.environ.setdefault("MPLBACKEND", "Agg")
STATE = os.path.join(HERE, ".pipeline")
RNG_FILE = ".rng-state.pkl"  # not a Python name, so no output of a step can be called that


class PipelineError(Exception):
    pass


def read_config():
    with open(os.path.join(HERE, "pipeline.yaml"), encoding="utf-8") as f:
        return json.load(f)


def read_params():
    path = os.path.join(HERE, "params.yaml")
    params = {}
    if not os.path.exists(path):
        return params
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            text = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
            if not text:
                continue
            key, sep, value = text.partition(":")
            if not sep:
                raise PipelineError("params.yaml line %d: expected 'key: value', got %r" % (number, line.strip()))
            value = value.strip()
            try:
                params[key.strip()] = json.loads(value)
            except ValueError:
                try:
                    import yaml  # a value written in YAML-only syntax by hand
                    params[key.strip()] = yaml.safe_load(value)
                except ImportError:
                    params[key.strip()] = value.strip("'\"")
    return params


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_meta(name):
    path = os.path.join(STATE, name, "meta.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def is_dataframe(value):
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(value, pd.DataFrame)


def parquet_engine():
    for name in ("pyarrow", "fastparquet"):
        try:
            importlib.import_module(name)
            return name
        except ImportError:
            continue
    return None


def save_outputs(folder, step, result):
    """Writes a step's outputs: DataFrames as parquet when an engine is installed, everything else
    in one pickle, so values that share objects (X = df) still share them when loaded. Returns the
    meta entries by name. An output no later step needs is left out, with a note, when it cannot
    be saved; one that a later step needs stops the pipeline."""
    entries, together = {}, {}
    for name in step["outputs"]:
        if name not in result:
            continue
        value = result[name]
        if is_dataframe(value) and parquet_engine():
            path = os.path.join(folder, name + ".parquet")
            try:
                value.to_parquet(path)
                back = sys.modules["pandas"].read_parquet(path)
                if back.equals(value) and list(back.columns) == list(value.columns):
                    entries[name] = {"file": os.path.basename(path), "kind": "parquet", "sha256": sha256(path)}
                    continue
            except Exception:
                pass
            if os.path.exists(path):
                os.remove(path)
        together[name] = value
    try:
        data = pickle.dumps(together, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        for name in list(together):
            try:
                pickle.dumps(together[name], protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as e:
                if name in step["needed"]:
                    raise PipelineError("step %r: output %r cannot be saved for the steps that need it (%s: %s)" % (step["name"], name, type(e).__name__, e))
                print("[pipeline] %s: output %r not kept (%s: %s); no later step needs it" % (step["name"], name, type(e).__name__, e), file=sys.stderr)
                del together[name]
        data = pickle.dumps(together, protocol=pickle.HIGHEST_PROTOCOL)
    path = os.path.join(folder, "outputs.pkl")
    with open(path, "wb") as f:
        f.write(data)
    digest = hashlib.sha256(data).hexdigest()
    for name in together:
        entries[name] = {"file": "outputs.pkl", "kind": "pickle", "sha256": digest}
    return entries


_loaded = {}  # (path, sha256) -> unpickled dict: one load per file keeps shared objects shared


def load_value(step, name, entry):
    path = os.path.join(STATE, step, entry["file"])
    if not os.path.exists(path):
        raise PipelineError("output %r of step %r is missing (%s): run that step again" % (name, step, path))
    if (path, entry["sha256"]) not in _loaded:
        with open(path, "rb") as f:
            data = f.read()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise PipelineError("output %r of step %r changed since the step wrote it; refusing to load it (run that step again)" % (name, step))
        if entry["kind"] == "parquet":
            import pandas
            _loaded[(path, entry["sha256"])] = {name: pandas.read_parquet(io.BytesIO(data))}
        else:
            _loaded[(path, entry["sha256"])] = pickle.loads(data)
    return _loaded[(path, entry["sha256"])][name]


def save_rng(folder):
    state = {"random": random.getstate()}
    np = sys.modules.get("numpy")
    if np is not None:
        state["numpy"] = np.random.get_state()
    torch = sys.modules.get("torch")
    if torch is not None:
        state["torch"] = torch.get_rng_state()
    path = os.path.join(folder, RNG_FILE)
    with open(path, "wb") as f:
        pickle.dump(state, f)
    return sha256(path)


def restore_rng(previous):
    meta = read_meta(previous) if previous else None
    if not meta or not meta.get("rng"):
        return
    path = os.path.join(STATE, previous, RNG_FILE)
    if not os.path.exists(path) or sha256(path) != meta["rng"]:
        return
    with open(path, "rb") as f:
        state = pickle.load(f)
    random.setstate(state["random"])
    if "numpy" in state:
        import numpy
        numpy.random.set_state(state["numpy"])
    if "torch" in state:
        try:
            import torch
            torch.set_rng_state(state["torch"])
        except ImportError:
            pass


class Tee(io.TextIOBase):
    def __init__(self, stream):
        self.stream = stream
        self.buffer_text = io.StringIO()

    def write(self, text):
        self.stream.write(text)
        self.buffer_text.write(text)
        return len(text)

    def flush(self):
        self.stream.flush()


def step_key(cfg, step, params):
    h = hashlib.sha256()
    for path in (os.path.join(HERE, "steps", step["name"] + ".py"), os.path.join(HERE, "common.py")):
        h.update(sha256(path).encode() if os.path.exists(path) else b"-")
    h.update(json.dumps({k: params.get(k) for k in step["params"]}, sort_keys=True).encode())
    for name, producer in sorted(step["inputs"].items()):
        meta = read_meta(producer)
        entry = (meta or {}).get("outputs", {}).get(name)
        h.update(("%s=%s;" % (name, entry["sha256"] if entry else "missing")).encode())
    workdir = os.path.normpath(os.path.join(HERE, cfg["workdir"]))
    for data in step.get("reads", []):
        path = os.path.join(workdir, data)
        h.update(("%s=%s;" % (data, sha256(path) if os.path.isfile(path) else "missing")).encode())
    previous = previous_step(cfg, step)
    if previous:
        h.update(("rng=%s" % ((read_meta(previous) or {}).get("rng"))).encode())
    return h.hexdigest()


def previous_step(cfg, step):
    names = [s["name"] for s in cfg["steps"]]
    i = names.index(step["name"])
    return names[i - 1] if i > 0 else None


def up_to_date(cfg, step, key):
    meta = read_meta(step["name"])
    if not meta or meta.get("key") != key:
        return False
    for entry in meta["outputs"].values():
        path = os.path.join(STATE, step["name"], entry["file"])
        if not os.path.exists(path) or sha256(path) != entry["sha256"]:
            return False
    return all(os.path.exists(os.path.join(os.path.normpath(os.path.join(HERE, cfg["workdir"])), w)) for w in step.get("writes", []))


def log_to_labbook(step, params):
    if not os.environ.get("LABBOOK_RUN_DIR"):
        return
    try:
        import labbook
    except ImportError:
        return
    values = {k: params[k] for k in step["params"] if k in params}
    if values:
        labbook.log_params(values)


def run_step(cfg, step, params, force, tracked):
    name = step["name"]
    folder = os.path.join(STATE, name)
    key = step_key(cfg, step, params)
    if not force and up_to_date(cfg, step, key):
        print("[pipeline] %s: unchanged, skipped" % name, file=sys.stderr)
        return "skipped"
    print("[pipeline] %s: running" % name, file=sys.stderr)
    inputs = {}
    for input_name, producer in step["inputs"].items():
        meta = read_meta(producer)
        entry = (meta or {}).get("outputs", {}).get(input_name)
        if entry is None:
            raise PipelineError("step %r needs %r from step %r, which has not run (run the whole pipeline, or --step %s first)" % (name, input_name, producer, producer))
        inputs[input_name] = load_value(producer, input_name, entry)
    os.makedirs(folder, exist_ok=True)
    ignore = os.path.join(STATE, ".gitignore")
    if not os.path.exists(ignore):
        with open(ignore, "w", encoding="utf-8") as f:
            f.write("# Intermediate results of the pipeline's steps: rebuilt by running it.\n*\n")
    stale = os.path.join(folder, "meta.json")
    if os.path.exists(stale):
        os.remove(stale)
    restore_rng(previous_step(cfg, step))
    workdir = os.path.normpath(os.path.join(HERE, cfg["workdir"]))
    for path in (workdir, HERE):
        if path not in sys.path:
            sys.path.insert(0, path)
    common = importlib.import_module("common")
    module = importlib.import_module("steps." + name)
    old_cwd = os.getcwd()
    os.chdir(workdir)
    tee = Tee(sys.stdout)
    started = time.time()
    try:
        if hasattr(common, "settings"):
            common.settings()
        with contextlib.redirect_stdout(tee):
            result = getattr(module, name)(**inputs, **{cfg["paramsName"]: params})
    finally:
        os.chdir(old_cwd)
    for stale_file in os.listdir(folder):
        if stale_file.endswith((".pkl", ".parquet")) and stale_file != RNG_FILE:
            os.remove(os.path.join(folder, stale_file))
    outputs = save_outputs(folder, step, result)
    with open(os.path.join(folder, "stdout.txt"), "w", encoding="utf-8") as f:
        f.write(tee.buffer_text.getvalue())
    meta = {"key": key, "outputs": outputs, "rng": save_rng(folder), "seconds": round(time.time() - started, 3)}
    with open(os.path.join(folder, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    if tracked:
        log_to_labbook(step, params)
    return "ran"


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the pipeline extracted from %s." % read_config().get("notebook", "a notebook"))
    parser.add_argument("--step", help="run only this step (its inputs must have been produced)")
    parser.add_argument("--force", action="store_true", help="run steps even when nothing changed")
    parser.add_argument("--list", action="store_true", help="print the steps in order and exit")
    args = parser.parse_args(argv)
    cfg = read_config()
    if args.list:
        for s in cfg["steps"]:
            print(s["name"])
        return 0
    params = read_params()
    steps = cfg["steps"]
    if args.step:
        steps = [s for s in steps if s["name"] == args.step]
        if not steps:
            print("pipeline: no step %r (steps: %s)" % (args.step, ", ".join(s["name"] for s in cfg["steps"])), file=sys.stderr)
            return 2
    try:
        for step in steps:
            run_step(cfg, step, params, args.force, tracked=True)
    except PipelineError as e:
        print("pipeline: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
