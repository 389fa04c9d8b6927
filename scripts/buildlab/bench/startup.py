"""How long the app takes to import when its image starts, with and without byte-code."""

from __future__ import annotations

import json

from buildlab.course.model import App
from buildlab.engine import labels
from buildlab.support.errors import (
    BuildlabError,
)
from buildlab.support.proc import run

# Imports timed per start-up mode (each in a fresh interpreter, after one warm-up import).
IMPORT_SAMPLES = 5


IMPORT_TIMER = """
import statistics, subprocess, sys
code = "import time; t = time.perf_counter(); import {package}; print(time.perf_counter() - t)"
subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
times = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True).stdout) for _ in range({samples})]
print(round(statistics.median(times) * 1000, 1))
"""


# PYTHONPYCACHEPREFIX moves where Python reads and writes byte-code: a writable tmpfs folder
# (filled by the warm-up import) gives every module byte-code; a missing one on a read-only
# file system gives none.
# PYTHONDONTWRITEBYTECODE is emptied for the warm-up to write there (`docker init` sets it).
STARTUP_MODES = {
    "as_built": [],
    "all_bytecode": [
        "--env",
        "PYTHONPYCACHEPREFIX=/tmp/pycache",
        "--env",
        "PYTHONDONTWRITEBYTECODE=",
    ],
    "no_bytecode": ["--env", "PYTHONPYCACHEPREFIX=/nonexistent/pycache"],
}


# The interpreter the server runs on: the one named in the shebang of the CMD's program
# (a venv's gunicorn names the venv's python), or `python` for a program that is no script.
WITH_SERVER_PYTHON = (
    'interpreter=$(head -n 1 "$(command -v "$0")" 2>/dev/null | sed -n "s/^#!//p"); '
    'exec ${interpreter:-python} -c "$1"'
)


def startup_import_ms(tag: str, app: App) -> dict[str, float]:
    """Median milliseconds to import the app in a fresh interpreter of the image, run as in
    production (read-only root, tmpfs /tmp): with the byte-code the image has, with byte-code
    for every module, and with none."""
    cmd = json.loads(
        run(["docker", "image", "inspect", "--format", "{{json .Config.Cmd}}", tag]).stdout
        or "null"
    ) or ["python"]
    out = {}
    script = IMPORT_TIMER.format(package=app.package, samples=IMPORT_SAMPLES)
    for mode, env in STARTUP_MODES.items():
        args = [
            "docker",
            "run",
            "--rm",
            *labels.label_args(),
            "--read-only",
            "--tmpfs",
            "/tmp",
            *env,
            "--entrypoint",
            "sh",
            tag,
            "-c",
            WITH_SERVER_PYTHON,
            cmd[0],
            script,
        ]
        result = run(args, check=False, timeout=600)
        if result.returncode != 0:
            raise BuildlabError(
                f"timing imports of {app.package} failed in {tag}",
                detail=(result.stdout + result.stderr)[-2000:],
            )
        out[mode] = float(result.stdout.strip().splitlines()[-1])
    return out
