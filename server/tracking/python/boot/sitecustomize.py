"""Labbook's start-up hook for tracked Python processes.

Labbook puts this folder first on PYTHONPATH, so every interpreter of a tracked run (the
script, its subprocesses, notebook kernels) imports this module at start-up. Inside a run
(LABBOOK_RUN_DIR and LABBOOK_WORKSPACE set) it records which workspace files the process
reads (`input`), writes (`output`) and imports (`module`), appending events to
$LABBOOK_RUN_DIR/events.jsonl as docs/run-events.md describes. In every case it then runs the
`sitecustomize` that Python would have imported without us, so distribution hooks still apply.

Everything here runs on every interpreter start, tracked or not: it imports nothing beyond
what the interpreter has already loaded (json alone would cost more than the rest together).
"""

import os
import sys


def _install(run_dir, workspace):
    import _thread
    import atexit
    import time

    realpath = os.path.realpath
    join = os.path.join
    isfile = os.path.isfile
    getcwd = os.getcwd
    fspath = os.fspath
    fsdecode = os.fsdecode
    sep = os.sep
    get_ident = _thread.get_ident

    ws = realpath(workspace)
    ws_prefix = ws.rstrip(sep) + sep
    labbook_dir = join(ws, '.labbook')
    labbook_prefix = labbook_dir + sep
    events_path = join(run_dir, 'events.jsonl')
    site_packages = sep + 'site-packages' + sep
    dist_packages = sep + 'dist-packages' + sep
    pycache = sep + '__pycache__' + sep
    stdlib_prefix = os.path.dirname(os.__file__) + sep
    isabs = os.path.isabs
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    state = {'file': None, 'dead': False, 'prefixes': None}
    lock = _thread.allocate_lock()
    busy = set()  # ids of threads inside the hook: the hook's own opens must not re-enter it
    seen = set()  # (type, path) already reported
    where = {}  # absolute path as opened -> resolved path inside the workspace, or None

    def reinit_after_fork():
        # A fork taken while another thread held the lock would leave the child's copy held.
        nonlocal lock
        lock = _thread.allocate_lock()
        busy.clear()

    os.register_at_fork(after_in_child=reinit_after_fork)

    def env_prefixes():
        # A virtual environment or conda env kept inside the workspace holds the stdlib and the
        # installed packages; neither is the user's code. Prefixes outside the workspace need no
        # entry (the workspace test already excludes them), and one that contains the workspace
        # must not exclude it.
        if state['prefixes'] is None:
            found = []
            for p in {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix}:
                r = realpath(p)
                if r.startswith(ws_prefix):
                    found.append(r.rstrip(sep) + sep)
            state['prefixes'] = tuple(found)
        return state['prefixes']

    def resolve(path):
        """The workspace path `path` (already absolute) names, or None when it is not ours."""
        if path in where:
            return where[path]
        if len(where) > 50000:
            where.clear()  # a data loader opening millions of files must not grow this forever
        if site_packages in path or dist_packages in path or (path.startswith(stdlib_prefix) and not path.startswith(ws_prefix)):
            # Most opens are imports of installed code; deciding on the name alone saves a
            # realpath (a few lstat calls each) for every one of them.
            where[path] = None
            return None
        real = realpath(path)
        keep = (
            real.startswith(ws_prefix)
            and real != labbook_dir
            and not real.startswith(labbook_prefix)
            and site_packages not in real
            and dist_packages not in real
            and not real.startswith(env_prefixes())
        )
        result = real if keep else None
        where[path] = result
        return result

    def jstr(s):
        if s.isprintable() and '"' not in s and '\\' not in s:
            return '"' + s + '"'
        out = []
        for ch in s:
            o = ord(ch)
            if ch == '"' or ch == '\\':
                out.append('\\' + ch)
            elif o < 0x20 or o == 0x7F or 0xD800 <= o <= 0xDFFF:
                # Control characters are not allowed raw in JSON; lone surrogates (undecodable
                # bytes in a file name) cannot be encoded as UTF-8.
                out.append('\\u%04x' % o)
            else:
                out.append(ch)
        return '"' + ''.join(out) + '"'

    def emit(kind, path):
        key = (kind, path)
        line = '{"t":"%s","ts":%d,"path":%s}\n' % (kind, time.time_ns() // 1000000, jstr(path))
        data = line.encode('utf-8')
        with lock:
            # Checked under the lock: two threads opening the same file must not both report it.
            if key in seen or state['dead']:
                return
            seen.add(key)
            try:
                f = state['file']
                if f is None:
                    f = state['file'] = open(events_path, 'ab', buffering=0)
                f.write(data)
                f.flush()
            except OSError as e:
                state['dead'] = True
                sys.stderr.write('labbook: cannot write run events to %s: %s; file tracking is off\n' % (events_path, e))

    def source_of(pyc):
        # The frozen importlib is always loaded; importing importlib.util for the same function
        # would cost milliseconds at every start.
        try:
            return sys.modules['_frozen_importlib_external'].source_from_cache(pyc)
        except KeyError:
            from importlib.util import source_from_cache

            return source_from_cache(pyc)

    def report_module(path):
        """Reports `path` (absolute) as a module when it is, or caches, a workspace source."""
        if path.endswith('.pyc'):
            if '__pycache__' not in path:
                return
            try:
                path = source_of(path)
            except ValueError:
                return
        elif not path.endswith('.py'):
            return
        real = resolve(path)
        if real is not None and ('module', real) not in seen and isfile(real):
            emit('module', real)

    def on_open(args):
        path, mode, flags = args
        if isinstance(path, int):
            return
        if not isinstance(path, str):
            path = fspath(path)
            if isinstance(path, bytes):
                path = fsdecode(path)
        if not path:
            return
        if not isabs(path):
            path = join(getcwd(), path)
        if isinstance(mode, str):
            writing = 'w' in mode or 'a' in mode or 'x' in mode or '+' in mode
        else:
            writing = bool(flags & write_flags)
        if path.endswith('.py') or path.endswith('.pyc'):
            if not writing:
                report_module(path)
            return
        real = resolve(path)
        if real is None or pycache in real:
            return
        if writing:
            emit('output', real)
        elif ('input', real) not in seen and isfile(real):
            # Directories are opened for reading too (os.walk, shutil.rmtree), and a file that
            # does not exist is about to fail to open: neither was read.
            emit('input', real)

    def hook(event, args):
        if event != 'open':
            return
        me = get_ident()
        if me in busy:
            return
        busy.add(me)
        try:
            on_open(args)
        except Exception:
            pass  # an audit hook that raises would make the user's open() fail
        finally:
            busy.discard(me)

    def scan_modules():
        # Modules whose opens happened before the hook existed, or loaded by other means
        # (zip imports, custom loaders), are found here.
        me = get_ident()
        busy.add(me)
        try:
            for mod in list(sys.modules.values()):
                try:
                    f = getattr(mod, '__file__', None)
                    if isinstance(f, str) and f:
                        if not isabs(f):
                            f = join(getcwd(), f)
                        report_module(f)
                except Exception:
                    pass
        finally:
            busy.discard(me)

    sys.addaudithook(hook)
    atexit.register(scan_modules)


def _chain():
    """Runs the sitecustomize that the rest of sys.path would have provided."""
    here = os.path.normcase(os.path.dirname(os.path.abspath(__file__)))

    def ours(entry):
        return os.path.normcase(os.path.abspath(entry or '.')) == here

    entries = list(sys.path)
    for i, entry in enumerate(entries):
        if ours(entry):
            entries = entries[i + 1 :]
            break
    entries = [e for e in entries if not ours(e)]
    try:
        finder = sys.modules['_frozen_importlib_external'].PathFinder
    except KeyError:
        from importlib.machinery import PathFinder as finder
    spec = finder.find_spec(__name__, entries)
    if spec is None or spec.loader is None:
        return None
    module = type(sys)(__name__)
    module.__spec__ = spec
    module.__loader__ = spec.loader
    if spec.origin and spec.has_location:
        module.__file__ = spec.origin
    if spec.submodule_search_locations is not None:
        module.__path__ = spec.submodule_search_locations
    # Errors propagate: site.py then reports them exactly as it would without us.
    spec.loader.exec_module(module)
    return module


if os.environ.get('LABBOOK_RUN_DIR') and os.environ.get('LABBOOK_WORKSPACE'):
    try:
        _install(os.environ['LABBOOK_RUN_DIR'], os.environ['LABBOOK_WORKSPACE'])
    except Exception as _e:
        sys.stderr.write('labbook: file tracking is off: %s: %s\n' % (type(_e).__name__, _e))

#: The sitecustomize module this one ran after installing its hook (None when there was none).
chained = _chain()
