"""`adopt --relock`: a pip-compile lock without hashes compiled again with --generate-hashes,
by the project's own pip-compile command (the one its header records), inside the image's
Python: the tool's own output, never an edit by hand. Existing pins are kept (pip-compile
reuses what the lock pins), so the versions stay; only the hashes are new."""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

from buildlab.adopt.detect import DEV_LOCK
from buildlab.course.locks import run_tool
from buildlab.course.tools import TOOLS
from buildlab.support.errors import BuildlabError

# pip-compile's header: "# by the following command:", "#", then the command it ran.
RECORDED_COMMAND = re.compile(r"^# by the following command:\n#\n#    (pip-compile\b[^\n]*)$", re.M)


def recorded_command(lock: str) -> str | None:
    """The pip-compile command a lock's header says made it (None: it records none)."""
    found = RECORDED_COMMAND.search(lock)
    return found.group(1).strip() if found else None


def with_hashes(command: str) -> str:
    return (
        command if "--generate-hashes" in shlex.split(command) else f"{command} --generate-hashes"
    )


def unhashed_locks(project: Path) -> list[Path]:
    """The pip-compile locks without hashes that an image would install: a dev or test lock
    (requirements-dev.txt) only when there is no other; its header may record no command."""
    found = TOOLS["pip-tools"].find_locks(project)
    unhashed = [p for p in found if "--hash=" not in p.read_text()]
    return [p for p in unhashed if not DEV_LOCK.search(p.stem)] or unhashed


def relock_without_hashes(
    project: Path, image: str, say: Callable[[str], None] = print
) -> list[Path]:
    """Compile every pip-compile lock of the project that has no hashes again, with hashes, in
    `image`; the files keep their owner. Returns the locks compiled."""
    unhashed = unhashed_locks(project)
    if not unhashed:
        say("adopt --relock: every pip-compile lock has hashes already")
        return []
    present = subprocess.run(
        ["docker", "image", "inspect", image], capture_output=True, text=True, check=False
    )
    if present.returncode != 0:
        raise BuildlabError(
            f"adopt --relock: {image} is not on this engine: pull it, or pick a Python this "
            "engine has with --python"
        )
    for lock in unhashed:
        relative = lock.relative_to(project)
        command = recorded_command(lock.read_text())
        if command is None:
            raise BuildlabError(
                f"adopt --relock: {relative}'s header records no pip-compile command to run "
                "again; compile it yourself with `pip-compile --generate-hashes`"
            )
        command = with_hashes(command)
        say(f"adopt --relock: {command}  (in {image}, for {relative})")
        owner = f'chown "$(stat -c %u:%g .)" {shlex.quote(str(relative))}'
        run_tool(image, "pip-tools", project, f"{command} && {owner}", env={})
        if "--hash=" not in lock.read_text():
            raise BuildlabError(f"adopt --relock: {command} wrote {relative} without hashes")
    return unhashed
