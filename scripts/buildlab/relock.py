"""`buildlab relock`: lock files made by each tool inside the lesson's own base image.

Same Python, same OS as the image that installs from the lock. Variants that share an image,
a tool and identical manifest files are locked once and the lock is copied to each of them.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

from buildlab.docker import LABEL, run_in_image
from buildlab.engine import require_engine
from buildlab.manifest import Manifest, Variant
from buildlab.pins import load_pins
from buildlab.tools import TOOLS

IGNORED_IN_COPY = shutil.ignore_patterns(".venv", "__pycache__", ".pytest_cache")


def group_key(variant: Variant) -> tuple[str, str, str]:
    tool = TOOLS[variant.tool]
    digest = hashlib.sha256()
    for name in tool.manifest_files:
        digest.update((variant.directory / name).read_bytes())
    image = load_pins().image(variant.lesson.base)
    return (image, variant.tool, digest.hexdigest())


def relock(manifest: Manifest, variants: list[Variant], *, upgrade: bool, say=print) -> None:  # type: ignore[no-untyped-def]
    require_engine()
    groups: dict[tuple[str, str, str], list[Variant]] = defaultdict(list)
    for variant in variants:
        groups[group_key(variant)].append(variant)
    for (image, tool_name, _), members in groups.items():
        tool = TOOLS[tool_name]
        first = members[0]
        say(f"relock: {tool_name} in {image} for {', '.join(m.name for m in members)}")
        with tempfile.TemporaryDirectory(prefix="buildlab-relock-") as tmp:
            work = Path(tmp) / "project"
            shutil.copytree(first.directory, work, ignore=IGNORED_IN_COPY)
            if upgrade:
                (work / tool.lock_file).unlink(missing_ok=True)
            version = load_pins().tool(tool.package)
            script = (
                f"pip install --quiet --root-user-action=ignore {tool.package}=={version}"
                f" && {tool.lock_command}"
            )
            run_in_image(
                image,
                script,
                mount=work,
                env={"CUSTOM_COMPILE_COMMAND": "buildlab relock", "PIPENV_VERBOSITY": "-1"},
            )
            lock = (work / tool.lock_file).read_bytes()
        for member in members:
            (member.directory / tool.lock_file).write_bytes(lock)


__all__ = ["LABEL", "relock"]
