"""Small helpers shared by the test modules (not fixtures: plain functions)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from buildlab.engine import labels

# Figures the claims measured on their way (requests served, stop times, digests), and how
# each negative control failed: printed at the end of the test run by conftest.py.
FACTS: list[str] = []
CONTROL_FAILURES: list[str] = []

FAILING_STEP = "RUN python -c \"raise SystemExit('no such package: boom')\""


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m buildlab ARGS` as a user runs it: captured output, never raises."""
    return subprocess.run(
        [sys.executable, "-m", "buildlab", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


def break_dockerfile(dockerfile: Path) -> None:
    """Insert a RUN that fails (saying 'no such package: boom') before the first WORKDIR."""
    dockerfile.write_text(
        dockerfile.read_text().replace("\nWORKDIR", f"\n{FAILING_STEP}\nWORKDIR", 1)
    )


PROJECTS = Path(__file__).parent / "projects"


def single_module_project(target: Path) -> Path:
    """tests/projects/single-module copied to `target`, with its lock: the Flask app's hashed
    pip-tools lock of lesson 07 (made by `buildlab relock`), which pins all that
    requirements.in asks for."""
    import shutil

    from buildlab.course.manifest import load_manifest

    lesson = load_manifest().production_lesson
    shutil.copytree(PROJECTS / "single-module", target)
    shutil.copy2(lesson.directory / "pip-tools" / "requirements.txt", target / "requirements.txt")
    return target


def labelled(session: str) -> list[str]:
    """The containers, images and networks a buildlab session labelled that still exist."""
    selector = f"{labels.SESSION_LABEL}={session}"
    return [
        id_
        for list_cmd, _, _ in labels.LABELLED_KINDS
        for id_ in labels.labelled_ids(list_cmd, selector)
    ]


def interruptible() -> None:
    """A child's SIGINT as a terminal gives it (a `preexec_fn`): a test run started in the
    background (`cmd &`) inherits SIGINT ignored, and the child would never see its Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
