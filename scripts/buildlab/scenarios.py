"""Build scenarios shared by the demo and the claim tests: scratch copies and code changes."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from buildlab import buildlog, docker
from buildlab.manifest import App, Variant

IGNORED_IN_COPY = shutil.ignore_patterns(".venv", "__pycache__", ".pytest_cache")


@contextmanager
def scratch_copy(variant: Variant) -> Iterator[Path]:
    """A temporary copy of the variant folder (the working tree is never touched)."""
    with tempfile.TemporaryDirectory(prefix="buildlab-") as tmp:
        target = Path(tmp) / variant.tool
        shutil.copytree(variant.directory, target, ignore=IGNORED_IN_COPY)
        yield target


def make_code_change(context: Path, app: App) -> None:
    """A real, code-only edit: a new function in the app's code file. No dependency changes."""
    token = secrets.token_hex(4)
    with (context / app.code_file).open("a") as handle:
        handle.write(f"\n\ndef build_marker() -> str:\n    return {token!r}\n")


def dependency_step(result: docker.BuildResult, variant: Variant) -> buildlog.Step:
    """The RUN step that installs the dependencies (named per variant in lessons.toml)."""
    return buildlog.find_step(result.steps, variant.lesson.dependency_step[variant.tool])
