"""What a user may tell `adopt` (and `check --lesson 07 PROJECT`) instead of letting it guess:
one list of flags, one place that reads them."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class ProjectOptions:
    tool: str | None = None
    app: str | None = None
    server: str | None = None
    port: int | None = None
    health: str | None = None
    python: str | None = None
    lock: str | None = None


HELP = {
    "tool": "pip-tools, pipenv, poetry or uv (when it has several locks)",
    "app": "the app object, module:object (e.g. mypackage.main:app)",
    "server": 'the server command (e.g. "uvicorn --timeout-graceful-shutdown 8")',
    "port": "the port the server listens on (default 8000)",
    "health": "a path that answers 200 when the app is up",
    "python": "the Python version of both stages (e.g. 3.13)",
    "lock": "pip-tools: the lock the image installs (e.g. requirements/prod.txt)",
}


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    for each in fields(ProjectOptions):
        parser.add_argument(
            f"--{each.name}", type=int if each.name == "port" else str, help=HELP[each.name]
        )


def project_options(args: argparse.Namespace) -> ProjectOptions:
    return ProjectOptions(
        **{each.name: getattr(args, each.name) for each in fields(ProjectOptions)}
    )
