"""Runs a Jupyter notebook headless for Labbook, recording each cell as a run event.

    python labbook_nbrun.py IN.ipynb OUT.ipynb [--params-json JSON] [--cwd DIR] [--timeout SECONDS]

The kernel is this same interpreter (sys.executable -m ipykernel_launcher), started with this
process's environment, so it sees the run's LABBOOK_* variables, tracks files and can
`import labbook`. Parameters are injected the way papermill does it: a cell tagged
`injected-parameters` placed after the cell tagged `parameters` (or first when there is none).

Exit status: 0 all cells ran and OUT was saved; 1 a cell failed, timed out or the kernel died
or could not start (OUT holds what ran); 2 bad arguments or IN is not a readable notebook;
3 this interpreter lacks nbformat/nbclient/ipykernel; 130 interrupted (SIGINT/SIGTERM/SIGHUP).
"""

import argparse
import json
import logging
import math
import os
import re
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BOOT = os.path.join(HERE, 'boot')

sys.path.insert(0, HERE)  # `labbook` lives next to this file, whatever PYTHONPATH says
import labbook  # noqa: E402

ANSI = re.compile(r'\x1b\[[0-?]*[ -/]*[@-~]')


class Usage(Exception):
    """Bad arguments or an unreadable notebook: exit 2."""


class Interrupted(BaseException):
    pass


def fail(message, code):
    sys.stderr.write('labbook: ' + message + '\n')
    sys.stderr.flush()
    return code


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='labbook_nbrun.py', description='Run a notebook headless for Labbook.')
    parser.add_argument('input', help='notebook to run')
    parser.add_argument('output', help='where to save the executed notebook')
    parser.add_argument('--params-json', default=None, help='JSON object of parameters to inject')
    parser.add_argument('--cwd', default=None, help="kernel's working directory (default: the notebook's folder)")
    parser.add_argument('--timeout', type=float, default=None, help='seconds each cell may run (default: no limit)')
    args = parser.parse_args(argv)
    if args.timeout is not None and not (args.timeout > 0 and math.isfinite(args.timeout)):
        parser.error('--timeout must be a positive number of seconds')
    return args


def parse_params(text):
    if text is None:
        return {}
    try:
        params = json.loads(text)
    except ValueError as e:
        raise Usage('--params-json is not valid JSON: %s' % e)
    if not isinstance(params, dict):
        raise Usage('--params-json must be a JSON object {"name": value}, not %s' % type(params).__name__)
    import keyword

    for name in params:
        if not name.isidentifier() or keyword.iskeyword(name):
            raise Usage('parameter name %r is not a Python identifier' % name)
    return params


def literal(value):
    """Python source for a JSON-decoded value; repr() alone would write nan/inf as bare names."""
    if isinstance(value, float) and not math.isfinite(value):
        return "float('nan')" if value != value else ("float('inf')" if value > 0 else "-float('inf')")
    if isinstance(value, list):
        return '[' + ', '.join(literal(v) for v in value) + ']'
    if isinstance(value, dict):
        return '{' + ', '.join('%r: %s' % (k, literal(v)) for k, v in value.items()) + '}'
    return repr(value)


def read_notebook(nbformat, path):
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise Usage('cannot read notebook %s: %s' % (path, e))
    # Parsed here first because nbformat's own error drops the line and column.
    try:
        data = json.loads(text)
    except ValueError as e:
        where = 'line %d, column %d' % (e.lineno, e.colno) if hasattr(e, 'lineno') else 'somewhere'
        raise Usage('%s is not valid JSON (%s: %s)' % (path, where, getattr(e, 'msg', e)))
    if not isinstance(data, dict) or not isinstance(data.get('nbformat'), int) or not isinstance(data.get('cells', []), list):
        raise Usage('%s is not a Jupyter notebook (no "nbformat" number at the top level)' % path)
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as e:
        raise Usage('%s is not a notebook nbformat can read: %s' % (path, e))
    if not isinstance(nb.get('cells'), list):
        raise Usage('%s is not a Jupyter notebook (no cells)' % path)
    return nb


def tags(cell):
    return cell.get('metadata', {}).get('tags', []) or []


def inject_parameters(nbformat, nb, params):
    # A notebook that is itself the output of an earlier run already carries an injected cell;
    # a second one would leave both assignments in the notebook.
    nb.cells = [c for c in nb.cells if 'injected-parameters' not in tags(c)]
    if not params:
        return
    source = '# Parameters injected by Labbook\n' + ''.join('%s = %s\n' % (k, literal(v)) for k, v in params.items())
    cell = nbformat.v4.new_code_cell(source=source, metadata={'tags': ['injected-parameters']})
    if nb.get('nbformat_minor', 0) < 5:
        cell.pop('id', None)  # cell ids appeared in nbformat 4.5; older files reject them
    at = next((i + 1 for i, c in enumerate(nb.cells) if 'parameters' in tags(c)), 0)
    nb.cells.insert(at, cell)


def kernel_env():
    """This process's environment, with our folders first on PYTHONPATH for the kernel."""
    env = dict(os.environ)
    parts = [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p]
    wanted = [BOOT, HERE]
    norm = [os.path.realpath(p) for p in parts]
    missing = [w for w in wanted if os.path.realpath(w) not in norm]
    env['PYTHONPATH'] = os.pathsep.join(missing + parts)
    # ipykernel's debugger otherwise prints a warning about frozen modules on every start,
    # which would land in the run's log as if the notebook had said it.
    env.setdefault('PYDEVD_DISABLE_FILE_VALIDATION', '1')
    return env


def make_kernel_manager():
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    class ThisInterpreter(KernelSpecManager):
        # The notebook's kernelspec (or what `python3` resolves to) could be another Python
        # with other packages; the run must use the interpreter Labbook chose.
        def get_kernel_spec(self, kernel_name):
            return KernelSpec(
                argv=[sys.executable, '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
                display_name='Python (%s)' % sys.executable,
                language='python',
                resource_dir=HERE,
            )

    # kernel_name 'python3' also tells nbclient the kernel is ipykernel, so it keeps the
    # IPython history in memory instead of the user's history database.
    return AsyncKernelManager(kernel_name='python3', kernel_spec_manager=ThisInterpreter())


def error_of(cell, exc):
    for out in reversed(cell.get('outputs', [])):
        if out.get('output_type') == 'error':
            return out.get('ename', ''), out.get('evalue', ''), [ANSI.sub('', line) for line in out.get('traceback', [])]
    ename = getattr(exc, 'ename', None) or type(exc).__name__
    evalue = getattr(exc, 'evalue', None) or str(exc)
    tb = getattr(exc, 'traceback', None)
    lines = tb.splitlines() if isinstance(tb, str) else list(tb or [])
    return ename, evalue, [ANSI.sub('', line) for line in lines]


def cell_event(index, cell, started, error=None):
    event = {
        'index': index,
        'id': cell.get('id') or None,
        'status': 'ok' if error is None else 'error',
        'duration_ms': round((time.monotonic() - started) * 1000, 3),
        'execution_count': cell.get('execution_count'),
    }
    if error is not None:
        event['ename'], event['evalue'], event['traceback'] = error
    labbook._emit('cell', **event)


def save(nbformat, nb, path):
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    nbformat.write(nb, path)


def on_signal(signum, frame):
    raise Interrupted(signum)


def main(argv):
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
        import ipykernel  # noqa: F401  (the kernel imports it; fail here, clearly, instead)
        import jupyter_client  # noqa: F401
    except ImportError:
        return fail(
            'nbclient and ipykernel are needed to run notebooks with %s: install them '
            '(pip install nbclient ipykernel, or on Debian: apt-get install python3-nbclient python3-ipykernel)'
            % sys.executable,
            3,
        )

    args = parse_args(argv)
    in_path = os.path.abspath(args.input)
    out_path = os.path.abspath(args.output)
    try:
        params = parse_params(args.params_json)
        nb = read_notebook(nbformat, in_path)
        cwd = os.path.abspath(args.cwd) if args.cwd else os.path.dirname(in_path)
        if not os.path.isdir(cwd):
            raise Usage('working directory %s does not exist' % cwd)
    except Usage as e:
        return fail(str(e), 2)
    inject_parameters(nbformat, nb, params)

    # The kernel runs in its own session and outlives us unless shut down; turn the usual
    # stop signals into an exception so the cleanup below runs.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)

    km = make_kernel_manager()
    client = NotebookClient(
        nb,
        km=km,
        # timeout_func, unlike the integer `timeout` trait, takes fractions of a second.
        timeout_func=None if args.timeout is None else (lambda cell: args.timeout),
        resources={'metadata': {'path': cwd}},
    )
    failure = None
    index = -1
    try:
        with client.setup_kernel(env=kernel_env(), cleanup_kc=True):
            info = client.wait_for_reply(client.kc.kernel_info())
            if info and 'language_info' in info.get('content', {}):
                nb.metadata['language_info'] = info['content']['language_info']
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != 'code' or not cell.source.strip() or client.skip_cells_with_tag in tags(cell):
                    continue
                started = time.monotonic()
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError as e:
                    failure = error_of(cell, e)
                except CellTimeoutError as e:
                    failure = ('CellTimeoutError', 'cell timed out after %g seconds' % args.timeout, ANSI.sub('', str(e)).splitlines())
                    # The cell is still running; a graceful shutdown would wait for it in vain.
                    client.shutdown_kernel = 'immediate'
                    # nbclient leaves its output poller pending after a timeout; asyncio would
                    # complain about it at exit, after our own message said what happened.
                    logging.getLogger('asyncio').setLevel(logging.CRITICAL)
                except DeadKernelError as e:
                    failure = ('DeadKernelError', str(e) or 'the kernel died', [])
                if failure is not None:
                    cell_event(index, cell, started, failure)
                    break
                # A cell tagged raises-exception may end in an error and the run goes on (as in
                # Jupyter); its event still says what happened.
                errored = any(o.get('output_type') == 'error' for o in cell.get('outputs', []))
                cell_event(index, cell, started, error_of(cell, None) if errored else None)
    except Interrupted:
        # The event loop was cut off mid-await: its leftover tasks would only print noise at
        # exit, so stop the kernel, save what ran and leave without the interpreter's teardown.
        stop_kernel(km)
        try:
            km.cleanup_connection_file()
            save(nbformat, nb, out_path)
            fail('interrupted; the partly executed notebook is in %s' % out_path, 130)
        finally:
            os._exit(130)
    except Exception as e:
        if failure is None:
            save(nbformat, nb, out_path)
            return fail('the kernel (%s -m ipykernel_launcher) could not run: %s: %s' % (sys.executable, type(e).__name__, e), 1)
    finally:
        stop_kernel(km)

    save(nbformat, nb, out_path)
    if failure is not None:
        ename, evalue, _ = failure
        return fail('cell %d failed: %s: %s' % (index, ename, evalue), 1)
    labbook._emit('notebook', path=out_path)
    return 0


def stop_kernel(km):
    # nbclient shuts the kernel down on the way out; this covers the paths where it could not
    # (interrupted mid-await, failed start).
    try:
        proc = getattr(km.provisioner, 'process', None) if km.provisioner else None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(5)
    except Exception:
        pass


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
