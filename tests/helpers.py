"""Small helpers shared by the test modules (not fixtures: plain functions)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
