"""What adopt reads from a Django project: its settings module (manage.py, wsgi.py or asgi.py
name it), the WSGI application the settings name, and the folder STATIC_ROOT collects into."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from buildlab.support.errors import UsageError

# The lesson whose Dockerfile a Django project gets: lesson 07's plus a static stage.
DJANGO_LESSON = "11-django"
# `os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")`, Django's own template.
SETTINGS_DEFAULT = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")
WSGI_APPLICATION = re.compile(r"""^WSGI_APPLICATION\s*=\s*["']([\w.]+)\.(\w+)["']""", re.M)
# STATIC_ROOT = BASE_DIR / "staticfiles", or os.path.join(BASE_DIR, "staticfiles"): BASE_DIR
# being the project's folder, as Django's template makes it.
STATIC_ROOT = re.compile(
    r"""^STATIC_ROOT\s*=\s*(?:BASE_DIR\s*/\s*|os\.path\.join\(\s*BASE_DIR\s*,\s*)["']([^"']+)["']""",
    re.M,
)
STATIC_ROOT_ANY = re.compile(r"^STATIC_ROOT\s*=", re.M)


@dataclass(frozen=True)
class DjangoProject:
    settings: str  # the settings module, dotted
    app: str  # module:object of the WSGI application
    static_root: str  # relative to the project's folder
    entry: str  # the file that named the settings


def find(root: Path, static_root: str | None = None) -> DjangoProject | None:
    """The Django project under root (the folder the code is imported from), or None;
    static_root: as the user gave it (--static-root), instead of read from the settings."""
    candidates = [
        root / "manage.py",
        *sorted(root.glob("*/wsgi.py")),
        *sorted(root.glob("*/asgi.py")),
    ]
    for entry in candidates:
        named = (
            SETTINGS_DEFAULT.search(entry.read_text(errors="replace")) if entry.is_file() else None
        )
        if named:
            return _read(root, named.group(1), entry.relative_to(root).as_posix(), static_root)
    return None


def _settings_files(root: Path, settings: str) -> list[Path]:
    path = root / settings.replace(".", "/")
    if path.with_suffix(".py").is_file():
        return [path.with_suffix(".py")]
    if path.is_dir():  # a settings package: base.py, production.py ...
        return sorted(path.glob("*.py"))
    return []


def _read(root: Path, settings: str, entry: str, given: str | None) -> DjangoProject:
    files = _settings_files(root, settings)
    if not files:
        raise UsageError(f"{entry} names the settings {settings}, which is not under {root}")
    text = "\n".join(path.read_text(errors="replace") for path in files)
    wsgi = WSGI_APPLICATION.search(text)
    app = (
        f"{wsgi.group(1)}:{wsgi.group(2)}"
        if wsgi
        else f"{settings.rsplit('.', 1)[0]}.wsgi:application"
    )
    if given is not None:
        return DjangoProject(settings, app, given.strip("/"), entry)
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
    return DjangoProject(settings, app, static.group(1).strip("/"), entry)
