"""Build a variant, run it, and prove it serves: health first, then a real request."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from buildlab.course.model import App, Manifest, Variant
from buildlab.engine import builds, containers, images, labels, private_index
from buildlab.support.errors import ContainerFailed

# How the claim tests and `buildlab adopt` run an image the way production does: a read-only
# root file system with only a tmpfs /tmp, no capabilities, no privilege gain ...
HARDENED = [
    "--read-only",
    "--tmpfs",
    "/tmp",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
]
# ... and what OpenShift does: a UID from a project's range, group 0, no /etc/passwd entry;
# here with a read-only root file system and no tmpfs at all.
ANY_UID = ["--user", "123456:0", "--read-only"]


@contextmanager
def running(
    tag: str, app: App, *, extra_args: list[str] | None = None, timeout: float = 60
) -> Iterator[containers.Container]:
    """A started container that answers its health endpoint; always removed afterwards."""
    env = [arg for name, value in app.run_env for arg in ("--env", f"{name}={value}")]
    container = containers.start(tag, app.port, extra_args=[*env, *(extra_args or [])])
    try:
        containers.wait_until_serving(container, app.health_path, timeout=timeout)
        yield container
    finally:
        container.remove()


def check_probe(container: containers.Container, app: App) -> None:
    probe = app.probe
    status, body = containers.http(probe.method, container.url(probe.path), probe.body)
    # expect None: any answer with 200 will do (a project's health path, whose body we do not know)
    if status != 200 or (probe.expect is not None and body != probe.expect):
        raise ContainerFailed(
            f"{probe.method} {probe.path} returned HTTP {status} {body!r}, "
            f"expected {probe.expect!r}",
            detail=container.logs(),
        )


def build_and_probe(manifest: Manifest, variant: Variant, *, keep_running: bool = False) -> None:
    """Build, start, probe and report; with keep_running, serve until Ctrl-C."""
    app = manifest.apps[variant.lesson.app]
    result = builds.build(
        variant.directory,
        labels.image_tag(variant.name),
        extra_args=private_index.build_args(variant.lesson.private_index),
    )
    size = images.size_text(result.tag)
    with running(result.tag, app) as container:
        check_probe(container, app)
        print(
            f"{variant.name}: built in {result.seconds:.1f} s ({size}); "
            f"{app.health_path} healthy; {app.probe.method} {app.probe.path} as expected",
            flush=True,
        )
        if keep_running:
            print(
                f"serving on {container.url('/')} - press Ctrl-C to stop and remove it", flush=True
            )
            while True:
                time.sleep(3600)
