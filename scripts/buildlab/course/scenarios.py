"""Build scenarios shared by the demo and the claim tests: scratch copies and code changes."""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from buildlab.course import locks, topblock
from buildlab.course.model import App, Lesson, Manifest, Peer, Shape, Variant
from buildlab.course.tools import TOOLS
from buildlab.support.errors import BuildlabError
from buildlab.support.scratch import IGNORED_IN_COPY, scratch_dir


@contextmanager
def scratch_copy(variant: Variant) -> Iterator[Path]:
    """A temporary copy of the variant folder."""
    with scratch_dir(variant.directory) as target:
        yield target


def make_dependency_file_change(context: Path, tool: str) -> None:
    """An edit that invalidates the dependency layer while the lock stays valid: a comment."""
    with (context / TOOLS[tool].dependency_edit_file).open("a") as handle:
        handle.write(f"# changed by buildlab {secrets.token_hex(4)}\n")


# The version in pyproject.toml's [project] table, and the text before it.
PROJECT_VERSION = re.compile(r'(?m)^(\[project\]\n(?:[^\[\n].*\n|\n)*?version *= *")([^"]*)"')


def project_version(context: Path) -> str:
    """The project's version in pyproject.toml's [project] table ("" when it states none)."""
    path = context / "pyproject.toml"
    found = PROJECT_VERSION.search(path.read_text()) if path.is_file() else None
    return found.group(2) if found else ""


def make_release(context: Path, tool_name: str, image: str) -> str:
    """A release: the project's version set to one no build has seen (a cached result of an
    earlier run must not stand in for this one), by the tool's own command in `image` (uv also
    writes it into uv.lock), or, for a tool with no such command (pip-tools), in
    pyproject.toml as a person would. Returns the new version."""
    tool = TOOLS[tool_name]
    before = project_version(context)
    if not before:
        raise BuildlabError(f"{context}: pyproject.toml's [project] table states no version")
    version = f"{before.split('.')[0]}.{secrets.randbelow(10**6)}.{secrets.randbelow(10**6)}"
    if tool.version_bump:
        locks.run_tool(image, tool_name, context, tool.version_bump.format(version=version))
    else:
        path = context / "pyproject.toml"
        path.write_text(
            PROJECT_VERSION.sub(lambda m: f'{m.group(1)}{version}"', path.read_text(), count=1)
        )
    if project_version(context) != version:
        raise BuildlabError(f"{tool.name} did not set the version to {version}")
    return version


def make_code_change(context: Path, app: App) -> None:
    """A real, code-only edit: a new function in the app's code file. No dependency changes."""
    token = secrets.token_hex(4)
    with (context / app.code_file).open("a") as handle:
        handle.write(f"\n\ndef build_marker() -> str:\n    return {token!r}\n")


def make_install_log_verbose(context: Path, tool: str) -> None:
    """Append the tool's verbosity flag (if it needs one) to the dependency install command,
    so its log says where each package came from. The command is found through the tool's
    `install_pattern`, like every other reading of that step."""
    flag = TOOLS[tool].log_flag
    if not flag:
        return
    dockerfile = context / "Dockerfile"
    needle = re.compile(TOOLS[tool].install_pattern)
    lines = dockerfile.read_text().splitlines(keepends=True)
    for number, line in enumerate(lines):
        if needle.search(line) and not line.lstrip().startswith("#"):
            lines[number] = needle.sub(lambda match: match.group(0) + flag, line, count=1)
            dockerfile.write_text("".join(lines))
            return
    raise BuildlabError(
        f"{dockerfile}: no instruction matches '{needle.pattern}' (the tool's install_pattern)"
    )


CMD_LINE = re.compile(r"^CMD .*$", flags=re.MULTILINE)


def use_other_app(context: Path, lesson: Lesson, tool_name: str, first: App, other: App) -> None:
    """Turn a copy of a lesson folder into the same lesson for another app: its package,
    manifest and lock (from apps/NAME/manifests/TOOL, in the lesson's lock style). In the
    Dockerfile only what a reader would edit changes: in a production lesson, the values of
    its "Your project" block (topblock.py); elsewhere (earlier lessons, peers), every
    instruction that names the first app's package names the other's, and where the other app
    runs on another server (uvicorn, not gunicorn) the CMD becomes its production CMD."""
    tool = TOOLS[tool_name]
    for folder in (first.package, "tests"):
        shutil.rmtree(context / folder, ignore_errors=True)
    shutil.copytree(
        other.source_dir / other.package, context / other.package, ignore=IGNORED_IN_COPY
    )
    source = other.manifests_dir(tool_name)
    for name in tool.manifest_files:
        shutil.copy2(source / name, context / name)
    pinned = source / "pinned" / tool.lock_file
    lock = (
        pinned if tool.lock_style_matters and not lesson.hashed_locks else source / tool.lock_file
    )
    shutil.copy2(lock, context / tool.lock_file)
    dockerfile = context / "Dockerfile"
    text = dockerfile.read_text()
    if topblock.has_top_block(text):
        dockerfile.write_text(topblock.with_values(text, dict(other.top_block)))
        return
    if len(CMD_LINE.findall(text)) != 1:
        raise BuildlabError(f"{dockerfile} needs exactly one CMD line to swap in {other.name}'s")
    if other.production_cmd[0] != first.production_cmd[0]:
        text = CMD_LINE.sub(lambda _: f"CMD {json.dumps(list(other.production_cmd))}", text)
    lines = [
        line
        if line.lstrip().startswith("#")
        else re.sub(rf"\b{first.package}\b", other.package, line)
        for line in text.splitlines(keepends=True)
    ]
    dockerfile.write_text("".join(lines))


def shape_app(manifest: Manifest, shape: Shape) -> App:
    """The shape's sample app as the shape serves it: its port, its code under SOURCE_ROOT."""
    app = manifest.apps[shape.app]
    port = int(dict(shape.top_block).get("PORT", app.port))
    root = shape.source_root
    code_file = app.code_file if root == "." else f"{root}/{app.code_file}"
    return dataclasses.replace(app, port=port, code_file=code_file)


@contextmanager
def shaped_project(manifest: Manifest, shape: Shape, lesson_folder: Path) -> Iterator[Path]:
    """A temporary project of the shape: its files, its app's package under SOURCE_ROOT, and
    the lesson folder's Dockerfile and .dockerignore with only the top block set."""
    app = manifest.apps[shape.app]
    with scratch_dir(shape.directory) as project:
        shutil.copytree(
            app.source_dir / app.package,
            project / shape.source_root / app.package,
            ignore=IGNORED_IN_COPY,
        )
        shutil.copy2(lesson_folder / ".dockerignore", project / ".dockerignore")
        text = (lesson_folder / "Dockerfile").read_text()
        (project / "Dockerfile").write_text(topblock.with_values(text, dict(shape.top_block)))
        yield project


def use_peer_dockerfile(context: Path, peer: Peer) -> None:
    """Replace a lesson folder copy's Dockerfile and .dockerignore with a peer's."""
    for name in ("Dockerfile", ".dockerignore"):
        shutil.copy2(peer.directory / name, context / name)


def add_after_code(context: Path, line: str) -> None:
    """Add one instruction right after the Dockerfile's last `COPY . .` (a variation)."""
    dockerfile = context / "Dockerfile"
    text = dockerfile.read_text()
    marker = "\nCOPY . .\n"
    if marker not in text:
        raise BuildlabError(f"{dockerfile} has no `COPY . .` line to add {line!r} after")
    head, _, tail = text.rpartition(marker)
    dockerfile.write_text(f"{head}{marker}{line}\n{tail}")


# Files a developer's folder often holds that must never reach an image (lesson 04 on).
STRAY_FILES = {
    ".env": "SECRET_KEY=from-the-build-machine\n",
    "tests/test_stray.py": "def test_stray() -> None:\n    pass\n",
    ".git/HEAD": "ref: refs/heads/main\n",
    "{package}/__pycache__/stray.cpython-313.pyc": "not byte-code from this image\n",
    "{package}/stray.pyc": "not byte-code from this image\n",
}


def add_stray_files(context: Path, app: App) -> list[str]:
    """Write the files of STRAY_FILES into a scratch copy; returns their paths in the context."""
    paths = []
    for name, content in STRAY_FILES.items():
        path = context / name.format(package=app.package)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        paths.append(name.format(package=app.package))
    return paths
