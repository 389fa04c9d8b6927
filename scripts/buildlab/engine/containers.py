"""Containers: a command in a throw-away one, or a server started detached and asked over HTTP."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Any

from buildlab.engine.labels import label_args
from buildlab.support.errors import CommandFailed, ContainerFailed
from buildlab.support.proc import run, tail


def state(container: Container) -> dict[str, Any]:
    out = run(["docker", "inspect", "--format", "{{json .State}}", container.id]).stdout
    return dict(json.loads(out))


# `docker run` exits 125 when the engine could not run the container at all: the command never
# started (a bad image name, or a transient runtime error such as "OCI runtime create failed").
DOCKER_RUN_FAILED = 125


def run_container(
    image: str,
    command: list[str],
    *,
    user: str | None = None,
    mount: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = 300,
    extra_args: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run one command in a throw-away container of `image`, its entrypoint replaced; with
    `mount`, that folder is the working directory (/project); `extra_args` go to `docker run`.

    The engine failing to start the container is a ContainerFailed, after one more try (the
    command had not run, so a retry is safe). The command's own failure (check=True) is a
    CommandFailed with its output."""
    args = ["docker", "run", "--rm", *label_args(), "--entrypoint", command[0]]
    if user is not None:
        args += ["--user", user]
    if mount is not None:
        args += ["--volume", f"{mount}:/project", "--workdir", "/project"]
    for key, value in (env or {}).items():
        args += ["--env", f"{key}={value}"]
    args += extra_args or []
    for _ in range(2):
        result = run([*args, image, *command[1:]], timeout=timeout, check=False)
        if result.returncode != DOCKER_RUN_FAILED:
            break
    if result.returncode == DOCKER_RUN_FAILED:
        raise ContainerFailed(
            f"docker could not start a container of {image} (twice)", detail=result.stderr.strip()
        )
    if check and result.returncode != 0:
        raise CommandFailed(
            f"`{' '.join(command)}` failed (exit {result.returncode}) in {image}",
            detail=tail(result.stdout + result.stderr),
        )
    return result


@dataclass
class Container:
    id: str
    port: int

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def logs(self, tail: int | None = 200) -> str:
        """The container's output (stdout, then stderr): its last `tail` lines, or all."""
        limit = ["--tail", str(tail)] if tail is not None else []
        out = subprocess.run(
            ["docker", "logs", *limit, self.id], capture_output=True, text=True, check=False
        )
        return (out.stdout + out.stderr).strip()

    def remove(self) -> None:
        subprocess.run(
            ["docker", "rm", "--force", "--volumes", self.id], capture_output=True, check=False
        )


def start(tag: str, container_port: int, *, extra_args: list[str] | None = None) -> Container:
    """Start detached with the port published on an ephemeral port of 127.0.0.1 only."""
    out = run(
        [
            "docker",
            "run",
            "--detach",
            *label_args(),
            "--publish",
            f"127.0.0.1::{container_port}",
            *(extra_args or []),
            tag,
        ]
    )
    cid = out.stdout.strip()
    found = run(["docker", "port", cid, f"{container_port}/tcp"], check=False)
    mapping = found.stdout.split()
    if found.returncode != 0 or not mapping:  # it exited before Docker published the port
        container = Container(id=cid, port=0)
        logs = container.logs()
        container.remove()
        raise ContainerFailed("the container exited before it served", detail=logs)
    port = int(mapping[0].rsplit(":", 1)[1])
    return Container(id=cid, port=port)


def http(method: str, url: str, body: Any = None, timeout: float = 5) -> tuple[int, Any]:
    """The status and the body: parsed JSON, or the text when it is not JSON."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            try:
                return response.status, json.loads(raw or b"null")
            except ValueError:
                return response.status, raw.decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (OSError, HTTPException) as exc:  # refused, reset, timed out, garbled
        raise ContainerFailed(f"{method} {url} got no answer: {exc}") from exc


def wait_until_serving(container: Container, path: str, *, timeout: float = 60) -> None:
    """Poll until `path` answers 200; ContainerFailed (with logs) when it never does."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        state = run(["docker", "inspect", "--format", "{{.State.Status}}", container.id]).stdout
        if state.strip() == "exited":
            raise ContainerFailed("the container exited before it served", detail=container.logs())
        try:
            status, _ = http("GET", container.url(path), timeout=2)
            if status == 200:
                return
            last = f"HTTP {status}"
        except ContainerFailed as exc:
            last = exc.message
        time.sleep(0.3)
    raise ContainerFailed(
        f"{path} did not answer 200 within {timeout:.0f} s ({last})", detail=container.logs()
    )
