"""Lock files made, and checked, by each tool inside the lesson's own base image.

Same Python, same OS as the image that installs from the lock. Variants that share an image,
a tool and identical manifest files are locked once and the lock is copied to each of them.
"""

from __future__ import annotations

import hashlib
import shlex
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from buildlab.docker import run_in_image
from buildlab.engine import require_engine
from buildlab.errors import BuildlabError, ContainerFailed
from buildlab.manifest import LockTarget
from buildlab.pins import load_pins
from buildlab.proc import tail
from buildlab.scenarios import scratch_dir
from buildlab.tools import TOOLS

# Env for tools run in the image: pip-compile's header says how to regenerate; quiet pipenv.
TOOL_ENV = {"CUSTOM_COMPILE_COMMAND": "buildlab relock", "PIPENV_VERBOSITY": "-1"}


def _groups(targets: list[LockTarget]) -> dict[tuple[str, str], list[LockTarget]]:
    """(image, tool, lock style) + identical manifest files -> the targets sharing one lock."""
    groups: dict[tuple[str, str], list[LockTarget]] = defaultdict(list)
    for target in targets:
        tool = TOOLS[target.tool]
        digest = hashlib.sha256(f"{target.tool} hashed={target.hashed}".encode())
        for name in (*tool.manifest_files, tool.lock_file):
            path = target.directory / name
            digest.update(path.read_bytes() if path.exists() else b"")
        groups[(load_pins().image(target.image_key), digest.hexdigest())].append(target)
    return groups


def _in_image(image: str, target: LockTarget, command: str, *, drop_lock: bool = False) -> bytes:
    """Run the pinned tool in `image` on a copy of the target folder; return the lock after."""
    tool = TOOLS[target.tool]
    with scratch_dir(target.directory) as work:
        if drop_lock:
            (work / tool.lock_file).unlink(missing_ok=True)
        version = load_pins().tool(tool.package)
        script = (f"pip install --quiet --root-user-action=ignore {tool.package}=={version}"
                  f" && {command}")
        run_in_image(image, script, mount=work, env=TOOL_ENV)
        return (work / tool.lock_file).read_bytes()


def relock(targets: list[LockTarget], *, upgrade: bool,
           say: Callable[[str], None] = print) -> None:
    require_engine()
    for (image, _), members in _groups(targets).items():
        tool = TOOLS[members[0].tool]
        say(f"relock: {tool.name} in {image} for {', '.join(m.name for m in members)}")
        command = tool.lock(hashed=members[0].hashed)
        lock = _in_image(image, members[0], command, drop_lock=upgrade)
        for member in members:
            (member.directory / tool.lock_file).write_bytes(lock)


def stale_locks(targets: list[LockTarget], *, in_image: bool) -> list[str]:
    """Each lock checked by its own tool; returns one line per stale lock.

    in_image=False runs the checks that work on the host (no Docker); in_image=True the ones
    that need the image's Python (see Tool.check_in_image).
    """
    problems: list[str] = []
    chosen = [t for t in targets if TOOLS[t.tool].check_in_image == in_image]
    if in_image and chosen:
        require_engine()
    for (image, _), members in _groups(chosen).items():
        tool = TOOLS[members[0].tool]
        if not (members[0].directory / tool.lock_file).exists():
            problems += [f"{m.name}: no {tool.lock_file}" for m in members]
            continue
        check = tool.check(hashed=members[0].hashed)
        try:
            if in_image:
                _in_image(image, members[0], check)
            else:
                _on_host(check, members[0].directory)
        except ContainerFailed:
            raise  # the engine failed, not the lock: say so instead of "stale"
        except BuildlabError as exc:
            reason = (exc.detail or exc.message).strip().splitlines()[-1:] or [""]
            problems += [f"{m.name}: {tool.lock_file} is stale ({check.split(' && ')[-1]}: "
                         f"{reason[0]})" for m in members]
    return problems


def _on_host(check: str, directory: Path) -> None:
    bindir = Path(sys.executable).parent
    args = shlex.split(check)
    args[0] = str(bindir / args[0])
    result = subprocess.run(args, cwd=directory, capture_output=True, text=True, check=False,
                            env={**TOOL_ENV, "PATH": f"{bindir}:/usr/bin:/bin",
                                 "HOME": str(Path.home()), "PIPENV_IGNORE_VIRTUALENVS": "1"})
    if result.returncode != 0:
        raise BuildlabError(check, detail=tail(result.stdout + result.stderr))
