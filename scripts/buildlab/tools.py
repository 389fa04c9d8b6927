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


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool(
            "pip-tools",
            "pip-tools",
            ("pyproject.toml",),
            "requirements.txt",
            "pip-compile --quiet --strip-extras --output-file=requirements.txt pyproject.toml",
        ),
        Tool("pipenv", "pipenv", ("Pipfile",), "Pipfile.lock", "pipenv lock"),
        Tool("poetry", "poetry", ("pyproject.toml",), "poetry.lock", "poetry lock"),
        Tool("uv", "uv", ("pyproject.toml",), "uv.lock", "uv lock"),
    )
}
