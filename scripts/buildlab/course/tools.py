"""What each dependency tool needs: its manifest files, its lock file, how to lock and check."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, kw_only=True)
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
    # A regular expression for the RUN instruction that installs the dependencies, in every
    # lesson: the first RUN it matches is the dependency step (the claim tests find it in
    # BuildKit's log).
    install_pattern: str
    # The file a "dependency-file change" edits: it invalidates the dependency layer while the
    # lock stays valid (a comment added to it).
    dependency_edit_file: str
    # What the build prints (a regex) when it meets a manifest that was changed without
    # re-locking: `rich` added (lessons 03 and 07 prove the build stops with it).
    stale_lock_message: str
    # Evidence in the tool's own log of where packages came from (lesson 06). `log_flag` is
    # added to the install command in a scratch copy when the default log does not say.
    downloaded: str  # regex: a line that means a package came from the network
    from_cache: str  # regex: a line that means a package was installed without downloading
    log_flag: str
    executables: tuple[str, ...]  # the tool's commands, absent from a runtime image
    # What the tool prints when a private index refuses its credentials: regexes that must
    # all match the build's output, `{index}` standing for the index's address (host:port).
    # pip (pip-tools, pipenv) logs the refusal itself only at -vv.
    refused: tuple[str, ...] = ()
    # A tool whose lock leaves the dev dependencies out (pip-compile) locks them in a second
    # file for a lesson's dev stage; the others' one lock has every group.
    dev_lock_file: str = ""
    dev_lock_command: str = ""

    @property
    def lock_style_matters(self) -> bool:
        """Whether a hashed and a pinned lock differ (only pip-compile's --generate-hashes)."""
        return self.lock(hashed=True) != self.lock(hashed=False)

    def lock(self, *, hashed: bool) -> str:
        return self.lock_command.format(hashes=" --generate-hashes" if hashed else "")

    def check(self, *, hashed: bool) -> str:
        return self.check_command.format(hashes=" --generate-hashes" if hashed else "")


PIP_DOWNLOADED = r"^\s*Downloading \S+"
PIP_FROM_CACHE = r"^\s*Using cached \S+"

PIP_COMPILE = (
    "pip-compile --quiet --strip-extras{hashes} --output-file=requirements.txt pyproject.toml"
)

TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool(
            name="pip-tools",
            package="pip-tools",
            manifest_files=("pyproject.toml",),
            lock_file="requirements.txt",
            lock_command=PIP_COMPILE,
            # pip-tools has no check mode: compile again (existing pins kept) and compare.
            check_command=(
                f"cp requirements.txt /tmp/committed.txt && {PIP_COMPILE} && "
                "diff -u /tmp/committed.txt requirements.txt"
            ),
            check_in_image=True,
            # `pip install ... -r LOCK` (BuildKit's log shows a build argument's value).
            install_pattern=r"\binstall\b[^&|\n]*\s-r\s",
            dependency_edit_file="requirements.txt",
            # Lessons 03-04: `pip check`; lessons 05-08 ask pip, offline, for what
            # pyproject.toml declares on top of the installed lock.
            stale_lock_message=(
                "requires rich, which is not installed|No matching distribution found for rich"
            ),
            downloaded=PIP_DOWNLOADED,
            from_cache=PIP_FROM_CACHE,
            log_flag="",
            executables=("pip-compile", "pip-sync"),
            refused=(
                r"Looking in indexes: http://{index}/simple",
                r"No matching distribution found for acme-holidays",
            ),
            dev_lock_file="requirements-dev.txt",
            dev_lock_command=(
                "pip-compile --quiet --strip-extras --generate-hashes --extra dev "
                "--output-file=requirements-dev.txt pyproject.toml"
            ),
        ),
        Tool(
            name="pipenv",
            package="pipenv",
            manifest_files=("Pipfile",),
            lock_file="Pipfile.lock",
            lock_command="pipenv lock",
            check_command="pipenv verify",
            check_in_image=False,
            install_pattern="pipenv install",
            dependency_edit_file="Pipfile",
            stale_lock_message="Aborting deploy",
            downloaded=PIP_DOWNLOADED,
            from_cache=PIP_FROM_CACHE,
            log_flag=" --verbose",
            executables=("pipenv",),
            refused=(
                r"Looking in indexes: http://{index}/simple",
                r"No matching distribution found for acme-holidays",
            ),
        ),
        # Poetry logs each file it fetches at -vvv (urllib3's "GET /packages/...").
        Tool(
            name="poetry",
            package="poetry",
            manifest_files=("pyproject.toml",),
            lock_file="poetry.lock",
            lock_command="poetry lock",
            check_command="poetry check --lock",
            check_in_image=False,
            install_pattern="poetry install",
            dependency_edit_file="pyproject.toml",
            stale_lock_message=(
                "pyproject.toml changed significantly since poetry.lock was last generated"
            ),
            downloaded=r'"GET /packages/',
            from_cache=r"^\s*- Installing \S+ \(",
            log_flag=" -vvv",
            executables=("poetry",),
            refused=(r"Authorization error accessing http://{index}/",),
        ),
        # uv prints "Prepared N packages" only when it had to download or build some.
        Tool(
            name="uv",
            package="uv",
            manifest_files=("pyproject.toml",),
            lock_file="uv.lock",
            lock_command="uv lock",
            check_command="uv lock --check",
            check_in_image=True,
            install_pattern="uv sync",
            dependency_edit_file="pyproject.toml",
            stale_lock_message="needs to be updated, but `--locked` was provided",
            downloaded=r"^(Prepared \d+ packages?|\s*Downloading)",
            from_cache=r"^Installed \d+ packages?",
            log_flag="",
            executables=("uv", "uvx"),
            refused=(
                r"HTTP status client error \((401 Unauthorized|403 Forbidden)\) for url \(http://{index}/",
            ),
        ),
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
        return {
            normalize(p["name"]): p["version"]
            for p in packages
            if "main" in p.get("groups", ["main"])
        }
    return {
        normalize(p["name"]): p["version"]
        for p in packages
        if not {"editable", "virtual"} & set(p.get("source", {}))
    }


def conditional_packages(tool: str, directory: Path) -> set[str]:
    """Locked packages that a Linux image with Python 3.13 does not install (their markers)."""
    text = (directory / TOOLS[tool].lock_file).read_text()
    if tool == "pipenv":
        from packaging.markers import Marker

        linux = {
            "sys_platform": "linux",
            "platform_system": "Linux",
            "os_name": "posix",
            "python_version": "3.13",
            "python_full_version": "3.13.0",
        }
        default = json.loads(text)["default"]
        return {
            normalize(name)
            for name, spec in default.items()
            if spec.get("markers") and not Marker(spec["markers"]).evaluate(linux)
        }
    names = set()
    for line in text.splitlines():
        if tool == "pip-tools":
            match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==\S+\s*;", line)
        else:  # uv.lock and poetry.lock mark the dependency edge: { name = "x", marker = ...}
            match = re.search(
                r'(?:name = "|^)([A-Za-z0-9][A-Za-z0-9._-]*)"?\s*=?\s*\{?.*markers? = ', line
            )
        if match:
            names.add(normalize(match.group(1)))
    return names
