"""Lesson 09's development loop: the folder's compose.yaml under `docker compose watch`, in a
scratch copy the claims edit."""

from __future__ import annotations

import re
import secrets
import shutil
import time
from pathlib import Path

from buildlab.claims import limits
from buildlab.claims.candidate import Candidate
from buildlab.claims.verdict import ensure
from buildlab.course.model import App
from buildlab.engine import compose, containers
from buildlab.support.errors import BuildlabError
from buildlab.support.proc import tail


def _has_a_dev_loop(ctx: Candidate) -> None:
    ctx.lesson_only("it runs the lesson's compose.yaml")
    ensure(
        (ctx.context / "compose.yaml").is_file(),
        "the folder has no compose.yaml: nothing for `docker compose watch` to run",
    )
    ensure(
        re.search(r"^FROM .* AS dev\s*$", (ctx.context / "Dockerfile").read_text(), re.M | re.I),
        "the Dockerfile has no `dev` stage for compose.yaml to build",
    )


def _in_container(dev: compose.Watched, path: str) -> bool:
    return dev.exec("test", "-e", path, check=False).returncode == 0


def _write_module(folder: Path, app: App, name: str, text: str) -> str:
    """A new module in the app's package; returns its import name."""
    (folder / app.package / f"{name}.py").write_text(text)
    return f"{app.package}.{name}"


def dev_edit_served_without_rebuild(ctx: Candidate) -> None:
    _has_a_dev_loop(ctx)
    app = ctx.app
    with (
        ctx.scratch() as folder,
        compose.watching(folder, app.health_path, rebuilds=False) as dev,
    ):
        image = dev.image_id()
        token = secrets.token_hex(4)
        # A new module first, and only once it is in the container the edit that imports it:
        # a reload between the two would import a module that is not there yet.
        module = _write_module(folder, app, "dev_token", f'TOKEN = "{token}"\n')
        compose.wait_until(
            lambda: _in_container(dev, f"/app/{app.package}/dev_token.py"),
            timeout=limits.DEV_SYNC_WITHIN_SECONDS,
            what="the new module was never copied into the container",
            detail=dev.watch_log,
        )
        with (folder / app.code_file).open("a") as handle:
            handle.write(
                f"\n\nfrom {module} import TOKEN as _DEV_TOKEN\n\n"
                "print(f'dev edit {_DEV_TOKEN} loaded', flush=True)\n"
            )
        seconds = compose.wait_until(
            lambda: f"dev edit {token} loaded" in dev.logs(),
            timeout=limits.DEV_EDIT_WITHIN_SECONDS,
            what="the edited code never ran in the server",
            detail=lambda: tail(dev.logs()) + "\n" + tail(dev.watch_log()),
        )
        status, body = containers.http(app.probe.method, dev.url(app.probe.path), app.probe.body)
        ensure(
            (status, body) == (200, app.probe.expect),
            f"after the edit the app answered {status} {body!r}",
        )
        ensure(dev.image_id() == image, "the image was built again for a code edit")
    ctx.notes.add(
        f"dev-edit-served-without-rebuild {ctx.name}: the edit ran in the server "
        f"{seconds:.1f} s after it was saved; same image"
    )


def dev_dependency_change_rebuilds(ctx: Candidate) -> None:
    _has_a_dev_loop(ctx)
    app, lesson = ctx.app, ctx.lesson
    module = lesson.added_dependency.replace("-", "_")
    imports = ("python", "-c", f"import {module}")
    with ctx.scratch() as folder, compose.watching(folder, app.health_path) as dev:
        image = dev.image_id()
        ensure(dev.exec(*imports, check=False).returncode != 0, f"{module} is there already")
        started = time.monotonic()
        for source in sorted(
            ctx.manifest.added_dependency_dir(ctx.lesson, ctx.tool_name).iterdir()
        ):
            shutil.copy2(source, folder / source.name)
        compose.wait_until(
            lambda: "Rebuilding" in dev.watch_log() or "rebuild" in dev.watch_log().lower(),
            timeout=limits.DEV_REBUILD_NOTICED_SECONDS,
            what="compose did not start a rebuild after the lock changed",
            detail=lambda: tail(dev.watch_log()),
        )

        def replaced() -> bool:
            try:
                return dev.image_id() != image and compose.serving(dev, app.health_path)
            except BuildlabError:  # between the old container and the new one
                return False

        compose.wait_until(
            replaced,
            timeout=limits.DEV_REBUILD_WITHIN_SECONDS,
            what="the container was never replaced by one of a rebuilt image",
            detail=lambda: tail(dev.watch_log()),
        )
        seconds = time.monotonic() - started
        found = dev.exec(*imports, check=False)
        ensure(found.returncode == 0, f"{module} does not import after the rebuild", found.stderr)
    ctx.notes.add(
        f"dev-dependency-change-rebuilds {ctx.name}: {lesson.added_dependency} "
        f"imports in a new container {seconds:.0f} s after the lock changed"
    )


def dev_tests_run_in_container(ctx: Candidate) -> None:
    _has_a_dev_loop(ctx)
    with (
        ctx.scratch() as folder,
        compose.watching(folder, ctx.app.health_path, rebuilds=False) as dev,
    ):
        result = dev.compose("run", "--rm", "--no-deps", compose.SERVICE, "pytest", check=False)
    ensure(
        result.returncode == 0,
        "the tests failed in the dev container",
        tail(result.stdout + result.stderr),
    )
    ensure(
        re.search(r"\b\d+ passed\b", result.stdout),
        "no test passed in the dev container",
        tail(result.stdout),
    )


def dev_runs_as_non_root(ctx: Candidate) -> None:
    _has_a_dev_loop(ctx)
    app = ctx.app
    with ctx.scratch() as folder:
        host_venv = folder / ".venv"  # what a developer's machine has beside the code
        (host_venv / "bin").mkdir(parents=True)
        (host_venv / "bin" / "python").write_text("#!/bin/sh\nexit 99  # the host's\n")
        with compose.watching(folder, app.health_path, rebuilds=False) as dev:
            pid1 = dev.exec("grep", "^Uid:", "/proc/1/status").stdout.split()[1]
            ensure(pid1 == "10001", f"the dev server runs as UID {pid1}, not 10001")
            module = _write_module(folder, app, "dev_synced", "VALUE = 42\n")
            (host_venv / "touched").write_text("an edit in the host's .venv\n")
            compose.wait_until(
                lambda: _in_container(dev, f"/app/{app.package}/dev_synced.py"),
                timeout=limits.DEV_SYNC_WITHIN_SECONDS,
                what="the new module was never copied into the container",
                detail=dev.watch_log,
            )
            value = dev.exec("python", "-c", f"import {module}; print({module}.VALUE)", check=False)
            ensure(
                value.stdout.strip() == "42",
                "a new module did not import in the container",
                value.stdout,
            )
            ensure(not _in_container(dev, "/app/.venv/touched"), "the host's .venv was copied in")
            flask = dev.exec("python", "-c", "import flask", check=False)
            ensure(
                flask.returncode == 0, "flask does not import in the dev container", flask.stderr
            )
