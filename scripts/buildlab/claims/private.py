"""Lesson 10: a package from a private index, its password a build secret in no layer,
history, lock or exported cache, and dependency confusion ruled out."""

from __future__ import annotations

import gzip
import json
import re
import tempfile
from contextlib import nullcontext
from pathlib import Path

from buildlab.claims.candidate import Candidate
from buildlab.claims.verdict import ClaimFailed, ensure
from buildlab.course.scenarios import make_dependency_file_change
from buildlab.engine import builds, images, private_index
from buildlab.support.errors import BuildFailed
from buildlab.support.pins import load_pins
from buildlab.support.proc import run


def _must_fail(context: Path, tag: str, why: str, *, extra_args: list[str]) -> BuildFailed:
    """The failure of a build that must fail, with exactly these arguments."""
    try:
        builds.build(context, tag, extra_args=extra_args)
    except BuildFailed as failure:
        return failure
    raise ClaimFailed(why)


def _secrets(password: str) -> list[bytes]:
    """The password as it would show: plain (a netrc file, a URL) and inside the Basic
    authorization header a tool sends."""
    return [password.encode(), private_index.basic_auth(password).split()[1].encode()]


def private_index_needs_the_secret(ctx: Candidate) -> None:
    """Each build changes a dependency file first, so the install step runs: a cached step
    needs no secret (BuildKit keeps secrets out of the cache key). Both builds without the
    right password meet empty cache mounts: uv answers from its cache what it fetched lately,
    so a Dockerfile that never mounts the secret built after one that did would pass."""
    password = private_index.token()
    wrong = f"not-{password}"
    address = f"{private_index.HOST}:{private_index.PORT}"
    with ctx.scratch() as context, tempfile.TemporaryDirectory() as tmp:
        make_dependency_file_change(context, ctx.tool_name)
        # uv takes a file it fetched lately from its cache without asking the index (the
        # index sends Last-Modified and no Cache-Control: HTTP's heuristic freshness), so a
        # missing or wrong password would go unnoticed: the password must be what is tested.
        # Neither build below can put the private package in the cache: both fail to fetch it.
        builds.prune_cache_mounts()
        missing = _must_fail(
            context,
            ctx.tag("no-secret"),
            "it built without the index's credentials",
            extra_args=private_index.build_args(True, secret=False),
        )
        ensure(
            f"secret {private_index.SECRET_ID}: not found" in missing.detail,
            "without the secret the build failed, but not for the missing secret (the install "
            "step does not mount it)",
            missing.detail,
        )
        netrc = Path(tmp, "netrc")
        netrc.write_text(private_index.netrc_text(wrong))
        refused = _must_fail(
            context,
            ctx.tag("wrong-secret"),
            "it built with a wrong password",
            extra_args=private_index.build_args(True, netrc=netrc),
        )
    for pattern in ctx.tool.refused:
        ensure(
            re.search(pattern.format(index=re.escape(address)), refused.log),
            f"with a wrong password the build failed without {ctx.tool.name}'s refusal",
            refused.detail,
        )
    for log in (missing.log, refused.log, ctx.built().log):
        for secret in (*_secrets(password), *_secrets(wrong)):
            ensure(secret.decode() not in log, "a password is in the build's output")
    ctx.notes.add(f"private-index-needs-the-secret {ctx.name}: {_refusal(refused.log)}")


def _refusal(log: str) -> str:
    """The line of a failed build's output that says why (for the test's figures)."""
    lines = [line for line in log.splitlines() if re.search(r"error|denied|refused", line, re.I)]
    return (lines[0] if lines else "?").split(" ", 2)[-1][:150]


def _holding(blob: bytes, needles: list[bytes]) -> bool:
    """A blob, gzip-compressed or not, holds one of the needles."""
    if blob[:2] == b"\x1f\x8b":
        blob = gzip.decompress(blob)
    return any(needle in blob for needle in needles)


def _blobs(folder: Path) -> list[Path]:
    return [path for path in sorted(folder.rglob("*")) if path.is_file()]


def _made_by_the_build(cache: Path) -> tuple[list[Path], int]:
    """An exported cache's files but the base images' layers (byte for byte the pinned
    images', made before any password existed: scanning them would only cost time); and how
    many layers were left out."""
    base = {diff for image in load_pins().images.values() for diff in images.layer_digests(image)}
    blob = cache / "blobs" / "sha256"
    left_out = set()
    for entry in json.loads((cache / "index.json").read_text())["manifests"]:
        for layer in json.loads((blob / entry["digest"][7:]).read_text()).get("manifests", []):
            if layer.get("annotations", {}).get("containerd.io/uncompressed") in base:
                left_out.add(layer["digest"][7:])
    return [path for path in _blobs(cache) if path.name not in left_out], len(left_out)


def credentials_leave_no_trace(ctx: Candidate) -> None:
    needles = _secrets(private_index.token())
    built = ctx.built()
    leaks: list[str] = []
    with tempfile.TemporaryDirectory(prefix="buildlab-leaks-") as tmp:
        image, cache = Path(tmp, "image"), Path(tmp, "cache")
        image.mkdir()
        run(["docker", "save", "--output", str(image / "image.tar"), built.tag], timeout=600)
        run(["tar", "-xf", str(image / "image.tar"), "-C", str(image)])
        ctx.build(
            ctx.context,
            ctx.tag("leaks"),
            extra_args=["--cache-to", f"type=local,dest={cache},mode=max"],
        )
        exported, base_layers = _made_by_the_build(cache)
        places = {"image": _blobs(image), "exported cache": exported}
        for where, files in places.items():
            leaks += [f"{where}: {p.name}" for p in files if _holding(p.read_bytes(), needles)]
        described = run(["docker", "image", "inspect", built.tag]).stdout
        described += "\n".join(created for created, _ in images.history(built.tag))
        if _holding(described.encode(), needles):
            leaks.append("the image's config or history")
        folder = _blobs(ctx.context)  # the build context: locks and manifests
        leaks += [f"lesson folder: {p.name}" for p in folder if _holding(p.read_bytes(), needles)]
        counts = {where: len(files) for where, files in places.items()}
    counted: dict[str, int] = {}
    for leak in leaks:
        place = leak.split(":")[0]
        counted[place] = counted.get(place, 0) + 1
    ensure(
        not leaks,
        "the index's password is in: "
        + ", ".join(f"{place} ({count} files)" for place, count in counted.items()),
        "\n".join(leaks[:20]),
    )
    ctx.notes.add(
        f"credentials-leave-no-trace {ctx.name}: password absent from "
        f"{counts['image']} files of `docker save`, {counts['exported cache']} of the exported "
        f"cache (not its {base_layers} base image layers), the config and history, and "
        f"{len(folder)} files of the folder"
    )


def private_name_only_from_private_index(ctx: Candidate) -> None:
    """acme-holidays 99.0 on a 'public' index (on localhost: no credentials go there), which
    passes every other name on to PyPI; each tool locks the lesson's manifest again with that
    index in PyPI's place. pip-tools' single index is a second server of the private packages
    whose fallback is the public one."""
    from buildlab.course.locks import relock
    from buildlab.course.model import LockFolder

    pypi = load_pins().engine["index_url"]
    genuine = private_index.PACKAGES / "acme_holidays-1.0.0-py3-none-any.whl"  # what it serves
    single = ctx.tool.one_index
    with tempfile.TemporaryDirectory(prefix="buildlab-confusion-") as tmp:
        squatter = private_index.build_wheel(Path(tmp, "public"), version="99.0.0")
        with (
            private_index.extra_index(
                squatter.parent, host="localhost", fallback=pypi, auth=False
            ) as public,
            (  # pip-tools' one index: the private packages, other names passed to `public`
                private_index.extra_index(
                    private_index.PACKAGES, host=private_index.HOST, fallback=public.url, auth=True
                )
                if single
                else nullcontext()
            ) as relay,
            ctx.scratch() as context,
        ):
            ctx.tool.use_public_index(context, relay.url if relay else public.url)
            folder = LockFolder(
                ctx.name,
                ctx.tool_name,
                context,
                ctx.lesson.base,
                True,
                private_index=True,
            )
            relock([folder], upgrade=True, say=lambda _: None)
            lock = ctx.tool.lock_text(context)
            version = ctx.tool.locked_versions(lock).get(private_index.PACKAGE_NAME)
        ensure(version == "1.0.0", f"acme-holidays {version} locked, from the public index")
        ensure(private_index.sha256(genuine) in lock, "the lock has another acme-holidays file")
        ensure(private_index.sha256(squatter) not in lock, "the lock has the squatter's file")
    ctx.notes.add(
        f"private-name-only-from-private-index {ctx.name}: locked acme-holidays "
        f"{version} (the public index offered 99.0.0)"
    )
