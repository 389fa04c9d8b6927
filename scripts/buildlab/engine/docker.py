"""Builds and containers, always labelled so that every one of them can be cleaned up."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildlab.engine import buildlog
from buildlab.support.errors import BuildFailed, CommandFailed, ContainerFailed
from buildlab.support.proc import run, tail

LABEL = "buildlab"
SESSION_LABEL = "buildlab.session"
SESSION = os.environ.get("BUILDLAB_SESSION") or secrets.token_hex(4)
BUILD_ENV = {**os.environ, "DOCKER_BUILDKIT": "1", "BUILDKIT_PROGRESS": "plain"}


def labels() -> list[str]:
    return ["--label", f"{LABEL}=1", "--label", f"{SESSION_LABEL}={SESSION}"]


@dataclass
class BuildResult:
    tag: str
    seconds: float
    log: str
    steps: list[buildlog.Step]

    @property
    def instructions(self) -> list[buildlog.Step]:
        return buildlog.instructions(self.steps)

    @property
    def build_steps(self) -> list[buildlog.Step]:
        """The instructions that build something: FROM only names a base image (never
        "CACHED" in BuildKit's log), so it does not count."""
        return [s for s in self.instructions if not s.instruction.startswith("FROM ")]

    @property
    def cached_count(self) -> int:
        return sum(1 for s in self.build_steps if s.cached)


def image_tag(name: str) -> str:
    safe = name.replace("/", "-").lower()
    return f"buildlab/{safe}:{SESSION}"


# The containerd image store sometimes loses a layer's parent while it unpacks a finished
# build ("parent snapshot ... does not exist", containerd/containerd#10835, ddev/ddev#8136):
# every step ran, only the engine's bookkeeping failed, and the same build then succeeds.
ENGINE_UNPACK_RACE = "failed to prepare extraction snapshot"


def build(
    context: Path,
    tag: str,
    *,
    extra_args: list[str] | None = None,
    timeout: float = 1800,
    on_line: Callable[[str], None] | None = None,
    retry_unpack_race: bool = True,
) -> BuildResult:
    """docker build with plain progress; BuildFailed carries the failing step's log tail.

    `on_line` sees each log line as it arrives (progress display). An interrupt or a timeout
    stops the build client, which cancels the build: no image is left behind. A build lost to
    the engine's unpack race is run once more (unless `retry_unpack_race` is off: a timed
    build records the failure instead of a second, cached, time)."""
    try:
        return _build_once(context, tag, extra_args, timeout, on_line)
    except BuildFailed as failure:
        if not retry_unpack_race or ENGINE_UNPACK_RACE not in failure.detail:
            raise
    return _build_once(context, tag, extra_args, timeout, on_line)


def _build_once(
    context: Path,
    tag: str,
    extra_args: list[str] | None,
    timeout: float,
    on_line: Callable[[str], None] | None,
) -> BuildResult:
    args = [
        "docker",
        "build",
        "--progress=plain",
        *labels(),
        "--tag",
        tag,
        *(extra_args or []),
        str(context),
    ]
    start = time.monotonic()
    lines: list[str] = []
    with subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=BUILD_ENV,
        errors="replace",
        stdin=subprocess.DEVNULL,
    ) as process:
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if on_line is not None:
                    on_line(line.rstrip("\n"))
            returncode = process.wait()
        except BaseException:
            process.kill()
            raise
        finally:
            timer.cancel()
    seconds = time.monotonic() - start
    log = "".join(lines)
    steps = buildlog.parse(log)
    if seconds >= timeout:
        raise BuildFailed(
            f"docker build of {context} took longer than {timeout:.0f} s",
            detail=buildlog.failure_summary(log, steps),
        )
    if returncode != 0:
        raise BuildFailed(
            f"docker build failed for {context}",
            detail=buildlog.failure_summary(log, steps),
            log=log,
        )
    return BuildResult(tag=tag, seconds=seconds, log=log, steps=steps)


def image_size(tag: str) -> int:
    return int(run(["docker", "image", "inspect", "--format", "{{.Size}}", tag]).stdout)


def history(tag: str) -> list[tuple[str, int]]:
    """(created by, size) per image history row, newest first."""
    out = run(
        [
            "docker",
            "history",
            "--no-trunc",
            "--human=false",
            "--format",
            "{{json .CreatedBy}}\t{{.Size}}",
            tag,
        ]
    ).stdout
    rows = []
    for line in out.splitlines():
        created_by, size = line.rsplit("\t", 1)
        rows.append((json.loads(created_by), int(size)))
    return rows


def layer_digests(tag: str) -> list[str]:
    out = run(["docker", "image", "inspect", "--format", "{{json .RootFS.Layers}}", tag]).stdout
    return list(json.loads(out))


def state(container: Container) -> dict[str, Any]:
    out = run(["docker", "inspect", "--format", "{{json .State}}", container.id]).stdout
    return dict(json.loads(out))


def prune_build_cache() -> None:
    """Drop every build cache record and cache mount of the builder (base images stay)."""
    run(["docker", "builder", "prune", "--all", "--force"], timeout=600)


def prune_cache_mounts() -> None:
    """Empty every cache mount of the builder (its layer cache and the base images stay)."""
    run(["docker", "builder", "prune", "--force", "--filter", "type=exec.cachemount"], timeout=600)


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
    args = ["docker", "run", "--rm", *labels(), "--entrypoint", command[0]]
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
            *labels(),
            "--publish",
            f"127.0.0.1::{container_port}",
            *(extra_args or []),
            tag,
        ]
    )
    cid = out.stdout.strip()
    mapping = run(["docker", "port", cid, f"{container_port}/tcp"]).stdout.split()
    port = int(mapping[0].rsplit(":", 1)[1])
    return Container(id=cid, port=port)


def http(method: str, url: str, body: Any = None, timeout: float = 5) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


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
        except (OSError, ValueError) as exc:
            last = str(exc)
        time.sleep(0.3)
    raise ContainerFailed(
        f"{path} did not answer 200 within {timeout:.0f} s ({last})", detail=container.logs()
    )


# What buildlab labels, each kind with how to list it and how to remove it.
LABELLED_KINDS = (
    (["docker", "ps", "--all", "--quiet"], ["docker", "rm", "--force"]),
    (["docker", "images", "--quiet"], ["docker", "rmi", "--force"]),
    (["docker", "network", "ls", "--quiet"], ["docker", "network", "rm"]),
)


def labelled_ids(list_cmd: list[str], selector: str) -> list[str]:
    """The IDs one of LABELLED_KINDS' list commands finds with the label `selector`."""
    return subprocess.run(
        [*list_cmd, "--filter", f"label={selector}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()


def cleanup(session: str | None = SESSION) -> None:
    """Remove every container, image and network (a compose project's) this session labelled
    (session=None: all sessions)."""
    selector = f"{LABEL}=1" if session is None else f"{SESSION_LABEL}={session}"
    for list_cmd, rm_cmd in LABELLED_KINDS:
        remove_in_parallel(rm_cmd, sorted(set(labelled_ids(list_cmd, selector))))


def remove_in_parallel(rm_cmd: list[str], ids: list[str], chunk: int = 10) -> None:
    """Several removals at once: the engine removes one image in about a second when it runs
    one `docker rmi` at a time, and a test session leaves hundreds."""
    chunks = [ids[start : start + chunk] for start in range(0, len(ids), chunk)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in pool.map(
            lambda part: subprocess.run([*rm_cmd, *part], capture_output=True, check=False),
            chunks,
        ):
            pass


__all__ = ["BuildResult", "Container", "build", "cleanup", "start"]
