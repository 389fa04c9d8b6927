"""Running external commands with readable failures."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from buildlab.support.errors import BuildlabError


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


def running_pid(pid_file: Path) -> int | None:
    """The process whose PID a background server's start wrote to `pid_file`, if it still runs
    (None: gone, or never started by us)."""
    try:
        pid = int(pid_file.read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def stop_process(pid: int, timeout: float = 10) -> None:
    """SIGTERM, then wait until the process is gone (reaped, when it is our own child: a
    zombie would still answer os.kill(pid, 0))."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:  # not our child: its parent reaps it
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.05)


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
