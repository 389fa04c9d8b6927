"""Running external commands with readable failures."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence

from buildlab.errors import BuildlabError


def run(
    args: Sequence[str],
    *,
    check: bool = True,
    input_text: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    cwd: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capture its output, and raise BuildlabError with its tail on failure."""
    if shutil.which(args[0]) is None:
        raise BuildlabError(f"{args[0]} is not installed (needed for: {' '.join(args[:3])})")
    try:
        result = subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            input=input_text,
            env=None if env is None else dict(env),
            timeout=timeout,
            cwd=cwd,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BuildlabError(f"timed out after {timeout:.0f} s: {' '.join(args)}") from exc
    if check and result.returncode != 0:
        raise BuildlabError(
            f"command failed (exit {result.returncode}): {' '.join(args)}",
            detail=tail(result.stderr or result.stdout),
        )
    return result


def tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])
