"""Claims about the build cache: what a code change and a dependency change re-run, what a push
uploads, and the caches that never reach an image."""

from __future__ import annotations

import re
import tempfile

from buildlab.claims import limits
from buildlab.claims.candidate import Candidate
from buildlab.claims.verdict import ensure
from buildlab.course.scenarios import (
    make_code_change,
    make_dependency_file_change,
    make_install_log_verbose,
    make_release,
)
from buildlab.engine import builds, images, registry
from buildlab.support.pins import load_pins

# The code's COPY: `COPY . .` or `COPY . /app`, with any flags (--chown, --link).
CODE_COPY = re.compile(r"^COPY(\s+--\S+)*\s+\.\s")


def _rebuild_after_code_change(ctx: Candidate) -> builds.BuildResult:
    """Build a scratch copy (warm), change code only, rebuild; return the second build."""
    with ctx.scratch() as context:
        ctx.build(context, None)  # only the steps are read: no image
        make_code_change(context, ctx.app)
        after = ctx.build(context, None)
    code_copy = [s for s in after.instructions if CODE_COPY.match(s.instruction)]
    ensure(code_copy, "the build has no `COPY . .` of the code")
    ensure(not code_copy[0].cached, "the code change did not reach the build")
    return after


def code_change_reinstalls_dependencies(ctx: Candidate) -> None:
    step = ctx.dependency_step(_rebuild_after_code_change(ctx))
    ensure(not step.cached, f"{step.instruction!r} stayed CACHED after a code change")


def code_change_keeps_dependencies_cached(ctx: Candidate) -> None:
    step = ctx.dependency_step(_rebuild_after_code_change(ctx))
    ensure(step.cached, f"{step.instruction!r} re-ran after a code-only change")


def version_bump_keeps_dependencies_cached(ctx: Candidate) -> None:
    """Two releases in a row, each versioned by the tool itself: the first lets the tool write
    its files as it does today (uv re-resolves on a version change and rewrites its lock), the
    second is the one checked, so that only the version differs between the two builds. A
    tool whose files hold no version of the project (pipenv) releases by a code change."""
    tool = ctx.tool
    if not tool.keeps_a_version:
        step = ctx.dependency_step(_rebuild_after_code_change(ctx))
        ensure(
            step.cached,
            f"the install step re-ran after a release (code only): {step.instruction[:80]!r}",
        )
        return
    ctx.lesson_only("a release is bumped in a lesson folder's pyproject.toml")
    image = load_pins().image(ctx.lesson.builder or ctx.lesson.base)
    with ctx.scratch() as context:
        first = make_release(context, tool.name, image)
        ctx.build(context, None)  # only the steps are read: no image
        second = make_release(context, tool.name, image)
        after = ctx.build(context, None)
    step = ctx.dependency_step(after)
    ensure(
        step.cached,
        f"the install step re-ran after a version-only change ({first} -> {second}): "
        f"{step.instruction[:80]!r}",
    )
    ctx.notes.add(f"version-bump-keeps-dependencies-cached {ctx.name}: {first} -> {second}")


def code_change_ships_only_code(ctx: Candidate) -> None:
    """Every part is checked, and the reason names each one that fails."""
    name = re.sub(r"[^a-z0-9]+", "-", ctx.name.lower())
    repository = registry.Repository(registry.unique_name(f"buildlab/claims/{name}"))
    with ctx.scratch() as context:
        # Code no build has seen yet, before and after: both builds then reuse the same cached
        # steps up to the code's COPY. With the lesson's own code, the first build could match
        # an older cache record of the whole image, and the second the newest records of the
        # steps before the code (a cache can hold two results for one step, after --no-cache).
        make_code_change(context, ctx.app)
        before = ctx.build(context, ctx.tag("ships-code-1"))
        repository.push(before.tag)
        code = images.code_bytes(
            context, registry.Repository(registry.unique_name("buildlab/code"))
        )
        make_code_change(context, ctx.app)
        after = ctx.build(context, ctx.tag("ships-code-2"))
        pushed = repository.push(after.tag)
    problems = []
    reran = [
        s.instruction for s in after.build_steps if s.instruction.startswith("RUN") and not s.cached
    ]
    if reran:
        problems.append(f"a code-only change ran again: {reran[0][:80]}")
    old, new = images.layer_digests(before.tag), images.layer_digests(after.tag)
    if len(old) != len(new):
        problems.append(f"{len(old)} layers before the change, {len(new)} after")
    else:
        changed = sum(a != b for a, b in zip(old[:-1], new[:-1], strict=True))
        if changed:
            problems.append(f"{changed} layers other than the code's changed")
        if old[-1] == new[-1]:
            problems.append("the last layer (the code's) did not change")
    if pushed.uploaded_bytes > code + limits.PUSH_OVERHEAD_BYTES:
        problems.append(
            f"the push uploaded {pushed.uploaded_bytes} bytes; the code is {code} bytes "
            f"compressed (+ {limits.PUSH_OVERHEAD_BYTES} allowed for manifests and config)"
        )
    detail = "\n".join(
        f"layer {i}: {a[:19]} -> {b[:19]}"
        for i, (a, b) in enumerate(zip(old, new, strict=False))
        if a != b
    )
    if problems:
        detail += "\nhistory before:\n" + _history_text(before.tag)
        detail += "\nhistory after:\n" + _history_text(after.tag)
    ensure(not problems, "; ".join(problems), detail)
    ctx.notes.add(
        f"code-change-ships-only-code {ctx.name}: the push after a code change "
        f"uploaded {pushed.uploaded_bytes} bytes (code: {code} bytes compressed)"
    )


def _history_text(tag: str) -> str:
    return "\n".join(f"  {size:>10}  {created[:90]}" for created, size in images.history(tag))


def dependency_change_uses_cache_mount(ctx: Candidate) -> None:
    tool = ctx.tool
    with ctx.scratch() as context:
        make_install_log_verbose(context, tool.name)  # the default log hides the source
        ctx.build(context, None)  # only the steps are read: no image
        make_dependency_file_change(context, tool.name)
        result = ctx.build(context, None)
    step = ctx.dependency_step(result)
    ensure(not step.cached, "the dependency-file change did not re-run the install")
    downloaded = [line for line in step.output if re.search(tool.downloaded, line)]
    ensure(
        not downloaded,
        f"{len(downloaded)} packages came from the network, not from a cache mount",
        "\n".join(downloaded[:10]),
    )
    ensure(
        any(re.search(tool.from_cache, line) for line in step.output),
        "the install step's log shows no package installed",
        "\n".join(step.output[-30:]),
    )


def cache_mount_not_in_image(ctx: Candidate) -> None:
    """The stage that installs (the builder where there is one) has no cache in its layers."""
    from buildlab.course.dockerfile import installing_stage
    from buildlab.engine.containers import run_container

    stage = installing_stage((ctx.context / "Dockerfile").read_text(), ctx.tool.install_pattern)
    target = [] if stage is None else ["--target", stage]
    installed = ctx.build(ctx.context, ctx.tag("installing-stage"), extra_args=target)
    script = "find /root/.cache -type f 2>/dev/null | head -5; true"
    out = run_container(installed.tag, ["sh", "-c", script], user="0").stdout
    ensure(out.strip() == "", "the installing stage's layers hold the tool's cache", out)


def cache_export_survives_prune(ctx: Candidate) -> None:
    """Lesson 08's flags: the cache exported (`mode=max`, every stage's layers), the builder's
    cache pruned, then a build that imports it. Its negative control imports nothing: the
    install step must then run, or the prune did not empty the cache and proves nothing."""
    imported = ctx.options.get("cache_import", "yes") == "yes"
    with tempfile.TemporaryDirectory(prefix="buildlab-cache-") as cache:
        ctx.build(
            ctx.context,
            ctx.tag("export"),
            extra_args=["--cache-to", f"type=local,dest={cache},mode=max"],
        )
        builds.prune_build_cache()
        cold = ctx.build(
            ctx.context,
            ctx.tag("export"),
            extra_args=["--cache-from", f"type=local,src={cache}"] if imported else [],
        )
    step = ctx.dependency_step(cold)
    ensure(
        step.cached,
        f"{step.instruction[:80]!r} re-ran after the builder's cache was pruned"
        + (", although the exported cache was imported" if imported else " (nothing imported)"),
    )
