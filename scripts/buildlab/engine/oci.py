"""Compare two OCI image archives file by file: what makes two builds' digests differ."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path


def _read(tar: tarfile.TarFile, name: str) -> bytes:
    member = tar.extractfile(name)
    assert member is not None, name
    return member.read()


def _blob(tar: tarfile.TarFile, digest: str) -> bytes:
    return _read(tar, "blobs/" + digest.replace(":", "/"))


def manifest_digest(archive: Path) -> str:
    """The image manifest digest an OCI archive's index.json names (what a registry shows)."""
    with tarfile.open(archive) as tar:
        return str(json.loads(_read(tar, "index.json"))["manifests"][0]["digest"])


def _layers(archive: Path) -> tuple[dict[str, tuple[str, int]], dict[str, object]]:
    """Every file of every layer -> (sha256 of content, mtime); plus the image config."""
    files: dict[str, tuple[str, int]] = {}
    with tarfile.open(archive) as tar:
        index = json.loads(_read(tar, "index.json"))
        manifest = json.loads(_blob(tar, index["manifests"][0]["digest"]))
        config = json.loads(_blob(tar, manifest["config"]["digest"]))
        for position, layer in enumerate(manifest["layers"]):
            with tarfile.open(fileobj=io.BytesIO(_blob(tar, layer["digest"]))) as inner:
                for member in inner.getmembers():
                    data = inner.extractfile(member) if member.isfile() else None
                    content = (
                        hashlib.sha256(data.read()).hexdigest()
                        if data
                        else f"{member.type.decode()} {member.linkname}"
                    )
                    files[f"layer {position}: /{member.name}"] = (content, int(member.mtime))
    return files, config


def differences(first: Path, second: Path) -> list[str]:
    """One line per file or config field that differs between two OCI archives."""
    files_a, config_a = _layers(first)
    files_b, config_b = _layers(second)
    lines = []
    for key in sorted(set(config_a) | set(config_b)):
        if key != "rootfs" and config_a.get(key) != config_b.get(key):
            lines.append(f"config {key}: {config_a.get(key)!r} != {config_b.get(key)!r}")
    for name in sorted(set(files_a) | set(files_b)):
        a, b = files_a.get(name), files_b.get(name)
        if a != b:
            what = (
                "only in one build"
                if a is None or b is None
                else ("content" if a[0] != b[0] else "mtime")
            )
            lines.append(f"{name}: {what}")
    return lines
