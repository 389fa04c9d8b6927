"""One Docker check per claim id in lessons.toml. Each builds and runs for real and can fail.

tests/test_repository.py fails when this registry and the manifest's claims disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from buildlab import docker
from buildlab.manifest import App, Manifest, Variant
from buildlab.probe import check_probe, running
from buildlab.scenarios import dependency_step, make_code_change, scratch_copy


@dataclass
class ClaimContext:
    manifest: Manifest
    variant: Variant
    builds: dict[str, docker.BuildResult] = field(default_factory=dict)

    @property
    def app(self) -> App:
        return self.manifest.apps[self.variant.lesson.app]

    def built(self) -> docker.BuildResult:
        """The variant's image, built once per test session from the lesson folder itself."""
        name = self.variant.name
        if name not in self.builds:
            self.builds[name] = docker.build(self.variant.directory, docker.image_tag(name))
        return self.builds[name]


def serves_http(ctx: ClaimContext) -> None:
    with running(ctx.built().tag, ctx.app) as container:
        check_probe(container, ctx.app)


def _rebuild_after_code_change(ctx: ClaimContext) -> docker.BuildResult:
    """Build a scratch copy (warm), change code only, rebuild; return the second build."""
    tag = docker.image_tag(f"{ctx.variant.name}-code-change")
    with scratch_copy(ctx.variant) as context:
        docker.build(context, tag)
        make_code_change(context, ctx.app)
        after = docker.build(context, tag)
    code_copy = [s for s in after.instructions if s.instruction.startswith("COPY . .")]
    assert code_copy and not code_copy[0].cached, "the code change did not reach the build"
    return after


def code_change_reinstalls_dependencies(ctx: ClaimContext) -> None:
    step = dependency_step(_rebuild_after_code_change(ctx), ctx.variant)
    assert not step.cached, f"expected {step.instruction!r} to re-run, but it was CACHED"


def code_change_keeps_dependencies_cached(ctx: ClaimContext) -> None:
    step = dependency_step(_rebuild_after_code_change(ctx), ctx.variant)
    assert step.cached, f"{step.instruction!r} re-ran after a code-only change"


CLAIM_CHECKS: dict[str, Callable[[ClaimContext], None]] = {
    "serves-http": serves_http,
    "code-change-reinstalls-dependencies": code_change_reinstalls_dependencies,
    "code-change-keeps-dependencies-cached": code_change_keeps_dependencies_cached,
}
