"""Reading and editing the text of manifests and locks, shared by the tools' rules (tools.py):
PEP 621 dependencies, one-line edits that must find what they change, TOML lock packages and
the markers on their dependency edges."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from buildlab.support.errors import BuildlabError


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# What a Linux image with Python 3.13 evaluates lock markers with (conditional_packages).
LINUX_PY313 = {
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "python_version": "3.13",
    "python_full_version": "3.13.0",
}


def pep621_dependencies(data: dict[str, object]) -> dict[str, str]:
    from packaging.requirements import Requirement

    project = data.get("project")
    lines = project.get("dependencies", []) if isinstance(project, dict) else []
    found = {}
    for line in lines:
        req = Requirement(line)
        found[normalize(req.name)] = str(req.specifier)
    return found


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if old not in text:
        raise BuildlabError(f"{path} has no {old.strip()!r} to edit")
    path.write_text(text.replace(old, new, 1))


def drop_line(path: Path, pattern: str) -> None:
    lines = path.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not re.search(pattern, line)]
    if len(kept) == len(lines):
        raise BuildlabError(f"{path}: no line matches {pattern!r}")
    path.write_text("".join(kept))


def toml_packages(lock: str) -> list[dict[str, Any]]:
    return list(tomllib.loads(lock).get("package", []))


MARKED_EDGE = re.compile(r'(?:name = "|^)([A-Za-z0-9][A-Za-z0-9._-]*)"?\s*=?\s*\{?.*markers? = ')


def marked_edges(lock: str) -> set[str]:
    """uv.lock and poetry.lock mark the dependency edge: { name = "x", marker = ... }."""
    names = set()
    for line in lock.splitlines():
        found = re.search(
            r'(?:name = "|^)([A-Za-z0-9][A-Za-z0-9._-]*)"?\s*=?\s*\{?.*markers? = ', line
        )
        if found:
            names.add(normalize(found.group(1)))
    return names
