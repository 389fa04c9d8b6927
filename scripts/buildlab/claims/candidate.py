"""The Dockerfile whose claims are checked, with its build context: a lesson folder (the Docker
tier), a learner's exercise (`buildlab check`) or someone's project (`buildlab check --lesson 07
PATH`, `buildlab adopt`).

A claim never edits the candidate's folder: every edit happens in a scratch copy of it. Images
are built once per folder and session (`built`), labelled, and removed by `labels.cleanup`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from buildlab.claims.verdict import NotApplicable, Notes
from buildlab.course.model import App, Lesson, Manifest, Variant
from buildlab.course.tools import TOOLS, Tool
from buildlab.engine import buildlog, builds, labels, private_index
from buildlab.support.errors import BuildFailed
from buildlab.support.scratch import scratch_dir


@dataclass
class Candidate:
    manifest: Manifest
    lesson: Lesson  # whose claims are checked
    tool_name: str
    app: App
    context: Path  # the build context: never edited, copied for every edit
    name: str  # in image tags and messages: "05-multi-stage/uv", "your 05-multi-stage/uv"
    # Images already built, by context folder: shared by every candidate of one session.
    built_images: dict[str, builds.BuildResult] = field(default_factory=dict)
    # A project's own Dockerfile (not a lesson folder): the claims that need our lesson
    # folders' layout say they do not apply.
    project: bool = False
    workdir: str = "/app"  # where the image keeps the code (a project's last WORKDIR)
    notes: Notes = field(default_factory=Notes)
    # How a negative control changes the way a claim runs (BREAKS), e.g. {"cache_import": "no"}.
    options: dict[str, str] = field(default_factory=dict)
    build_failure: BuildFailed | None = None

    @classmethod
    def of_variant(
        cls,
        manifest: Manifest,
        variant: Variant,
        built_images: dict[str, builds.BuildResult] | None = None,
    ) -> Candidate:
        """A lesson folder in one tool (or a copy of one laid out as LESSON/TOOL)."""
        dockerfile = variant.directory / "Dockerfile"
        text = dockerfile.read_text() if dockerfile.is_file() else ""
        return cls(
            manifest,
            variant.lesson,
            variant.tool,
            manifest.apps[variant.lesson.app],
            variant.directory,
            variant.name,
            {} if built_images is None else built_images,
            workdir=final_workdir(text, "/app"),
        )

    @property
    def tool(self) -> Tool:
        return TOOLS[self.tool_name]

    @property
    def build_args(self) -> list[str]:
        """What every build of this lesson needs: the private index's secret, for lesson 10."""
        return private_index.build_args(self.lesson.private_index)

    def tag(self, suffix: str) -> str:
        return labels.image_tag(f"{self.name}-{suffix}".replace(" ", "-"))

    def built(self) -> builds.BuildResult:
        """The candidate's image, built once per session (a build that failed fails again at
        once, for every claim that needs the image)."""
        key = str(self.context)
        if self.build_failure is not None:
            raise self.build_failure
        if key not in self.built_images:
            try:
                self.built_images[key] = self.build(self.context, self.tag("image"))
            except BuildFailed as failure:
                self.build_failure = failure
                raise
        return self.built_images[key]

    def build(
        self, context: Path, tag: str | None, *, extra_args: list[str] | None = None
    ) -> builds.BuildResult:
        """A build of (a copy of) the candidate's context, with what its builds need; tag None:
        no image, for a claim that reads only the build's steps (builds.build)."""
        return builds.build(context, tag, extra_args=[*self.build_args, *(extra_args or [])])

    @contextmanager
    def scratch(self) -> Iterator[Path]:
        """A temporary copy of the build context, to edit."""
        with scratch_dir(self.context) as copy:
            yield copy

    def previous_lesson(self) -> Candidate:
        """The previous lesson's own folder in this tool (what `smaller-than-previous-lesson`
        and `production-same-as-previous-lesson` compare with)."""
        previous = self.manifest.previous(self.lesson)
        if previous is None:
            raise NotApplicable(f"{self.lesson.id} is the first lesson")
        return Candidate.of_variant(
            self.manifest, Variant(previous, self.tool_name), self.built_images
        )

    def dependency_step(self, result: builds.BuildResult) -> buildlog.Step:
        """The RUN step that installs the dependencies: the first one matching the tool's
        `install_pattern` (a failed claim when there is none)."""
        from buildlab.claims.verdict import ClaimFailed

        try:
            return buildlog.first_step(result.steps, self.tool.install_pattern)
        except ValueError as exc:
            raise ClaimFailed(
                f"no RUN step installs with {self.tool.name} (none matches "
                f"{self.tool.install_pattern!r})",
                str(exc),
            ) from exc

    def lesson_only(self, why: str) -> None:
        """A claim that needs our lesson folders' layout: not applicable to a project."""
        if self.project:
            raise NotApplicable(why)


def final_workdir(dockerfile: str, default: str = "/") -> str:
    """The last WORKDIR of a Dockerfile's final stage (where `COPY . .` puts the code)."""
    stages = re.split(r"^FROM\s", dockerfile, flags=re.M | re.I)
    found = re.findall(r"^WORKDIR\s+(\S+)", stages[-1], flags=re.M | re.I)
    return found[-1] if found else default
