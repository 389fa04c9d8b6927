"""`docker build`, with BuildKit's plain log parsed into steps; the builder's cache."""

from __future__ import annotations

import fcntl
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from buildlab.engine import buildlog
from buildlab.engine.labels import label_args
from buildlab.support.errors import BuildFailed
from buildlab.support.paths import STATE_DIR
from buildlab.support.proc import run

BUILD_ENV = {**os.environ, "DOCKER_BUILDKIT": "1", "BUILDKIT_PROGRESS": "plain"}

# One build at a time from this repository, whichever process asks (the test workers, a
# `buildlab` command beside them): Docker 26's BuildKit can panic, and take dockerd down with
# it, when two builds that share steps finish together (a nil pointer in
# solver.(*Job).walkProvenance, seen with two test workers). Nothing else waits on it.
BUILD_LOCK = STATE_DIR / "build.lock"
_held = 0  # how deep this process is inside one_build_at_a_time()


@contextmanager
def one_build_at_a_time() -> Iterator[None]:
    """Hold the repository's build lock (re-entrant within a process)."""
    global _held
    if _held:
        _held += 1
        try:
            yield
        finally:
            _held -= 1
        return
    BUILD_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with BUILD_LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _held = 1
        try:
            yield
        finally:
            _held = 0
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class BuildResult:
    tag: str  # "" for a build that made no image (only the build cache)
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


# The containerd image store sometimes loses a layer's parent while it unpacks a finished
# build ("parent snapshot ... does not exist", containerd/containerd#10835, ddev/ddev#8136):
# every step ran, only the engine's bookkeeping failed, and the same build then succeeds.
ENGINE_UNPACK_RACE = "failed to prepare extraction snapshot"


def build(
    context: Path,
    tag: str | None,
    *,
    extra_args: list[str] | None = None,
    timeout: float = 1800,
    on_line: Callable[[str], None] | None = None,
    retry_unpack_race: bool = True,
) -> BuildResult:
    """docker build with plain progress; BuildFailed carries the failing step's log tail.

    `tag` None: no image, only the build cache (`--output type=cacheonly`), for a build whose
    steps are all that is read (what ran, what was CACHED, what a step printed): nothing to
    export, unpack, or remove at the end (each image the containerd store removes costs a
    second of garbage collection, and a test session builds hundreds).

    `on_line` sees each log line as it arrives (progress display). An interrupt or a timeout
    stops the build client, which cancels the build: no image is left behind. A build lost to
    the engine's unpack race is run once more (unless `retry_unpack_race` is off: a timed
    build records the failure instead of a second, cached, time)."""
    with one_build_at_a_time():
        try:
            return _build_once(context, tag, extra_args, timeout, on_line)
        except BuildFailed as failure:
            if not retry_unpack_race or ENGINE_UNPACK_RACE not in failure.detail:
                raise
        return _build_once(context, tag, extra_args, timeout, on_line)


def _build_once(
    context: Path,
    tag: str | None,
    extra_args: list[str] | None,
    timeout: float,
    on_line: Callable[[str], None] | None,
) -> BuildResult:
    args = [
        "docker",
        "build",
        "--progress=plain",
        *label_args(),
        *(["--tag", tag] if tag is not None else ["--output", "type=cacheonly"]),
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
            buildlog.missing_base_image(log) or f"docker build failed for {context}",
            detail=buildlog.failure_summary(log, steps),
            log=log,
        )
    return BuildResult(tag=tag or "", seconds=seconds, log=log, steps=steps)


def prune_build_cache() -> None:
    """Drop every build cache record and cache mount of the builder (base images stay)."""
    run(["docker", "builder", "prune", "--all", "--force"], timeout=600)


def prune_cache_mounts() -> None:
    """Empty every cache mount of the builder (its layer cache and the base images stay)."""
    run(["docker", "builder", "prune", "--force", "--filter", "type=exec.cachemount"], timeout=600)
