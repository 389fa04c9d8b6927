"""The production lesson's Dockerfile on other apps and other project layouts (shapes/), with
only its "Your project" block edited."""

from __future__ import annotations

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


def _shape_serves(ctx: Candidate, shape: Shape) -> None:
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
        make_code_change(project, app)
        after = ctx.build(project, None)  # only its steps are read
    reran = [step.instruction for step in after.build_steps if not step.cached]
    runs = [step for step in reran if step.startswith("RUN")]
    ensure(not runs, f"shape {shape.name}: a code-only change ran again: {runs[:1]}")
    ensure(
        any(CODE_COPY.match(step) for step in reran),
        f"shape {shape.name}: the code change did not reach the build",
        "\n".join(
            f"{'CACHED' if step.cached else 'ran   '} {step.instruction[:100]}"
            for step in after.build_steps
        ),
    )


def project_shapes_serve(ctx: Candidate) -> None:
    ctx.lesson_only("it builds our apps and shapes with the lesson's Dockerfile")
    shapes = ctx.manifest.test_shapes(ctx.lesson, ctx.tool_name)
    others = ctx.manifest.test_apps(ctx.lesson)
    ensure(shapes or others, f"{ctx.lesson.id} lists no test_shapes or test_apps")
    for shape in shapes:  # first: they are quick, and where the negative control fails
        _shape_serves(ctx, shape)
    for other in others:
        with ctx.scratch() as context:
            use_other_app(context, ctx.lesson, ctx.tool_name, ctx.app, other)
            tag = ctx.build(context, ctx.tag(other.name)).tag
        _served_by(ctx, f"app {other.name}", tag, other, HARDENED)
