"""Describes this Python interpreter for Labbook: prints one JSON object on stdout.

    {"executable": ..., "version": "3.11.2", "implementation": "CPython",
     "platform": ..., "packages": {name: version}, "site_dirs": [...]}

`packages` lists the installed distributions this interpreter would import, by the name
their metadata gives; when two folders on sys.path hold the same distribution, the one
earlier on sys.path is the one Python imports, so that one is reported. `site_dirs` are the
folders holding those distributions, in sys.path order.
"""

import json
import platform
import re
import sys
from importlib import metadata


def _canonical(name):
    # Distribution names compare case-insensitively, with runs of -_. equivalent (PEP 503).
    return re.sub(r'[-_.]+', '-', name).lower()


def probe():
    packages = {}
    taken = set()
    site_dirs = []
    # distributions() walks sys.path in order, so the first one met is the one imported.
    for dist in metadata.distributions():
        try:
            name = dist.metadata['Name']
            version = dist.version
        except Exception:
            continue  # a broken .dist-info should not hide the rest
        if not name or version is None:
            continue
        key = _canonical(name)
        if key in taken:
            continue
        taken.add(key)
        packages[name] = version
        try:
            where = str(dist.locate_file(''))
        except Exception:
            continue
        if where not in site_dirs:
            site_dirs.append(where)
    return {
        'executable': sys.executable,
        'version': platform.python_version(),
        'implementation': platform.python_implementation(),
        'platform': platform.platform(),
        'packages': dict(sorted(packages.items(), key=lambda kv: kv[0].lower())),
        'site_dirs': site_dirs,
    }


if __name__ == '__main__':
    sys.stdout.write(json.dumps(probe()) + '\n')
