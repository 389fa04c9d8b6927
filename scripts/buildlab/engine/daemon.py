"""The Docker engine the tests and the demo build on: reuse one, or provide one on Debian.

`buildlab doctor --fix` is idempotent: seconds when all is in place. See docs/test-engine.md.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from buildlab.engine import servers
from buildlab.support.errors import EngineError
from buildlab.support.paths import STATE_DIR
from buildlab.support.proc import run

DOCKERD_LOG = Path("/var/log/buildlab-dockerd.log")
# The containerd image store: the default of Docker Engine 29 and Docker Desktop, and what
# lets the default `docker` builder export and import build caches (lesson 08).
DOCKERD_CONFIG = '{"features": {"containerd-snapshotter": true}}\n'
CONTAINERD_STORE_HINT = (
    "lesson 08 exports build caches, which the default builder does only with the containerd "
    "image store: https://docs.docker.com/engine/storage/containerd/"
)
APT_SOURCE = Path("/etc/apt/sources.list.d/buildlab-docker.list")
APT_PREFERENCES = Path("/etc/apt/preferences.d/buildlab-docker")
# Lesson 07's HEALTHCHECK --start-interval needs Engine 25 (API 1.44); older engines reject
# the Dockerfile. (Debian's own docker.io before 23 has no buildx plugin at all.)
MIN_ENGINE_MAJOR = 25
INSTALL_HINT = (
    f"Install Docker Engine {MIN_ENGINE_MAJOR} or newer with the buildx plugin "
    "(https://docs.docker.com/engine/install/), start it, and run this again."
)


def engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def buildx_answers() -> bool:
    return shutil.which("docker") is not None and (
        subprocess.run(["docker", "buildx", "version"], capture_output=True, check=False).returncode
        == 0
    )


def server_version() -> str:
    return run(["docker", "version", "--format", "{{.Server.Version}}"]).stdout.strip()


def uses_containerd_store() -> bool:
    out = run(["docker", "info", "--format", "{{json .DriverStatus}}"]).stdout
    return "io.containerd.snapshotter" in out


def require_engine() -> None:
    """Fail with one sentence when no engine answers (used before every build)."""
    if not engine_answers():
        raise EngineError(
            "No Docker engine answers `docker info`: run `make doctor` (it starts or installs "
            "one on Debian as root), or " + INSTALL_HINT[0].lower() + INSTALL_HINT[1:]
        )
    if not buildx_answers():
        raise EngineError("The docker client has no buildx plugin, so no BuildKit. " + INSTALL_HINT)


def ensure_engine(*, fix: bool, say: Callable[[str], None] = print) -> None:
    if engine_answers() and buildx_answers() and _major(server_version()) >= MIN_ENGINE_MAJOR:
        _report(say)
        return
    if not fix:
        require_engine()
        raise EngineError(f"Docker engine {server_version()} is too old. " + INSTALL_HINT)
    if not _can_use_apt():
        raise EngineError("No usable Docker engine and this is not Debian as root. " + INSTALL_HINT)
    if not _installed_engine_is_usable():
        _install_from_debian_stable(say)
    if not engine_answers():
        _start_dockerd(say)
    require_engine()
    _report(say)


def _report(say: Callable[[str], None]) -> None:
    store = "containerd image store" if uses_containerd_store() else "classic image store"
    say(f"engine: Docker {server_version()} answers, buildx present, {store}")
    if store == "classic image store":
        say(f"engine: warning: {CONTAINERD_STORE_HINT}")


def _major(version: str) -> int:
    match = re.match(r"(\d+)", version)
    return int(match.group(1)) if match else 0


def _can_use_apt() -> bool:
    return (
        os.geteuid() == 0 and Path("/etc/debian_version").exists() and bool(shutil.which("apt-get"))
    )


def _installed_engine_is_usable() -> bool:
    if shutil.which("dockerd") is None or not buildx_answers():
        return False
    out = subprocess.run(["dockerd", "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"version (\d+)", out.stdout)
    return match is not None and int(match.group(1)) >= MIN_ENGINE_MAJOR


def _install_from_debian_stable(say: Callable[[str], None]) -> None:
    from buildlab.support.pins import load_pins

    suite = load_pins().debian_suite
    say(f"engine: installing docker.io and docker-buildx from Debian {suite} (apt)")
    apt_install(["docker.io", "docker-cli", "docker-buildx"])


def apt_install(packages: list[str], *, from_stable_suite: bool = True) -> None:
    """Debian packages, as root. By default from Debian's current stable suite (pins.toml),
    nothing else upgraded: the suite is added at pin priority 100 and only the named packages
    are taken from it (`pkg/suite`), so apt keeps every other package, libc included, from
    the running release. from_stable_suite=False: from the running release itself.
    """
    from buildlab.support.pins import load_pins

    if not _can_use_apt():
        raise EngineError(
            f"{', '.join(packages)} missing and this is not Debian as root: "
            "install them and run this again."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not from_stable_suite:
        names = list(packages)
    else:
        suite = load_pins().debian_suite
        APT_SOURCE.write_text(f"deb http://deb.debian.org/debian {suite} main\n")
        APT_PREFERENCES.write_text(f"Package: *\nPin: release n={suite}\nPin-Priority: 100\n")
        names = [f"{name}/{suite}" for name in packages]
    run(["apt-get", "update", "-qq"], env=env, timeout=600)
    run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *names],
        env=env,
        timeout=1200,
    )


def _start_dockerd(say: Callable[[str], None]) -> None:
    say(f"engine: starting dockerd in the background (log: {DOCKERD_LOG})")
    config = STATE_DIR / "dockerd.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(DOCKERD_CONFIG)
    servers.start(
        ["dockerd", "--config-file", str(config)],
        what="dockerd",
        log=DOCKERD_LOG,
        answers=engine_answers,
        timeout=90,
    )
