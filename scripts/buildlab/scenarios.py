"""Build scenarios shared by the demo and the claim tests: scratch copies and code changes."""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from buildlab import buildlog, docker
from buildlab.errors import BuildlabError
from buildlab.manifest import App, Variant
from buildlab.tools import TOOLS

IGNORED_IN_COPY = shutil.ignore_patterns(".venv", "__pycache__", ".pytest_cache")


@contextmanager
def scratch_dir(directory: Path) -> Iterator[Path]:
    """A temporary copy of a folder (the working tree is never touched)."""
    with tempfile.TemporaryDirectory(prefix="buildlab-") as tmp:
        target = Path(tmp) / directory.name
        shutil.copytree(directory, target, ignore=IGNORED_IN_COPY)
        yield target


@contextmanager
def scratch_copy(variant: Variant) -> Iterator[Path]:
    """A temporary copy of the variant folder."""
    with scratch_dir(variant.directory) as target:
        yield target


def add_dependency(directory: Path, tool: str, name: str = "rich") -> None:
    """Declare one more dependency in the tool's manifest, without re-locking."""
    manifest = directory / TOOLS[tool].manifest_files[0]
    text = manifest.read_text()
    if tool == "pipenv":
        text = text.replace("[packages]\n", f'[packages]\n{name} = "*"\n', 1)
    else:
        text = text.replace("dependencies = [\n", f'dependencies = [\n    "{name}",\n', 1)
    manifest.write_text(text)


def make_dependency_file_change(context: Path, tool: str) -> None:
    """An edit that invalidates the dependency layer while the lock stays valid: a comment."""
    with (context / TOOLS[tool].dependency_edit_file).open("a") as handle:
        handle.write(f"# changed by buildlab {secrets.token_hex(4)}\n")


def make_code_change(context: Path, app: App) -> None:
    """A real, code-only edit: a new function in the app's code file. No dependency changes."""
    token = secrets.token_hex(4)
    with (context / app.code_file).open("a") as handle:
        handle.write(f"\n\ndef build_marker() -> str:\n    return {token!r}\n")


def dependency_step(result: docker.BuildResult, variant: Variant) -> buildlog.Step:
    """The RUN step that installs the dependencies (named per variant in lessons.toml)."""
    return buildlog.find_step(result.steps, variant.lesson.dependency_step[variant.tool])


def make_install_log_verbose(context: Path, variant: Variant) -> None:
    """Append the tool's verbosity flag (if it needs one) to the dependency install command,
    so its log says where each package came from. The command is found through the
    manifest's `dependency_step`, like every other reading of that step."""
    flag = TOOLS[variant.tool].log_flag
    if not flag:
        return
    dockerfile = context / "Dockerfile"
    needle = variant.lesson.dependency_step[variant.tool]
    lines = dockerfile.read_text().splitlines(keepends=True)
    for number, line in enumerate(lines):
        if needle in line and not line.lstrip().startswith("#"):
            lines[number] = line.replace(needle, needle + flag, 1)
            dockerfile.write_text("".join(lines))
            return
    raise BuildlabError(f"{variant.name}: no instruction in the Dockerfile has '{needle}' "
                        "(lessons.toml dependency_step)")


def use_second_app(context: Path, tool: str, first: App, second: App) -> None:
    """Turn a copy of a lesson folder into the same lesson for another app: its package,
    manifest and lock (from apps/NAME/manifests/TOOL) and its production CMD. Nothing else in
    the Dockerfile changes: that is the point of the copy-paste reference."""
    for folder in (first.package, "tests"):
        shutil.rmtree(context / folder, ignore_errors=True)
    shutil.copytree(second.source_dir / second.package, context / second.package,
                    ignore=IGNORED_IN_COPY)
    for source in (second.source_dir / "manifests" / tool).iterdir():
        shutil.copy2(source, context / source.name)
    dockerfile = context / "Dockerfile"
    old_cmd = f"CMD {json.dumps(list(first.production_cmd))}\n"
    text = dockerfile.read_text()
    if old_cmd not in text:
        raise ValueError(f"{dockerfile} has no {old_cmd.strip()!r}")
    dockerfile.write_text(text.replace(old_cmd, f"CMD {json.dumps(list(second.production_cmd))}\n"))
