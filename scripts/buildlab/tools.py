"""What each dependency tool needs: its manifest files, its lock file, how to lock and check."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Tool:
    name: str
    package: str  # the PyPI distribution that provides the tool (version in pins.toml)
    manifest_files: tuple[str, ...]
    lock_file: str
    lock_command: str  # run inside the lesson's base image by `buildlab relock`
    # The tool's own freshness check. `check_in_image`: it needs the image's Python (uv
    # refuses an interpreter older than requires-python), so it runs in the base image too.
    check_command: str
    check_in_image: bool
    # The file a "dependency-file change" edits: it invalidates the dependency layer while the
    # lock stays valid (a comment added to it).
    dependency_edit_file: str
    # What the tool prints when `docker build` meets a manifest that was changed without
    # re-locking (lessons 03 and 07 prove the build stops with it).
    stale_lock_message: str
    # Evidence in the tool's own log of where packages came from (lesson 06). `log_flag` is
    # added to the install command in a scratch copy when the default log does not say.
    downloaded: str  # regex: a line that means a package came from the network
    from_cache: str  # regex: a line that means a package was installed without downloading
    log_flag: str
    executables: tuple[str, ...]  # the tool's commands, absent from a runtime image
    # Files that differ between two clean builds even with SOURCE_DATE_EPOCH (lesson 08).
    not_reproducible: tuple[str, ...] = ()

    def lock(self, *, hashed: bool) -> str:
        return self.lock_command.format(hashes=" --generate-hashes" if hashed else "")

    def check(self, *, hashed: bool) -> str:
        return self.check_command.format(hashes=" --generate-hashes" if hashed else "")


PIP_DOWNLOADED = r"^\s*Downloading \S+"
PIP_FROM_CACHE = r"^\s*Using cached \S+"

# virtualenv (under pipenv and Poetry) seeds pip into the venv; its RECORD differs per build.
SEEDED_PIP_RECORD = r"/app/\.venv/lib/python3\.\d+/site-packages/pip-[\d.]+\.dist-info/RECORD: content"

PIP_COMPILE = ("pip-compile --quiet --strip-extras{hashes} --output-file=requirements.txt "
               "pyproject.toml")

TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool(
            "pip-tools",
            "pip-tools",
            ("pyproject.toml",),
            "requirements.txt",
            PIP_COMPILE,
            # pip-tools has no check mode: compile again (existing pins kept) and compare.
            f"cp requirements.txt /tmp/committed.txt && {PIP_COMPILE} && "
            "diff -u /tmp/committed.txt requirements.txt",
            True,
            "requirements.txt",
            "requires rich, which is not installed",
            PIP_DOWNLOADED,
            PIP_FROM_CACHE,
            "",
            ("pip-compile", "pip-sync"),
        ),
        Tool("pipenv", "pipenv", ("Pipfile",), "Pipfile.lock", "pipenv lock", "pipenv verify",
             False, "Pipfile", "Aborting deploy", PIP_DOWNLOADED, PIP_FROM_CACHE, " --verbose",
             ("pipenv",), (SEEDED_PIP_RECORD,)),
        # Poetry logs each file it fetches at -vvv (urllib3's "GET /packages/...").
        Tool("poetry", "poetry", ("pyproject.toml",), "poetry.lock", "poetry lock",
             "poetry check --lock", False, "pyproject.toml",
             "pyproject.toml changed significantly since poetry.lock was last generated",
             r'"GET /packages/', r"^\s*- Installing \S+ \(", " -vvv", ("poetry",),
             (SEEDED_PIP_RECORD,)),
        # uv prints "Prepared N packages" only when it had to download or build some.
        Tool("uv", "uv", ("pyproject.toml",), "uv.lock", "uv lock", "uv lock --check", True,
             "pyproject.toml", "needs to be updated, but `--locked` was provided",
             r"^(Prepared \d+ packages?|\s*Downloading)", r"^Installed \d+ packages?", "",
             ("uv", "uvx")),
    )
}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(tool: str, directory: Path) -> dict[str, str]:
    """name -> version of every package the lock installs into the runtime (not the project)."""
    text = (directory / TOOLS[tool].lock_file).read_text()
    if tool == "pip-tools":
        pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", text, flags=re.M)
        return {normalize(name): version for name, version in pins}
    if tool == "pipenv":
        default = json.loads(text)["default"]
        return {normalize(name): spec["version"].lstrip("=") for name, spec in default.items()}
    packages = tomllib.loads(text)["package"]
    if tool == "poetry":
        return {normalize(p["name"]): p["version"] for p in packages
                if "main" in p.get("groups", ["main"])}
    return {normalize(p["name"]): p["version"] for p in packages
            if not {"editable", "virtual"} & set(p.get("source", {}))}


def conditional_packages(tool: str, directory: Path) -> set[str]:
    """Locked packages that a Linux image with Python 3.13 does not install (their markers)."""
    text = (directory / TOOLS[tool].lock_file).read_text()
    if tool == "pipenv":
        from packaging.markers import Marker

        linux = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                 "python_version": "3.13", "python_full_version": "3.13.0"}
        default = json.loads(text)["default"]
        return {normalize(name) for name, spec in default.items()
                if spec.get("markers") and not Marker(spec["markers"]).evaluate(linux)}
    names = set()
    for line in text.splitlines():
        if tool == "pip-tools":
            match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==\S+\s*;", line)
        else:  # uv.lock and poetry.lock mark the dependency edge: { name = "x", marker = ...}
            match = re.search(r'(?:name = "|^)([A-Za-z0-9][A-Za-z0-9._-]*)"?\s*=?\s*\{?.*markers? = ', line)
        if match:
            names.add(normalize(match.group(1)))
    return names
