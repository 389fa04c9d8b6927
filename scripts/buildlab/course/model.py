"""What the course manifest (lessons.toml) describes: lessons, tools, apps, claims, peers and
targets, typed. `buildlab.course.manifest` reads the file into these.

Words used with one meaning each: a *tool* is a dependency tool (pip-tools, pipenv, Poetry,
uv); a *variant* is one lesson in one tool (a build context folder); a *peer* is a public
recipe we measure against; a *target* is a performance target the results page evaluates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildlab.course.topblock import code_folder
from buildlab.support.errors import UsageError
from buildlab.support.paths import APPS_DIR, LESSONS_DIR, PEERS_DIR, SHAPES_DIR

# A lesson with this claim builds the previous lesson's production image unchanged.
SAME_IMAGE_CLAIM = "production-same-as-previous-lesson"


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
    production_cmd: tuple[str, ...]  # its server as an exec-form CMD (peers' Dockerfiles)
    # Its values for the production lessons' "Your project" block (topblock.py), as pairs.
    top_block: tuple[tuple[str, str], ...] = ()
    # Environment its server needs to start (a project's settings read at import: adopt's and
    # check's --env), given to every container a claim starts, never written into the image.
    run_env: tuple[tuple[str, str], ...] = ()

    @property
    def source_dir(self) -> Path:
        return APPS_DIR / self.name

    def manifests_dir(self, tool: str) -> Path:
        """Where this app keeps its manifest and lock for one tool (apps other than the
        primary one, which `buildlab sync` copies into the lesson folders)."""
        return self.source_dir / "manifests" / tool


@dataclass(frozen=True)
class Shape:
    """A project layout real projects have (shapes/NAME: its manifest and locks, no code),
    built by a production lesson of its tool with only the "Your project" block set."""

    name: str
    says: str
    tool: str
    app: str  # the sample app whose package goes under the block's SOURCE_ROOT
    top_block: tuple[tuple[str, str], ...]
    lock_command: str = ""  # when its locks are not the tool's usual one file
    lock_files: tuple[str, ...] = ()
    # Files beyond the app's a code change edits too (the other service, a shared library),
    # as (what it is, path): none of them may re-run a RUN step.
    code_changes: tuple[tuple[str, str], ...] = ()

    @property
    def directory(self) -> Path:
        return SHAPES_DIR / self.name

    @property
    def source_root(self) -> str:
        """Where the app's package goes: SOURCE_ROOT's code folder (topblock.code_folder)."""
        return code_folder(dict(self.top_block).get("SOURCE_ROOT", "."))


@dataclass(frozen=True)
class Control:
    """Where a claim's check must fail, and why: a lesson in one tool, optionally with one thing
    broken (`breaks`: a name from buildlab.claims.breaks), failing with a reason that matches
    `fails_with` (a regular expression): failing for another reason does not count."""

    lesson: str
    tool: str
    fails_with: str
    breaks: str | None = None


@dataclass(frozen=True)
class Claim:
    id: str
    says: str
    control: Control | None = None  # the negative control: the check must fail there
    holds_earlier: str | None = None  # why the claim is rightly true before its lesson
    # For a learner whose Dockerfile fails it: the idea to look at, not the answer.
    hint: str = ""


@dataclass(frozen=True)
class Unsolved:
    """A claim the exercise's starting point (the previous lesson's Dockerfile on this lesson's
    context) must fail, with a reason matching `fails_with`, in `tools` (empty: every tool)."""

    claim: str
    fails_with: str
    tools: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    app: str
    base: str
    tools: tuple[str, ...]
    claims: tuple[str, ...]
    goal: str = ""  # one sentence: what the lesson makes true
    task: tuple[str, ...] = ()  # "Your turn": the exercise, at most five steps
    unsolved: tuple[Unsolved, ...] = ()
    # Tools in which the exercise starts solved: the previous lesson's Dockerfile already keeps
    # this lesson's claims (tool -> why), a fact a test keeps true.
    starts_solved: tuple[tuple[str, str], ...] = ()
    hashed_locks: bool = False  # pip-compile --generate-hashes from this lesson on
    builder: str | None = None  # image key of the builder stage (multi-stage lessons)
    production: bool = False  # it has the "Your project" block (the app's top_block)
    test_apps: tuple[str, ...] = ()  # other apps the claim tests build with it
    test_shapes: tuple[str, ...] = ()  # project shapes the claim tests build with it
    measure_apps: tuple[str, ...] = ()  # other apps `buildlab measure` builds it with
    dev_stage: bool = False  # a `dev` stage beside production, run by its compose.yaml
    # The dependency the dev loop's claim adds (with its own lock, apps/APP/added-dependency).
    added_dependency: str = ""
    # It installs a package from the test engine's private index (private_index.py): builds
    # get the index's credentials as a build secret, and locks are made against the index.
    private_index: bool = False
    # The lesson whose Dockerfile this one changes, when it is not the one before it (lesson 10
    # adds to lesson 08's production image, not to lesson 09's dev stage).
    builds_on: str = ""

    @property
    def number(self) -> int:
        return int(self.id.split("-", 1)[0])

    @property
    def same_image_as_previous(self) -> bool:
        """`docker build .` gives the previous lesson's image, digest for digest (a claim the
        tests prove): `buildlab measure` does not measure it again, and its docs show the
        previous lesson's numbers."""
        return SAME_IMAGE_CLAIM in self.claims

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
class Peer:
    """A public recipe, written here as peers/NAME/Dockerfile, built on the app files of the
    lesson folder of its tool (`context_lesson`)."""

    name: str
    title: str
    source: str
    tool: str

    @property
    def directory(self) -> Path:
        return PEERS_DIR / self.name


@dataclass(frozen=True)
class Variation:
    """A lesson's Dockerfile with one line added after the code's COPY: one decision, measured."""

    name: str
    lesson: str
    tools: tuple[str, ...]
    add_after_code: str
    shown_in: str | None = None  # the lesson README block that discusses it, if any


@dataclass(frozen=True)
class MetricRef:
    """One side of a target: a lesson (or every peer), a metric and an app."""

    metric: str  # a scenario id (its seconds) or "size" (image bytes)
    app: str
    lesson: str | None = None
    peers: bool = False


@dataclass(frozen=True)
class TargetSpec:
    says: str
    kind: str  # ratio | pairwise | value | pushed | size
    of: MetricRef
    limit: float
    to: MetricRef | None = None
    tools: tuple[str, ...] = ()  # empty: every tool
    why_missed: str = ""  # what bounds the metric: printed, with step times, where it is missed


TARGET_KINDS = ("ratio", "pairwise", "value", "pushed", "size")


@dataclass(frozen=True)
class LockFolder:
    """A folder holding one tool's manifest and lock, locked in `image_key`'s image.

    `lock_subdir`: the lock lives in this subfolder (beside the manifest's folder), for an app
    whose lessons need the tool's other lock style (pip-tools' pinned lock of lessons 01-02)."""

    name: str
    tool: str
    directory: Path
    image_key: str
    hashed: bool
    lock_subdir: str = ""
    # A project shape's own way to lock: a command, and the lock files it writes.
    lock_command: str = ""
    lock_files: tuple[str, ...] = ()
    private_index: bool = False  # locked against the test engine's private index
    python: str = ""  # another Python minor than the image's (a shape's PYTHON_VERSION)


@dataclass(frozen=True)
class Manifest:
    tools: tuple[str, ...]
    primary_app: str
    apps: dict[str, App]
    claims: dict[str, Claim]
    lessons: tuple[Lesson, ...]
    peers: dict[str, Peer]
    variations: dict[str, Variation]
    targets: tuple[TargetSpec, ...]
    peer_apps: tuple[str, ...]  # the apps `buildlab measure` builds each peer with
    shapes: dict[str, Shape]

    def lesson(self, name: str) -> Lesson:
        """Find a lesson by id ("02-dependencies-first"), number ("02", "2") or slug."""
        for lesson in self.lessons:
            number, _, slug = lesson.id.partition("-")
            if name in (lesson.id, number, slug) or (name.isdigit() and int(name) == lesson.number):
                return lesson
        raise UsageError(
            f"unknown lesson {name!r}; valid lessons: {', '.join(each.id for each in self.lessons)}"
        )

    def check_tool(self, tool: str) -> str:
        if tool not in self.tools:
            raise UsageError(f"unknown tool {tool!r}; valid tools: {', '.join(self.tools)}")
        return tool

    def previous(self, lesson: Lesson) -> Lesson | None:
        """The lesson this one changes: its `builds_on`, or the one before it (None for the
        first lesson). The one meaning of "the previous lesson" everywhere."""
        if lesson.builds_on:
            return self.lesson(lesson.builds_on)
        index = self.lessons.index(lesson)
        return self.lessons[index - 1] if index > 0 else None

    def variant(self, lesson_name: str, tool: str) -> Variant:
        lesson = self.lesson(lesson_name)
        if tool not in lesson.tools:
            raise UsageError(
                f"unknown tool {tool!r} for {lesson.id}; valid tools: {', '.join(lesson.tools)}"
            )
        return Variant(lesson, tool)

    def peer(self, name: str) -> Peer:
        if name not in self.peers:
            raise UsageError(f"unknown peer {name!r}; valid peers: {', '.join(self.peers)}")
        return self.peers[name]

    def app(self, name: str) -> App:
        if name not in self.apps:
            raise UsageError(f"unknown app {name!r}; valid apps: {', '.join(self.apps)}")
        return self.apps[name]

    def all_variants(self) -> list[Variant]:
        return [Variant(lesson, tool) for lesson in self.lessons for tool in lesson.tools]

    @property
    def production_lesson(self) -> Lesson:
        """The first production lesson (07): the one to copy, the one the peers are measured
        against and `buildlab adopt` writes into a project."""
        return next(lesson for lesson in self.lessons if lesson.production)

    def added_dependency_dir(self, lesson: Lesson, tool: str) -> Path:
        """The app's manifest with the lesson's added dependency, and its lock, for a tool."""
        return self.apps[lesson.app].source_dir / "added-dependency" / tool

    def test_apps(self, lesson: Lesson) -> list[App]:
        return [self.apps[name] for name in lesson.test_apps]

    def shape_python_minors(self) -> tuple[str, ...]:
        """The Python minors the project shapes ask for in their top block (the test engine
        builds those base images; the lessons' own Python needs none)."""
        found = (dict(shape.top_block).get("PYTHON_VERSION") for shape in self.shapes.values())
        return tuple(sorted({minor for minor in found if minor}))

    def test_shapes(self, lesson: Lesson, tool: str) -> list[Shape]:
        """The project shapes a lesson's claims build in one tool."""
        chosen = (self.shapes[name] for name in lesson.test_shapes)
        return [shape for shape in chosen if shape.tool == tool]

    def lock_folders(self, variants: list[Variant]) -> list[LockFolder]:
        """Each variant's lock, plus the locks of the other apps its lesson builds (tests or
        measure), in the lesson's lock style."""
        from buildlab.course.tools import TOOLS

        def folder(v: Variant, name: str, directory: Path) -> LockFolder:
            tool, hashed = TOOLS[v.tool], v.lesson.hashed_locks
            if v.lesson.dev_stage and tool.dev_lock_file:  # a second lock for the dev stage
                return LockFolder(
                    name,
                    v.tool,
                    directory,
                    v.lesson.base,
                    hashed,
                    lock_command=f"{tool.lock(hashed=hashed)} && {tool.dev_lock_command}",
                    lock_files=(tool.lock_file, tool.dev_lock_file),
                    private_index=v.lesson.private_index,
                )
            return LockFolder(
                name, v.tool, directory, v.lesson.base, hashed, private_index=v.lesson.private_index
            )

        folders = [folder(v, v.name, v.directory) for v in variants]
        folders += [
            folder(
                v,
                f"apps/{v.lesson.app}/added-dependency/{v.tool}",
                self.added_dependency_dir(v.lesson, v.tool),
            )
            for v in variants
            if v.lesson.added_dependency
        ]
        seen: set[tuple[str, str, bool]] = set()
        for v in variants:
            for name in (*v.lesson.test_apps, *v.lesson.measure_apps):
                app = self.apps[name]
                tool = TOOLS[v.tool]
                # One lock per app and tool, unless the tool's lock differs by style.
                style = v.lesson.hashed_locks if tool.lock_style_matters else True
                if (name, v.tool, style) in seen:
                    continue
                seen.add((name, v.tool, style))
                subdir = "" if style else "pinned"
                label = f"apps/{name}/{v.tool}" + (f"/{subdir}" if subdir else "")
                folders.append(
                    LockFolder(
                        label, v.tool, app.manifests_dir(v.tool), v.lesson.base, style, subdir
                    )
                )
            for shape in self.test_shapes(v.lesson, v.tool):
                if (shape.name, v.tool, True) in seen:
                    continue
                seen.add((shape.name, v.tool, True))
                folders.append(
                    LockFolder(
                        f"shapes/{shape.name}",
                        v.tool,
                        shape.directory,
                        v.lesson.base,
                        True,
                        lock_command=shape.lock_command,
                        lock_files=shape.lock_files,
                        python=dict(shape.top_block).get("PYTHON_VERSION", ""),
                    )
                )
        return folders

    def select(
        self, lessons: list[str] | None = None, tools: list[str] | None = None
    ) -> list[Variant]:
        """Variants filtered by lesson names and tool names; unknown names are a UsageError."""
        chosen = [self.lesson(name) for name in lessons] if lessons else list(self.lessons)
        for tool in tools or []:
            self.check_tool(tool)
        return [
            Variant(lesson, tool)
            for lesson in chosen
            for tool in lesson.tools
            if not tools or tool in tools
        ]
