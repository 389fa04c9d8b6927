"""The production lesson's Dockerfile on other apps and other project layouts (shapes/), with
only its "Your project" block edited."""

from __future__ import annotations

import secrets

from buildlab.claims.caching import CODE_COPY
from buildlab.claims.candidate import Candidate
from buildlab.claims.serving import serve_and_stop
from buildlab.claims.verdict import ClaimFailed, ensure
from buildlab.course.model import App, Shape
from buildlab.course.probe import ANY_UID, HARDENED
from buildlab.course.scenarios import (
    make_code_change,
    shape_app,
    shaped_project,
    use_other_app,
)
from buildlab.engine.builds import BuildResult
from buildlab.support.errors import BuildFailed


def _served_by(ctx: Candidate, what: str, tag: str, app: App, how: list[str]) -> None:
    """It serves (the claim); errors in its log are recorded as a figure, not judged: the clean
    log is serves-hardened's and serves-as-any-uid's promise, for the lesson's own app."""
    _, problems = serve_and_stop(tag, app, how)
    if problems:
        ctx.notes.add(
            f"project-shapes-serve {ctx.name}: {what} with {' '.join(how)} logged: "
            + " | ".join(problems)[:300]
        )


def shape_serves(ctx: Candidate, shape: Shape) -> None:
    app = shape_app(ctx.manifest, shape)
    tag = ctx.tag(f"shape-{shape.name}")
    with shaped_project(ctx.manifest, shape, ctx.context) as project:
        try:
            ctx.build(project, tag)
        except BuildFailed as exc:
            raise ClaimFailed(
                f"shape {shape.name} does not build: {exc.message}", exc.detail
            ) from exc
        for how in (HARDENED, ANY_UID):
            _served_by(ctx, f"shape {shape.name}", tag, app, how)
        for what, path in shape.code_changes:  # the other service, a shared library
            with (project / path).open("a") as handle:
                handle.write(f"\n\nCHANGED_BY_THE_CLAIM = {secrets.token_hex(4)!r}\n")
            _only_code_ran(ctx, shape, f"{what} ({path})", ctx.build(project, None))
        make_code_change(project, app)
        _only_code_ran(ctx, shape, "the app", ctx.build(project, None))  # only steps are read


def _only_code_ran(ctx: Candidate, shape: Shape, what: str, after: BuildResult) -> None:
    """After a change to `what`'s code, no RUN step ran and the code's COPY did."""
    reran = [step.instruction for step in after.build_steps if not step.cached]
    runs = [step for step in reran if step.startswith("RUN")]
    log = "\n".join(
        f"{'CACHED' if step.cached else 'ran   '} {step.instruction[:100]}"
        for step in after.build_steps
    )
    ensure(not runs, f"shape {shape.name}: a change to {what}'s code ran again: {runs[:1]}", log)
    ensure(
        any(CODE_COPY.match(step) for step in reran),
        f"shape {shape.name}: the change to {what}'s code did not reach the build",
        log,
    )
    if shape.code_changes:  # a monorepo's: its build log, shown with the test's figures
        install = ctx.dependency_step(after)
        ctx.notes.add(
            f"project-shapes-serve {ctx.name}: shape {shape.name}, {what} changed: install step "
            f"{'CACHED' if install.cached else 'ran'} ({install.instruction[:60]}...); ran "
            f"{', '.join(step[:30] for step in reran)}"
        )


def project_shapes_serve(ctx: Candidate) -> None:
    ctx.lesson_only("it builds our apps and shapes with the lesson's Dockerfile")
    shapes = ctx.manifest.test_shapes(ctx.lesson, ctx.tool_name)
    others = ctx.manifest.test_apps(ctx.lesson)
    ensure(shapes or others, f"{ctx.lesson.id} lists no test_shapes or test_apps")
    for shape in shapes:  # first: they are quick, and where the negative control fails
        shape_serves(ctx, shape)
    for other in others:
        with ctx.scratch() as context:
            use_other_app(context, ctx.lesson, ctx.tool_name, ctx.app, other)
            tag = ctx.build(context, ctx.tag(other.name)).tag
        _served_by(ctx, f"app {other.name}", tag, other, HARDENED)
