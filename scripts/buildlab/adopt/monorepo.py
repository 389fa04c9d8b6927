"""What adopt reads from a repository that holds more than one project: a uv workspace (the
member to build, `--package`, and the workspace libraries it uses) or a Poetry project with
path dependencies on libraries of the same repository. Either way the image installs only
dependencies, and the code folders go on SOURCE_ROOT's path, separated by ':'."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildlab.support.errors import UsageError


@dataclass(frozen=True)
class CodeFolders:
    folders: tuple[str, ...]  # relative to the project, the service's first
    why: str
    package: str = ""  # a uv workspace member's name (the top block's PACKAGE)


def _toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text()) if path.is_file() else {}


def code_folder(project: Path, folder: str) -> str:
    """The folder a project's packages are imported from: its src/ when they are there."""
    base = project / folder
    if (base / "src").is_dir() and any((base / "src").glob("*/__init__.py")):
        return "src" if folder == "." else f"{folder}/src"
    return folder


def _uv_members(project: Path, root: dict[str, Any]) -> dict[str, str]:
    """name -> folder of every uv workspace member (the root itself left out)."""
    workspace = root.get("tool", {}).get("uv", {}).get("workspace", {})
    excluded = {p.resolve() for g in workspace.get("exclude", []) for p in project.glob(g)}
    members: dict[str, str] = {}
    for pattern in workspace.get("members", []):
        for folder in sorted(project.glob(pattern)):
            if folder.resolve() in excluded or folder.resolve() == project.resolve():
                continue
            name = _toml(folder / "pyproject.toml").get("project", {}).get("name")
            if name:
                members[normalized(str(name))] = folder.relative_to(project).as_posix()
    return members


def normalized(name: str) -> str:
    """A package name as the index compares them (PEP 503): calendar_words is calendar-words."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _sources(pyproject: dict[str, Any]) -> dict[str, Any]:
    return dict(pyproject.get("tool", {}).get("uv", {}).get("sources", {}))


def _workspace_dependencies(project: Path, folder: str, members: dict[str, str]) -> list[str]:
    """The workspace members a member uses (`{ workspace = true }` sources, its own or the
    root's, which every member inherits), transitively."""
    inherited = _sources(_toml(project / "pyproject.toml"))
    found: list[str] = []
    todo = [folder]
    while todo:
        current = todo.pop()
        sources = {**inherited, **_sources(_toml(project / current / "pyproject.toml"))}
        for name, source in sources.items():
            member = members.get(normalized(name))
            if isinstance(source, dict) and source.get("workspace") and member:
                if member not in found and member != folder:
                    found.append(member)
                    todo.append(member)
    return found


def uv_workspace(project: Path, package: str | None) -> CodeFolders | None:
    """The member to build of a uv workspace, or None for a project that is none."""
    members = _uv_members(project, _toml(project / "pyproject.toml"))
    if not members:
        if package is not None:
            raise UsageError("--package is for a member of a uv workspace, and this is none")
        return None
    listed = ", ".join(sorted(members))
    if package is None:
        raise UsageError(
            f"a uv workspace (members: {listed}): pass --package NAME, the one to build"
        )
    if normalized(package) not in members:
        raise UsageError(
            f"--package {package}: no member of this workspace has that name ({listed})"
        )
    folder = members[normalized(package)]
    libraries = _workspace_dependencies(project, folder, members)
    folders = tuple(code_folder(project, f) for f in (folder, *libraries))
    why = f"--package {package}: its folder" + (
        f" and the workspace libraries it uses ({', '.join(libraries)})" if libraries else ""
    )
    return CodeFolders(folders, why, package)


def poetry_path_dependencies(project: Path) -> CodeFolders | None:
    """A Poetry project's path dependencies inside the project (libraries of the repository),
    or None when it has none."""
    tables = _toml(project / "pyproject.toml").get("tool", {}).get("poetry", {})
    paths = [  # the main group's: the image installs no other
        spec["path"]
        for spec in tables.get("dependencies", {}).values()
        if isinstance(spec, dict) and "path" in spec
    ]
    if not paths:
        return None
    outside = [p for p in paths if not (project / p).resolve().is_relative_to(project.resolve())]
    if outside:
        raise UsageError(
            f"path dependency {outside[0]} is outside the project, where the build cannot see "
            "it: adopt the folder that holds both"
        )
    libraries = [Path(p).as_posix().strip("/") for p in paths]
    folders = (code_folder(project, "."), *(code_folder(project, f) for f in libraries))
    return CodeFolders(folders, f"path dependencies on {', '.join(libraries)} (--no-directory)")
