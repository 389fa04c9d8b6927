"""Background servers of the test engine (dockerd, the registry, pypiservers, `compose watch`):
started detached with their output in a log file, waited for until they answer, and stopped.
One way to do it, for all of them."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from buildlab.support.errors import EngineError
from buildlab.support.proc import stop_process


def log_tail(log: Path, lines: int = 10) -> str:
    if not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def spawn(
    args: list[str],
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """The command in its own session (Ctrl-C in the terminal does not reach it), its output
    appended to `log`, nothing on its stdin."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=None if env is None else dict(env),
            cwd=cwd,
        )


def start(
    args: list[str],
    *,
    what: str,
    log: Path,
    answers: Callable[[], bool],
    timeout: float = 30,
    pid_file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a server in the background and wait until `answers()`; its PID goes to
    `pid_file`. A server that exits or never answers is stopped, and is one EngineError
    saying `what` did not answer, with its log's tail."""
    process = spawn(args, log, env=env)
    if pid_file is not None:
        pid_file.parent.mkdir(parents=True, exist_ok=True)
        pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers():
            return process
        if process.poll() is not None:
            break
        time.sleep(0.2)
    stop_process(process.pid)
    raise EngineError(
        f"{what} did not answer within {timeout:.0f} s (is the port in use?); see {log}",
        detail=log_tail(log),
    )
