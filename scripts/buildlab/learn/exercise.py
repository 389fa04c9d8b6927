"""A learner's exercise: a lesson's build context with the previous lesson's Dockerfile (and
.dockerignore, compose.yaml) as the starting point, in a folder of the learner's.

`buildlab exercise LESSON TOOL` makes it (never over a learner's work without --force) and says
the task; `buildlab check` builds the learner's files on a fresh copy of the lesson's context,
so the app, its manifest and its lock are always the lesson's.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from buildlab.course import topblock
from buildlab.course.model import Lesson, Manifest, Variant
from buildlab.support.errors import UsageError
from buildlab.support.paths import ROOT
from buildlab.support.scratch import IGNORED_IN_COPY

# The learner's own work (git-ignored); BUILDLAB_EXERCISES points elsewhere (the tests do).
EXERCISES_DIR = Path(os.environ.get("BUILDLAB_EXERCISES") or ROOT / "exercises")
# The files a lesson asks the learner to write; everything else in the folder is the lesson's.
LEARNER_FILES = ("Dockerfile", ".dockerignore", "compose.yaml")
# The first lesson has no previous Dockerfile to start from.
FIRST_DOCKERFILE = """\
# Your turn: write the Dockerfile that builds and serves this app.
# `scripts/cli check {lesson} {tool}` tells you which of the lesson's claims it keeps.
"""


def exercise_folder(lesson: Lesson, tool: str) -> Path:
    return EXERCISES_DIR / lesson.id / tool


def starting_files(manifest: Manifest, lesson: Lesson, tool: str) -> dict[str, str | None]:
    """Each learner file as the exercise starts: the previous lesson's (None: there is none,
    so the learner starts without it). The first lesson starts from a comment."""
    previous = manifest.previous(lesson)
    if previous is None:
        text = FIRST_DOCKERFILE.format(lesson=lesson.id[:2], tool=tool)
        ignore = Variant(lesson, tool).directory / ".dockerignore"
        return {"Dockerfile": text, ".dockerignore": ignore.read_text(), "compose.yaml": None}
    folder = Variant(previous, tool).directory
    files = {
        name: (folder / name).read_text() if (folder / name).is_file() else None
        for name in LEARNER_FILES
    }
    dockerfile = files["Dockerfile"]
    if previous.app != lesson.app and dockerfile and topblock.has_top_block(dockerfile):
        # Another app in this lesson's context (lesson 10's): the block already names it, so
        # the exercise is the lesson's idea, not retyping the app's name.
        files["Dockerfile"] = topblock.with_values(
            dockerfile, dict(manifest.apps[lesson.app].top_block)
        )
    return files


def lay_out(manifest: Manifest, lesson: Lesson, tool: str, dest: Path) -> None:
    """The lesson's context at `dest` (which must not exist), with the learner files as the
    exercise starts."""
    shutil.copytree(Variant(lesson, tool).directory, dest, ignore=IGNORED_IN_COPY)
    for name, text in starting_files(manifest, lesson, tool).items():
        (dest / name).unlink(missing_ok=True)
        if text is not None:
            (dest / name).write_text(text)


def overlay(context: Path, learner: Path) -> None:
    """The learner's files (from their folder) in place of a context's: one the learner does
    not have is not there either."""
    for name in LEARNER_FILES:
        (context / name).unlink(missing_ok=True)
        if (learner / name).is_file():
            shutil.copy2(learner / name, context / name)


def task_text(manifest: Manifest, lesson: Lesson, tool: str, folder: Path) -> str:
    shown = folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder
    start = manifest.previous(lesson)
    lines = [
        f"Lesson {lesson.id[:2]}, {lesson.title} ({tool}): {lesson.goal}",
        f"Your folder: {shown} (starts from "
        + (f"lesson {start.id[:2]}'s Dockerfile)" if start else "an empty Dockerfile)"),
        "Your turn:",
        *(f"  - {step}" for step in lesson.task),
        *(
            f"Already solved in {tool}: {why} Read the lesson's reason, then check it holds."
            for name, why in lesson.starts_solved
            if name == tool
        ),
        f"Then: scripts/cli check {lesson.id[:2]} {tool}"
        + ("" if folder == exercise_folder(lesson, tool) else f" {shown}")
        + f"   (make check-lesson LESSON={lesson.id[:2]} TOOL={tool}"
        + ("" if folder == exercise_folder(lesson, tool) else f" DIR={shown}")
        + ")",
    ]
    return "\n".join(lines)


def make_exercise(
    manifest: Manifest,
    lesson: Lesson,
    tool: str,
    *,
    dest: Path | None = None,
    force: bool = False,
    say: Callable[[str], None] = print,
) -> Path:
    """Make the exercise folder (or keep the learner's, unless `force`) and say the task."""
    folder = dest or exercise_folder(lesson, tool)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file, not a folder")
    if folder.exists() and any(folder.iterdir()) and not force:
        say(f"exercise: {folder} is already there: your work is kept (--force starts again)")
    elif folder.exists():
        # --force: the lesson's files and the starting learner files are written again; any
        # other file of the folder is left alone (never a whole folder removed).
        with tempfile.TemporaryDirectory(prefix="buildlab-exercise-") as tmp:
            fresh = Path(tmp) / "fresh"
            lay_out(manifest, lesson, tool, fresh)
            for name in LEARNER_FILES:
                (folder / name).unlink(missing_ok=True)
            shutil.copytree(fresh, folder, dirs_exist_ok=True)
        say(f"exercise: started {folder} again (--force)")
    else:
        folder.parent.mkdir(parents=True, exist_ok=True)
        lay_out(manifest, lesson, tool, folder)
        say(f"exercise: made {folder}")
    say(task_text(manifest, lesson, tool, folder))
    return folder
