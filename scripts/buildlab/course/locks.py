"""Lock files made (`relock`), and checked (`stale_locks`), by each tool inside the lesson's
own base image.

Same Python, same OS as the image that installs from the lock. Folders that share an image,
a tool, a lock style and identical manifest files are locked once and the lock is copied to
each of them.
"""

from __future__ import annotations

import hashlib
import shlex
import shutil
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path

from buildlab.course.model import LockFolder
from buildlab.course.tools import TOOLS
from buildlab.engine import private_index
from buildlab.engine.containers import run_container
from buildlab.engine.daemon import require_engine
from buildlab.engine.stand_ins import ensure_python, minor_tag
from buildlab.support.errors import BuildlabError, ContainerFailed
from buildlab.support.pins import load_pins
from buildlab.support.proc import tail
from buildlab.support.scratch import scratch_dir

# Env for tools run in the image: pip-compile's header says how to regenerate; quiet pipenv.
TOOL_ENV = {"CUSTOM_COMPILE_COMMAND": "buildlab relock", "PIPENV_VERBOSITY": "-1"}


def _groups(folders: list[LockFolder]) -> dict[tuple[str, str], list[LockFolder]]:
    """(image, tool, lock style) + identical manifest files -> the targets sharing one lock."""
    groups: dict[tuple[str, str], list[LockFolder]] = defaultdict(list)
    for folder in folders:
        tool = TOOLS[folder.tool]
        digest = hashlib.sha256(f"{folder.tool} hashed={folder.hashed}".encode())
        if folder.lock_command:  # a shape's own locks: never shared with another folder
            digest.update(str(folder.directory).encode())
        for path in (*(folder.directory / n for n in tool.manifest_files), *lock_paths(folder)):
            digest.update(path.read_bytes() if path.exists() else b"")
        image = load_pins().image(folder.image_key)
        if folder.python:  # the same image of another Python (`_ensure_pythons` builds it)
            image = minor_tag(image, folder.python)
        groups[(image, digest.hexdigest())].append(folder)
    return groups


def lock_path(folder: LockFolder) -> Path:
    """The folder's lock (the first, for a shape with several)."""
    return lock_paths(folder)[0]


def lock_paths(folder: LockFolder) -> list[Path]:
    if folder.lock_files:
        return [folder.directory / name for name in folder.lock_files]
    return [folder.directory / folder.lock_subdir / TOOLS[folder.tool].lock_file]


def _lock_names(folder: LockFolder) -> list[str]:
    """The lock files' names inside the work copy (the folder's root but for a shape's own)."""
    return list(folder.lock_files) or [TOOLS[folder.tool].lock_file]


def _in_image(
    image: str, folder: LockFolder, command: str, *, drop_lock: bool = False
) -> list[bytes]:
    """Run the pinned tool in `image` on a copy of the folder; return the locks after."""
    with scratch_dir(folder.directory) as work:
        locks = [work / name for name in _lock_names(folder)]
        if folder.lock_subdir:
            locks[0].unlink(missing_ok=True)
            if lock_path(folder).exists():
                shutil.copy2(lock_path(folder), locks[0])
        if drop_lock:
            for lock in locks:
                lock.unlink(missing_ok=True)
        run_tool(image, folder.tool, work, command, private=folder.private_index)
        return [lock.read_bytes() for lock in locks]


def run_tool(
    image: str,
    tool: str,
    directory: Path,
    command: str,
    *,
    private: bool = False,
    env: Mapping[str, str] = TOOL_ENV,
) -> None:
    """Run `command` with the pinned tool, in `image`, on `directory` (edited in place);
    `private`: with the private index's credentials (lesson 10's locks). `env`: ours (lock
    headers name `buildlab relock`), or a project's own ({}: pip-compile records itself)."""
    package = TOOLS[tool].package
    script = (
        f"pip install --quiet --root-user-action=ignore {package}=={load_pins().tool(package)}"
        f" && {command}"
    )
    run_container(
        image,
        ["sh", "-c", script],
        mount=directory,
        env=env,
        timeout=1800,
        extra_args=private_index.lock_args() if private else None,
    )


def _lock_command(folder: LockFolder) -> str:
    return folder.lock_command or TOOLS[folder.tool].lock(hashed=folder.hashed)


def _ensure_pythons(folders: list[LockFolder], *, fix: bool) -> None:
    """The base images of the other Pythons some folders lock in: present, or (fix) built."""
    for minor in sorted({folder.python for folder in folders if folder.python}):
        ensure_python(minor, fix=fix)


def relock(folders: list[LockFolder], *, upgrade: bool, say: Callable[[str], None] = print) -> None:
    require_engine()
    _ensure_pythons(folders, fix=True)
    for (image, _), members in _groups(folders).items():
        tool = TOOLS[members[0].tool]
        say(f"relock: {tool.name} in {image} for {', '.join(m.name for m in members)}")
        locks = _in_image(image, members[0], _lock_command(members[0]), drop_lock=upgrade)
        for member in members:
            for path, lock in zip(lock_paths(member), locks, strict=True):
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(lock)


def stale_locks(folders: list[LockFolder], *, in_image: bool) -> list[str]:
    """Each lock checked by its own tool; returns one line per stale lock.

    in_image=False runs the checks that work on the host (no Docker); in_image=True the ones
    that need the image's Python (see Tool.check_in_image).
    """
    problems: list[str] = []
    chosen = [f for f in folders if TOOLS[f.tool].check_in_image == in_image]
    if in_image and chosen:
        require_engine()
        _ensure_pythons(chosen, fix=False)  # a check builds nothing: doctor does
    for (image, _), members in _groups(chosen).items():
        tool = TOOLS[members[0].tool]
        missing = [path.name for path in lock_paths(members[0]) if not path.exists()]
        if missing:
            problems += [f"{m.name}: no {', '.join(missing)}" for m in members]
            continue
        if members[0].lock_command:  # a shape's own locks: locked again, they must not change
            again = _in_image(image, members[0], members[0].lock_command)
            changed = [
                path.name
                for path, lock in zip(lock_paths(members[0]), again, strict=True)
                if path.read_bytes() != lock
            ]
            problems += [f"{m.name}: {', '.join(changed)} stale" for m in members if changed]
            continue
        check = tool.check(hashed=members[0].hashed)
        try:
            if in_image:
                _in_image(image, members[0], check)
            else:
                with scratch_dir(members[0].directory) as work:
                    if members[0].lock_subdir:
                        shutil.copy2(lock_path(members[0]), work / tool.lock_file)
                    _on_host(check, work)
        except ContainerFailed:
            raise  # the engine failed, not the lock: say so instead of "stale"
        except BuildlabError as exc:
            reason = (exc.detail or exc.message).strip().splitlines()[-1:] or [""]
            problems += [
                f"{m.name}: {tool.lock_file} is stale ({check.split(' && ')[-1]}: {reason[0]})"
                for m in members
            ]
    return problems


def _on_host(check: str, directory: Path) -> None:
    bindir = Path(sys.executable).parent
    args = shlex.split(check)
    args[0] = str(bindir / args[0])
    result = subprocess.run(
        args,
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
        env={
            **TOOL_ENV,
            "PATH": f"{bindir}:/usr/bin:/bin",
            "HOME": str(Path.home()),
            "PIPENV_IGNORE_VIRTUALENVS": "1",
        },
    )
    if result.returncode != 0:
        raise BuildlabError(check, detail=tail(result.stdout + result.stderr))
