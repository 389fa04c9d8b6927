"""docs/workshop.md's agenda: per lesson, what the learner does and how long the machine makes
them wait, from the committed results file (never typed by hand)."""

from __future__ import annotations

import statistics

from buildlab.bench import figures, store, tables
from buildlab.course.model import Manifest


def _seconds(
    data: store.Results, tools: tuple[str, ...], lesson: str, app: str, metric: str
) -> float | None:
    """The median over tools of a lesson's median seconds for one scenario."""
    medians = [
        value
        for tool in tools
        if (build := figures.find(data, lesson, tool, app)) is not None
        and (value := figures.summary(build, metric).median) is not None
    ]
    return statistics.median(medians) if medians else None


def agenda_block(manifest: Manifest, data: store.Results | None) -> str:
    if data is None:
        return "No results committed yet: run `make measure`.\n"
    rows = []
    for lesson in manifest.lessons:
        measured = lesson
        while measured.same_image_as_previous and (before := manifest.previous(measured)):
            measured = before
        cold = _seconds(data, lesson.tools, measured.id, lesson.app, "cold")
        edit = _seconds(data, lesson.tools, measured.id, lesson.app, "code_change")
        rows.append(
            [
                f"[{lesson.id[:2]} {lesson.title}](../lessons/{lesson.id}/README.md)",
                str(len(lesson.task)),
                str(len(lesson.claims)),
                "–" if cold is None else f"{cold:.0f}",
                "–" if edit is None else f"{edit:.1f}",
            ]
        )
    headers = [
        "lesson",
        "task steps",
        "claims `check` runs",
        "first build (s)",
        "rebuild after an edit (s)",
    ]
    return (
        f"{tables.machine_line(data)}. Seconds: the median over the four tools of each "
        "tool's median (the lesson's own app; a lesson that builds the previous one's image "
        "shows that lesson's). A learner's first `check` pays the first build, and each "
        "claim that builds a changed copy pays about one rebuild; an engine without the "
        "base images pays their pull (or `make doctor`'s stand-ins) once, before the day.\n\n"
        + tables.markdown_table(headers, rows)
    )
