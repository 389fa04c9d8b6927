"""A local image registry (Docker's distribution v2, Debian's `docker-registry`) on loopback.

`buildlab measure` pushes every image it builds and records the compressed bytes each push
uploads; the code-change claim pushes before and after an edit. `buildlab doctor --fix`
installs and starts the registry like dockerd; `buildlab clean` empties it. The engine treats
127.0.0.0/8 as an insecure (plain HTTP) registry by default, so no engine setting is needed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from buildlab.engine import servers
from buildlab.support.errors import EngineError, PushFailed
from buildlab.support.paths import STATE_DIR
from buildlab.support.proc import run, running_pid, stop_process, tail

ADDRESS = os.environ.get("BUILDLAB_REGISTRY", "127.0.0.1:5000")
CONFIG_FILE = STATE_DIR / "registry.yml"
STORAGE = STATE_DIR / "registry"
PID_FILE = STATE_DIR / "registry.pid"
LOG = Path("/var/log/buildlab-registry.log")
PACKAGE = "docker-registry"
BINARY = "docker-registry"
CONFIG = """\
# Written by `buildlab doctor`: the test engine's local registry (see docs/test-engine.md).
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: {address}
"""
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
# `docker push` says, per layer: "<12 hex>: Pushed", "Layer already exists", "Mounted from x".
TAG_RACE = re.compile(r"/manifests/[^:]+: 500 Internal Server Error")
PUSHED_LINE = re.compile(r"^([0-9a-f]{12}): Pushed\s*$")
DIGEST_LINE = re.compile(r"digest: (sha256:[0-9a-f]{64}) size: (\d+)")


def answers() -> bool:
    try:
        with urllib.request.urlopen(f"http://{ADDRESS}/v2/", timeout=3) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def require_registry() -> None:
    if not answers():
        raise EngineError(
            f"No image registry answers at http://{ADDRESS}/v2/: run `make doctor` "
            "(it starts one on loopback), or set BUILDLAB_REGISTRY=host:port"
        )


def ensure_registry(*, fix: bool, say: Callable[[str], None] = print) -> None:
    if answers():
        say(f"registry: http://{ADDRESS} answers")
        return
    if not fix:
        require_registry()
    if shutil.which(BINARY) is None:
        _install(say)
    _start(say)


def _install(say: Callable[[str], None]) -> None:
    from buildlab.engine.daemon import apt_install

    say(f"registry: installing {PACKAGE} (apt)")
    apt_install([PACKAGE])


def _start(say: Callable[[str], None]) -> None:
    STORAGE.mkdir(parents=True, exist_ok=True)
    CONFIG_FILE.write_text(CONFIG.format(storage=STORAGE.resolve(), address=ADDRESS))
    say(f"registry: starting {BINARY} on {ADDRESS} in the background (log: {LOG})")
    servers.start(
        [BINARY, "serve", str(CONFIG_FILE)],
        what=f"the registry at http://{ADDRESS}/v2/",
        log=LOG,
        answers=answers,
        pid_file=PID_FILE,
    )


def _our_pid() -> int | None:
    """The registry process `doctor` started, if it still runs (None: not ours)."""
    return running_pid(PID_FILE)


def empty() -> None:
    """Remove every repository and blob: stop the registry we started, wipe, start it again.
    A registry this tool did not start is never touched."""
    pid = _our_pid()
    if pid is None:
        return
    stop_process(pid)
    shutil.rmtree(STORAGE, ignore_errors=True)
    _start(lambda _: None)


def unique_name(name: str) -> str:
    return f"{name}-{secrets.token_hex(3)}"


def fresh_repository(name: str) -> Repository:
    """A repository that holds nothing yet: ours emptied first, anybody else's a new name."""
    if _our_pid() is not None:
        empty()
        return Repository(name)
    return Repository(unique_name(name))


@dataclass(frozen=True)
class Blob:
    digest: str
    size: int
    kind: str  # "manifest", "config" or "layer"


def _get(repository: str, reference: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://{ADDRESS}/v2/{repository}/manifests/{reference}",
        headers={"Accept": MANIFEST_TYPES},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.load(response))


def blobs(repository: str, reference: str) -> Iterator[Blob]:
    """Every manifest, config and layer a pushed reference consists of, with its size as the
    registry stores it (compressed). Attestation manifests (provenance) are included."""
    document = _get(repository, reference)
    manifests = document.get("manifests")
    if isinstance(manifests, list):
        for entry in manifests:
            yield Blob(entry["digest"], int(entry["size"]), "manifest")
            yield from blobs(repository, entry["digest"])
        return
    config = document["config"]
    yield Blob(config["digest"], int(config["size"]), "config")
    for layer in document["layers"]:
        yield Blob(layer["digest"], int(layer["size"]), "layer")


@dataclass
class Push:
    reference: str
    digest: str
    uploaded_bytes: int
    layers: list[Blob]


@dataclass
class Repository:
    """One repository of the local registry, with what earlier pushes already put there."""

    name: str
    known: set[str] = field(default_factory=set)

    def push(self, tag: str) -> Push:
        """Push a local image; count the bytes this push uploaded.

        Layers: those `docker push` reports as "Pushed" (not "already exists" or "Mounted").
        Manifests and configs are not listed by `docker push`: those this repository did not
        have yet. Sizes are the registry's own (compressed)."""
        reference = f"{ADDRESS}/{self.name}:{tag.rsplit(':', 1)[-1]}"
        run(["docker", "tag", tag, reference])
        pushed: set[str] = set()
        for attempt in (1, 2):
            result = run(["docker", "push", reference], check=False, timeout=900)
            pushed |= {
                m.group(1)
                for line in result.stdout.splitlines()
                if (m := PUSHED_LINE.match(line.strip()))
            }
            # The registry's file system storage writes a tag's link in place: a HEAD of the
            # tag racing a PUT of it can read it half written, and the registry answers 500
            # ("invalid checksum digest format" in its log; seen once in a CI run of hundreds
            # of pushes). That one error is retried, once; what either attempt uploaded counts.
            if (
                result.returncode == 0
                or attempt == 2
                or not TAG_RACE.search(result.stdout + result.stderr)
            ):
                break
        if result.returncode != 0:
            raise PushFailed(
                f"docker push {reference} failed", detail=tail(result.stdout + result.stderr)
            )
        found = DIGEST_LINE.search(result.stdout)
        if found is None:
            raise PushFailed(
                f"docker push {reference} printed no digest", detail=tail(result.stdout)
            )
        index = Blob(found.group(1), int(found.group(2)), "manifest")
        parts = [index, *blobs(self.name, index.digest)]
        uploaded = sum(b.size for b in parts if b.kind == "layer" and b.digest[7:19] in pushed)
        uploaded += sum(b.size for b in parts if b.kind != "layer" and b.digest not in self.known)
        self.known |= {b.digest for b in parts}
        return Push(reference, index.digest, uploaded, [b for b in parts if b.kind == "layer"])
