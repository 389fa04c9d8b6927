"""Scratch copies: a temporary copy of a folder, edited freely, removed whatever happens."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

IGNORED_IN_COPY = shutil.ignore_patterns(".venv", "__pycache__", ".pytest_cache")


@contextmanager
def scratch_dir(directory: Path) -> Iterator[Path]:
    """A temporary copy of a folder (the working tree is never touched)."""
    with tempfile.TemporaryDirectory(prefix="buildlab-") as tmp:
        target = Path(tmp) / directory.name
        shutil.copytree(directory, target, ignore=IGNORED_IN_COPY)
        yield target


@contextmanager
def run_temporary_folder() -> Iterator[Path]:
    """One folder for every temporary folder of this run, removed when the run ends however it
    ends: a Ctrl-C that lands between a folder's creation and its clean-up hook cannot leave one
    behind."""
    parent = Path(tempfile.mkdtemp(prefix="buildlab-run-"))
    previous = tempfile.tempdir
    tempfile.tempdir = str(parent)
    try:
        yield parent
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(parent, ignore_errors=True)
