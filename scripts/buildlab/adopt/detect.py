"""What `buildlab adopt` reads from a project: which tool (its lock files), the layout, the
Python version, the server in the locked dependencies, the app object and the health route:
the values of lesson 07's "Your project" block. Every guess can be overridden by a flag; a guess
that cannot be made is one clear line saying which flag to pass."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from buildlab.adopt import django_project, monorepo, system
from buildlab.adopt.options import ProjectOptions, env_pairs
from buildlab.course import topblock
from buildlab.course.model import Manifest
from buildlab.course.pythons import minor_of_lock
from buildlab.course.tools import TOOLS, Tool, tool
from buildlab.support.errors import BuildlabError, UsageError

ASGI_FRAMEWORKS = {"fastapi", "starlette", "litestar", "quart"}


UVICORN_SERVER = "uvicorn --timeout-graceful-shutdown 8"


SKIPPED_DIRS = {".venv", "venv", ".git", "tests", "test", "node_modules", "__pycache__", "build"}


APP_LINE = re.compile(r"^(app|application)\s*(:\s*[\w.\[\]]+\s*)?=", re.MULTILINE)


REEXPORT = re.compile(r"^from\s+[\w.]+\s+import\s+[^\n]*\b(app|application)\b", re.MULTILINE)


HEALTH_ROUTE = re.compile(
    r"""["'](/(?:health|healthz|healthcheck|livez|readyz|ping|ready))["']"""
    # Django's urls.py: path("health", ...) or path("health/", ...), no leading slash.
    r"""|\bpath\(\s*["']((?:health|healthz|healthcheck|livez|readyz|ping|ready)/?)["']"""
)


@dataclass
class Guess:
    """What adopt found (or was told): the tool, and the values of the top block."""

    tool: str
    values: dict[str, str] = field(default_factory=dict)
    lesson: str = ""  # whose Dockerfile is written: the production lesson's, or Django's
    how: list[str] = field(default_factory=list)  # one line per value: what it is and why
    # What the app needs in its environment to start (--env): for the runs, not the image.
    env: tuple[tuple[str, str], ...] = ()

    def set(self, name: str, value: str, why: str) -> None:
        self.values[name] = value
        self.how.append(f"{name}={value}  ({why})")


def detect_tool(project: Path, name: str | None) -> tuple[Tool, str]:
    """The tool, and why (the lock file that says so)."""
    found = {each.name: locks[0] for each in TOOLS.values() if (locks := each.find_locks(project))}
    if name is not None:
        chosen = tool(name)
        if chosen.name not in found:
            raise BuildlabError(f"--tool {chosen.name}: {project} has no {chosen.name} lock file")
        return chosen, "--tool"
    if not found:
        raise BuildlabError(
            f"no lock file in {project} (uv.lock, poetry.lock, Pipfile.lock, or a pip-compile "
            "requirements*.txt): lock the project with its tool first"
        )
    if len(found) > 1:
        names = ", ".join(str(path.relative_to(project)) for path in found.values())
        raise UsageError(
            f"locks of {len(found)} tools in {project} ({names}): say which with --tool"
        )
    (only, lock), *_ = found.items()
    return TOOLS[only], f"found {lock.relative_to(project)}"


def locked_names(project: Path, chosen: Tool, lock: str) -> set[str]:
    """Every package name the lock pins (normalized), whatever its group."""
    return chosen.locked_names((project / lock).read_text())


def _pyproject(project: Path) -> dict[str, object]:
    path = project / "pyproject.toml"
    return tomllib.loads(path.read_text()) if path.exists() else {}


# A lock for development, tests or CI, by its name (requirements-dev.txt, test.txt, ci-lint).
DEV_LOCK = re.compile(
    r"(^|[-_.])(dev|develop|development|test|tests|testing|ci|lint|docs)([-_.]|$)"
)


def _chosen_lock(
    project: Path, owner: Tool, guess: Guess, lock: str | None, *, writing: bool
) -> str:
    """LOCK and LOCK_SOURCE, for a tool whose block names them (pip-tools): the lock the image
    installs, and what it was compiled from."""
    locks = owner.find_locks(project)
    if lock is not None:
        chosen, why = project / lock, "--lock"
        if not chosen.is_file():
            raise UsageError(f"--lock {lock}: no such file in {project}")
    elif len(locks) == 1:
        chosen, why = locks[0], "the one pip-compile lock"
    else:
        servers = [
            p
            for p in locks
            if {"gunicorn", "uvicorn"} & locked_names(project, owner, str(p.relative_to(project)))
        ]
        if len(servers) > 1:  # requirements-dev.txt often includes requirements.txt
            deploy = [p for p in servers if not DEV_LOCK.search(p.stem)]
            servers = deploy if len(deploy) == 1 else servers
        if len(servers) != 1 and not writing:  # a check builds the project's own Dockerfile
            servers = locks[:1]
        if len(servers) != 1:
            names = ", ".join(str(p.relative_to(project)) for p in locks)
            raise UsageError(
                f"several pip-compile locks ({names}): say which one the image installs with --lock"
            )
        chosen, why = servers[0], "the pip-compile lock with the server in it, not a dev one"
    source = chosen.with_suffix(".in")
    project_table = _pyproject(project).get("project")
    if source.exists():
        layers = [*_constraint_layers(project, source), (chosen, source)]
        source_why = "the .in file beside it"
    elif isinstance(project_table, dict) and "dependencies" in project_table:
        layers, source_why = [(chosen, project / "pyproject.toml")], "[project] dependencies"
    elif writing:
        raise BuildlabError(
            f"cannot tell what {chosen.relative_to(project)} was compiled from (no "
            f"{source.name} beside it, no [project] dependencies in pyproject.toml)"
        )
    else:
        layers, source_why = [], ""
    for layer, _ in layers or [(chosen, chosen)]:
        if "--hash=" not in layer.read_text() and writing:
            raise BuildlabError(
                f"{layer.relative_to(project)} has no hashes (lesson 07 installs with "
                "--require-hashes): add --relock to compile it again with --generate-hashes, "
                "by its own pip-compile command in the image's Python"
            )
    relative = str(chosen.relative_to(project))
    if len(layers) > 1:
        names = " ".join(str(layer.relative_to(project)) for layer, _ in layers)
        guess.set("LOCK", names, f"{why}, and the locks its .in file constrains itself to (-c)")
        sources = " ".join(str(compiled.relative_to(project)) for _, compiled in layers)
        guess.set("LOCK_SOURCE", sources, "the .in file beside each")
        return relative
    guess.set("LOCK", relative, why)
    if layers:
        guess.set("LOCK_SOURCE", str(layers[0][1].relative_to(project)), source_why)
    return relative


CONSTRAINT_LINE = re.compile(r"^\s*(?:-c\s*|--constraint[=\s]\s*)(\S+)", re.MULTILINE)


def _constraint_layers(
    project: Path, source: Path, seen: frozenset[Path] = frozenset()
) -> list[tuple[Path, Path]]:
    """The locks a requirements .in file constrains itself to (`-c base.txt`, pip-tools'
    layered workflow), base first, each with the .in file it was compiled from: the image must
    install them too, since the constrained lock lists only what its own .in file adds."""
    root = project.resolve()
    layers: list[tuple[Path, Path]] = []
    for name in CONSTRAINT_LINE.findall(source.read_text()):
        lock = (source.parent / name).resolve()
        below = lock.with_suffix(".in")
        if lock in seen or not lock.is_file() or not lock.is_relative_to(root):
            continue  # a constraint outside the project, or no lock: nothing to install
        if not below.is_file():
            raise BuildlabError(
                f"{source.relative_to(project)} constrains itself to {name}, but no "
                f"{below.name} beside it says what that lock was compiled from"
            )
        for layer in [*_constraint_layers(project, below, seen | {lock}), (lock, below)]:
            relative = (project / layer[0].relative_to(root), project / layer[1].relative_to(root))
            if relative not in layers:
                layers.append(relative)
    return layers


def _python(project: Path, chosen: Tool, default: str, lock: Path) -> tuple[str, str]:
    """What the project pins or its range asks for; else, when the lock's wheels leave out
    the lesson's Python, the closest minor they and the range fit; else the lesson's."""
    text = lock.read_text(errors="replace") if lock.is_file() else ""
    return (
        chosen.python_version(project, default)
        or minor_of_lock(text, project / "pyproject.toml", default)
        or (
            default,
            "the lesson's: no .python-version or Pipfile python_version, any range the "
            "pyproject.toml gives admits it, and so do the lock's wheels",
        )
    )


def _modules(root: Path) -> Iterator[tuple[str, Path]]:
    """(dotted module name, file) for every Python file under root, outside tests and venvs."""
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if SKIPPED_DIRS.intersection(parts) or any(p.startswith(".") for p in parts):
            continue
        names = list(parts[:-1]) + ([] if path.stem == "__init__" else [path.stem])
        if names:
            yield ".".join(names), path


def _app_object(root: Path, *, asgi: bool = False) -> list[str]:
    """module:object for every module-level `app = ...`; a package re-exporting its app
    (`from .app import app` in __init__.py) names the package instead of the inner module.
    A server entry point (wsgi.py, or Django's PROJECT/wsgi.py), by convention what the server
    is given, wins over them all; it may re-export an app defined elsewhere."""
    found: list[str] = []
    entries: dict[str, list[str]] = {"wsgi": [], "asgi": []}
    for module, path in _modules(root):
        text = path.read_text(errors="replace")
        own, reexport = APP_LINE.search(text), REEXPORT.search(text)
        stem, entry = module.rpartition(".")[2], own or reexport
        if stem in entries and entry:
            entries[stem].append(f"{module}:{entry.group(1)}")
        match = own or (reexport if path.name == "__init__.py" else None)
        if match:
            found.append(f"{module}:{match.group(1)}")
    for stem in ("asgi", "wsgi") if asgi else ("wsgi", "asgi"):
        if entries[stem]:
            return entries[stem]
    packages = {entry.split(":")[0] for entry in found}
    return [
        entry for entry in found if not any(entry.startswith(f"{package}.") for package in packages)
    ]


# gunicorn's flags the lesson's SERVER passes, with the release that brought each: a project
# that locks an older gunicorn gets the command without them (23.0 exits on an unknown flag).
GUNICORN_FLAGS_SINCE = {"--no-control-socket": (25, 1)}


def _release(version: str) -> tuple[int, ...]:
    found = re.match(r"(\d+)\.(\d+)", version)
    return (int(found.group(1)), int(found.group(2))) if found else ()


def gunicorn_server(server: str, version: str, lock_file: str) -> tuple[str, str]:
    """The lesson's gunicorn command for the locked gunicorn version, and why."""
    release = _release(version)
    dropped = [
        flag
        for flag, since in GUNICORN_FLAGS_SINCE.items()
        if flag in server.split() and release and release < since
    ]
    if not dropped:
        return server, f"gunicorn {version or '?'} in {lock_file}"
    kept = " ".join(word for word in server.split() if word not in dropped)
    needs = ", ".join(
        f"{flag} needs {'.'.join(map(str, GUNICORN_FLAGS_SINCE[flag]))}" for flag in dropped
    )
    return kept, f"gunicorn {version} in {lock_file}: without {' '.join(dropped)} ({needs})"


def detect(
    manifest: Manifest,
    project: Path,
    options: ProjectOptions | None = None,
    *,
    writing: bool = True,
) -> Guess:
    """The top block's values for a project: guessed, or as the options say. writing=False:
    for checking the project's own Dockerfile, which needs no hashed lock and no server in it
    (its own CMD runs), only the app's port, health path and code."""
    try:
        return _detect(manifest, project, options or ProjectOptions(), writing)
    except ValueError as exc:  # a manifest or lock that is not valid TOML or JSON
        raise UsageError(f"{project}: a manifest or lock file is not valid: {exc}") from exc


def _detect(manifest: Manifest, project: Path, given: ProjectOptions, writing: bool) -> Guess:
    tool, app, server, port = given.tool, given.app, given.server, given.port
    health, python, lock = given.health, given.python, given.lock
    if not project.is_dir():
        raise UsageError(f"{project} is not a project folder")
    chosen, why = detect_tool(project, tool)
    guess = Guess(chosen.name, lesson=manifest.production_lesson.id, env=env_pairs(given))
    guess.how.append(f"tool {chosen.name}  ({why})")
    block = topblock.values(lesson_dockerfile(manifest, chosen.name).read_text())
    if "LOCK" in block:  # the block names the lock: the tool has several (pip-tools)
        lock_file = _chosen_lock(project, chosen, guess, lock, writing=writing)
    elif lock is not None:
        raise UsageError(f"--lock is for pip-tools: a {chosen.name} project has one lock")
    else:
        lock_file = chosen.lock_file
    locked = locked_names(project, chosen, lock_file)

    default_python = block["PYTHON_VERSION"]
    if python is not None:
        guess.set("PYTHON_VERSION", python, "--python")
    else:
        version, why = _python(project, chosen, default_python, project / lock_file)
        guess.set("PYTHON_VERSION", version, why)

    source = project / "src"
    several = _monorepo(project, chosen.name, given.package)
    if several is not None:
        guess.set("SOURCE_ROOT", ":".join(several.folders), several.why)
        if several.package:
            guess.set("PACKAGE", several.package, "the workspace member to build")
    elif source.is_dir() and (source / "__init__.py").exists():
        guess.set("SOURCE_ROOT", ".", "src/ is itself a package (imported as src.…)")
    elif source.is_dir() and any(source.glob("*/__init__.py")):
        guess.set("SOURCE_ROOT", "src", "a package under src/")
    else:
        guess.set("SOURCE_ROOT", ".", "no package under src/")
    root = project / topblock.code_folder(guess.values["SOURCE_ROOT"])

    if server is not None:
        guess.set("SERVER", server, "--server")
    elif "uvicorn" in locked and (ASGI_FRAMEWORKS & locked or "gunicorn" not in locked):
        guess.set("SERVER", UVICORN_SERVER, f"uvicorn in {lock_file}")
    elif "gunicorn" in locked:
        version = chosen.locked_versions((project / lock_file).read_text()).get("gunicorn", "")
        guess.set("SERVER", *gunicorn_server(block["SERVER"], version, lock_file))
    elif writing:
        raise BuildlabError(
            f"no server in {lock_file} (gunicorn for WSGI, uvicorn for ASGI): add one to the "
            "project's dependencies and lock again, or pass --server"
        )
    else:
        guess.how.append(f"no server in {lock_file}: the project's own CMD runs")

    # Checking a project's own Dockerfile needs nothing of Django's (writing=False).
    asgi = "uvicorn" in guess.values.get("SERVER", "")
    django = django_project.find(root, given.static_root, asgi=asgi) if writing else None
    if django is not None:
        _set_django(guess, django, given)
    elif given.static_root is not None or given.collect_env:
        flag = "--static-root" if given.static_root is not None else "--collect-env"
        raise UsageError(f"{flag} is for a Django project, and this is none")

    if app is not None:
        guess.set("APP", app, "--app")
    elif django is not None:
        guess.set("APP", django.app, "its settings' application, or its entry point's")
    else:
        apps = _app_object(root, asgi=asgi)
        if len(apps) != 1:
            seen = f" (found {', '.join(apps)})" if apps else ""
            raise UsageError(
                f"cannot tell the app object{seen}: pass --app module:object, e.g. --app "
                "mypackage.main:app"
            )
        guess.set("APP", apps[0], "a module-level `app =`")

    if writing:
        _system_packages(guess, given, locked, lock_file)
    if django is not None:
        guess.how.extend(_django_notes(locked, lock_file))

    guess.set("PORT", str(port or block["PORT"]), "--port" if port else "the lesson's")
    if health is not None:
        guess.set("HEALTH_PATH", health, "--health")
    else:
        routes = sorted(
            {
                m.group(1) or "/" + m.group(2)
                for _, path in _modules(root)
                for m in HEALTH_ROUTE.finditer(path.read_text(errors="replace"))
            },
            key=lambda route: (route != "/health", route),
        )
        if routes:
            guess.set("HEALTH_PATH", routes[0], "a route in the code")
        else:
            guess.set("HEALTH_PATH", "/", "no health route found: pass --health")
    return guess


def _system_packages(guess: Guess, given: ProjectOptions, locked: set[str], lock_file: str) -> None:
    """RUNTIME_PACKAGES and BUILD_PACKAGES: as given, or from the table of dependencies known to
    load a system library (adopt/system.py); set only when there is something to install."""
    found = system.needs(locked)
    for name, flag, value, build in (
        ("RUNTIME_PACKAGES", "--runtime-packages", given.runtime_packages, False),
        ("BUILD_PACKAGES", "--build-packages", given.build_packages, True),
    ):
        guessed, why = system.packages(found, build)
        if value is not None:
            guess.set(name, " ".join(value.split()), flag)
        elif guessed:
            guess.set(name, guessed, f"{why}, in {lock_file}")


def _monorepo(project: Path, tool: str, package: str | None) -> monorepo.CodeFolders | None:
    """A uv workspace's member, or a Poetry project's path dependencies (adopt/monorepo.py)."""
    if tool == "uv":
        return monorepo.uv_workspace(project, package)
    if package is not None:
        raise UsageError(
            f"--package is for a member of a uv workspace, and this is a {tool} project"
        )
    return monorepo.poetry_path_dependencies(project) if tool == "poetry" else None


def _set_django(guess: Guess, django: django_project.DjangoProject, given: ProjectOptions) -> None:
    """Lesson 11's values: the settings, STATIC_ROOT (relative to the Dockerfile's folder, the
    settings' is to the code's), the placeholders collectstatic needs."""
    guess.lesson = django_project.DJANGO_LESSON
    guess.how.append(f"a Django project ({django.entry} names {django.settings}): lesson 11")
    guess.set("DJANGO_SETTINGS_MODULE", django.settings, f"named in {django.entry}")
    code = topblock.code_folder(guess.values["SOURCE_ROOT"])
    folder = django.static_root if code == "." else f"{code}/{django.static_root}"
    why = "--static-root" if given.static_root is not None else "its settings' STATIC_ROOT"
    guess.set("STATIC_ROOT", folder, f"{why}: collectstatic fills it at build")
    if given.collect_env:
        guess.set("COLLECT_ENV", " ".join(given.collect_env), "--collect-env: for collectstatic")


def _django_notes(locked: set[str], lock_file: str) -> list[str]:
    """What the image does with a Django project's static files and migrations."""
    served = (
        "served by WhiteNoise, in its middleware"
        if "whitenoise" in locked
        else f"but nothing serves them: whitenoise is not in {lock_file} (add it, and its "
        "middleware to the settings)"
    )
    return [
        f"static files: collected at build, in a stage of their own, with no SECRET_KEY; {served}",
        "migrations: never at start; run `docker run --rm IMAGE django-admin migrate` with the "
        "database's settings once per release (lesson 11's README)",
        "settings: a variable they read with no default at import stops collectstatic: give it a "
        "placeholder with --collect-env NAME=VALUE; ALLOWED_HOSTS must admit 127.0.0.1 (Docker's "
        "HEALTHCHECK asks there)",
    ]


def lesson_dockerfile(manifest: Manifest, tool: str, lesson: str = "") -> Path:
    """The Dockerfile adopt copies: the named lesson's, or the production lesson's (07)."""
    chosen = manifest.lesson(lesson) if lesson else manifest.production_lesson
    return chosen.directory / tool / "Dockerfile"


def code_file(project: Path, guess: Guess) -> Path:
    """The file of the module that holds the app object (what a code change edits)."""
    module = guess.values["APP"].split(":")[0].replace(".", "/")
    root = project / topblock.code_folder(guess.values.get("SOURCE_ROOT", "."))
    for candidate in (root / f"{module}.py", root / module / "__init__.py"):
        if candidate.exists():
            return candidate
    raise BuildlabError(f"cannot find the module of {guess.values['APP']} under {root}")
