"""What each dependency tool needs: its manifest files, its lock file, how to lock and check."""

from __future__ import annotations

from dataclasses import dataclass


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


PIP_COMPILE = "pip-compile --quiet --strip-extras --output-file=requirements.txt pyproject.toml"

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
        ),
        Tool("pipenv", "pipenv", ("Pipfile",), "Pipfile.lock", "pipenv lock", "pipenv verify",
             False),
        Tool("poetry", "poetry", ("pyproject.toml",), "poetry.lock", "poetry lock",
             "poetry check --lock", False),
        Tool("uv", "uv", ("pyproject.toml",), "uv.lock", "uv lock", "uv lock --check", True),
    )
}
