"""`buildlab progress`: where the learner stands, lesson by lesson and tool by tool, read from
the last `buildlab check` of each exercise folder."""

from __future__ import annotations

from buildlab.course.model import Manifest
from buildlab.learn.check import files_digest, read_result
from buildlab.learn.exercise import exercise_folder

NOT_STARTED = "not started"
NOT_CHECKED = "not checked"


def state(manifest: Manifest, lesson_id: str, tool: str) -> str:
    """One cell: not started, not checked (yet, or since the last edit), failing N, or done."""
    lesson = manifest.lesson(lesson_id)
    folder = exercise_folder(lesson, tool)
    if not folder.is_dir():
        return NOT_STARTED
    result = read_result(folder)
    if result is None or (result.lesson, result.tool) != (lesson.id, tool):  # copied from another
        return NOT_CHECKED
    edited = " (edited since)" if result.files_digest != files_digest(folder) else ""
    if result.done:
        return f"done{edited}"
    return f"failing {len(result.failed)} of {len(result.failed) + len(result.held)}{edited}"


def progress_table(manifest: Manifest) -> str:
    tools = list(manifest.tools)
    lines = ["| lesson | " + " | ".join(tools) + " |", "| --- |" + " --- |" * len(tools)]
    for lesson in manifest.lessons:
        cells = [
            state(manifest, lesson.id, tool) if tool in lesson.tools else "–" for tool in tools
        ]
        lines.append(f"| {lesson.id} | " + " | ".join(cells) + " |")
    done = sum(
        state(manifest, lesson.id, tool).startswith("done")
        for lesson in manifest.lessons
        for tool in lesson.tools
    )
    total = sum(len(lesson.tools) for lesson in manifest.lessons)
    return "\n".join(lines) + f"\n\nprogress: {done} of {total} exercises done"
