"""What adopt reads from a Django project: its settings module (wsgi.py, asgi.py or manage.py
name it), the application the settings name, and the folder STATIC_ROOT collects into."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from buildlab.support.errors import UsageError

# The lesson whose Dockerfile a Django project gets: lesson 07's plus a static stage.
DJANGO_LESSON = "11-django"
# `os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")`, Django's own template.
SETTINGS_DEFAULT = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")
APPLICATION = {
    "wsgi": re.compile(r"""^WSGI_APPLICATION\s*=\s*["']([\w.]+)\.(\w+)["']""", re.M),
    "asgi": re.compile(r"""^ASGI_APPLICATION\s*=\s*["']([\w.]+)\.(\w+)["']""", re.M),
}
# STATIC_ROOT = BASE_DIR / "staticfiles", or os.path.join(BASE_DIR, "staticfiles"), and nothing
# after it on the line: BASE_DIR being the folder of the code, as Django's template makes it.
STATIC_ROOT = re.compile(
    r"""^STATIC_ROOT\s*=\s*(?:BASE_DIR\s*/\s*["']([^"']+)["']"""
    r"""|os\.path\.join\(\s*BASE_DIR\s*,\s*["']([^"']+)["']\s*\))\s*(?:#.*)?$""",
    re.M,
)
STATIC_ROOT_ANY = re.compile(r"^STATIC_ROOT\s*=", re.M)
# `from .base import *` in a settings module: what it builds on.
STAR_IMPORT = re.compile(r"^from\s+\.(\w+)\s+import\s+\*", re.M)


@dataclass(frozen=True)
class DjangoProject:
    settings: str  # the settings module, dotted
    app: str  # module:object of the application the server runs
    static_root: str  # where collectstatic writes, relative to the code's folder
    entry: str  # the file that named the settings


def find(root: Path, static_root: str | None = None, *, asgi: bool = False) -> DjangoProject | None:
    """The Django project under root (the folder the code is imported from), or None.
    The server's entry point names the settings production runs, before manage.py (which
    often names the developer's); asgi: the server is uvicorn, which needs the ASGI app;
    static_root: as the user gave it (--static-root), instead of read from the settings."""
    kind = "asgi" if asgi else "wsgi"
    other = "wsgi" if asgi else "asgi"
    candidates = [
        *sorted(root.glob(f"*/{kind}.py")),
        *sorted(root.glob(f"*/{other}.py")),
        root / "manage.py",
    ]
    for entry in candidates:
        text = entry.read_text(errors="replace") if entry.is_file() else ""
        named = SETTINGS_DEFAULT.search(text)
        if named:
            where = entry.relative_to(root).as_posix()
            return _read(root, named.group(1), where, kind, static_root)
    return None


def _settings_files(root: Path, settings: str) -> list[Path]:
    """The settings module's file and those it star-imports (`from .base import *`), or every
    module of a settings package."""
    path = root / settings.replace(".", "/")
    if path.is_dir():  # a settings package: base.py, production.py ...
        return sorted(path.glob("*.py"))
    files: list[Path] = []
    todo = [path.with_suffix(".py")]
    while todo:
        module = todo.pop()
        if module.is_file() and module not in files:
            files.append(module)
            found = STAR_IMPORT.findall(module.read_text(errors="replace"))
            todo += [module.with_name(f"{name}.py") for name in found]
    return files


def checked_static_root(value: str, source: str) -> str:
    """A STATIC_ROOT folder relative to the code's: not absolute, not empty, not outside it
    (`source` says where the value came from, for the one-line error)."""
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or str(path) in ("", "."):
        raise UsageError(
            f"{source} is {value!r}: the image needs a folder inside the project, relative to "
            "it (e.g. staticfiles): pass --static-root FOLDER"
        )
    return str(path)


def _read(root: Path, settings: str, entry: str, kind: str, given: str | None) -> DjangoProject:
    files = _settings_files(root, settings)
    if not files:
        raise UsageError(f"{entry} names the settings {settings}, which is not under {root}")
    text = "\n".join(path.read_text(errors="replace") for path in files)
    named = APPLICATION[kind].search(text)
    if named:
        app = f"{named.group(1)}:{named.group(2)}"
    elif entry.endswith(f"/{kind}.py"):
        app = f"{entry.removesuffix('.py').replace('/', '.')}:application"
    else:
        app = f"{settings.split('.')[0]}.{kind}:application"
    if given is not None:
        return DjangoProject(settings, app, checked_static_root(given, "--static-root"), entry)
    static = STATIC_ROOT.search(text)
    if static is None:
        where = (
            "set STATIC_ROOT in a way adopt cannot read"
            if STATIC_ROOT_ANY.search(text)
            else "have no STATIC_ROOT"
        )
        raise UsageError(
            f"a Django project whose settings ({settings}) {where}: set STATIC_ROOT = "
            'BASE_DIR / "staticfiles" (collectstatic writes there at build time), or pass '
            "--static-root FOLDER"
        )
    folder = checked_static_root(static.group(1) or static.group(2), f"STATIC_ROOT in {settings}")
    return DjangoProject(settings, app, folder, entry)
