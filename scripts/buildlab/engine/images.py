"""Facts about a built image: its sizes (uncompressed, as `docker images` shows them on the
classic store, and compressed, as a registry stores and a pull transfers them), its layers and
history, and the compressed size of a build context's code."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TypedDict

from buildlab.engine import builds, labels, registry
from buildlab.support.proc import run


def compressed_size(tag: str) -> int:
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


def uncompressed_size(tag: str) -> int:
    """The sum of the image's layers: what `docker images` calls the size on the classic store
    (the containerd store's own figure adds the compressed blobs it also keeps)."""
    return sum(size for _, size in history(tag))


class ImageFacts(TypedDict):
    size_bytes: int  # uncompressed: what users see as the size
    compressed_bytes: int
    layers: int


def image_facts(tag: str) -> ImageFacts:
    """Uncompressed size, compressed size (what a pull transfers) and the layer count."""
    return {
        "size_bytes": uncompressed_size(tag),
        "compressed_bytes": compressed_size(tag),
        "layers": len(layer_digests(tag)),
    }


CODE_ONLY_DOCKERFILE = "FROM scratch\nCOPY . /\n"


def code_bytes(context: Path, repository: registry.Repository) -> int:
    """The compressed size of the build context alone, as Docker sends and packs it: an image
    of nothing but `COPY . /` (the context's .dockerignore applies), pushed. The Dockerfile
    lives outside the context, in a folder removed even on Ctrl-C."""
    tag = labels.image_tag(f"code-only-{repository.name}")
    with tempfile.TemporaryDirectory(prefix="buildlab-code-") as folder:
        dockerfile = Path(folder, "Dockerfile")
        dockerfile.write_text(CODE_ONLY_DOCKERFILE)
        builds.build(context, tag, extra_args=["--file", str(dockerfile)])
    return sum(layer.size for layer in repository.push(tag).layers)


def size_text(tag: str) -> str:
    """The image's sizes, in words (`describe_size`)."""
    return describe_size(uncompressed_size(tag), compressed_size(tag))


def describe_size(uncompressed: int, compressed: int) -> str:
    """The size users see first (uncompressed, as `docker images` shows it on the classic
    store), and the compressed one named as such."""
    return f"{uncompressed / 1e6:.0f} MB ({compressed / 1e6:.0f} MB compressed)"
