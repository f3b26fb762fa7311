"""Log parameters, metrics and artifacts from a run that Labbook tracks.

    import labbook

    labbook.log_params({"lr": 0.001, "epochs": 10})
    for epoch in range(10):
        ...
        labbook.log_metric("loss", loss, step=epoch)
    labbook.log_artifact("model.pt")

Every call appends one line per value to the run's events file, so a crash loses nothing
already logged. Outside a tracked run the calls check their arguments and do nothing else,
so a script runs the same with or without Labbook.

Numbers may be Python numbers or anything that converts to one: numpy scalars and 0-d
arrays, torch scalar tensors, Decimal, Fraction.
"""

import json
import math
import os
import sys
import threading
import time

__all__ = [
    'log_param',
    'log_params',
    'log_metric',
    'log_metrics',
    'log_artifact',
    'log_confusion_matrix',
    'run_id',
    'run_dir',
]

_NOT_TRACKED = 'labbook: not inside a tracked run; log_* calls are ignored'


def run_id():
    """The id of the tracked run this process belongs to, or None outside a run."""
    return os.environ.get('LABBOOK_RUN_ID') or None


def run_dir():
    """The folder of the tracked run this process belongs to, or None outside a run."""
    return os.environ.get('LABBOOK_RUN_DIR') or None


def log_param(key, value):
    """Records a parameter of the run: a string, number, bool, None, or a list/dict of those."""
    _emit_all([_param_event(key, value)])


def log_params(params):
    """Records several parameters at once from a dict {name: value}."""
    events = [_param_event(k, v) for k, v in _mapping(params, 'params').items()]
    _emit_all(events)


def log_metric(key, value, step=None):
    """Records one value of a metric.

    `step` is the position on the x axis (an int >= 0); leave it out to use the next step
    after the last one logged for this metric. NaN and infinities are kept (as "NaN",
    "Infinity", "-Infinity").
    """
    _emit_all([_metric_event(key, value, step)])


def log_metrics(metrics, step=None):
    """Records several metrics at once from a dict {name: value}, all at the same `step`."""
    step = _step(step)
    events = [_metric_event(k, v, step) for k, v in _mapping(metrics, 'metrics').items()]
    _emit_all(events)


def log_artifact(path, kind='file'):
    """Marks a file (or folder) as an artifact of the run: a model, a plot, a report.

    A relative `path` is taken from the current directory. The file must exist when this is
    called; Labbook records where it is, it does not copy it. `kind` is a free label
    ("model", "plot", ...) shown next to it.
    """
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError('labbook.log_artifact: path must be a str or os.PathLike, not %s' % type(path).__name__) from None
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not path:
        raise ValueError('labbook.log_artifact: path is empty')
    if not isinstance(kind, str) or not kind:
        raise ValueError('labbook.log_artifact: kind must be a non-empty str, got %r' % (kind,))
    full = os.path.realpath(path)
    if not os.path.exists(full):
        raise ValueError('labbook.log_artifact: %s does not exist (resolved to %s)' % (path, full))
    _emit_all([{'t': 'artifact', 'path': full, 'kind': kind}])


def log_confusion_matrix(labels, matrix, step=None):
    """Records a confusion matrix: `matrix[i][j]` counts items of true class `labels[i]`
    predicted as `labels[j]`.

    `labels` is a list of class names (converted with str()); `matrix` is a square list of
    lists, or a 2-d numpy array, with one row and one column per label.
    """
    labels = _tolist(labels)
    if isinstance(labels, (str, bytes)) or not isinstance(labels, (list, tuple)):
        raise TypeError('labbook.log_confusion_matrix: labels must be a list, not %s' % type(labels).__name__)
    if not labels:
        raise ValueError('labbook.log_confusion_matrix: labels is empty')
    labels = [str(label) for label in labels]
    rows = _tolist(matrix)
    if not isinstance(rows, (list, tuple)) or not all(isinstance(_tolist(r), (list, tuple)) for r in rows):
        raise TypeError('labbook.log_confusion_matrix: matrix must be a list of lists (or a 2-d array)')
    rows = [list(_tolist(r)) for r in rows]
    n = len(rows)
    if any(len(r) != n for r in rows):
        shape = ', '.join(str(len(r)) for r in rows)
        raise ValueError('labbook.log_confusion_matrix: matrix is not square (%d rows of lengths %s)' % (n, shape))
    if n != len(labels):
        raise ValueError('labbook.log_confusion_matrix: matrix is %dx%d but there are %d labels' % (n, n, len(labels)))
    cells = [[_json_number(_number(v, 'matrix[%d][%d]' % (i, j))) for j, v in enumerate(r)] for i, r in enumerate(rows)]
    _emit_all([{'t': 'confusion_matrix', 'labels': labels, 'matrix': cells, 'step': _step(step)}])


# --- argument checking -------------------------------------------------------------------


def _key(key, what):
    if not isinstance(key, str):
        raise TypeError('labbook: %s name must be a str, not %s' % (what, type(key).__name__))
    if not key.strip():
        raise ValueError('labbook: %s name is empty' % what)
    return key


def _mapping(value, what):
    if not hasattr(value, 'items'):
        raise TypeError('labbook: %s must be a dict of name -> value, not %s' % (what, type(value).__name__))
    return value


def _tolist(value):
    # numpy arrays and scalars, torch tensors: all offer tolist(), which yields plain Python
    # values, so numpy never needs importing here.
    tolist = getattr(value, 'tolist', None)
    if callable(tolist) and not isinstance(value, (str, bytes, list, tuple, dict)):
        try:
            return tolist()
        except Exception:
            return value
    return value


def _number(value, what):
    """`value` as an int or float, accepting anything number-like; TypeError otherwise."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if value is None or isinstance(value, (str, bytes, bytearray, complex)):
        raise TypeError('labbook: %s must be a number, not %s %r' % (what, type(value).__name__, value))
    plain = _tolist(value)
    if isinstance(plain, bool):
        return int(plain)
    if isinstance(plain, (int, float)):
        return plain
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError('labbook: %s must be a number, not %s' % (what, type(value).__name__)) from None


def _json_number(x):
    # JSON has no NaN or infinities, and JavaScript's JSON.parse rejects Python's NaN token.
    if isinstance(x, float) and not math.isfinite(x):
        return 'NaN' if x != x else ('Infinity' if x > 0 else '-Infinity')
    return x


def _step(step):
    if step is None:
        return None
    plain = step if isinstance(step, (bool, float)) else _tolist(step)
    if not isinstance(plain, int) or isinstance(plain, bool):
        raise TypeError('labbook: step must be an int >= 0 or None, not %s %r' % (type(step).__name__, step))
    if plain < 0:
        raise ValueError('labbook: step must be >= 0, got %d' % plain)
    return plain


def _jsonable(value, depth=0):
    """A JSON-ready copy of a parameter value; things JSON cannot hold become their str()."""
    if depth > 50:
        raise ValueError('labbook: parameter value is nested too deeply (a cycle?)')
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return _json_number(value)
    if isinstance(value, dict) or (hasattr(value, 'items') and hasattr(value, 'keys')):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [_jsonable(v, depth + 1) for v in items]
    plain = _tolist(value)
    if plain is not value:
        return _jsonable(plain, depth + 1)
    if isinstance(value, os.PathLike):
        return os.fsdecode(os.fspath(value))
    if not isinstance(value, complex):
        try:
            return _json_number(float(value)) if hasattr(value, '__float__') else str(value)
        except (TypeError, ValueError):
            pass
    return str(value)


def _param_event(key, value):
    return {'t': 'param', 'key': _key(key, 'parameter'), 'value': _jsonable(value)}


def _metric_event(key, value, step):
    key = _key(key, 'metric')
    number = _number(value, 'metric %r' % key)
    return {'t': 'metric', 'key': key, 'value': _json_number(number), 'step': _step(step)}


# --- writing -----------------------------------------------------------------------------


class _Writer:
    """Appends events to $LABBOOK_RUN_DIR/events.jsonl, one write per line."""

    def __init__(self):
        self.lock = threading.Lock()
        self.file = None
        self.path = None
        self.warned = set()

    def warn(self, message):
        if message not in self.warned:
            self.warned.add(message)
            try:
                sys.stderr.write(message + '\n')
                sys.stderr.flush()
            except Exception:
                pass

    def emit(self, events):
        directory = run_dir()
        if directory is None:
            self.warn(_NOT_TRACKED)
            return
        path = os.path.join(directory, 'events.jsonl')
        lines = []
        for event in events:
            # ts goes second so lines read naturally; the order is not part of the contract.
            record = {'t': event['t'], 'ts': time.time_ns() // 1000000}
            record.update(event)
            lines.append(_dumps(record).encode('utf-8') + b'\n')
        with self.lock:
            try:
                if self.file is None or self.path != path:
                    if self.file is not None:
                        self.file.close()
                    # Unbuffered append: each line is a single write(2), and O_APPEND keeps lines
                    # from this process, the file-tracking hook and other processes of the run
                    # from interleaving.
                    self.file = open(path, 'ab', buffering=0)
                    self.path = path
                for line in lines:
                    self.file.write(line)
                    self.file.flush()
            except OSError as e:
                self.file = None
                # Losing a metric should not end a long training run; say so once.
                self.warn('labbook: cannot write run events to %s: %s' % (path, e))

    def after_fork(self):
        self.lock = threading.Lock()


def _dumps(record):
    try:
        text = json.dumps(record, ensure_ascii=False, allow_nan=False, separators=(',', ':'))
        text.encode('utf-8')
        return text
    except UnicodeEncodeError:
        # Lone surrogates (file names with undecodable bytes) cannot be UTF-8: escape them.
        return json.dumps(record, ensure_ascii=True, allow_nan=False, separators=(',', ':'))


_writer = _Writer()
if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_writer.after_fork)


def _emit_all(events):
    if events:
        _writer.emit(events)


def _emit(t, **fields):
    """Writes one event of type `t` (for Labbook's own tools, such as the notebook runner)."""
    event = {'t': t}
    event.update(fields)
    _writer.emit([event])
