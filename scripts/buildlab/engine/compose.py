"""Docker Compose v2 for the development loop (lesson 09): installed by `doctor` (Debian's
`docker-compose` package, from the engine's Debian suite), and a lesson folder's project run
under `docker compose watch`, always taken down afterwards.

A project started here carries buildlab's labels (containers, images, network) through an
override file of ours, so `buildlab clean` finds what an interrupted run left; the lesson's
own compose.yaml is never edited.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from buildlab.engine import builds, containers, labels, servers
from buildlab.support.errors import BuildlabError, ContainerFailed, EngineError
from buildlab.support.proc import free_port, run, tail

PACKAGE = "docker-compose"
# develop.watch came with Compose 2.22.
MIN_VERSION = (2, 22)
SERVICE = "app"  # the service every lesson's compose.yaml defines
CONTAINER_PORT = 8000


def version() -> tuple[int, int] | None:
    """`docker compose version`, or None when the plugin is missing."""
    try:
        out = subprocess.run(
            ["docker", "compose", "version", "--short"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except FileNotFoundError:
        return None
    found = re.match(r"v?(\d+)\.(\d+)", out.stdout.strip())
    return (int(found.group(1)), int(found.group(2))) if out.returncode == 0 and found else None


def compose_answers() -> bool:
    found = version()
    return found is not None and found >= MIN_VERSION


def require_compose() -> None:
    if not compose_answers():
        found = version()
        have = "is missing" if found is None else f"is {found[0]}.{found[1]}, too old"
        raise EngineError(
            f"Docker Compose {have}: the development loop needs "
            f"{MIN_VERSION[0]}.{MIN_VERSION[1]} or newer (develop.watch); run `make doctor`"
        )


def ensure_compose(*, fix: bool, say: Callable[[str], None] = print) -> None:
    if compose_answers():
        found = version()
        assert found is not None
        say(f"compose: Docker Compose {found[0]}.{found[1]} answers")
        return
    if not fix:
        require_compose()
    from buildlab.engine.daemon import apt_install

    say(f"compose: installing {PACKAGE} (apt)")
    apt_install([PACKAGE])
    require_compose()


# Our labels on everything the project creates (the lesson's file stays as it is).
OVERRIDE = """\
services:
  {service}:
    labels: {labels}
    build:
      labels: {labels}
networks:
  default:
    labels: {labels}
"""


@dataclass
class Watched:
    """A lesson folder's compose project under `docker compose watch`."""

    name: str
    directory: Path
    port: int
    files: list[str]
    log: Path

    def compose(
        self, *args: str, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        return run(
            ["docker", "compose", "--project-name", self.name, *self.files, *args],
            cwd=str(self.directory),
            env={**os.environ, "DEV_PORT": str(self.port)},
            check=check,
            timeout=timeout,
        )

    def container_id(self) -> str:
        ids = self.compose("ps", "--quiet", SERVICE).stdout.split()
        if len(ids) != 1:
            raise ContainerFailed(f"{self.name}: {len(ids)} {SERVICE} containers running")
        return ids[0]

    def image_id(self) -> str:
        return run(
            ["docker", "inspect", "--format", "{{.Image}}", self.container_id()]
        ).stdout.strip()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def logs(self) -> str:
        return self.compose("logs", "--no-color", SERVICE, check=False).stdout

    def watch_log(self) -> str:
        return self.log.read_text(errors="replace")

    def exec(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.compose("exec", "--no-TTY", SERVICE, *command, check=check)


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, detail: Callable[[], str]
) -> float:
    """Poll `condition` until it holds; the seconds it took. Fails with `detail()` on time-out."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.1)
    raise ContainerFailed(f"{what}: not within {timeout:.0f} s", detail=detail())


# What BuildKit prints when a build fails; compose watch prints it and waits for an edit.
BUILD_FAILED = "failed to solve"


def serving(watched: Watched, path: str) -> bool:
    try:
        status, _ = containers.http("GET", watched.url(path), timeout=2)
    except ContainerFailed:  # nothing answers (yet)
        return False
    return status == 200


@contextmanager
def watching(
    directory: Path, health_path: str, *, port: int | None = None, rebuilds: bool = True
) -> Iterator[Watched]:
    """`docker compose watch` on a lesson folder (its compose.yaml), serving `health_path` on
    127.0.0.1:`port` (a free one by default; `buildlab dev` checks the one it is given is
    free). Always taken down: containers, network, the images it built, the override file.

    `rebuilds=False`: the caller changes no file that makes compose build again, so the build
    lock is held only until the first build serves, not for the whole session."""
    require_compose()
    if port is None:
        port = free_port()
    name = f"buildlab-dev-{labels.SESSION}-{secrets.token_hex(3)}"
    # compose builds when it starts and when a dependency file changes: no other build of ours
    # may run beside it (builds.one_build_at_a_time says why).
    with (
        contextlib.ExitStack() as build_lock,
        tempfile.TemporaryDirectory(prefix="buildlab-compose-") as scratch,
    ):
        build_lock.enter_context(builds.one_build_at_a_time())
        ours = "{" + f'"{labels.LABEL}": "1", "{labels.SESSION_LABEL}": "{labels.SESSION}"' + "}"
        override = Path(scratch, "labels.yaml")
        override.write_text(OVERRIDE.format(service=SERVICE, labels=ours))
        files = ["--file", str(directory / "compose.yaml"), "--file", str(override)]
        watched = Watched(name, directory, port, files, Path(scratch, "watch.log"))
        process = servers.spawn(
            ["docker", "compose", "--project-name", name, *files, "watch"],
            watched.log,
            env={**os.environ, "DEV_PORT": str(port)},
            cwd=directory,
        )
        try:
            wait_until(
                lambda: (
                    serving(watched, health_path)
                    or process.poll() is not None
                    or BUILD_FAILED in watched.watch_log()
                ),
                timeout=600,
                what=f"{directory.name}: the dev container never served {health_path}",
                detail=lambda: tail(watched.watch_log()),
            )
            if BUILD_FAILED in watched.watch_log():  # compose watch keeps running: say it now
                raise BuildlabError(
                    f"{directory.name}: the dev stage did not build",
                    detail=tail(watched.watch_log()),
                )
            if process.poll() is not None:
                raise BuildlabError(
                    f"docker compose watch ended with exit code {process.returncode}",
                    detail=tail(watched.watch_log()),
                )
            if not rebuilds:
                build_lock.close()  # built and serving: nothing builds again until the end
            yield watched
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            watched.compose(
                "down",
                "--volumes",
                "--rmi",
                "local",
                "--remove-orphans",
                "--timeout",
                "5",
                check=False,
            )
