"""What a user may tell `adopt` (and `check --lesson 07 PROJECT`) instead of letting it guess:
one list of flags, one place that reads them."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, fields

from buildlab.support.errors import UsageError


@dataclass(frozen=True)
class ProjectOptions:
    tool: str | None = None
    app: str | None = None
    server: str | None = None
    port: int | None = None
    health: str | None = None
    python: str | None = None
    lock: str | None = None
    runtime_packages: str | None = None  # Debian packages, space-separated ("" for none)
    build_packages: str | None = None
    package: str | None = None  # a uv workspace: the member to build
    static_root: str | None = None  # Django: the folder STATIC_ROOT names
    # Django: NAME=VALUE placeholders the settings need to import, for collectstatic only.
    collect_env: tuple[str, ...] = ()
    env: tuple[str, ...] = ()  # NAME=VALUE for the proof runs' containers, never in the image


HELP = {
    "tool": "pip-tools, pipenv, poetry or uv (when it has several locks)",
    "app": "the app object, module:object (e.g. mypackage.main:app)",
    "server": 'the server command (e.g. "uvicorn --timeout-graceful-shutdown 8")',
    "port": "the port the server listens on (default 8000)",
    "health": "a path that answers 200 when the app is up",
    "python": "the Python version of both stages (e.g. 3.13)",
    "lock": "pip-tools: the lock the image installs (e.g. requirements/prod.txt)",
    "runtime_packages": 'Debian packages the app loads libraries from at run time, e.g. "libpq5" '
    '(default: guessed from the lock; "" for none)',
    "build_packages": "Debian -dev packages a source build needs beyond the full image's "
    '(default: guessed from the lock; "" for none)',
    "package": "a uv workspace: the member to build, by its name in its pyproject.toml",
    "static_root": "Django: the folder the settings' STATIC_ROOT names, relative to the project "
    "(default: read from the settings)",
    "collect_env": "Django: NAME=VALUE (repeatable) the settings read with no default when "
    "collectstatic imports them at build: a placeholder, never a real secret (the static stage's "
    "history keeps it, the image does not)",
    "env": "NAME=VALUE the app needs to start (repeatable): given to the containers it runs, "
    "never written into the image",
}

# adopt's own flag (adopt/relock.py): not a guess it overrides, so not a ProjectOptions field.
RELOCK_HELP = (
    "pip-tools: compile each lock without hashes again, with --generate-hashes, by the "
    "pip-compile command its header records, in the image's Python (pins kept)"
)


# The flags given as NAME=VALUE, any number of times: what a value may hold, and how the
# error says it. collectstatic's values become words of one build argument, inside quotes.
PAIRS = {
    "env": (".*", ""),
    "collect_env": (r"[^\s$\"\\`]*", " (no space, $, quote or backslash in the value)"),
}


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    for each in fields(ProjectOptions):
        if each.name in PAIRS:
            parser.add_argument(
                f"--{each.name.replace('_', '-')}",
                action="append",
                default=[],
                metavar="NAME=VALUE",
                help=HELP[each.name],
            )
            continue
        parser.add_argument(
            f"--{each.name.replace('_', '-')}",
            type=int if each.name == "port" else str,
            help=HELP[each.name],
        )


def add_adopt_arguments(parser: argparse.ArgumentParser) -> None:
    """`adopt`'s flags: the project's (above) and adopt's own."""
    add_project_arguments(parser)
    parser.add_argument(
        "--force", action="store_true", help="replace an existing Dockerfile and .dockerignore"
    )
    parser.add_argument("--no-build", action="store_true", help="only write the files")
    parser.add_argument("--relock", action="store_true", help=RELOCK_HELP)


def project_options(args: argparse.Namespace) -> ProjectOptions:
    given = {each.name: getattr(args, each.name) for each in fields(ProjectOptions)}
    for name, (value, rule) in PAIRS.items():
        given[name] = tuple(given[name] or ())
        for pair in given[name]:
            if not re.fullmatch(rf"[A-Za-z_][A-Za-z0-9_]*={value}", pair):
                raise UsageError(f"--{name.replace('_', '-')} {pair}: give NAME=VALUE{rule}")
    return ProjectOptions(**given)


def env_pairs(options: ProjectOptions) -> tuple[tuple[str, str], ...]:
    """--env NAME=VALUE ... as (name, value) pairs."""
    return tuple((pair.split("=", 1)[0], pair.split("=", 1)[1]) for pair in options.env)
