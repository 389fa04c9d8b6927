"""What buildlab labels (containers, images, networks), by session, so that every one of them
can be found and removed: also after a failure or Ctrl-C.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from concurrent.futures import ThreadPoolExecutor

LABEL = "buildlab"


SESSION_LABEL = "buildlab.session"


SESSION = os.environ.get("BUILDLAB_SESSION") or secrets.token_hex(4)


def label_args() -> list[str]:
    return ["--label", f"{LABEL}=1", "--label", f"{SESSION_LABEL}={SESSION}"]


def image_tag(name: str) -> str:
    safe = name.replace("/", "-").lower()
    return f"buildlab/{safe}:{SESSION}"


# What buildlab labels, each kind with how to list it and how to remove it, and for images
# a prune that removes them all in one command first: with the containerd image store every
# `rmi` collects garbage on its own (3.5 s an image, against 1.1 s in one prune, measured on 20
# images of an engine holding 220), and a test worker leaves hundreds. The `rm` then takes
# whatever the prune left.
LABELLED_KINDS: tuple[tuple[list[str], list[str], list[str]], ...] = (
    (["docker", "ps", "--all", "--quiet"], ["docker", "rm", "--force"], []),
    (
        ["docker", "images", "--quiet"],
        ["docker", "rmi", "--force"],
        ["docker", "image", "prune", "--all", "--force"],
    ),
    (["docker", "network", "ls", "--quiet"], ["docker", "network", "rm"], []),
    (["docker", "volume", "ls", "--quiet"], ["docker", "volume", "rm", "--force"], []),
)


def volume_name(name: str) -> str:
    """A volume's name: like an image tag's, in the characters volume names allow."""
    safe = "".join(c if c.isalnum() or c in "_.-" else "-" for c in name.lower())
    return f"buildlab-{safe}-{SESSION}"


def labelled_ids(list_cmd: list[str], selector: str) -> list[str]:
    """The IDs one of LABELLED_KINDS' list commands finds with the label `selector`."""
    return subprocess.run(
        [*list_cmd, "--filter", f"label={selector}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()


def cleanup(session: str | None = SESSION) -> None:
    """Remove every container, image, network (a compose project's) and volume this session labelled
    (session=None: all sessions)."""
    selector = f"{LABEL}=1" if session is None else f"{SESSION_LABEL}={session}"
    for list_cmd, rm_cmd, prune_cmd in LABELLED_KINDS:
        if prune_cmd:  # the session's containers are gone already: none uses its images
            subprocess.run(
                [*prune_cmd, "--filter", f"label={selector}"], capture_output=True, check=False
            )
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
