"""Claims about the lock: a stale one stops the build, and the image holds exactly what it pins."""

from __future__ import annotations

import json
import re
from pathlib import Path

from buildlab.claims.candidate import Candidate
from buildlab.claims.verdict import ClaimFailed, NotApplicable, ensure
from buildlab.course.textedit import normalize
from buildlab.course.tools import Tool
from buildlab.engine.containers import run_container
from buildlab.support.errors import BuildFailed, BuildlabError

SERVERS = {"gunicorn", "uvicorn"}
# Installed distributions of the image's Python (the venv's, when it is first on PATH).
LIST_DISTRIBUTIONS = (
    "import importlib.metadata as m, json; print(json.dumps(sorted("
    "[d.metadata['Name'], d.version] for d in m.distributions())))"
)


def build_must_fail(ctx: Candidate, context: Path, tag: str, why: str) -> BuildFailed:
    """The failure of a build that must fail (the claim fails saying `why` if it builds)."""
    try:
        ctx.build(context, tag)
    except BuildFailed as failure:
        return failure
    raise ClaimFailed(why)


def removable_dependency(tool: Tool, directory: Path) -> str:
    """A declared dependency that is not the server (the one a removal test drops)."""
    names = sorted(set(tool.declared(directory)) - SERVERS)
    ensure(names, f"{tool.manifest_file} declares no dependency but the server")
    return names[-1]


def stale_lock_fails_build(ctx: Candidate) -> None:
    """A dependency added to the manifest, then (where the tool's check can see it) one
    removed, each without re-locking: the build stops with the tool's own message."""
    tool = ctx.tool
    with ctx.scratch() as context:
        try:
            tool.add_dependency(context)
        except BuildlabError as exc:
            if not ctx.project:
                raise
            raise NotApplicable(f"cannot declare a dependency in it: {exc.message}") from exc
        failure = build_must_fail(
            ctx,
            context,
            ctx.tag("stale-lock"),
            f"{tool.manifest_file} declares one more dependency than {tool.lock_file}, and it "
            "built without an error",
        )
        ensure(
            re.search(tool.stale_lock_message, failure.detail),
            f"the build failed, but not with {tool.name}'s stale-lock message",
            failure.detail,
        )
    if tool.sees_a_removed_dependency:
        with ctx.scratch() as context:
            removed = removable_dependency(tool, context)
            tool.remove_dependency(context, removed)
            failure = build_must_fail(
                ctx,
                context,
                ctx.tag("stale-lock-removed"),
                f"{removed} removed from {tool.manifest_file} but still in {tool.lock_file}, "
                "and it built without an error",
            )
            ensure(
                re.search(tool.stale_lock_message, failure.detail),
                f"the build failed, but not with {tool.name}'s stale-lock message",
                failure.detail,
            )
    if tool.locks_anew_without_a_lock:  # the lesson must name the lock: its absence fails
        with ctx.scratch() as context:
            (context / tool.lock_file).unlink()
            failure = build_must_fail(
                ctx, context, ctx.tag("no-lock"), f"a build without {tool.lock_file} succeeded"
            )
            ensure(
                tool.lock_file in failure.detail and "not found" in failure.detail,
                f"the build without {tool.lock_file} failed, but not for the missing lock",
                failure.detail,
            )


def installed(tag: str) -> dict[str, str]:
    out = run_container(tag, ["python", "-c", LIST_DISTRIBUTIONS]).stdout
    return {normalize(name): version for name, version in json.loads(out)}


def locked_installs_are_identical(ctx: Candidate) -> None:
    """The image, and a clean build (--no-cache) of the same folder, install the same
    versions, and they are the lock's."""
    tool = ctx.tool
    first = installed(ctx.built().tag)
    clean = installed(ctx.build(ctx.context, ctx.tag("clean"), extra_args=["--no-cache"]).tag)
    ensure(first == clean, "a clean build installs other versions than the image has", str(clean))
    locked = tool.locked_versions(tool.lock_text(ctx.context))
    ensure(locked, f"{tool.lock_file} lists no packages")
    # A package locked for another platform only (colorama: Windows) is rightly not installed.
    skipped = tool.conditional_packages(tool.lock_text(ctx.context))
    wrong = {
        name: (version, first.get(name))
        for name, version in locked.items()
        if first.get(name) != version and name not in skipped
    }
    ensure(
        not wrong,
        f"installed versions differ from {tool.lock_file} (lock, image): "
        + ", ".join(f"{name} {a} != {b}" for name, (a, b) in sorted(wrong.items())),
    )
