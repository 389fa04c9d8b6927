"""The course manifest (lessons.toml): lessons, variants, apps and claims, typed."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from buildlab.errors import UsageError
from buildlab.paths import APPS_DIR, LESSONS_DIR, MANIFEST_FILE


@dataclass(frozen=True)
class Probe:
    method: str
    path: str
    expect: Any
    body: Any = None


@dataclass(frozen=True)
class App:
    name: str
    title: str
    package: str
    port: int
    health_path: str
    probe: Probe
    code_file: str
    production_cmd: tuple[str, ...]  # the exec-form CMD of the production lessons
    also_builds: str | None = None  # a lesson whose test builds this app too (second app)

    @property
    def source_dir(self) -> Path:
        return APPS_DIR / self.name


@dataclass(frozen=True)
class Claim:
    id: str
    says: str


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    app: str
    base: str
    variants: tuple[str, ...]
    claims: tuple[str, ...]
    dependency_step: dict[str, str]
    hashed_locks: bool = False  # pip-compile --generate-hashes from this lesson on
    builder: str | None = None  # image key of the builder stage (multi-stage lessons)

    @property
    def number(self) -> int:
        return int(self.id.split("-", 1)[0])

    @property
    def directory(self) -> Path:
        return LESSONS_DIR / self.id


@dataclass(frozen=True)
class Variant:
    """One build context: a lesson in one dependency tool."""

    lesson: Lesson
    tool: str
    lessons_dir: Path = LESSONS_DIR  # tests point this at a scratch copy

    @property
    def directory(self) -> Path:
        return self.lessons_dir / self.lesson.id / self.tool

    @property
    def name(self) -> str:
        return f"{self.lesson.id}/{self.tool}"


@dataclass(frozen=True)
class LockTarget:
    """A folder holding one tool's manifest and lock, locked in `image_key`'s image."""

    name: str
    tool: str
    directory: Path
    image_key: str
    hashed: bool


@dataclass(frozen=True)
class Manifest:
    variants: tuple[str, ...]
    primary_app: str
    apps: dict[str, App]
    claims: dict[str, Claim]
    lessons: tuple[Lesson, ...]

    def lesson(self, name: str) -> Lesson:
        """Find a lesson by id ("02-dependencies-first"), number ("02", "2") or slug."""
        for lesson in self.lessons:
            number, _, slug = lesson.id.partition("-")
            if name in (lesson.id, number, slug) or (name.isdigit() and int(name) == lesson.number):
                return lesson
        raise UsageError(
            f"unknown lesson {name!r}; valid lessons: {', '.join(l.id for l in self.lessons)}"
        )

    def variant(self, lesson_name: str, tool: str) -> Variant:
        lesson = self.lesson(lesson_name)
        if tool not in lesson.variants:
            raise UsageError(
                f"unknown variant {tool!r} for {lesson.id}; valid variants: {', '.join(lesson.variants)}"
            )
        return Variant(lesson, tool)

    def all_variants(self) -> list[Variant]:
        return [Variant(lesson, tool) for lesson in self.lessons for tool in lesson.variants]

    def second_apps(self, lesson: Lesson) -> list[App]:
        """Apps other than its own that a lesson is also built for (`also_builds`)."""
        return [app for app in self.apps.values() if app.also_builds == lesson.id]

    def lock_targets(self, variants: list[Variant]) -> list[LockTarget]:
        """Each variant's lock, plus the second apps' locks for the lessons that build them."""
        targets = [LockTarget(v.name, v.tool, v.directory, v.lesson.base, v.lesson.hashed_locks)
                   for v in variants]
        for v in variants:
            targets += [LockTarget(f"apps/{app.name}/{v.tool}", v.tool,
                                   app.source_dir / "manifests" / v.tool,
                                   v.lesson.base, v.lesson.hashed_locks)
                        for app in self.second_apps(v.lesson)]
        return targets

    def select(self, lessons: list[str] | None = None, tools: list[str] | None = None) -> list[Variant]:
        """Variants filtered by lesson names and tool names; unknown names are a UsageError."""
        chosen = [self.lesson(name) for name in lessons] if lessons else list(self.lessons)
        for tool in tools or []:
            if tool not in self.variants:
                raise UsageError(f"unknown variant {tool!r}; valid variants: {', '.join(self.variants)}")
        return [
            Variant(lesson, tool)
            for lesson in chosen
            for tool in lesson.variants
            if not tools or tool in tools
        ]


@cache
def load_manifest(path: Path = MANIFEST_FILE) -> Manifest:
    data = tomllib.loads(path.read_text())
    variants = tuple(data["variants"])
    apps = {
        name: App(
            name=name,
            title=spec["title"],
            package=spec["package"],
            port=int(spec["port"]),
            health_path=spec["health_path"],
            probe=Probe(**spec["probe"]),
            code_file=spec["code_file"],
            production_cmd=tuple(spec["production_cmd"]),
            also_builds=spec.get("also_builds"),
        )
        for name, spec in data["apps"].items()
    }
    claims = {cid: Claim(id=cid, says=spec["says"]) for cid, spec in data["claims"].items()}
    lessons = tuple(
        Lesson(
            id=spec["id"],
            title=spec["title"],
            app=spec["app"],
            base=spec["base"],
            variants=tuple(spec.get("variants", variants)),
            claims=tuple(spec["claims"]),
            dependency_step=dict(spec["dependency_step"]),
            hashed_locks=spec.get("locks", "pinned") == "hashed",
            builder=spec.get("builder"),
        )
        for spec in data["lessons"]
    )
    return Manifest(variants, data["primary_app"], apps, claims, lessons)
