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


NAME_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")


def _member_facts(inner: tarfile.TarFile, member: tarfile.TarInfo) -> dict[str, object]:
    """Everything a layer's tar records about a file that reaches the image: its content (or
    link), mode, owner, time and extended attributes."""
    data = inner.extractfile(member) if member.isfile() else None
    return {
        "content": hashlib.sha256(data.read()).hexdigest()
        if data
        else f"{member.type.decode()} {member.linkname}",
        "mode": oct(member.mode),
        "owner": f"{member.uid}:{member.gid}",
        "mtime": int(member.mtime),
        "xattrs": sorted((k, v) for k, v in member.pax_headers.items() if k != "mtime"),
    }


def _layers(archive: Path) -> tuple[dict[str, dict[str, object]], dict[str, object]]:
    """Every file of every layer -> its facts; plus what describes the image: the config, and
    the index's, manifest's and layers' media types and annotations."""
    files: dict[str, dict[str, object]] = {}
    with tarfile.open(archive) as tar:
        index = json.loads(_read(tar, "index.json"))
        manifest = json.loads(_blob(tar, index["manifests"][0]["digest"]))
        config = json.loads(_blob(tar, manifest["config"]["digest"]))
        described: dict[str, object] = {f"config {key}": value for key, value in config.items()}
        # The descriptor's names (the tag the archive was exported as) are not the image's.
        described["index annotations"] = {
            key: value
            for key, value in index["manifests"][0].get("annotations", {}).items()
            if key not in NAME_ANNOTATIONS
        }
        described["manifest annotations"] = manifest.get("annotations")
        described["manifest mediaType"] = manifest.get("mediaType")
        for position, layer in enumerate(manifest["layers"]):
            described[f"layer {position} mediaType"] = layer.get("mediaType")
            described[f"layer {position} annotations"] = layer.get("annotations")
            with tarfile.open(fileobj=io.BytesIO(_blob(tar, layer["digest"]))) as inner:
                for member in inner.getmembers():
                    files[f"layer {position}: /{member.name}"] = _member_facts(inner, member)
    return files, described


def differences(first: Path, second: Path) -> list[str]:
    """One line per file, file fact or description field that differs between two OCI
    archives (the config's rootfs lists the layers' digests: the files say why they differ)."""
    files_a, described_a = _layers(first)
    files_b, described_b = _layers(second)
    lines = []
    for key in sorted(set(described_a) | set(described_b)):
        a, b = described_a.get(key), described_b.get(key)
        if key != "config rootfs" and a != b:
            lines.append(f"{key}: {a!r} != {b!r}")
    for name in sorted(set(files_a) | set(files_b)):
        facts_a, facts_b = files_a.get(name), files_b.get(name)
        if facts_a is None or facts_b is None:
            lines.append(f"{name}: only in one build")
        elif facts_a != facts_b:
            what = [fact for fact in facts_a if facts_a[fact] != facts_b[fact]]
            lines.append(f"{name}: {', '.join(what)}")
    return lines
